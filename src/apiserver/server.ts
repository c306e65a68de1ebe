// The API server of one master: Kubernetes REST over the Storage interface, with one
// watch cache per resource. Routes non-resource paths (version, health, discovery,
// OpenAPI, metrics) and hands resource requests to the generic handlers.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import { KUBE_VERSION } from '../api/version.js'
import { pino, type Logger } from 'pino'
import type { Registry } from 'prom-client'
import { findResource, RESOURCES, type ResourceType } from '../api/resources.js'
import { servePodLog } from './http/pod-log.js'
import { handleResource, type HandlerDeps } from './http/resource-handler.js'
import { sendError, sendJson, statusOf } from './http/respond.js'
import { apiMetrics, type ApiMetrics, watchCacheMetrics } from './metrics.js'
import { MetricsApi } from './metrics-api/handler.js'
import type { ResourceUsageStore } from './metrics-api/usage-store.js'
import { type ObjectHooks, ResourceStore } from './registry/resource-store.js'
import { requestInfo, type ResourceRequestInfo } from './request-info.js'
import { ApiError } from './status.js'
import type { Storage } from './storage/interface.js'
import { ConvertedResources } from './versions/index.js'
import type { KubeObject, WatchCacheApi } from './watch-cache/types.js'

/** A served document: discovery, OpenAPI. */
export interface Document {
  body: string | Buffer
  contentType: string
  etag?: string
}

/** Discovery and OpenAPI documents, by path and Accept header; undefined: not ours. */
export type DocumentSource = (path: string, query: URLSearchParams, accept: string | undefined) => Document | undefined

export interface ApiServerOptions {
  storage: Storage
  /** Builds the watch cache of one resource prefix. */
  cacheFor: (rt: ResourceType, prefix: string) => WatchCacheApi
  hooks: ObjectHooks
  deps: HandlerDeps
  documents: DocumentSource
  metrics: Registry
  logger?: Logger
  /** Extra /readyz and /healthz checks (e.g. the store member has a leader). */
  checks?: Record<string, () => Promise<boolean>>
  /** The master's name, in logs. */
  name?: string
  /** Objects every apiserver makes sure exist once its caches are loaded. */
  bootstrap?: () => Promise<readonly { rt: ResourceType; namespace: string; object: KubeObject }[]>
  /** metrics.k8s.io/v1beta1 (not a stored resource: see ./metrics-api/); absent: not served. */
  resourceMetrics?: MetricsApi
}

export { KUBE_VERSION }

function versionInfo(): Record<string, string> {
  return {
    ...KUBE_VERSION,
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2026-11-22T00:00:00Z',
    goVersion: `node${process.versions.node}`,
    compiler: 'tsc',
    platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
  }
}

export class ApiServer {
  readonly stores = new Map<ResourceType, ResourceStore>()
  private readonly logger: Logger
  private readonly metrics: ApiMetrics
  private server: Server | undefined
  private readonly sockets = new Set<Socket>()
  private stopping = false
  /** Resources also served in another version than the stored one (./versions/). */
  private readonly converted: ConvertedResources

  constructor(private readonly opts: ApiServerOptions) {
    this.logger = opts.logger ?? pino({ level: 'silent' })
    this.metrics = apiMetrics(opts.metrics)
    watchCacheMetrics(opts.metrics, () => this.stores.values())
    for (const rt of RESOURCES) {
      const prefix = `/registry/${rt.plural}/`
      this.stores.set(rt, new ResourceStore(rt, opts.storage, opts.cacheFor(rt, prefix), opts.hooks, prefix))
    }
    this.converted = new ConvertedResources((rt) => this.store(rt), opts.deps)
  }

  /** Where kubelets' usage reports go (the node API's ReportResourceUsage); undefined when metrics.k8s.io is not served. */
  get resourceUsage(): ResourceUsageStore | undefined {
    return this.opts.resourceMetrics?.usage
  }

  /** The store of a resource (for in-process callers such as admission). */
  store(rt: ResourceType): ResourceStore {
    return this.stores.get(rt)!
  }

  private started: Promise<void> | undefined

  /**
   * Loads every watch cache, then creates what must exist (see bootstrap); resolves
   * when the server can answer everything. Called once; later calls share the result.
   */
  ready(): Promise<void> {
    this.started ??= (async () => {
      await Promise.all([...this.stores.values()].map((s) => s.cache.ready()))
      // The store may still be electing a leader; keep trying until it answers.
      for (;;) {
        try {
          await this.bootstrap((await this.opts.bootstrap?.()) ?? [])
          break
        } catch (err) {
          if (this.stopping) throw err
          this.logger.warn({ err }, 'bootstrap objects not written yet; retrying')
          await new Promise((r) => setTimeout(r, 1000))
        }
      }
      this.isReady = true
    })()
    return this.started
  }

  private isReady = false

  /**
   * What every apiserver makes sure exists (kube-apiserver's bootstrap controller):
   * the system namespaces and the `kubernetes` Service. Idempotent: another master
   * may have created them first.
   */
  async bootstrap(objects: readonly { rt: ResourceType; namespace: string; object: KubeObject }[]): Promise<void> {
    for (const o of objects) {
      try {
        await this.store(o.rt).create(o.namespace, o.object, { dryRun: false, fieldManager: 'kube-apiserver' })
      } catch (err) {
        if (err instanceof ApiError && err.code === 409) continue
        throw err
      }
    }
  }

  async listen(opts: { host: string; port: number; tls?: { cert: Buffer | string; key: Buffer | string } }): Promise<number> {
    const handler = (req: IncomingMessage, res: ServerResponse): void => void this.handle(req, res)
    const server = opts.tls === undefined ? createHttpServer(handler) : createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key }, handler)
    // Watches are long-lived; Node's default request timeouts would cut them.
    server.requestTimeout = 0
    server.headersTimeout = 60_000
    server.keepAliveTimeout = 65_000
    server.on('connection', (s: Socket) => {
      this.sockets.add(s)
      s.on('close', () => this.sockets.delete(s))
    })
    this.server = server
    void this.ready().catch((err: unknown) => this.logger.error({ err }, 'apiserver failed to start'))
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(opts.port, opts.host, () => {
        server.off('error', reject)
        resolve()
      })
    })
    return (server.address() as AddressInfo).port
  }

  async stop(): Promise<void> {
    this.stopping = true
    const server = this.server
    if (server !== undefined) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      for (const s of this.sockets) s.destroy()
      await closed
    }
    for (const s of this.stores.values()) s.cache.stop()
    this.opts.resourceMetrics?.usage.stop()
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x')
    const path = url.pathname
    const method = req.method ?? 'GET'
    const info = requestInfo(method, path, url.searchParams)
    const started = process.hrtime.bigint()
    let labels: Record<string, string> | undefined
    try {
      if (info.kind === 'nonresource') return await this.nonResource(req, res, path, url.searchParams)
      const metricsApi = MetricsApi.handles(info) ? this.opts.resourceMetrics : undefined
      const converted = metricsApi === undefined ? this.converted.lookup(info) : undefined
      const rt = metricsApi === undefined && converted === undefined ? this.resolve(info) : undefined
      labels = {
        verb: info.verb.toUpperCase() === 'WATCH' ? 'WATCH' : metricVerb(info.verb),
        group: info.group,
        version: info.version,
        resource: info.resource,
        subresource: info.subresource,
        scope: info.namespace !== '' ? 'namespace' : info.name !== '' ? 'resource' : 'cluster',
        component: 'apiserver',
      }
      if (info.verb === 'watch') this.metrics.longRunning.inc(labels)
      else this.metrics.inflight.inc({ request_kind: method === 'GET' ? 'readOnly' : 'mutating' })
      try {
        if (converted !== undefined) {
          await handleResource({ req, res, info, query: url.searchParams, store: converted.store, deps: converted.deps })
        } else if (rt === undefined) {
          await metricsApi!.handle(req, res, info, url.searchParams)
        } else if (info.subresource === 'log' && rt.plural === 'pods' && rt.group === '' && method === 'GET') {
          await servePodLog({ req, res, namespace: info.namespace, name: info.name, query: url.searchParams, pods: this.store(rt), nodes: this.store(findResource('', 'v1', 'nodes')!) })
        } else {
          await handleResource({ req, res, info, query: url.searchParams, store: this.store(rt), deps: this.opts.deps })
        }
      } finally {
        if (info.verb === 'watch') this.metrics.longRunning.dec(labels)
        else this.metrics.inflight.dec({ request_kind: method === 'GET' ? 'readOnly' : 'mutating' })
      }
    } catch (err) {
      if (!(err instanceof ApiError)) this.logger.error({ err, method, path }, 'request failed')
      sendError(res, err)
    } finally {
      if (labels !== undefined) {
        const code = String(res.statusCode || statusOf(undefined).code)
        this.metrics.requests.inc({ ...labels, code })
        if (labels.verb !== 'WATCH') this.metrics.latency.observe(labels, Number(process.hrtime.bigint() - started) / 1e9)
      }
    }
  }

  private resolve(info: ResourceRequestInfo): ResourceType {
    const rt = findResource(info.group, info.version, info.resource)
    if (rt === undefined) {
      throw new ApiError(404, 'NotFound', 'the server could not find the requested resource', {})
    }
    return rt
  }

  private async nonResource(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): Promise<void> {
    switch (path) {
      case '/version':
        return sendJson(res, 200, versionInfo(), true)
      case '/healthz':
      case '/livez':
      case '/readyz':
        return this.health(res, path, query)
      case '/metrics': {
        const body = await this.opts.metrics.metrics()
        res.writeHead(200, { 'Content-Type': this.opts.metrics.contentType }).end(body)
        return
      }
    }
    if (path.startsWith('/healthz/') || path.startsWith('/livez/') || path.startsWith('/readyz/')) return this.health(res, path, query)
    const doc = this.opts.documents(path, query, req.headers.accept)
    if (doc !== undefined) {
      if (doc.etag !== undefined) {
        res.setHeader('ETag', `"${doc.etag}"`)
        if (req.headers['if-none-match'] === `"${doc.etag}"`) {
          res.writeHead(304).end()
          return
        }
      }
      const body = typeof doc.body === 'string' ? Buffer.from(doc.body) : doc.body
      res.writeHead(200, { 'Content-Type': doc.contentType, 'Content-Length': body.length, 'Cache-Control': 'no-cache, private' })
      res.end(body)
      return
    }
    throw notFoundPath()
  }

  /** /healthz, /livez, /readyz (and /<kind>/<check>), with `?verbose` as Kubernetes prints it. */
  private async health(res: ServerResponse, path: string, query: URLSearchParams): Promise<void> {
    const [, kind, only] = path.split('/')
    const checks: Record<string, () => Promise<boolean>> = {
      ping: async () => true,
      etcd: () => this.opts.storage.healthy().catch(() => false),
      ...(kind === 'readyz'
        ? {
            'informer-sync': async () => this.isReady,
            shutdown: async () => !this.stopping,
          }
        : {}),
      ...(this.opts.checks ?? {}),
    }
    const names = only !== undefined && only !== '' ? [only] : Object.keys(checks)
    if (names.some((n) => checks[n] === undefined)) throw notFoundPath()
    const results = await Promise.all(names.map(async (n) => [n, await checks[n]!().catch(() => false)] as const))
    const ok = results.every(([, v]) => v)
    const verbose = query.has('verbose')
    let body: string
    if (verbose || !ok) {
      body = results.map(([n, v]) => (v ? `[+]${n} ok` : `[-]${n} failed: reason withheld`)).join('\n') + '\n'
      body += ok ? `${kind} check passed\n` : `${kind} check failed\n`
    } else {
      body = 'ok'
    }
    res.writeHead(ok ? 200 : 500, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' }).end(body)
  }
}

function metricVerb(verb: string): string {
  switch (verb) {
    case 'get':
      return 'GET'
    case 'list':
      return 'LIST'
    case 'create':
      return 'POST'
    case 'update':
      return 'PUT'
    case 'patch':
      return 'PATCH'
    case 'delete':
      return 'DELETE'
    case 'deletecollection':
      return 'DELETECOLLECTION'
    default:
      return verb.toUpperCase()
  }
}

function notFoundPath(): ApiError {
  return new ApiError(404, 'NotFound', 'the server could not find the requested resource', {})
}
