// Kubernetes REST for one resource request: turns the URL, query and body into a
// registry call and its answer into JSON, a Table, PartialObjectMetadata or a watch
// stream, with kube-apiserver's status codes (201 on create, 202 on a pending delete, …).
import { metaTime } from '../../api/time.js'
import { FENCE_HEADER, FENCE_HOLDER_HEADER } from '../../api/fencing.js'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { ResourceType } from '../../api/resources.js'
import { apiVersionOf } from '../../api/resources.js'
import { type LabelSelector, selectorFromSet, selectorToString } from '../../api/labels.js'
import type { ResourceRequestInfo } from '../request-info.js'
import type { DeleteOptions, LeaseFence, ListOptions, ResourceStore, WriteContext } from '../registry/resource-store.js'
import { metaOf } from '../registry/object-meta.js'
import { ApiError, badRequest, expired, methodNotAllowed, notFound, success, unsupportedMediaType } from '../status.js'
import { checkSchema, parseFieldValidation } from '../schema-check.js'
import type { KubeObject } from '../watch-cache/types.js'
import { objectJson } from '../watch-cache/encoding.js'
import { asObject, decodeBody, mediaType, readBody } from './body.js'
import { negotiate, type ResponseShape } from './negotiate.js'
import { sendBytes, sendJson } from './respond.js'
import { serveWatch } from './watch-stream.js'

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply'

/** The pure API functions the HTTP layer calls (selectors, tables, patches). */
export interface HandlerDeps {
  /** Throws a 400 ApiError for a malformed selector. */
  labelMatcher(selector: string): (labels: Record<string, string>) => boolean
  fieldMatcher(rt: ResourceType, selector: string): (obj: KubeObject) => boolean
  table(rt: ResourceType, objs: readonly KubeObject[], opts: { includeObject: 'None' | 'Metadata' | 'Object'; noHeaders: boolean }): Record<string, unknown>
  patch(type: Exclude<PatchType, 'apply'>, rt: ResourceType, current: KubeObject, body: Buffer): KubeObject
  /** Server-side apply; throws the 409 with the conflicting fields unless `force`. */
  apply(rt: ResourceType, live: KubeObject | undefined, applied: KubeObject, manager: string, force: boolean, now: Date, subresource: string): KubeObject
}

const PATCH_TYPES: Record<string, PatchType> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
  'application/apply-patch+cbor': 'apply',
}

// kube-apiserver's --min-request-timeout: watches end after a random time between it and twice it.
const MIN_WATCH_TIMEOUT_S = 1800

/** What a request needs of a resource's store: a ResourceStore, or a view of one in another version (../versions/). */
export type RequestStore = Pick<ResourceStore, 'rt' | 'cache' | 'strategy' | 'scopePrefix' | 'get' | 'list' | 'create' | 'update' | 'delete' | 'deleteCollection'>

export interface ResourceRequest {
  req: IncomingMessage
  res: ServerResponse
  info: ResourceRequestInfo
  query: URLSearchParams
  store: RequestStore
  deps: HandlerDeps
}

function boolParam(q: URLSearchParams, name: string): boolean | undefined {
  const v = q.get(name)
  if (v === null) return undefined
  if (v === 'true' || v === '1' || v === '') return true
  if (v === 'false' || v === '0') return false
  throw badRequest(`invalid boolean value for ${name}: "${v}"`)
}

function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name)
  if (v === null || v === '') return undefined
  if (!/^-?\d+$/.test(v)) throw badRequest(`invalid value for ${name}: "${v}"`)
  return Number(v)
}

function dryRunParam(q: URLSearchParams): boolean {
  const values = q.getAll('dryRun')
  for (const v of values) {
    if (v !== 'All') throw badRequest(`Invalid dry run value: dryRun: Unsupported value: "${v}": supported values: "All"`)
  }
  return values.length > 0
}

/** The field manager of a write: the parameter, else the user agent's program name (as Kubernetes derives it). */
function fieldManager(req: IncomingMessage, q: URLSearchParams): string {
  const m = q.get('fieldManager')
  if (m !== null && m !== '') {
    if (m.length > 128) throw badRequest('fieldManager: Too long: may not be longer than 128')
    return m
  }
  const ua = req.headers['user-agent'] ?? 'unknown'
  return ua.split('/')[0]!.slice(0, 128)
}

/** The fence of a leader-only loop's write (src/api/fencing.ts), when it sent one. */
function leaseFence(req: IncomingMessage): LeaseFence | undefined {
  const lease = req.headers[FENCE_HEADER]
  const holder = req.headers[FENCE_HOLDER_HEADER]
  if (lease === undefined && holder === undefined) return undefined
  const parts = typeof lease === 'string' ? lease.split('/') : []
  if (parts.length !== 2 || parts[0] === '' || parts[1] === '') {
    throw badRequest(`invalid ${FENCE_HEADER} header: want <namespace>/<lease name>, got ${JSON.stringify(lease ?? '')}`)
  }
  if (typeof holder !== 'string' || holder === '') throw badRequest(`${FENCE_HOLDER_HEADER} header is required with ${FENCE_HEADER}`)
  return { namespace: parts[0]!, name: parts[1]!, holder }
}

function writeContext(r: ResourceRequest): WriteContext {
  const ctx: WriteContext = { dryRun: dryRunParam(r.query), fieldManager: fieldManager(r.req, r.query) }
  const fence = leaseFence(r.req)
  if (fence !== undefined) ctx.fence = fence
  return ctx
}

export async function handleResource(r: ResourceRequest): Promise<void> {
  const { info, store } = r
  const rt = store.rt
  if (info.subresource !== '' && !(rt.subresources as readonly string[]).includes(info.subresource)) {
    throw notFound(`${rt.plural}/${info.subresource}`, rt.group, info.name)
  }
  if (!rt.namespaced && info.namespace !== '' && info.resource !== 'namespaces') {
    throw notFound(rt.plural, rt.group, info.name)
  }
  const verb = info.verb
  const allowed = verb === 'proxy' ? false : (rt.verbs as readonly string[]).includes(verb) || info.subresource !== ''
  if (!allowed) throw methodNotAllowed()
  switch (verb) {
    case 'get':
      return getOne(r)
    case 'list':
      return list(r)
    case 'watch':
      return watch(r)
    case 'create':
      return create(r)
    case 'update':
      return update(r)
    case 'patch':
      return patch(r)
    case 'delete':
      return del(r)
    case 'deletecollection':
      return deleteCollection(r)
    default:
      throw methodNotAllowed()
  }
}

function shapeOf(r: ResourceRequest): ResponseShape {
  return negotiate(r.req.headers.accept)
}

function includeObject(q: URLSearchParams): 'None' | 'Metadata' | 'Object' {
  const v = q.get('includeObject')
  if (v === null || v === '') return 'Metadata'
  if (v === 'None' || v === 'Metadata' || v === 'Object') return v
  throw badRequest(`includeObject: Unsupported value: "${v}"`)
}

function partial(obj: KubeObject): KubeObject {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata }
}

function send(r: ResourceRequest, code: number, obj: KubeObject, shape = shapeOf(r)): void {
  const pretty = boolParam(r.query, 'pretty') ?? false
  if (shape === 'table') return sendJson(r.res, code, r.deps.table(r.store.rt, [obj], { includeObject: includeObject(r.query), noHeaders: false }), pretty)
  if (shape === 'metadata') return sendJson(r.res, code, partial(obj), pretty)
  sendJson(r.res, code, obj, pretty)
}

async function getOne(r: ResourceRequest): Promise<void> {
  const shape = shapeOf(r)
  if (r.info.subresource === 'scale') return sendJson(r.res, 200, toScale(r.store.rt, await r.store.get(r.info.namespace, r.info.name)))
  if (r.info.subresource !== '' && r.info.subresource !== 'status') throw methodNotAllowed()
  const obj = await r.store.get(r.info.namespace, r.info.name, r.query.get('resourceVersion') ?? undefined)
  send(r, 200, obj, shape)
}

function listOptions(r: ResourceRequest): ListOptions {
  const q = r.query
  const labelSel = q.get('labelSelector') ?? ''
  const fieldSel = q.get('fieldSelector') ?? ''
  const labels = labelSel === '' ? undefined : r.deps.labelMatcher(labelSel)
  let fields = fieldSel === '' ? undefined : r.deps.fieldMatcher(r.store.rt, fieldSel)
  // A watch or list on one name (/pods/web?watch=true) is a field selector on metadata.name.
  if (r.info.name !== '') {
    const name = r.info.name
    const byName = (o: KubeObject): boolean => metaOf(o).name === name
    const other = fields
    fields = other === undefined ? byName : (o) => byName(o) && other(o)
  }
  let match: ((o: KubeObject) => boolean) | undefined
  if (labels !== undefined || fields !== undefined) {
    match = (o) => (labels === undefined || labels((metaOf(o).labels ?? {}) as Record<string, string>)) && (fields === undefined || fields(o))
  }
  const opts: ListOptions = { filtered: match !== undefined }
  if (match !== undefined) opts.match = match
  const rv = q.get('resourceVersion')
  if (rv !== null) opts.resourceVersion = rv
  const rvm = q.get('resourceVersionMatch')
  if (rvm !== null && rvm !== '') opts.resourceVersionMatch = rvm
  const limit = intParam(q, 'limit')
  if (limit !== undefined && limit > 0) opts.limit = limit
  const cont = q.get('continue')
  if (cont !== null && cont !== '') opts.continueToken = cont
  return opts
}

async function list(r: ResourceRequest): Promise<void> {
  const shape = shapeOf(r)
  const rt = r.store.rt
  const res = await r.store.list(r.info.namespace, listOptions(r))
  const metadata: Record<string, unknown> = { resourceVersion: res.resourceVersion }
  if (res.continueToken !== undefined) metadata.continue = res.continueToken
  if (res.remainingItemCount !== undefined) metadata.remainingItemCount = res.remainingItemCount
  const pretty = boolParam(r.query, 'pretty') ?? false
  if (shape === 'table') {
    const table = r.deps.table(rt, res.items, { includeObject: includeObject(r.query), noHeaders: false })
    table.metadata = metadata
    return sendJson(r.res, 200, table, pretty)
  }
  if (shape === 'metadata') {
    return sendJson(r.res, 200, { kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata, items: res.items.map(partial) }, pretty)
  }
  const apiVersion = apiVersionOf(rt)
  // Items keep their kind/apiVersion (clients accept both shapes of a typed list).
  if (pretty) return sendJson(r.res, 200, { kind: `${rt.kind}List`, apiVersion, metadata, items: res.items }, true)
  const head = Buffer.from(`{"kind":"${rt.kind}List","apiVersion":"${apiVersion}","metadata":${JSON.stringify(metadata)},"items":[`)
  const parts: Buffer[] = [head]
  for (let i = 0; i < res.items.length; i++) {
    if (i > 0) parts.push(COMMA)
    parts.push(objectJson(res.items[i]!))
  }
  parts.push(LIST_END)
  sendBytes(r.res, 200, Buffer.concat(parts))
}

const COMMA = Buffer.from(',')
const LIST_END = Buffer.from(']}')

async function watch(r: ResourceRequest): Promise<void> {
  const q = r.query
  const shape = shapeOf(r)
  const opts = listOptions(r)
  const store = r.store
  const rt = store.rt
  const rv = opts.resourceVersion ?? ''
  const sendInitial = boolParam(q, 'sendInitialEvents')
  const bookmarks = boolParam(q, 'allowWatchBookmarks') ?? false
  if (sendInitial !== undefined && (opts.resourceVersionMatch !== 'NotOlderThan' || !bookmarks)) {
    throw invalidWatch('sendInitialEvents requires resourceVersionMatch=NotOlderThan and allowWatchBookmarks=true')
  }
  const filter = opts.match === undefined ? { keyPrefix: store.scopePrefix(r.info.namespace) } : { keyPrefix: store.scopePrefix(r.info.namespace), matches: opts.match }
  let initial: readonly KubeObject[] = []
  let after: number
  const wantInitial = sendInitial ?? (rv === '' || rv === '0')
  if (wantInitial) {
    const listed = await store.list(r.info.namespace, { ...opts, limit: 0, resourceVersionMatch: undefined, continueToken: undefined, resourceVersion: rv === '' ? '' : rv })
    initial = listed.items
    after = Number(listed.resourceVersion)
  } else {
    if (!/^\d+$/.test(rv)) throw badRequest(`invalid resource version: "${rv}"`)
    after = Number(rv)
    await store.cache.waitUntilFresh(after).catch(() => undefined)
  }
  const timeoutS = intParam(q, 'timeoutSeconds') ?? Math.round(MIN_WATCH_TIMEOUT_S * (1 + Math.random()))
  let transform: ((obj: KubeObject, first: boolean) => unknown) | undefined
  if (shape === 'table') {
    const inc = includeObject(q)
    transform = (obj, first) => r.deps.table(rt, [obj], { includeObject: inc, noHeaders: !first })
  } else if (shape === 'metadata') {
    transform = (obj) => partial(obj)
  }
  const opt = {
    cache: store.cache,
    filter,
    afterRevision: after,
    initial,
    initialEventsEnd: sendInitial === true,
    bookmarks,
    timeoutMs: Math.max(0, timeoutS) * 1000,
    apiVersion: apiVersionOf(rt),
    kind: rt.kind,
    onExpired: (e: { requested: number; oldest: number }) => expired(`too old resource version: ${e.requested} (${e.oldest})`),
  }
  serveWatch(r.req, r.res, transform === undefined ? opt : { ...opt, transform })
}

function invalidWatch(message: string): ApiError {
  return new ApiError(422, 'Invalid', `ListOptions.meta.k8s.io "" is invalid: ${message}`)
}

async function readObject(r: ResourceRequest): Promise<KubeObject> {
  const body = await readBody(r.req)
  const rt = r.store.rt
  const obj = asObject(decodeBody(body, r.req.headers['content-type'], { apiVersion: apiVersionOf(rt), kind: rt.kind }), rt.kind) as KubeObject
  checkTypeMeta(r.store.rt, obj)
  checkFields(r, obj)
  return obj
}

/**
 * Wrong JSON types are a 400 always; unknown fields per `fieldValidation` (Strict:
 * 400, Warn: a Warning header each, Ignore: nothing), as kube-apiserver decodes.
 */
function checkFields(r: ResourceRequest, obj: KubeObject): void {
  let mode
  try {
    mode = parseFieldValidation(r.query.get('fieldValidation'))
  } catch (err) {
    throw badRequest((err as Error).message)
  }
  const rt = r.store.rt
  const p = checkSchema(rt, obj, mode !== 'Ignore')
  if (p.typeError !== undefined) throw badRequest(`${rt.kind} in version "${rt.version}" cannot be handled as a ${rt.kind}: ${p.typeError}`)
  if (p.unknown.length === 0) return
  if (mode === 'Strict') throw badRequest(`${rt.kind} in version "${rt.version}" cannot be handled as a ${rt.kind}: strict decoding error: ${p.unknown.join(', ')}`)
  if (!r.res.headersSent) for (const u of p.unknown) r.res.appendHeader('Warning', `299 - ${JSON.stringify(u)}`)
}

/** apiVersion/kind in a body must name the endpoint's type (filled in when absent). */
function checkTypeMeta(rt: ResourceType, obj: KubeObject): void {
  const want = apiVersionOf(rt)
  if (obj.apiVersion !== undefined && obj.apiVersion !== want) {
    throw badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${want})`)
  }
  if (obj.kind !== undefined && obj.kind !== rt.kind) {
    throw badRequest(`${rt.kind} in version "${rt.version}" cannot be handled as a ${rt.kind}: the kind in the data (${String(obj.kind)}) does not match the expected kind (${rt.kind})`)
  }
  obj.apiVersion = want
  obj.kind = rt.kind
  const meta = obj.metadata
  if (meta !== undefined && (meta === null || typeof meta !== 'object' || Array.isArray(meta))) {
    throw badRequest(`${rt.kind} in version "${rt.version}" cannot be handled as a ${rt.kind}: json: cannot unmarshal ${Array.isArray(meta) ? 'array' : typeof meta} into Go struct field ${rt.kind}.metadata of type v1.ObjectMeta`)
  }
}

function checkNamespace(r: ResourceRequest, obj: KubeObject): void {
  if (!r.store.rt.namespaced) return
  const ns = metaOf(obj).namespace
  if (ns !== undefined && ns !== '' && ns !== r.info.namespace) {
    throw badRequest('the namespace of the provided object does not match the namespace sent on the request')
  }
  if (r.info.namespace === '') throw notFound('namespaces', '', '')
}

async function create(r: ResourceRequest): Promise<void> {
  const { info, store } = r
  if (info.subresource === 'binding' || info.subresource === 'eviction') return createSubresource(r)
  if (info.name !== '' || info.subresource !== '') throw methodNotAllowed()
  const obj = await readObject(r)
  checkNamespace(r, obj)
  const created = await store.create(info.namespace, obj, writeContext(r))
  send(r, 201, created)
}

async function update(r: ResourceRequest): Promise<void> {
  const { info, store } = r
  const ctx = writeContext(r)
  if (info.subresource === 'scale') return updateScale(r, ctx)
  if (info.subresource === 'finalize') return finalizeNamespace(r, ctx)
  const obj = await readObject(r)
  checkNamespace(r, obj)
  const { object, created } = await store.update(info.namespace, info.name, () => obj, ctx, {
    subresource: info.subresource,
    createIfMissing: store.strategy.allowCreateOnUpdate && info.subresource === '',
    pinned: true,
  })
  send(r, created ? 201 : 200, object)
}

async function patch(r: ResourceRequest): Promise<void> {
  const { info, store, deps } = r
  const mt = mediaType(r.req.headers['content-type'])
  const type = PATCH_TYPES[mt]
  if (type === undefined) throw unsupportedMediaType(mt)
  const body = await readBody(r.req)
  const ctx = writeContext(r)
  const rt = store.rt
  if (type === 'apply') {
    const manager = r.query.get('fieldManager')
    if (manager === null || manager === '') throw badRequest('PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch')
    const force = boolParam(r.query, 'force') ?? false
    const applied = asObject(decodeBody(body, 'application/yaml'), rt.kind) as KubeObject
    checkTypeMeta(rt, applied)
    checkFields(r, applied)
    checkNamespace(r, applied)
    const { object, created } = await store.update(
      info.namespace,
      info.name,
      (current) => deps.apply(rt, current, applied, manager, force, new Date(), info.subresource),
      { ...ctx, fieldManager: manager, applied: true },
      { subresource: info.subresource, createIfMissing: info.subresource === '' },
    )
    return send(r, created ? 201 : 200, object)
  }
  if (info.subresource === 'scale') {
    const { object } = await store.update(
      info.namespace,
      info.name,
      (current) => {
        const scale = deps.patch(type, rt, toScale(rt, current!), body)
        return fromScale(rt, current!, scale)
      },
      ctx,
    )
    return sendJson(r.res, 200, toScale(rt, object))
  }
  const { object } = await store.update(
    info.namespace,
    info.name,
    (current) => {
      const next = deps.patch(type, rt, current!, body)
      checkTypeMeta(rt, next)
      checkFields(r, next)
      return next
    },
    ctx,
    { subresource: info.subresource },
  )
  send(r, 200, object)
}

async function readDeleteOptions(r: ResourceRequest): Promise<DeleteOptions> {
  const q = r.query
  const opts: DeleteOptions = { dryRun: dryRunParam(q) }
  const fence = leaseFence(r.req)
  if (fence !== undefined) opts.fence = fence
  const body = await readBody(r.req)
  if (body.length > 0) {
    const o = asObject(decodeBody(body, r.req.headers['content-type']), 'DeleteOptions')
    if (typeof o.gracePeriodSeconds === 'number') opts.gracePeriodSeconds = o.gracePeriodSeconds
    if (o.propagationPolicy !== undefined && o.propagationPolicy !== null) opts.propagationPolicy = propagation(String(o.propagationPolicy))
    if (o.orphanDependents === true && opts.propagationPolicy === undefined) opts.propagationPolicy = 'Orphan'
    if (Array.isArray(o.dryRun) && o.dryRun.includes('All')) opts.dryRun = true
    const pre = o.preconditions
    if (pre !== null && typeof pre === 'object') {
      const p = pre as Record<string, unknown>
      opts.preconditions = {}
      if (typeof p.uid === 'string') opts.preconditions.uid = p.uid
      if (typeof p.resourceVersion === 'string') opts.preconditions.resourceVersion = p.resourceVersion
    }
  }
  const grace = intParam(q, 'gracePeriodSeconds')
  if (grace !== undefined) opts.gracePeriodSeconds = grace
  const pp = q.get('propagationPolicy')
  if (pp !== null && pp !== '') opts.propagationPolicy = propagation(pp)
  if (boolParam(q, 'orphanDependents') === true && opts.propagationPolicy === undefined) opts.propagationPolicy = 'Orphan'
  return opts
}

function propagation(v: string): 'Orphan' | 'Background' | 'Foreground' {
  if (v === 'Orphan' || v === 'Background' || v === 'Foreground') return v
  throw new ApiError(422, 'Invalid', `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "${v}": supported values: "Foreground", "Background", "Orphan"`)
}

async function del(r: ResourceRequest): Promise<void> {
  const { info, store } = r
  if (info.subresource !== '') throw methodNotAllowed()
  const opts = await readDeleteOptions(r)
  const { object, deleted } = await store.delete(info.namespace, info.name, opts)
  const rt = store.rt
  // Kubernetes answers 202 while an object waits for finalizers or a grace period.
  if (!deleted) return send(r, 202, object)
  if (rt.kind === 'Pod' || rt.kind === 'Namespace' || rt.kind === 'Service') return send(r, 200, object)
  const m = metaOf(object)
  sendJson(r.res, 200, success({ name: String(m.name), group: rt.group, kind: rt.plural, uid: String(m.uid) }))
}

async function deleteCollection(r: ResourceRequest): Promise<void> {
  const opts = await readDeleteOptions(r)
  const items = await r.store.deleteCollection(r.info.namespace, listOptions(r), opts)
  const rt = r.store.rt
  sendJson(r.res, 200, { kind: `${rt.kind}List`, apiVersion: apiVersionOf(rt), metadata: {}, items })
}

// ---- subresources: scale, binding, eviction ----

function replicasPath(rt: ResourceType): 'spec.replicas' {
  if (!rt.subresources.includes('scale')) throw notFound(`${rt.plural}/scale`, rt.group, '')
  return 'spec.replicas'
}

/** The autoscaling/v1 Scale view of a workload. */
export function toScale(rt: ResourceType, obj: KubeObject): KubeObject {
  replicasPath(rt)
  const m = metaOf(obj)
  const spec = (obj.spec ?? {}) as Record<string, unknown>
  const status = (obj.status ?? {}) as Record<string, unknown>
  // As kube-apiserver: the selector in its string form, matchExpressions included (an
  // HPA selects the target's pods with it); a ReplicationController's is a plain map.
  let selector = ''
  try {
    const sel = spec.selector
    if (sel !== undefined && sel !== null) selector = rt.kind === 'ReplicationController' ? selectorFromSet(sel as Record<string, string>).toString() : selectorToString(sel as LabelSelector)
  } catch {
    // A stored selector that does not parse (validation keeps these out): no selector.
  }
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp },
    spec: { replicas: Number(spec.replicas ?? 0) },
    status: { replicas: Number(status.replicas ?? 0), ...(selector === '' ? {} : { selector }) },
  }
}

function fromScale(rt: ResourceType, current: KubeObject, scale: KubeObject): KubeObject {
  const spec = (scale.spec ?? {}) as Record<string, unknown>
  const replicas = spec.replicas
  if (typeof replicas !== 'number' || !Number.isInteger(replicas)) {
    throw new ApiError(422, 'Invalid', `Scale.autoscaling "${String(metaOf(current).name)}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(replicas)}: must be an integer`)
  }
  if (replicas < 0) {
    throw new ApiError(422, 'Invalid', `Scale.autoscaling "${String(metaOf(current).name)}" is invalid: spec.replicas: Invalid value: ${replicas}: must be greater than or equal to 0`, {
      causes: [{ reason: 'FieldValueInvalid', field: 'spec.replicas', message: 'Invalid value: must be greater than or equal to 0' }],
    })
  }
  const sm = metaOf(scale)
  const next: KubeObject = { ...current, spec: { ...((current.spec ?? {}) as Record<string, unknown>), replicas } }
  next.metadata = { ...metaOf(current) }
  if (sm.resourceVersion !== undefined && sm.resourceVersion !== '') metaOf(next).resourceVersion = sm.resourceVersion
  else delete metaOf(next).resourceVersion
  void rt
  return next
}

async function updateScale(r: ResourceRequest, ctx: WriteContext): Promise<void> {
  const body = await readBody(r.req)
  const scale = asObject(decodeBody(body, r.req.headers['content-type']), 'Scale') as KubeObject
  const rt = r.store.rt
  const { object } = await r.store.update(r.info.namespace, r.info.name, (current) => fromScale(rt, current!, scale), ctx)
  sendJson(r.res, 200, toScale(rt, object))
}

async function createSubresource(r: ResourceRequest): Promise<void> {
  const { info, store } = r
  const body = asObject(decodeBody(await readBody(r.req), r.req.headers['content-type']), info.subresource)
  const ctx = writeContext(r)
  if (info.subresource === 'binding') {
    const target = (body.target ?? {}) as Record<string, unknown>
    const node = target.name
    if (typeof node !== 'string' || node === '') {
      throw new ApiError(422, 'Invalid', `Binding "${info.name}" is invalid: target.name: Required value`)
    }
    await store.update(
      info.namespace,
      info.name,
      (current) => {
        const pod = current!
        const spec = (pod.spec ?? {}) as Record<string, unknown>
        const pm = metaOf(pod)
        if (pm.deletionTimestamp !== undefined) throw conflict409(info.name, 'pod is being deleted, cannot be assigned to a host')
        if (typeof spec.nodeName === 'string' && spec.nodeName !== '') {
          throw conflict409(info.name, `pod ${info.name} is already assigned to node "${spec.nodeName}"`)
        }
        const bm = (body.metadata ?? {}) as Record<string, unknown>
        if (typeof bm.uid === 'string' && bm.uid !== pm.uid) throw conflict409(info.name, 'Precondition failed: UID in precondition: ' + bm.uid + ', UID in object meta: ' + String(pm.uid))
        const status = (pod.status ?? {}) as Record<string, unknown>
        const conditions = Array.isArray(status.conditions) ? (status.conditions as Record<string, unknown>[]).filter((c) => c.type !== 'PodScheduled') : []
        conditions.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: metaTime() })
        // The binding sets spec.nodeName and the PodScheduled condition in one write; a
        // status subresource update would drop the spec change, so both go in here.
        return { ...pod, spec: { ...spec, nodeName: node }, status: { ...status, conditions } }
      },
      ctx,
      { subresource: 'binding' },
    )
    return sendJson(r.res, 201, success())
  }
  // eviction: a delete honouring the eviction's DeleteOptions (PodDisruptionBudgets are not served).
  const delOpts = (body.deleteOptions ?? {}) as Record<string, unknown>
  const opts: DeleteOptions = { dryRun: ctx.dryRun }
  if (ctx.fence !== undefined) opts.fence = ctx.fence
  if (typeof delOpts.gracePeriodSeconds === 'number') opts.gracePeriodSeconds = delOpts.gracePeriodSeconds
  await store.delete(info.namespace, info.name, opts)
  sendJson(r.res, 201, success())
}

/**
 * PUT namespaces/<name>/finalize: replaces spec.finalizers and nothing else, as
 * kube-apiserver's FinalizeREST. The registry deletes a terminating namespace once
 * these and its metadata.finalizers are empty.
 */
async function finalizeNamespace(r: ResourceRequest, ctx: WriteContext): Promise<void> {
  const { info, store } = r
  const obj = await readObject(r)
  const spec = obj.spec
  const finalizers = spec !== null && typeof spec === 'object' && !Array.isArray(spec) ? (spec as Record<string, unknown>).finalizers : undefined
  const rv = metaOf(obj).resourceVersion
  const { object } = await store.update(
    info.namespace,
    info.name,
    (current) => {
      const next: KubeObject = { ...current!, spec: { ...((current!.spec ?? {}) as Record<string, unknown>), finalizers: Array.isArray(finalizers) ? finalizers : [] } }
      next.metadata = { ...metaOf(current!) }
      if (typeof rv === 'string' && rv !== '') metaOf(next).resourceVersion = rv
      return next
    },
    ctx,
    { subresource: 'finalize', pinned: true },
  )
  send(r, 200, object)
}

function conflict409(name: string, why: string): ApiError {
  return new ApiError(409, 'Conflict', `Operation cannot be fulfilled on pods/binding "${name}": ${why}`, { name, kind: 'pods/binding' })
}
