// An in-memory Storage with etcd's semantics, for unit tests of the registry and the
// watch cache: revisions start at 1 and each write adds one; create/mod revisions;
// conditional writes that report what is there on failure; reads at past revisions
// until they are compacted; paginated lists; watches that replay history with prev
// values, answer progress requests and end as `compacted` when started too far back.
//
// Everything happens synchronously inside one call; the async API only mirrors the
// real implementations. Watch callbacks run later (microtasks), in revision order,
// never after cancel(). Keys are ordered by JavaScript string comparison, which is
// etcd's byte order for the ASCII keys Kubernetes uses.
import { fenceRefusal } from './conditional-txn.js'
import {
  StorageError,
  type DeleteOptions,
  type DeleteResult,
  type Fence,
  type GetResult,
  type ListOptions,
  type ListResult,
  type Storage,
  type StoredKV,
  type WatchCallbacks,
  type WatchEvent,
  type WatchHandle,
  type WriteOptions,
  type WriteRefused,
  type WriteResult,
} from './interface.js'

const ERR_COMPACTED = 'etcdserver: mvcc: required revision has been compacted'
const ERR_FUTURE = 'etcdserver: mvcc: required revision is a future revision'
const EMPTY = new Uint8Array(0)

/** One version of a key; a tombstone marks the revision that deleted it. */
interface Version {
  kv: StoredKV
  tombstone: boolean
}

interface LoggedEvent {
  revision: number
  event: WatchEvent
}

type WatchItem =
  | { kind: 'events'; events: WatchEvent[]; revision: number }
  | { kind: 'progress'; revision: number }
  | { kind: 'close'; reason: 'compacted' | 'error'; err?: Error }

/** First index in a sorted array whose value is >= target (or > target when `strict`). */
function lowerBound<T>(arr: readonly T[], target: string | number, get: (x: T) => string | number, strict = false): number {
  let lo = 0
  let hi = arr.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    const v = get(arr[mid]!)
    if (v < target || (strict && v === target)) lo = mid + 1
    else hi = mid
  }
  return lo
}

const identity = (s: string): string => s

class MemoryWatch implements WatchHandle {
  private queue: WatchItem[] = []
  private head = 0
  private scheduled = false
  private canceled = false
  private ended = false

  constructor(
    readonly prefix: string,
    private readonly cb: WatchCallbacks,
    private readonly owner: MemoryStorage,
  ) {}

  get active(): boolean {
    return !this.canceled && !this.ended
  }

  push(item: WatchItem): void {
    if (!this.active) return
    if (item.kind === 'close') {
      this.ended = true
      this.owner.forget(this)
    }
    this.queue.push(item)
    if (!this.scheduled) {
      this.scheduled = true
      queueMicrotask(() => this.flush())
    }
  }

  requestProgress(): void {
    this.owner.progressRequests++
    // Queued behind every event already committed, so the revision promises exactly them.
    this.push({ kind: 'progress', revision: this.owner.headRevision })
  }

  cancel(): void {
    if (this.canceled) return
    this.canceled = true
    this.queue = []
    this.owner.forget(this)
  }

  private flush(): void {
    this.scheduled = false
    while (!this.canceled && this.head < this.queue.length) {
      const item = this.queue[this.head++]!
      if (item.kind === 'events') this.cb.onEvents(item.events, item.revision)
      else if (item.kind === 'progress') this.cb.onProgress(item.revision)
      else {
        this.canceled = true
        this.cb.onClose(item.reason, item.err)
      }
    }
    this.queue = []
    this.head = 0
  }
}

export class MemoryStorage implements Storage {
  private rev = 1
  private compactRev = 0
  /** Versions of each key, oldest first; pruned by compaction. */
  private readonly history = new Map<string, Version[]>()
  /** Every key with history, sorted. */
  private keys: string[] = []
  /** Every change still replayable by a watch, in revision order. */
  private log: LoggedEvent[] = []
  private readonly watches = new Set<MemoryWatch>()
  private readonly leases = new Map<string, number>()
  private nextLease = 0x694d7a6b2c1a0001n
  private closed = false
  /** How many times a watch asked for progress (tests check the watch cache asks). */
  progressRequests = 0

  /** The current revision, synchronously (tests). */
  get headRevision(): number {
    return this.rev
  }

  get compactedRevision(): number {
    return this.compactRev
  }

  /** Watches not yet canceled or ended. */
  get watchCount(): number {
    return this.watches.size
  }

  /** The TTL recorded for a lease ID (leases never expire here). */
  leaseTTL(id: string): number | undefined {
    return this.leases.get(id)
  }

  /** Ends every open watch with `error`, as a lost connection would (tests). */
  failWatches(message = 'watch connection lost'): void {
    for (const w of [...this.watches]) w.push({ kind: 'close', reason: 'error', err: new StorageError('Unavailable', message) })
  }

  async get(key: string, opts: { revision?: number } = {}): Promise<GetResult> {
    this.checkOpen()
    const at = this.readRevision(opts.revision)
    return { kv: this.kvAt(key, at), revision: at }
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    this.checkOpen()
    const at = this.readRevision(opts.revision)
    const from = opts.startKey !== undefined && opts.startKey > prefix ? opts.startKey : prefix
    const limit = opts.limit ?? 0
    const items: StoredKV[] = []
    let total = 0
    for (let i = lowerBound(this.keys, from, identity); i < this.keys.length; i++) {
      const key = this.keys[i]!
      if (!key.startsWith(prefix)) break
      const kv = this.kvAt(key, at)
      if (kv === undefined) continue
      total++
      if (limit === 0 || items.length < limit) items.push(kv)
    }
    const more = total > items.length
    return { items, revision: at, more, remaining: more ? total - items.length : 0 }
  }

  async count(prefix: string): Promise<number> {
    this.checkOpen()
    let n = 0
    for (let i = lowerBound(this.keys, prefix, identity); i < this.keys.length; i++) {
      const key = this.keys[i]!
      if (!key.startsWith(prefix)) break
      if (this.current(key) !== undefined) n++
    }
    return n
  }

  async create(key: string, value: Uint8Array, opts: WriteOptions = {}): Promise<WriteResult> {
    this.checkOpen()
    const cur = this.current(key)
    const fencedBy = this.fencedBy(opts.fence)
    if (cur !== undefined || fencedBy !== undefined) return this.refused(cur, fencedBy)
    const res = this.put(key, value, undefined, opts, ++this.rev)
    this.sideWrites(opts, res.revision)
    return { ok: true, ...res }
  }

  async update(key: string, value: Uint8Array, expectedModRevision: number, opts: WriteOptions = {}): Promise<WriteResult> {
    this.checkOpen()
    const cur = this.current(key)
    const fencedBy = this.fencedBy(opts.fence)
    // As an etcd Txn comparing mod_revision: a missing key compares as 0.
    if ((cur?.modRevision ?? 0) !== expectedModRevision || fencedBy !== undefined) return this.refused(cur, fencedBy)
    const res = this.put(key, value, cur, opts, ++this.rev)
    this.sideWrites(opts, res.revision)
    return { ok: true, ...res }
  }

  async delete(key: string, expectedModRevision?: number, opts: DeleteOptions = {}): Promise<DeleteResult> {
    this.checkOpen()
    const cur = this.current(key)
    const fencedBy = this.fencedBy(opts.fence)
    if (cur === undefined || (expectedModRevision !== undefined && cur.modRevision !== expectedModRevision) || fencedBy !== undefined) {
      return this.refused(cur, fencedBy)
    }
    const revision = ++this.rev
    this.remove(key, cur, revision)
    this.sideWrites(opts, revision)
    return { ok: true, revision, prev: cur }
  }

  watch(prefix: string, afterRevision: number, cb: WatchCallbacks): WatchHandle {
    const w = new MemoryWatch(prefix, cb, this)
    this.watches.add(w)
    if (this.closed) {
      w.push({ kind: 'close', reason: 'error', err: new StorageError('Unavailable', 'storage closed') })
      return w
    }
    // etcd cancels a watch whose start revision (afterRevision + 1) is below the compacted one.
    if (afterRevision + 1 < this.compactRev) {
      w.push({ kind: 'close', reason: 'compacted', err: new StorageError('Compacted', ERR_COMPACTED, this.compactRev) })
      return w
    }
    for (let i = lowerBound(this.log, afterRevision, (e) => e.revision, true); i < this.log.length; i++) {
      const { event, revision } = this.log[i]!
      if (event.kv.key.startsWith(prefix)) w.push({ kind: 'events', events: [event], revision })
    }
    return w
  }

  async currentRevision(): Promise<number> {
    this.checkOpen()
    return this.rev
  }

  async compact(revision: number): Promise<void> {
    this.checkOpen()
    if (revision > this.rev) throw new StorageError('FutureRevision', ERR_FUTURE)
    if (revision <= this.compactRev) throw new StorageError('Compacted', ERR_COMPACTED, this.compactRev)
    this.compactRev = revision
    // Keep, per key, the version visible at the compacted revision and everything after it.
    for (const key of this.keys) {
      const versions = this.history.get(key)!
      const visible = lowerBound(versions, revision, (v) => v.kv.modRevision, true) - 1
      if (visible <= 0 && !(visible === 0 && versions[0]!.tombstone)) continue
      const keepFrom = versions[visible]!.tombstone ? visible + 1 : visible
      if (keepFrom >= versions.length) this.history.delete(key)
      else this.history.set(key, versions.slice(keepFrom))
    }
    this.keys = this.keys.filter((k) => this.history.has(k))
    this.log = this.log.slice(lowerBound(this.log, revision, (e) => e.revision))
  }

  async healthy(): Promise<boolean> {
    return !this.closed
  }

  async close(): Promise<void> {
    this.closed = true
    this.failWatches('storage closed')
  }

  /** Called by a watch that was canceled or ended. */
  forget(w: MemoryWatch): void {
    this.watches.delete(w)
  }

  /** What a refused etcd Txn reports: the key now, and what the fence key holds if the fence failed. */
  private refused(current: StoredKV | undefined, fencedBy: string | undefined): WriteRefused {
    return fencedBy === undefined ? { ok: false, current, revision: this.rev } : { ok: false, current, revision: this.rev, fencedBy }
  }

  private fencedBy(fence: Fence | undefined): string | undefined {
    if (fence === undefined) return undefined
    const kv = this.current(fence.key)
    return fenceRefusal(fence, kv?.value)
  }

  /** The other keys of the same Txn, at the same revision (etcd gives them the same main revision). */
  private sideWrites(opts: WriteOptions, revision: number): void {
    for (const w of opts.also ?? []) {
      if ('put' in w) this.put(w.put, w.value, this.current(w.put), {}, revision)
      else {
        const cur = this.current(w.delete)
        if (cur !== undefined) this.remove(w.delete, cur, revision)
      }
    }
  }

  private remove(key: string, cur: StoredKV, revision: number): void {
    const kv: StoredKV = { key, value: EMPTY, createRevision: 0, modRevision: revision, lease: '0' }
    this.record(key, { kv, tombstone: true })
    this.emit({ type: 'DELETE', kv, prev: cur }, revision)
  }

  private put(key: string, value: Uint8Array, prev: StoredKV | undefined, opts: WriteOptions, revision: number): { revision: number; kv: StoredKV } {
    let lease = '0'
    if (opts.ttlSeconds !== undefined) {
      lease = (this.nextLease++).toString()
      this.leases.set(lease, opts.ttlSeconds)
    }
    const kv: StoredKV = { key, value: value.slice(), createRevision: prev?.createRevision ?? revision, modRevision: revision, lease }
    this.record(key, { kv, tombstone: false })
    this.emit({ type: 'PUT', kv, prev }, revision)
    return { revision, kv }
  }

  private record(key: string, v: Version): void {
    const versions = this.history.get(key)
    if (versions !== undefined) {
      versions.push(v)
      return
    }
    this.history.set(key, [v])
    this.keys.splice(lowerBound(this.keys, key, identity), 0, key)
  }

  private emit(event: WatchEvent, revision: number): void {
    this.log.push({ event, revision })
    for (const w of this.watches) {
      if (event.kv.key.startsWith(w.prefix)) w.push({ kind: 'events', events: [event], revision })
    }
  }

  private current(key: string): StoredKV | undefined {
    const versions = this.history.get(key)
    const last = versions?.[versions.length - 1]
    return last === undefined || last.tombstone ? undefined : last.kv
  }

  private kvAt(key: string, at: number): StoredKV | undefined {
    const versions = this.history.get(key)
    if (versions === undefined) return undefined
    const i = lowerBound(versions, at, (v) => v.kv.modRevision, true) - 1
    const v = versions[i]
    return v === undefined || v.tombstone ? undefined : v.kv
  }

  private readRevision(revision: number | undefined): number {
    if (revision === undefined || revision <= 0) return this.rev
    if (revision > this.rev) throw new StorageError('FutureRevision', ERR_FUTURE)
    if (revision < this.compactRev) throw new StorageError('Compacted', ERR_COMPACTED, this.compactRev)
    return revision
  }

  private checkOpen(): void {
    if (this.closed) throw new StorageError('Unavailable', 'storage closed')
  }
}
