// The generic registry of one resource (the role of apiserver's genericregistry.Store):
// create, get, list, watch, update, patch, delete and deletecollection over the
// Storage interface and the resource's watch cache. Every write is one conditional
// store operation guarded by the object's mod revision, so a stale update is a 409
// and nothing is ever half-written.
import { LEASE_FENCED } from '../../api/fencing.js'
import type { ResourceType } from '../../api/resources.js'
import type { SideWrite, Storage, StoredKV, WriteOptions, WriteRefused } from '../storage/interface.js'
import { StorageError } from '../storage/interface.js'
import {
  ApiError,
  alreadyExists,
  badRequest,
  conflict,
  expired,
  internalError,
  invalid,
  notFound,
  serviceUnavailable,
  staleConflict,
  timeout,
} from '../status.js'
import type { CachedObject, KubeObject, WatchCacheApi } from '../watch-cache/types.js'
import { TooLargeResourceVersionError } from '../watch-cache/types.js'
import { decodeKV, encodeObject } from './codec.js'
import { clone, semanticEqual } from '../../api/json.js'
import { dropEmptyMetaCollections, generateName, type Meta, metaOf, newUid, timestamp } from './object-meta.js'
import { type Strategy, strategyFor } from './strategy.js'

export interface FieldError {
  type: string
  field: string
  message: string
}

/** What the API layer (defaulting, validation, admission) contributes to writes. */
export interface ObjectHooks {
  /** Kubernetes' defaulting; `create` adds what only a create sets (a Namespace's finalizer, a Pod's service account). */
  defaults(rt: ResourceType, obj: KubeObject, create: boolean): void
  validateCreate(rt: ResourceType, obj: KubeObject): FieldError[]
  validateUpdate(rt: ResourceType, old: KubeObject, obj: KubeObject, subresource: string): FieldError[]
  /** Formats an Invalid Status message: `Deployment.apps "x" is invalid: [...]`. */
  invalidMessage(rt: ResourceType, name: string, errs: FieldError[]): string
  /** Admission: may mutate `obj` (and claim resources unless `dryRun`) or throw an ApiError. */
  admit(op: 'CREATE' | 'UPDATE' | 'DELETE', rt: ResourceType, obj: KubeObject, old: KubeObject | undefined, dryRun: boolean): Promise<void>
  /** A create that admission let through did not land: give back what admission claimed. */
  createFailed(rt: ResourceType, obj: KubeObject): Promise<void>
  /** The object is gone from the store. */
  deleted(rt: ResourceType, obj: KubeObject): Promise<void>
  /** managedFields bookkeeping for a non-apply write (in place). */
  recordUpdate(rt: ResourceType, old: KubeObject | undefined, obj: KubeObject, manager: string, now: Date, subresource: string): void
}

/**
 * A leader-only loop's write (our fencing beyond Kubernetes): it lands only while the
 * Lease `namespace/name` is held by `holder`, checked in the same Txn as the write.
 */
export interface LeaseFence {
  namespace: string
  name: string
  holder: string
}

export interface WriteContext {
  dryRun: boolean
  fieldManager: string
  now?: Date
  /** A server-side apply: the apply already recorded the manager's fields. */
  applied?: boolean
  fence?: LeaseFence
}

export interface ListOptions {
  match?: (obj: KubeObject) => boolean
  /** Labels/fields were given: remainingItemCount is left out, as Kubernetes does. */
  filtered?: boolean
  resourceVersion?: string
  resourceVersionMatch?: string
  limit?: number
  continueToken?: string
}

export interface ListResult {
  items: KubeObject[]
  resourceVersion: string
  continueToken?: string
  remainingItemCount?: number
}

export interface DeleteOptions {
  gracePeriodSeconds?: number
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground'
  preconditions?: { uid?: string; resourceVersion?: string }
  dryRun: boolean
  fence?: LeaseFence
}

/**
 * Where the holder of a Lease is recorded for fencing: written in the same Txn as every
 * Lease write, outside every resource prefix (no watch or list sees it). Node
 * heartbeats (kube-node-lease) are never fences and skip the extra key.
 */
export function leaseHolderKey(namespace: string, name: string): string {
  return `/registry/raftplane.io/leaseholders/${namespace}/${name}`
}

function leaseHolder(obj: KubeObject | undefined): string {
  const h = (obj?.spec as { holderIdentity?: unknown } | undefined)?.holderIdentity
  return typeof h === 'string' ? h : ''
}

export type Mutation = (current: KubeObject | undefined) => KubeObject | Promise<KubeObject>

const MAX_RETRIES = 16

interface ContinueToken {
  v: 'meta.k8s.io/v1'
  rv: number
  start: string
}

export function encodeContinue(rv: number, start: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start } satisfies ContinueToken)).toString('base64url')
}

function decodeContinue(token: string, prefix: string): ContinueToken {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as ContinueToken
    if (t.v !== 'meta.k8s.io/v1' || typeof t.rv !== 'number' || typeof t.start !== 'string' || t.start.includes('..')) throw new Error('bad')
    return { ...t, start: prefix + t.start }
  } catch {
    throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)')
  }
}

/** Maps storage failures to the Status kube-apiserver returns for them. */
export function storageToApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err
  if (err instanceof StorageError) {
    switch (err.code) {
      case 'Compacted':
        return expired('The resourceVersion for the provided list is too old.')
      case 'FutureRevision':
        return timeout('Too large resource version', 1)
      case 'Unavailable':
        return serviceUnavailable(`storage is unavailable: ${err.message}`)
      case 'TooLarge':
        return new ApiError(413, 'RequestEntityTooLarge', 'etcdserver: request is too large')
      default:
        return internalError(err)
    }
  }
  if (err instanceof TooLargeResourceVersionError) {
    return timeout(`Too large resource version: ${err.requested}, current: ${err.current}`, 1)
  }
  return internalError(err)
}

function parseRv(rv: string | undefined, what = 'resourceVersion'): number | undefined {
  if (rv === undefined || rv === '') return undefined
  if (!/^\d+$/.test(rv)) throw badRequest(`invalid ${what}: "${rv}"`)
  return Number(rv)
}

export class ResourceStore {
  readonly strategy: Strategy
  readonly prefix: string

  constructor(
    readonly rt: ResourceType,
    private readonly storage: Storage,
    readonly cache: WatchCacheApi,
    private readonly hooks: ObjectHooks,
    prefix: string,
  ) {
    this.strategy = strategyFor(rt)
    this.prefix = prefix
  }

  key(namespace: string, name: string): string {
    return this.rt.namespaced ? `${this.prefix}${namespace}/${name}` : `${this.prefix}${name}`
  }

  /** The cache/storage prefix of one namespace, or the whole resource. */
  scopePrefix(namespace: string): string {
    return this.rt.namespaced && namespace !== '' ? `${this.prefix}${namespace}/` : this.prefix
  }

  private notFound(name: string): ApiError {
    return notFound(this.rt.plural, this.rt.group, name)
  }

  async get(namespace: string, name: string, resourceVersion?: string): Promise<KubeObject> {
    const key = this.key(namespace, name)
    try {
      if (resourceVersion === '0') {
        const hit = this.cache.get(key)
        if (hit === undefined) throw this.notFound(name)
        return hit.object
      }
      const rv = parseRv(resourceVersion)
      if (rv !== undefined) await this.cache.waitUntilFresh(rv)
      const { kv } = await this.storage.get(key)
      if (kv === undefined) throw this.notFound(name)
      return decodeKV(kv)
    } catch (err) {
      throw storageToApiError(err)
    }
  }

  async list(namespace: string, opts: ListOptions): Promise<ListResult> {
    const prefix = this.scopePrefix(namespace)
    const match = opts.match
    try {
      if (opts.continueToken !== undefined && opts.continueToken !== '') {
        if (opts.resourceVersion !== undefined && opts.resourceVersion !== '') {
          throw badRequest('specifying resource version is not allowed when using continue')
        }
        const t = decodeContinue(opts.continueToken, prefix)
        return await this.listFromStorage(prefix, t.rv, t.start, opts)
      }
      const rv = opts.resourceVersion
      const exact = opts.resourceVersionMatch === 'Exact'
      if (opts.resourceVersionMatch !== undefined && opts.resourceVersionMatch !== '' && opts.resourceVersionMatch !== 'Exact' && opts.resourceVersionMatch !== 'NotOlderThan') {
        throw badRequest(`resourceVersionMatch: Unsupported value: "${opts.resourceVersionMatch}": supported values: "Exact", "NotOlderThan"`)
      }
      if (exact && (rv === undefined || rv === '' || rv === '0')) {
        throw badRequest('resourceVersionMatch "Exact" is forbidden for resourceVersion "" and "0"')
      }
      const limit = opts.limit ?? 0
      // An exact revision, or a paged consistent list, reads the store at one revision.
      if (exact) return await this.listFromStorage(prefix, parseRv(rv)!, prefix, opts)
      if (limit > 0 && rv !== '0' && (rv === undefined || rv === '')) {
        const current = await this.storage.currentRevision()
        return await this.listFromStorage(prefix, current, prefix, opts)
      }
      // Otherwise the watch cache answers, once it is at least as new as required.
      if (rv === undefined || rv === '') {
        await this.cache.waitUntilFresh(await this.storage.currentRevision())
      } else if (rv !== '0') {
        await this.cache.waitUntilFresh(parseRv(rv)!)
      }
      const res = this.cache.list(match === undefined ? { keyPrefix: prefix } : { keyPrefix: prefix, matches: match })
      return { items: res.items.map((c: CachedObject) => c.object), resourceVersion: String(res.revision) }
    } catch (err) {
      if (err instanceof StorageError && err.code === 'Compacted' && opts.continueToken) {
        throw expired(
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
        )
      }
      throw storageToApiError(err)
    }
  }

  /** A page (or all) of the list at `revision`, filtered, from the store itself. */
  private async listFromStorage(prefix: string, revision: number, start: string, opts: ListOptions): Promise<ListResult> {
    const limit = opts.limit ?? 0
    const items: KubeObject[] = []
    let startKey = start
    let more: boolean
    let remaining: number
    let lastKey = ''
    // With a selector a page may need several reads to fill, as Kubernetes' etcd3 store does.
    for (;;) {
      const want = limit > 0 ? Math.max(limit - items.length, 1) : 0
      const res = await this.storage.list(prefix, { revision, limit: want, startKey })
      for (const kv of res.items) {
        lastKey = kv.key
        const obj = decodeKV(kv)
        if (opts.match === undefined || opts.match(obj)) items.push(obj)
      }
      more = res.more
      remaining = res.remaining
      if (!more || limit === 0 || items.length >= limit) break
      startKey = lastKey + '\x00'
    }
    const out: ListResult = { items, resourceVersion: String(revision) }
    if (more && limit > 0) {
      out.continueToken = encodeContinue(revision, (lastKey + '\x00').slice(prefix.length))
      if (!opts.filtered) out.remainingItemCount = remaining
    }
    return out
  }

  /** Fills the metadata a create owns and runs defaults, validation and admission. */
  private async prepareCreate(namespace: string, obj: KubeObject, ctx: WriteContext): Promise<KubeObject> {
    const meta = metaOf(obj)
    if (meta.resourceVersion !== undefined && meta.resourceVersion !== '') {
      throw internalError(new Error('resourceVersion should not be set on objects to be created'))
    }
    if ((meta.name === undefined || meta.name === '') && typeof meta.generateName === 'string' && meta.generateName !== '') {
      meta.name = generateName(meta.generateName)
    }
    if (this.rt.namespaced) meta.namespace = namespace
    else delete meta.namespace
    const now = ctx.now ?? new Date()
    meta.uid = newUid()
    meta.creationTimestamp = timestamp(now)
    delete meta.deletionTimestamp
    delete meta.deletionGracePeriodSeconds
    if (this.strategy.tracksGeneration) meta.generation = 1
    else delete meta.generation
    this.strategy.prepareForCreate(obj)
    this.hooks.defaults(this.rt, obj, true)
    dropEmptyMetaCollections(meta)
    this.validate(obj, this.hooks.validateCreate(this.rt, obj))
    await this.hooks.admit('CREATE', this.rt, obj, undefined, ctx.dryRun)
    if (ctx.applied !== true) this.hooks.recordUpdate(this.rt, undefined, obj, ctx.fieldManager, now, '')
    return obj
  }

  private validate(obj: KubeObject, errs: FieldError[]): void {
    if (errs.length === 0) return
    const name = String(metaOf(obj).name ?? '')
    throw invalid(
      this.rt.kind,
      this.rt.group,
      name,
      this.hooks.invalidMessage(this.rt, name, errs),
      errs.map((e) => ({ reason: e.type, message: e.message, field: e.field })),
    )
  }

  async create(namespace: string, input: KubeObject, ctx: WriteContext): Promise<KubeObject> {
    const obj = await this.prepareCreate(namespace, clone(input), ctx)
    const name = String(metaOf(obj).name)
    if (ctx.dryRun) {
      // A dry run that would collide still reports the collision.
      const existing = await this.storage.get(this.key(namespace, name)).catch((e: unknown) => {
        throw storageToApiError(e)
      })
      if (existing.kv !== undefined) throw alreadyExists(this.rt.plural, this.rt.group, name)
      return obj
    }
    let res
    try {
      res = await this.storage.create(this.key(namespace, name), encodeObject(obj), this.writeOptions(ctx.fence, undefined, obj))
    } catch (err) {
      await this.hooks.createFailed(this.rt, obj)
      throw storageToApiError(err)
    }
    if (!res.ok) {
      await this.hooks.createFailed(this.rt, obj)
      this.throwIfFenced(res, ctx.fence, name)
      throw alreadyExists(this.rt.plural, this.rt.group, name)
    }
    metaOf(obj).resourceVersion = String(res.revision)
    return obj
  }

  /** The store options of one write: TTL, fence, and the Lease holder record. */
  private writeOptions(fence: LeaseFence | undefined, old: KubeObject | undefined, next: KubeObject | undefined): WriteOptions {
    const opts: WriteOptions = {}
    // Events expire after an hour, as kube-apiserver's --event-ttl default.
    if (this.rt.kind === 'Event' && this.rt.group === '') opts.ttlSeconds = 3600
    if (fence !== undefined) opts.fence = { key: leaseHolderKey(fence.namespace, fence.name), value: fence.holder }
    const also = this.leaseHolderWrites(old, next)
    if (also !== undefined) opts.also = also
    return opts
  }

  private leaseHolderWrites(old: KubeObject | undefined, next: KubeObject | undefined): SideWrite[] | undefined {
    if (this.rt.kind !== 'Lease' || this.rt.group !== 'coordination.k8s.io') return undefined
    const meta = metaOf((next ?? old)!)
    if (meta.namespace === 'kube-node-lease') return undefined
    const key = leaseHolderKey(String(meta.namespace), String(meta.name))
    if (next === undefined) return [{ delete: key }]
    // Written on every Lease write, not only when the holder changes, so a record lost
    // or never written (a Lease from before fencing) is back after one renewal.
    return [{ put: key, value: Buffer.from(leaseHolder(next), 'utf8') }]
  }

  /** A write refused by its fence is a 409 that says who holds the Lease now. */
  private throwIfFenced(res: WriteRefused, fence: LeaseFence | undefined, name: string): void {
    if (res.fencedBy === undefined || fence === undefined) return
    const now = res.fencedBy === '' ? 'no one' : `"${res.fencedBy}"`
    const why = `the write is fenced by lease ${fence.namespace}/${fence.name}, which is held by ${now}, not "${fence.holder}"`
    const err = conflict(this.rt.plural, this.rt.group, name, why)
    err.details!.causes = [{ reason: LEASE_FENCED, message: why, field: 'metadata' }]
    throw err
  }

  /**
   * Read-modify-write with optimistic concurrency: `mutate` sees the current object
   * (undefined when missing) and returns the next one. A result whose resourceVersion
   * differs from the current one is the client's 409 at once. A write that loses a race
   * re-reads and retries (patches, server-side apply, subresources) unless `pinned`: the
   * client sent the resourceVersion it read (a PUT), and that is now stale.
   */
  async update(
    namespace: string,
    name: string,
    mutate: Mutation,
    ctx: WriteContext,
    opts: { subresource?: string; createIfMissing?: boolean; pinned?: boolean } = {},
  ): Promise<{ object: KubeObject; created: boolean }> {
    const key = this.key(namespace, name)
    for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
      // The first attempt starts from the watch cache, as kube-apiserver's
      // GuaranteedUpdate does: no quorum read on the common path. The Txn's
      // mod-revision guard catches a stale copy, and anything decided on one (a
      // refusal, a no-op) is decided again on the store's current state.
      const hit = attempt === 0 ? this.cache.get(key) : undefined
      if (hit !== undefined) {
        try {
          // The frozen cached object is only read: mutate gets its own copy.
          const r = await this.updateFrom(hit.modRevision, hit.object, namespace, name, mutate, ctx, opts)
          if (r !== 'retry' && r !== 'noop') return r
        } catch (err) {
          if (!(err instanceof ApiError)) throw err
        }
        continue
      }
      let current: StoredKV | undefined
      try {
        current = (await this.storage.get(key)).kv
      } catch (err) {
        throw storageToApiError(err)
      }
      const old = current === undefined ? undefined : decodeKV(current)
      const r = await this.updateFrom(current?.modRevision, old, namespace, name, mutate, ctx, opts)
      if (r === 'noop') return { object: old!, created: false }
      if (r !== 'retry') return r
    }
    throw conflict(this.rt.plural, this.rt.group, name, 'too many concurrent updates, please retry')
  }

  /** One read-modify-write attempt from `old` (at `modRevision`): the result, a no-op, or 'retry' after a lost race. */
  private async updateFrom(
    modRevision: number | undefined,
    old: KubeObject | undefined,
    namespace: string,
    name: string,
    mutate: Mutation,
    ctx: WriteContext,
    opts: { subresource?: string; createIfMissing?: boolean; pinned?: boolean },
  ): Promise<{ object: KubeObject; created: boolean } | 'noop' | 'retry'> {
    const key = this.key(namespace, name)
    if (old === undefined && !(opts.createIfMissing ?? false)) throw this.notFound(name)
    // mutate works on its own copy of `old`, so what it returns shares nothing with `old`.
    const next = await mutate(old === undefined ? undefined : clone(old))
    const nextMeta = metaOf(next)
    if (nextMeta.name !== undefined && nextMeta.name !== name) {
      throw badRequest(`the name of the object (${String(nextMeta.name)}) does not match the name on the URL (${name})`)
    }
    nextMeta.name = name
    if (old === undefined) {
      if (opts.subresource !== undefined && opts.subresource !== '') throw this.notFound(name)
      const created = await this.create(namespace, next, ctx)
      return { object: created, created: true }
    }
    const pinned = nextMeta.resourceVersion
    if (pinned !== undefined && pinned !== '' && pinned !== metaOf(old).resourceVersion) {
      throw staleConflict(this.rt.plural, this.rt.group, name)
    }
    const merged = await this.prepareUpdate(old, next, ctx, opts.subresource ?? '')
    if (merged === old) return 'noop'
    if (ctx.dryRun) return { object: merged, created: false }
    const terminatedNow = this.finalizedDeletion(merged)
    try {
      if (terminatedNow) {
        const del = await this.storage.delete(key, modRevision, this.writeOptions(ctx.fence, old, undefined))
        if (del.ok) {
          metaOf(merged).resourceVersion = String(del.revision)
          await this.hooks.deleted(this.rt, merged)
          return { object: merged, created: false }
        }
        this.throwIfFenced(del, ctx.fence, name)
      } else {
        const res = await this.storage.update(key, encodeObject(merged), modRevision!, this.writeOptions(ctx.fence, old, merged))
        if (res.ok) {
          metaOf(merged).resourceVersion = String(res.revision)
          return { object: merged, created: false }
        }
        this.throwIfFenced(res, ctx.fence, name)
      }
    } catch (err) {
      throw storageToApiError(err)
    }
    if (opts.pinned === true && pinned !== undefined && pinned !== '') throw staleConflict(this.rt.plural, this.rt.group, name)
    return 'retry'
  }

  /** An update that removed the last finalizer of an object being deleted deletes it. */
  private finalizedDeletion(obj: KubeObject): boolean {
    const m = metaOf(obj)
    return m.deletionTimestamp !== undefined && (m.finalizers === undefined || m.finalizers.length === 0) && !this.strategy.holdsDeletion(obj)
  }

  /**
   * The stored object after an update: server-owned metadata kept from `old`, the
   * status or the rest kept depending on the subresource, generation moved, then
   * defaults, validation and admission. Returns `old` itself for a no-op.
   */
  private async prepareUpdate(old: KubeObject, input: KubeObject, ctx: WriteContext, subresource: string): Promise<KubeObject> {
    const oldMeta = metaOf(old)
    let next: KubeObject
    if (subresource === 'status') {
      next = clone(old)
      next.status = input.status
    } else {
      next = input
      // A binding is the server's own write of spec.nodeName plus the PodScheduled condition.
      if (this.strategy.hasStatus && subresource !== 'binding') {
        if (old.status === undefined) delete next.status
        else next.status = clone(old.status)
      }
    }
    const meta: Meta = metaOf(next)
    for (const k of ['uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'namespace', 'generation'] as const) {
      if (oldMeta[k] === undefined) delete meta[k]
      else meta[k] = oldMeta[k] as never
    }
    if (subresource === 'status') {
      // A status write keeps the object's metadata except its annotations: upstream's
      // status strategies reset only the spec (and some the labels), and controllers
      // rely on it (the Deployment controller records deployment.kubernetes.io/revision
      // with its status write).
      const annotations = metaOf(input).annotations
      next.metadata = { ...clone(oldMeta) }
      if (annotations === undefined || Object.keys(annotations).length === 0) delete metaOf(next).annotations
      else metaOf(next).annotations = clone(annotations)
    }
    // A terminating object accepts no new finalizers (Kubernetes forbids adding them).
    if (oldMeta.deletionTimestamp !== undefined) {
      const before = new Set(oldMeta.finalizers ?? [])
      const added = (metaOf(next).finalizers ?? []).filter((f) => !before.has(f))
      if (added.length > 0) {
        throw invalid(this.rt.kind, this.rt.group, String(oldMeta.name), `${this.rt.kind} "${String(oldMeta.name)}" is invalid: metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}`, [
          { reason: 'FieldValueForbidden', field: 'metadata.finalizers', message: 'no new finalizers can be added if the object is being deleted' },
        ])
      }
    }
    if (subresource === '') this.strategy.prepareForUpdate(next, old)
    this.hooks.defaults(this.rt, next, false)
    dropEmptyMetaCollections(metaOf(next))
    if (this.strategy.tracksGeneration && subresource !== 'status' && this.strategy.specChanged(next, old)) {
      metaOf(next).generation = Number(oldMeta.generation ?? 0) + 1
    }
    metaOf(next).resourceVersion = oldMeta.resourceVersion
    const { managedFields: _a, ...nm } = metaOf(next)
    const { managedFields: _b, ...om } = oldMeta
    if (semanticEqual({ ...next, metadata: nm }, { ...old, metadata: om })) return old
    if (subresource !== 'binding') this.validate(next, this.hooks.validateUpdate(this.rt, old, next, subresource))
    await this.hooks.admit('UPDATE', this.rt, next, old, ctx.dryRun)
    if (ctx.applied !== true) this.hooks.recordUpdate(this.rt, old, next, ctx.fieldManager, ctx.now ?? new Date(), subresource)
    return next
  }

  async delete(namespace: string, name: string, opts: DeleteOptions): Promise<{ object: KubeObject; deleted: boolean }> {
    const key = this.key(namespace, name)
    for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
      let current: StoredKV | undefined
      try {
        current = (await this.storage.get(key)).kv
      } catch (err) {
        throw storageToApiError(err)
      }
      if (current === undefined) throw this.notFound(name)
      const obj = decodeKV(current)
      const meta = metaOf(obj)
      const pre = opts.preconditions
      if (pre?.uid !== undefined && pre.uid !== meta.uid) {
        throw conflict(this.rt.plural, this.rt.group, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${String(meta.uid)}`)
      }
      if (pre?.resourceVersion !== undefined && pre.resourceVersion !== meta.resourceVersion) {
        throw conflict(
          this.rt.plural,
          this.rt.group,
          name,
          `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${String(meta.resourceVersion)}`,
        )
      }
      if (attempt === 0) await this.hooks.admit('DELETE', this.rt, obj, undefined, opts.dryRun)
      const pending = this.pendingDeletion(obj, opts)
      if (pending !== undefined) {
        if (opts.dryRun) return { object: pending, deleted: false }
        if (semanticEqual(pending, obj)) return { object: obj, deleted: false }
        try {
          const res = await this.storage.update(key, encodeObject(pending), current.modRevision, this.writeOptions(opts.fence, obj, pending))
          if (res.ok) {
            metaOf(pending).resourceVersion = String(res.revision)
            return { object: pending, deleted: false }
          }
          this.throwIfFenced(res, opts.fence, name)
        } catch (err) {
          throw storageToApiError(err)
        }
        continue
      }
      if (opts.dryRun) return { object: obj, deleted: true }
      try {
        const res = await this.storage.delete(key, current.modRevision, this.writeOptions(opts.fence, obj, undefined))
        if (res.ok) {
          meta.resourceVersion = String(res.revision)
          await this.hooks.deleted(this.rt, obj)
          return { object: obj, deleted: true }
        }
        this.throwIfFenced(res, opts.fence, name)
      } catch (err) {
        throw storageToApiError(err)
      }
    }
    throw conflict(this.rt.plural, this.rt.group, name, 'too many concurrent updates, please retry')
  }

  /**
   * The object marked for deletion, when it cannot go at once: it has finalizers, the
   * caller asked for Orphan/Foreground propagation (the garbage collector's
   * finalizers), or it is a pod on a node that must stop its containers first.
   * undefined: delete it now.
   */
  private pendingDeletion(obj: KubeObject, opts: DeleteOptions): KubeObject | undefined {
    const meta = metaOf(obj)
    const finalizers = new Set(meta.finalizers ?? [])
    if (opts.propagationPolicy === 'Orphan') finalizers.add('orphan')
    if (opts.propagationPolicy === 'Foreground') finalizers.add('foregroundDeletion')
    let grace = 0
    if (this.rt.kind === 'Pod' && this.rt.group === '') {
      const spec = (obj.spec ?? {}) as Record<string, unknown>
      const status = (obj.status ?? {}) as Record<string, unknown>
      const bound = typeof spec.nodeName === 'string' && spec.nodeName !== ''
      const terminal = status.phase === 'Succeeded' || status.phase === 'Failed'
      const requested = opts.gracePeriodSeconds ?? Number(spec.terminationGracePeriodSeconds ?? 30)
      if (bound && !terminal) grace = Math.max(0, requested)
      // A second delete may only shorten the grace period.
      if (meta.deletionGracePeriodSeconds !== undefined) grace = Math.min(grace, meta.deletionGracePeriodSeconds)
    }
    if (finalizers.size === 0 && grace === 0 && !this.strategy.holdsDeletion(obj)) return undefined
    const next = clone(obj)
    this.strategy.prepareForDelete(next, obj)
    const nm = metaOf(next)
    if (finalizers.size > 0) nm.finalizers = [...finalizers]
    const now = Date.now()
    if (nm.deletionTimestamp === undefined || (grace < (nm.deletionGracePeriodSeconds ?? Infinity))) {
      nm.deletionTimestamp = timestamp(new Date(now + grace * 1000))
      nm.deletionGracePeriodSeconds = grace
    }
    return next
  }

  /** Deletes every object of the list, one conditional delete each (as Kubernetes does). */
  async deleteCollection(namespace: string, list: ListOptions, opts: DeleteOptions): Promise<KubeObject[]> {
    const { items } = await this.list(namespace, { ...list, limit: 0, continueToken: '' })
    const out: KubeObject[] = []
    for (const it of items) {
      const m = metaOf(it)
      try {
        const r = await this.delete(String(m.namespace ?? ''), String(m.name), opts)
        out.push(r.object)
      } catch (err) {
        if (err instanceof ApiError && err.code === 404) continue
        throw err
      }
    }
    return out
  }
}
