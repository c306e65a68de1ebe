// A small stand-in for kube-apiserver, enough to test the client library against a
// real HTTP server: objects with resourceVersions from one shared backend (so two
// servers act as two masters over one store), list with limit/continue, watch as
// newline-delimited JSON with bookmarks, and knobs to inject failures: status codes,
// hangs, dropped or expired watches.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { RESOURCES } from '../../src/api/resources.js'
import type { KubeObject, Status } from '../../src/client/types.js'

type Obj = KubeObject & { metadata: NonNullable<KubeObject['metadata']> }

interface Change {
  rev: number
  type: 'ADDED' | 'MODIFIED' | 'DELETED'
  plural: string
  obj: Obj
}

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T
}

/** The shared store: revisions, objects, the event log and compaction. */
export class FakeBackend {
  rev = 1
  compactedRev = 0
  readonly objects = new Map<string, Obj>()
  readonly log: Change[] = []
  readonly subscribers = new Set<(c: Change) => void>()
  private uid = 0

  key(plural: string, ns: string | undefined, name: string): string {
    return `${plural}/${ns ?? ''}/${name}`
  }

  create(plural: string, input: KubeObject): Obj {
    const obj = clone(input) as Obj
    obj.metadata ??= {}
    const name = obj.metadata.name ?? `${obj.metadata.generateName ?? 'obj-'}${++this.uid}`
    obj.metadata.name = name
    const key = this.key(plural, obj.metadata.namespace, name)
    if (this.objects.has(key)) throw statusError(409, 'AlreadyExists', `${plural} "${name}" already exists`, { name, kind: plural })
    obj.metadata.uid = `uid-${++this.uid}`
    obj.metadata.creationTimestamp = '2024-01-01T00:00:00Z'
    return this.commit('ADDED', plural, key, obj)
  }

  update(plural: string, input: KubeObject): Obj {
    const obj = clone(input) as Obj
    const name = obj.metadata?.name ?? ''
    const key = this.key(plural, obj.metadata.namespace, name)
    const cur = this.objects.get(key)
    if (cur === undefined) throw statusError(404, 'NotFound', `${plural} "${name}" not found`, { name, kind: plural })
    const rv = obj.metadata.resourceVersion
    if (rv !== undefined && rv !== '' && rv !== cur.metadata.resourceVersion) {
      throw statusError(409, 'Conflict', `Operation cannot be fulfilled on ${plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`, { name, kind: plural })
    }
    obj.metadata.uid = cur.metadata.uid
    obj.metadata.creationTimestamp = cur.metadata.creationTimestamp
    return this.commit('MODIFIED', plural, key, obj)
  }

  delete(plural: string, ns: string | undefined, name: string): Obj {
    const key = this.key(plural, ns, name)
    const cur = this.objects.get(key)
    if (cur === undefined) throw statusError(404, 'NotFound', `${plural} "${name}" not found`, { name, kind: plural })
    return this.commit('DELETED', plural, key, clone(cur))
  }

  get(plural: string, ns: string | undefined, name: string): Obj {
    const cur = this.objects.get(this.key(plural, ns, name))
    if (cur === undefined) throw statusError(404, 'NotFound', `${plural} "${name}" not found`, { name, kind: plural })
    return cur
  }

  /** Forgets the event log: watches from older versions get 410. */
  compact(): void {
    this.compactedRev = this.rev
    this.log.length = 0
  }

  private commit(type: Change['type'], plural: string, key: string, obj: Obj): Obj {
    const rev = ++this.rev
    obj.metadata.resourceVersion = String(rev)
    if (type === 'DELETED') this.objects.delete(key)
    else this.objects.set(key, obj)
    const change: Change = { rev, type, plural, obj: clone(obj) }
    this.log.push(change)
    for (const s of this.subscribers) s(change)
    return clone(obj)
  }
}

export class HttpStatusError extends Error {
  constructor(
    readonly code: number,
    readonly status: Status,
  ) {
    super(status.message)
  }
}

export function statusError(code: number, reason: string, message: string, details?: Status['details']): HttpStatusError {
  const status: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code }
  if (details !== undefined) status.details = details
  return new HttpStatusError(code, status)
}

export interface Injection {
  method?: string
  /** Matches when the request path (with query) contains this. */
  path?: string | RegExp
  code?: number
  /** A Status, or a raw body (string) for non-Status answers. */
  body?: Status | string
  retryAfter?: string
  /** Never answer. */
  hang?: boolean
  times?: number
}

export interface RecordedRequest {
  method: string
  path: string
  query: URLSearchParams
  headers: http.IncomingHttpHeaders
}

interface Watcher {
  res: http.ServerResponse
  plural: string
  ns: string | undefined
  matches: (o: Obj) => boolean
  bookmarks: boolean
}

const kindOf = new Map(RESOURCES.map((r) => [r.plural, r]))

export class FakeApiServer {
  readonly requests: RecordedRequest[] = []
  readonly injections: Injection[] = []
  readonly watchers = new Set<Watcher>()
  /** Live events are not sent to open watches (they miss them, as a watch that fell behind). */
  muted = false
  /** Lists at a resourceVersion older than the compaction answer 410. */
  expireOldListRV = false
  /** Honour `limit` (and paginate) for every list, including resourceVersion=0. */
  pageEverything = true
  private server: http.Server | undefined
  private readonly unsubscribe: () => void
  url = ''

  constructor(readonly backend: FakeBackend) {
    const onChange = (c: Change): void => this.onChange(c)
    backend.subscribers.add(onChange)
    this.unsubscribe = () => backend.subscribers.delete(onChange)
  }

  async start(port = 0): Promise<string> {
    this.server = http.createServer((req, res) => this.handle(req, res))
    await new Promise<void>((resolve) => this.server?.listen(port, '127.0.0.1', resolve))
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
    return this.url
  }

  get port(): number {
    return Number(new URL(this.url).port)
  }

  /** Stops listening and cuts every connection, as a master that dies. */
  async close(): Promise<void> {
    const s = this.server
    this.server = undefined
    if (s === undefined) return
    for (const w of this.watchers) w.res.socket?.destroy()
    this.watchers.clear()
    s.closeAllConnections()
    await new Promise<void>((resolve) => s.close(() => resolve()))
  }

  dispose(): Promise<void> {
    this.unsubscribe()
    return this.close()
  }

  inject(i: Injection): void {
    this.injections.push({ times: 1, ...i })
  }

  /** Cuts open watch connections without a word. */
  dropWatches(): void {
    for (const w of this.watchers) w.res.socket?.destroy()
    this.watchers.clear()
  }

  /** Ends open watches with an ERROR event carrying 410 Expired. */
  expireWatches(): void {
    for (const w of this.watchers) {
      w.res.end(line('ERROR', expiredStatus(this.backend.compactedRev).status))
    }
    this.watchers.clear()
  }

  /** A BOOKMARK at the current revision to every watch that asked for them. */
  bookmark(): void {
    for (const w of this.watchers) {
      if (!w.bookmarks) continue
      const rt = kindOf.get(w.plural)
      w.res.write(line('BOOKMARK', { kind: rt?.kind, apiVersion: rt?.group === '' ? rt.version : `${rt?.group}/${rt?.version}`, metadata: { resourceVersion: String(this.backend.rev) } }))
    }
  }

  count(pred: (r: RecordedRequest) => boolean): number {
    return this.requests.filter(pred).length
  }

  private onChange(c: Change): void {
    if (this.muted) return
    for (const w of this.watchers) {
      if (w.plural !== c.plural || (w.ns !== undefined && w.ns !== c.obj.metadata.namespace) || !w.matches(c.obj)) continue
      w.res.write(line(c.type, c.obj))
    }
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x')
    const method = req.method ?? 'GET'
    this.requests.push({ method, path: url.pathname, query: url.searchParams, headers: req.headers })
    const inj = this.injections.find(
      (i) =>
        (i.times ?? 1) > 0 &&
        (i.method === undefined || i.method === method) &&
        (i.path === undefined || (typeof i.path === 'string' ? (req.url ?? '').includes(i.path) : i.path.test(req.url ?? ''))),
    )
    if (inj !== undefined) {
      inj.times = (inj.times ?? 1) - 1
      if (inj.hang === true) return
      const headers: Record<string, string> = {}
      if (inj.retryAfter !== undefined) headers['Retry-After'] = inj.retryAfter
      const code = inj.code ?? 500
      const reason = { 429: 'TooManyRequests', 503: 'ServiceUnavailable', 504: 'Timeout' }[code] ?? 'InternalError'
      const body = typeof inj.body === 'string' ? inj.body : JSON.stringify(inj.body ?? statusError(code, reason, 'injected').status)
      headers['Content-Type'] = typeof inj.body === 'string' ? 'text/plain' : 'application/json'
      res.writeHead(code, headers)
      res.end(body)
      return
    }
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      try {
        const body = chunks.length === 0 ? undefined : (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>)
        this.route(method, url, body, req, res)
      } catch (err) {
        const e = err instanceof HttpStatusError ? err : statusError(500, 'InternalError', String(err))
        res.writeHead(e.code, { 'Content-Type': 'application/json' })
        res.end(JSON.stringify(e.status))
      }
    })
  }

  private route(method: string, url: URL, body: Record<string, unknown> | undefined, req: http.IncomingMessage, res: http.ServerResponse): void {
    const segs = url.pathname.split('/').filter((s) => s !== '').map(decodeURIComponent)
    const rest = segs[0] === 'api' ? segs.slice(2) : segs.slice(3)
    let ns: string | undefined
    let parts = rest
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      ns = rest[1]
      parts = rest.slice(2)
    }
    const [plural, name, sub] = parts
    const q = url.searchParams
    const send = (code: number, obj: unknown): void => {
      res.writeHead(code, { 'Content-Type': 'application/json' })
      res.end(JSON.stringify(obj))
    }
    const b = this.backend

    if (name === undefined) {
      if (method === 'GET' && q.get('watch') === 'true') return this.watch(plural, ns, q, res)
      if (method === 'GET') return send(200, this.list(plural, ns, q))
      if (method === 'POST' && q.get('dryRun') === 'All') return send(201, withNs(body, ns))
      if (method === 'POST') return send(201, b.create(plural, withNs(body, ns)))
      if (method === 'DELETE') {
        const list = this.list(plural, ns, q)
        for (const o of list.items) b.delete(plural, o.metadata.namespace, o.metadata.name ?? '')
        return send(200, list)
      }
    } else if (sub === undefined) {
      if (method === 'GET') return send(200, b.get(plural, ns, name))
      if (method === 'PUT') return send(200, b.update(plural, withNs(body, ns)))
      if (method === 'DELETE') {
        const pre = (body?.preconditions ?? {}) as { resourceVersion?: string }
        const cur = b.get(plural, ns, name)
        if (pre.resourceVersion !== undefined && pre.resourceVersion !== cur.metadata.resourceVersion) {
          throw statusError(409, 'Conflict', `Operation cannot be fulfilled on ${plural} "${name}": Precondition failed: ResourceVersion: Expected ${pre.resourceVersion}`)
        }
        return send(200, b.delete(plural, ns, name))
      }
      if (method === 'PATCH') return send(200, this.patch(plural, ns, name, req.headers['content-type'] ?? '', body))
    } else {
      if (sub === 'status' && method === 'PUT') return send(200, b.update(plural, withNs(body, ns)))
      if (sub === 'scale') {
        const cur = b.get(plural, ns, name)
        const spec = (cur.spec ?? {}) as { replicas?: number }
        if (method === 'PUT') {
          const replicas = ((body?.spec ?? {}) as { replicas?: number }).replicas
          b.update(plural, { ...cur, spec: { ...spec, replicas } })
        }
        const now = b.get(plural, ns, name)
        return send(200, {
          kind: 'Scale',
          apiVersion: 'autoscaling/v1',
          metadata: { name, namespace: ns, resourceVersion: now.metadata.resourceVersion },
          spec: { replicas: ((now.spec ?? {}) as { replicas?: number }).replicas },
          status: { replicas: 0 },
        })
      }
      if (sub === 'binding' && method === 'POST') {
        const cur = b.get(plural, ns, name)
        const target = (body?.target ?? {}) as { name?: string }
        b.update(plural, { ...cur, spec: { ...((cur.spec ?? {}) as object), nodeName: target.name } })
        return send(201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 })
      }
      if (sub === 'eviction' && method === 'POST') {
        const cur = b.get(plural, ns, name)
        if (cur.metadata.labels?.protected === 'true') {
          throw statusError(429, 'TooManyRequests', "Cannot evict pod as it would violate the pod's disruption budget.", { retryAfterSeconds: 10 })
        }
        b.delete(plural, ns, name)
        return send(201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 })
      }
      if (sub === 'log' && method === 'GET') {
        b.get(plural, ns, name)
        res.writeHead(200, { 'Content-Type': 'text/plain' })
        const lines = ['line 1\n', 'line 2\n', 'line 3\n']
        if (q.get('follow') !== 'true') return void res.end(lines.join(''))
        let i = 0
        const tick = setInterval(() => {
          if (i < lines.length) res.write(lines[i++])
          else {
            clearInterval(tick)
            res.end()
          }
        }, 10)
        res.on('close', () => clearInterval(tick))
        return
      }
    }
    throw statusError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource')
  }

  private list(plural: string, ns: string | undefined, q: URLSearchParams): { kind: string; apiVersion: string; metadata: Record<string, unknown>; items: Obj[] } {
    const b = this.backend
    const rvParam = q.get('resourceVersion')
    if (rvParam !== null && rvParam !== '' && rvParam !== '0') {
      if (Number(rvParam) > b.rev) throw statusError(504, 'Timeout', `Too large resource version: ${rvParam}, current: ${b.rev}`, { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1 })
      if (this.expireOldListRV && Number(rvParam) < b.compactedRev) throw expiredStatus(b.compactedRev)
    }
    const matches = selectorMatcher(q)
    const all = [...b.objects.entries()]
      .filter(([k, o]) => k.startsWith(`${plural}/`) && (ns === undefined || o.metadata.namespace === ns) && matches(o))
      .sort(([a], [c]) => (a < c ? -1 : a > c ? 1 : 0))
    let start = 0
    let listRev = b.rev
    const cont = q.get('continue')
    if (cont !== null && cont !== '') {
      const token = JSON.parse(Buffer.from(cont, 'base64').toString('utf8')) as { rev: number; after: string }
      if (token.rev < b.compactedRev) {
        throw statusError(410, 'Expired', 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.')
      }
      listRev = token.rev
      start = all.findIndex(([k]) => k > token.after)
      if (start < 0) start = all.length
    }
    const limit = Number(q.get('limit') ?? 0)
    const honourLimit = limit > 0 && (this.pageEverything || (rvParam !== '0'))
    const page = honourLimit ? all.slice(start, start + limit) : all.slice(start)
    const metadata: Record<string, unknown> = { resourceVersion: String(listRev) }
    if (honourLimit && start + limit < all.length) {
      metadata.continue = Buffer.from(JSON.stringify({ rev: listRev, after: page[page.length - 1][0] })).toString('base64')
      metadata.remainingItemCount = all.length - start - limit
    }
    const rt = kindOf.get(plural)
    return { kind: `${rt?.kind ?? 'Object'}List`, apiVersion: 'v1', metadata, items: page.map(([, o]) => o) }
  }

  private watch(plural: string, ns: string | undefined, q: URLSearchParams, res: http.ServerResponse): void {
    const b = this.backend
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' })
    res.flushHeaders()
    const rvParam = q.get('resourceVersion') ?? ''
    const matches = selectorMatcher(q)
    const inScope = (p: string, o: Obj): boolean => p === plural && (ns === undefined || o.metadata.namespace === ns) && matches(o)
    if (rvParam === '' || rvParam === '0') {
      for (const [k, o] of b.objects) if (inScope(k.split('/')[0], o)) res.write(line('ADDED', o))
    } else {
      const from = Number(rvParam)
      if (from < b.compactedRev) {
        res.end(line('ERROR', expiredStatus(b.compactedRev).status))
        return
      }
      for (const c of b.log) if (c.rev > from && inScope(c.plural, c.obj)) res.write(line(c.type, c.obj))
    }
    const w: Watcher = { res, plural, ns, matches: (o) => matches(o), bookmarks: q.get('allowWatchBookmarks') === 'true' }
    this.watchers.add(w)
    const timeout = Number(q.get('timeoutSeconds') ?? 0)
    const timer = timeout > 0 ? setTimeout(() => res.end(), timeout * 1000) : undefined
    const done = (): void => {
      clearTimeout(timer)
      this.watchers.delete(w)
    }
    // (req 'close' fires once a request body is read; only the response's close means the client left.)
    res.on('close', done)
  }

  private patch(plural: string, ns: string | undefined, name: string, contentType: string, body: unknown): Obj {
    const cur = clone(this.backend.get(plural, ns, name))
    let next: Obj
    if (contentType.startsWith('application/json-patch+json')) {
      next = cur
      for (const op of body as { op: string; path: string; value?: unknown }[]) {
        const path = op.path.split('/').slice(1)
        let target = next as Record<string, unknown>
        for (const p of path.slice(0, -1)) target = (target[p] ??= {}) as Record<string, unknown>
        const last = path[path.length - 1]
        if (op.op === 'remove') delete target[last]
        else target[last] = op.value
      }
    } else {
      next = mergePatch(cur, body) as Obj
    }
    next.metadata.resourceVersion = undefined
    return this.backend.update(plural, next)
  }
}

function withNs(body: Record<string, unknown> | undefined, ns: string | undefined): KubeObject {
  const obj = (body ?? {}) as KubeObject
  if (ns !== undefined) obj.metadata = { ...obj.metadata, namespace: ns }
  return obj
}

function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch
  const out: Record<string, unknown> = typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {}
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k]
    else out[k] = mergePatch(out[k], v)
  }
  return out
}

function expiredStatus(compactedRev: number): HttpStatusError {
  return statusError(410, 'Expired', `too old resource version: 1 (${compactedRev})`)
}

function line(type: string, object: unknown): string {
  return `${JSON.stringify({ type, object })}\n`
}

/** Equality label selectors (`a=b,c!=d,e`) and field selectors on metadata.name/namespace and spec.nodeName. */
function selectorMatcher(q: URLSearchParams): (o: Obj) => boolean {
  const labels = (q.get('labelSelector') ?? '').split(',').filter((s) => s !== '')
  const fields = (q.get('fieldSelector') ?? '').split(',').filter((s) => s !== '')
  return (o) => {
    for (const term of labels) {
      const [k, v] = term.split(/!?=/)
      const have = o.metadata.labels?.[k]
      if (term.includes('!=') ? have === v : v === undefined ? have === undefined : have !== v) return false
    }
    for (const term of fields) {
      const [k, v] = term.split('=')
      const have = k === 'metadata.name' ? o.metadata.name : k === 'metadata.namespace' ? o.metadata.namespace : k === 'spec.nodeName' ? ((o.spec ?? {}) as { nodeName?: string }).nodeName : undefined
      if ((have ?? '') !== v) return false
    }
    return true
  }
}
