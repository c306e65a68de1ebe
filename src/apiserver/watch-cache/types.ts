// What the registry asks of a resource's watch cache (the role of k8s.io/apiserver's
// cacher): one store watch per resource feeds an in-memory copy that serves lists,
// gets at "any" resourceVersion, and every watcher. An event is serialized once per
// encoding and the bytes are shared by every watcher that receives it.

/** A Kubernetes object as stored: plain JSON, never mutated once cached. */
export type KubeObject = Record<string, unknown> & {
  apiVersion?: string
  kind?: string
  metadata?: Record<string, unknown>
}

export interface CachedObject {
  /** Store key: `/registry/<plural>/<namespace>/<name>`. */
  readonly key: string
  /** The object with metadata.resourceVersion set to its modRevision. Frozen: never mutate. */
  readonly object: KubeObject
  readonly modRevision: number
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR'

export interface CacheEvent {
  readonly type: Exclude<WatchEventType, 'BOOKMARK' | 'ERROR'>
  /** For DELETED: the last state, with resourceVersion set to the deletion revision. */
  readonly object: CachedObject
  /** The state before this event (undefined for ADDED). */
  readonly prev: CachedObject | undefined
  readonly revision: number
  /**
   * `{"type":"…","object":…}` as JSON bytes with a trailing newline, encoded on first
   * use and shared by every watcher (a watcher whose filter turns a MODIFIED into an
   * ADDED or DELETED gets its own encoding).
   */
  json(type?: CacheEvent['type']): Buffer
}

export interface CacheFilter {
  /** Only keys under this prefix (e.g. one namespace: `/registry/pods/default/`). */
  readonly keyPrefix?: string
  /** Label/field selector match; undefined: everything. */
  readonly matches?: (obj: KubeObject) => boolean
}

export interface CacheListResult {
  readonly items: readonly CachedObject[]
  /** The cache revision the list reflects (the list's resourceVersion). */
  readonly revision: number
}

export interface CacheWatcher {
  /** Events in revision order, already filtered (a MODIFIED that leaves the filter arrives as DELETED, one that enters it as ADDED). */
  /** Return false to pause delivery (the consumer is backed up) until the handle's resume(). */
  onEvent(ev: CacheEvent, type: CacheEvent['type']): void | boolean
  /** A bookmark at this revision (only when the watch asked for bookmarks). */
  onBookmark(revision: number): void
  /** The watch can no longer continue (cache relisted after compaction, or stopping). */
  onClose(reason: 'expired' | 'stopped'): void
}

export interface WatchCacheApi {
  /** The newest revision the cache has caught up to. */
  readonly revision: number
  /** Resolves once the initial list is loaded. */
  ready(): Promise<void>
  /**
   * Resolves when the cache has reached `revision` (a resourceVersion a client saw);
   * rejects with TooLargeResourceVersionError after `timeoutMs` (Kubernetes answers
   * 504 "Too large resource version" then).
   */
  waitUntilFresh(revision: number, timeoutMs?: number): Promise<void>
  get(key: string): CachedObject | undefined
  /** Items in key order. */
  list(filter?: CacheFilter): CacheListResult
  /**
   * Watches changes with revision > `afterRevision`. Throws ExpiredError (410 Gone)
   * when that revision is older than the cache's event window.
   */
  watch(afterRevision: number, filter: CacheFilter, w: CacheWatcher, opts?: { bookmarks?: boolean }): { stop(): void; resume(): void }
  stop(): void
}

export class ExpiredError extends Error {
  constructor(
    readonly requested: number,
    readonly oldest: number,
  ) {
    super(`too old resource version: ${requested} (${oldest})`)
    this.name = 'ExpiredError'
  }
}

export class TooLargeResourceVersionError extends Error {
  constructor(
    readonly requested: number,
    readonly current: number,
  ) {
    super(`Too large resource version: ${requested}, current: ${current}`)
    this.name = 'TooLargeResourceVersionError'
  }
}
