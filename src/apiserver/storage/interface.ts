// The one storage interface the API server's registry and watch cache use (the role
// of k8s.io/apiserver's storage.Interface, over raw bytes). Two implementations:
// `local` (this master's in-process store member) and `remote` (any etcd v3
// endpoints, a real etcd included), so the same registry code is proven on both.
//
// Keys are strings such as `/registry/pods/default/web-1`; values are the encoded
// object (JSON bytes). Revisions are etcd revisions; an object's resourceVersion is
// its modRevision.

export interface StoredKV {
  key: string
  value: Uint8Array
  createRevision: number
  modRevision: number
  /** Decimal lease ID, '0' for none. */
  lease: string
}

export interface GetResult {
  kv: StoredKV | undefined
  /** The store revision the read reflects. */
  revision: number
}

export interface ListOptions {
  /** Read at this revision (0/undefined: the current one, read linearizably). */
  revision?: number
  /** At most this many items (0/undefined: all). */
  limit?: number
  /** Start at this key (inclusive) instead of the prefix itself: used to continue. */
  startKey?: string
}

export interface ListResult {
  items: StoredKV[]
  /** The revision the list was read at (the read revision, not the max modRevision). */
  revision: number
  /** More items remain after the last one returned. */
  more: boolean
  /** Items left after this page (etcd's count minus the returned ones), when `more`. */
  remaining: number
}

/**
 * A write that may land only while `key` holds exactly `value`: how a leader-only
 * loop's writes are tied to the Lease it holds (the key records the Lease's holder).
 * Compared in the same Txn as the write, so a paused and resumed old leader gets a
 * refusal, never a write.
 */
export interface Fence {
  key: string
  value: string
}

/** Another key written in the same Txn as the main one (only when the write lands). */
export type SideWrite = { put: string; value: Uint8Array } | { delete: string }

export interface WriteOptions {
  /** Attach a lease with this TTL (seconds); used for Events. */
  ttlSeconds?: number
  fence?: Fence
  also?: readonly SideWrite[]
}

export type DeleteOptions = Omit<WriteOptions, 'ttlSeconds'>

/**
 * A failed write: what is there now, and, when it was refused by its fence, what the
 * fence key holds instead ('' when it is missing).
 */
export interface WriteRefused {
  ok: false
  current: StoredKV | undefined
  revision: number
  fencedBy?: string
}

/** A conditional write either lands (with its revision) or reports what is there now. */
export type WriteResult = { ok: true; revision: number; kv: StoredKV } | WriteRefused

export type DeleteResult = { ok: true; revision: number; prev: StoredKV } | WriteRefused

export interface WatchEvent {
  type: 'PUT' | 'DELETE'
  /** For DELETE: key and modRevision (the deletion revision) only; the value is empty. */
  kv: StoredKV
  /** The value before this change (undefined when the watch asked for no prev values). */
  prev: StoredKV | undefined
}

export interface WatchCallbacks {
  /** Events of one revision arrive together, in revision order, never twice. */
  onEvents(events: WatchEvent[], revision: number): void
  /** The store confirms nothing under the prefix changed up to `revision` (for bookmarks). */
  onProgress(revision: number): void
  /**
   * The watch ended and will not deliver more: `compacted` (fromRevision is below the
   * store's compacted revision: relist), or `error` (the connection is lost; the
   * caller may re-watch from the next revision).
   */
  onClose(reason: 'compacted' | 'error', err?: Error): void
}

export interface WatchOptions {
  /**
   * Read each change's previous value (etcd's prev_kv). Default true; the watch cache
   * keeps every object itself and turns it off, which saves a store read per event.
   */
  prevValues?: boolean
}

export interface WatchHandle {
  /** Ask the store for a progress notification now (etcd's RequestProgress). */
  requestProgress(): void
  /** Stops the watch; no callback runs after this returns. */
  cancel(): void
}

export type StorageErrorCode = 'Compacted' | 'FutureRevision' | 'Unavailable' | 'TooLarge' | 'Internal'

export class StorageError extends Error {
  constructor(
    readonly code: StorageErrorCode,
    message: string,
    /** For Compacted: the store's compacted revision, when known. */
    readonly compactedRevision?: number,
  ) {
    super(message)
    this.name = 'StorageError'
  }
}

export interface Storage {
  get(key: string, opts?: { revision?: number }): Promise<GetResult>
  /** Every key with this prefix, in key order. */
  list(prefix: string, opts?: ListOptions): Promise<ListResult>
  count(prefix: string): Promise<number>
  /** Creates the key if it does not exist (create_revision == 0). */
  create(key: string, value: Uint8Array, opts?: WriteOptions): Promise<WriteResult>
  /** Replaces the key if its modRevision is still `expectedModRevision`. */
  update(key: string, value: Uint8Array, expectedModRevision: number, opts?: WriteOptions): Promise<WriteResult>
  /** Deletes the key if present and, when given, its modRevision is `expectedModRevision`. */
  delete(key: string, expectedModRevision?: number, opts?: DeleteOptions): Promise<DeleteResult>
  /**
   * Watches every key under `prefix` for changes with revision > `afterRevision`
   * (prev values included, progress notifications on).
   */
  watch(prefix: string, afterRevision: number, cb: WatchCallbacks, opts?: WatchOptions): WatchHandle
  /** The store's current revision, read linearizably. */
  currentRevision(): Promise<number>
  compact(revision: number): Promise<void>
  /** Store health for /readyz and /livez (a linearizable read succeeded). */
  healthy(): Promise<boolean>
  close(): Promise<void>
}
