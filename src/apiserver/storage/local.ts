// Storage over this master's own store member, in process: the same requests the
// etcd v3 gRPC services would make of the EtcdServer, without a socket or a proto
// encoding between. Reads at the current revision go through a ReadIndex barrier
// (linearizable, as a quorum read from etcd); a read at an explicit revision is
// served from the local store at once, unless this member has not reached it yet.
// Conditional writes are one Txn each, as kube-apiserver's etcd3 store makes them.
import type { KeyValue } from '../../kv/mvcc/key-value.js'
import { CompactedError } from '../../kv/mvcc/kv-errors.js'
import type { RangeRequest, RangeResponse, ResponseOp, TxnRequest, TxnResponse } from '../../kv/apply/requests.js'
import { createTxn, deleteTxn, fenceRefusal, updateTxn } from './conditional-txn.js'
import type { EtcdServer } from '../../kv/server/etcd-server.js'
import { isLeaseNotFound } from './errors.js'
import type {
  DeleteOptions,
  DeleteResult,
  Fence,
  GetResult,
  ListOptions,
  ListResult,
  Storage,
  StoredKV,
  WatchCallbacks,
  WatchHandle,
  WatchOptions,
  WriteOptions,
  WriteRefused,
  WriteResult,
} from './interface.js'
import { StorageError } from './interface.js'
import { keyBytes, prefixEnd } from './keys.js'
import { LeaseCache } from './lease-cache.js'
import { localError, storedKV } from './local-convert.js'
import { LocalWatch } from './local-watch.js'
import { writeSettled } from './unknown-outcome.js'

export interface LocalStorageOptions {
  /** An idle watch reports progress this often (ms; 0: only when asked). Default 5000. */
  progressIntervalMs?: number
  /** How long healthy() waits for a linearizable read (ms). Default 2000. */
  healthTimeoutMs?: number
}

export class LocalStorage implements Storage {
  private readonly watches = new Set<LocalWatch>()
  private readonly leases: LeaseCache
  private readonly progressIntervalMs: number
  private readonly healthTimeoutMs: number
  /** Prev values of live changes, read once however many watches want them. */
  private readonly prevs = new WeakMap<KeyValue, Promise<StoredKV | undefined>>()
  private closed = false
  private readonly server: EtcdServer

  /** Over a StoreMember (what `raftplane master` runs) or its EtcdServer. */
  constructor(member: { server: EtcdServer } | EtcdServer, opts: LocalStorageOptions = {}) {
    this.server = 'server' in member ? member.server : member
    this.progressIntervalMs = opts.progressIntervalMs ?? 5000
    this.healthTimeoutMs = opts.healthTimeoutMs ?? 2000
    this.leases = new LeaseCache(async (ttl) => (await this.server.leaseGrant('0', ttl)).id)
  }

  async get(key: string, opts: { revision?: number } = {}): Promise<GetResult> {
    const revision = opts.revision ?? 0
    const res = await this.range({ key: keyBytes(key), revision })
    const kv = res.kvs[0]
    return { kv: kv === undefined ? undefined : storedKV(kv), revision: revision > 0 ? revision : res.header.revision }
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    const revision = opts.revision ?? 0
    const p = keyBytes(prefix)
    const res = await this.range({
      key: opts.startKey !== undefined ? keyBytes(opts.startKey) : p,
      range_end: prefixEnd(p),
      revision,
      limit: opts.limit ?? 0,
    })
    const items = res.kvs.map(storedKV)
    return {
      items,
      revision: revision > 0 ? revision : res.header.revision,
      more: res.more,
      remaining: res.more ? res.count - items.length : 0,
    }
  }

  async count(prefix: string): Promise<number> {
    const p = keyBytes(prefix)
    return (await this.range({ key: p, range_end: prefixEnd(p), count_only: true })).count
  }

  create(key: string, value: Uint8Array, opts?: WriteOptions): Promise<WriteResult> {
    return this.withLease(opts, async (lease) => {
      const res = await writeSettled(
        () => this.txn(createTxn(key, value, lease, opts)),
        async () => (await this.get(key)).kv === undefined,
      )
      const revision = res.header.revision
      if (!res.succeeded) return refused(res, opts?.fence)
      return { ok: true, revision, kv: { key, value, createRevision: revision, modRevision: revision, lease } }
    })
  }

  update(key: string, value: Uint8Array, expectedModRevision: number, opts?: WriteOptions): Promise<WriteResult> {
    return this.withLease(opts, async (lease) => {
      const res = await writeSettled(
        () => this.txn(updateTxn(key, value, expectedModRevision, lease, opts)),
        async () => (await this.get(key)).kv?.modRevision === expectedModRevision,
      )
      const revision = res.header.revision
      if (!res.succeeded) return refused(res, opts?.fence)
      // The put was applied here before the answer came back: the index knows the
      // key's create revision at that revision, without reading a value.
      const meta = this.server.store.keyMeta(keyBytes(key), revision)
      return { ok: true, revision, kv: { key, value, createRevision: meta?.createRevision ?? 0, modRevision: revision, lease } }
    })
  }

  async delete(key: string, expectedModRevision?: number, opts: DeleteOptions = {}): Promise<DeleteResult> {
    const guardHolds = async () => {
      const { kv } = await this.get(key)
      return expectedModRevision === undefined ? kv !== undefined : kv?.modRevision === expectedModRevision
    }
    let res: TxnResponse
    try {
      res = await writeSettled(() => this.txn(deleteTxn(key, expectedModRevision, opts)), guardHolds)
    } catch (err) {
      throw localError(err)
    }
    const revision = res.header.revision
    if (!res.succeeded) return refused(res, opts.fence)
    const op = res.responses[0]
    const prev = op !== undefined && 'response_delete_range' in op ? op.response_delete_range.prev_kvs[0] : undefined
    if (prev === undefined) throw new StorageError('Internal', `delete of ${key} succeeded without its previous value`)
    return { ok: true, revision, prev: storedKV(prev) }
  }

  watch(prefix: string, afterRevision: number, cb: WatchCallbacks, opts: WatchOptions = {}): WatchHandle {
    if (this.closed) throw new StorageError('Unavailable', 'storage is closed')
    const w = new LocalWatch(keyBytes(prefix), afterRevision, cb, {
      store: this.server.store,
      subscribe: (sub) => this.server.subscribeChanges(sub),
      prevOf: (kv, deleted) => this.prevOf(kv, deleted),
      progressIntervalMs: this.progressIntervalMs,
      prevValues: opts.prevValues ?? true,
      onDone: (done) => this.watches.delete(done),
    })
    this.watches.add(w)
    return w
  }

  async currentRevision(): Promise<number> {
    this.checkOpen()
    try {
      await this.server.linearizableBarrier()
    } catch (err) {
      throw localError(err)
    }
    return this.server.store.currentRevision
  }

  async compact(revision: number): Promise<void> {
    this.checkOpen()
    try {
      await this.server.compact(revision, false)
    } catch (err) {
      throw localError(err, this.server.store.compactedRevision)
    }
  }

  async healthy(): Promise<boolean> {
    if (this.closed || this.server.raft.leader === 0) return false
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), this.healthTimeoutMs)))
    const read = this.server.linearizableBarrier().then(
      () => true,
      () => false,
    )
    try {
      return await Promise.race([read, timeout])
    } finally {
      clearTimeout(timer)
    }
  }

  /** Ends every watch (without callbacks); the member itself is not ours to stop. */
  async close(): Promise<void> {
    this.closed = true
    for (const w of [...this.watches]) w.cancel()
    this.leases.clear()
  }

  // ------------------------------------------------------------ helpers

  private async range(r: RangeRequest): Promise<RangeResponse> {
    this.checkOpen()
    const revision = r.revision ?? 0
    // A past revision is what it is on every member; a newer one than this member has
    // applied needs the barrier first (then, if still ahead, it is a future revision).
    r.serializable = revision > 0 && revision <= this.server.store.currentRevision
    try {
      return await this.server.range(r)
    } catch (err) {
      throw localError(err, this.server.store.compactedRevision)
    }
  }

  /** Throws what the member threw (callers map it, after looking for a lost lease). */
  private async txn(r: TxnRequest): Promise<TxnResponse> {
    this.checkOpen()
    return this.server.txn(r)
  }

  /** Runs a write with the lease its TTL asks for; a lease the store lost is replaced once. */
  private async withLease(opts: WriteOptions | undefined, write: (lease: string) => Promise<WriteResult>): Promise<WriteResult> {
    const ttl = opts?.ttlSeconds ?? 0
    try {
      if (ttl <= 0) return await write('0')
      const lease = await this.leases.leaseFor(ttl)
      try {
        return await write(lease)
      } catch (err) {
        if (!isLeaseNotFound(err)) throw err
        await this.leases.forget(lease)
        return await write(await this.leases.leaseFor(ttl))
      }
    } catch (err) {
      throw localError(err)
    }
  }

  /** The value before a change: none for a creation; else read at the revision before it. */
  private prevOf(kv: KeyValue, deleted: boolean): Promise<StoredKV | undefined> {
    if (!deleted && kv.version === 1) return Promise.resolve(undefined)
    let p = this.prevs.get(kv)
    if (p === undefined) {
      p = this.readPrev(kv)
      this.prevs.set(kv, p)
    }
    return p
  }

  private async readPrev(kv: KeyValue): Promise<StoredKV | undefined> {
    const store = this.server.store
    // Compacted away: etcd sends such an event without prev_kv too.
    if (kv.modRevision - 1 < store.compactedRevision) return undefined
    try {
      const r = await store.range(kv.key, undefined, { rev: kv.modRevision - 1 })
      return r.kvs.length > 0 ? storedKV(r.kvs[0]!) : undefined
    } catch (err) {
      if (err instanceof CompactedError) return undefined
      throw err
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new StorageError('Unavailable', 'storage is closed')
  }
}

function firstKV(op: ResponseOp | undefined): KeyValue | undefined {
  if (op === undefined || !('response_range' in op)) return undefined
  return op.response_range.kvs[0]
}

/** A refused conditional Txn (see conditional-txn.ts for the failure branch's layout). */
function refused(res: TxnResponse, fence: Fence | undefined): WriteRefused {
  const current = firstKV(res.responses[0])
  const out: WriteRefused = { ok: false, current: current === undefined ? undefined : storedKV(current), revision: res.header.revision }
  const fencedBy = fenceRefusal(fence, firstKV(res.responses[1])?.value)
  if (fencedBy !== undefined) out.fencedBy = fencedBy
  return out
}
