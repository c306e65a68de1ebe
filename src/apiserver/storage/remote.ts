// Storage over any etcd v3 endpoints — a real etcd cluster or `raftplane store`
// members — through their gRPC API, asking no more of them than kube-apiserver does
// (COMPAT.md): Range, Txn, Compact, LeaseGrant, Watch with prev_kv and progress
// notifications, RequestProgress. Reads are linearizable (etcd's default); each
// conditional write is one Txn. Requests fail over across the endpoints (see
// remote-client.ts); watches re-watch transparently (remote-watch.ts).
import type * as grpc from '@grpc/grpc-js'
import { isLeaseNotFound, toStorageError } from './errors.js'
import { type ConditionalTxn, createTxn, deleteTxn, fenceRefusal, updateTxn } from './conditional-txn.js'
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
import { EtcdClient, type Message } from './remote-client.js'
import { headerRevision, leaseOf, rangeKVs } from './remote-convert.js'
import { RemoteWatch } from './remote-watch.js'
import { writeSettled } from './unknown-outcome.js'

export interface RemoteStorageOptions {
  /** etcd client URLs (`http://127.0.0.1:2379`) or `host:port`. */
  endpoints: string[]
  /** Deadline of each request, failover included (ms). Default 10000. */
  requestTimeoutMs?: number
  /** An idle watch asks for progress this often (ms; 0: only when asked). Default 5000. */
  progressIntervalMs?: number
  /** A watch that cannot get its stream back for this long ends with onClose('error') (ms). Default 30000. */
  watchRetryTimeoutMs?: number
  /** How long healthy() waits for its read (ms). Default 2000. */
  healthTimeoutMs?: number
  /** TLS credentials (default: insecure for http://, the system's roots for https://). */
  credentials?: grpc.ChannelCredentials
}

/** The key etcdctl's `endpoint health` reads. */
const HEALTH_KEY = Buffer.from('health')

export class RemoteStorage implements Storage {
  private readonly client: EtcdClient
  private readonly watches = new Set<RemoteWatch>()
  private readonly leases: LeaseCache
  private readonly progressIntervalMs: number
  private readonly watchRetryTimeoutMs: number
  private readonly healthTimeoutMs: number
  private closed = false

  constructor(opts: RemoteStorageOptions) {
    this.client = new EtcdClient(opts.endpoints, { requestTimeoutMs: opts.requestTimeoutMs ?? 10_000, credentials: opts.credentials })
    this.progressIntervalMs = opts.progressIntervalMs ?? 5000
    this.watchRetryTimeoutMs = opts.watchRetryTimeoutMs ?? 30_000
    this.healthTimeoutMs = opts.healthTimeoutMs ?? 2000
    this.leases = new LeaseCache(async (ttl) => {
      const res = await this.client.unary('Lease', 'LeaseGrant', { TTL: ttl, ID: 0 }, 'always')
      return leaseOf(res.ID)
    })
  }

  /** The endpoint requests and new watches go to now. */
  get endpoint(): string {
    return this.client.endpoint
  }

  async get(key: string, opts: { revision?: number } = {}): Promise<GetResult> {
    const revision = opts.revision ?? 0
    const res = await this.read({ key: keyBytes(key), revision })
    return { kv: rangeKVs(res)[0], revision: revision > 0 ? revision : headerRevision(res) }
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    const revision = opts.revision ?? 0
    const p = keyBytes(prefix)
    const res = await this.read({
      key: opts.startKey !== undefined ? keyBytes(opts.startKey) : p,
      range_end: prefixEnd(p),
      revision,
      limit: opts.limit ?? 0,
    })
    const items = rangeKVs(res)
    const more = res.more === true
    return {
      items,
      revision: revision > 0 ? revision : headerRevision(res),
      more,
      remaining: more ? Number(res.count ?? 0) - items.length : 0,
    }
  }

  async count(prefix: string): Promise<number> {
    const p = keyBytes(prefix)
    return Number((await this.read({ key: p, range_end: prefixEnd(p), count_only: true })).count ?? 0)
  }

  create(key: string, value: Uint8Array, opts?: WriteOptions): Promise<WriteResult> {
    return this.withLease(opts, async (lease) => {
      const res = await writeSettled(
        () => this.txn(createTxn(key, value, lease, opts)),
        async () => (await this.get(key)).kv === undefined,
      )
      const revision = headerRevision(res)
      if (res.succeeded !== true) return refused(res, opts?.fence)
      return { ok: true, revision, kv: { key, value, createRevision: revision, modRevision: revision, lease } }
    })
  }

  update(key: string, value: Uint8Array, expectedModRevision: number, opts?: WriteOptions): Promise<WriteResult> {
    return this.withLease(opts, async (lease) => {
      const res = await writeSettled(
        () => this.txn(updateTxn(key, value, expectedModRevision, lease, { ...opts, readBack: true })),
        async () => (await this.get(key)).kv?.modRevision === expectedModRevision,
      )
      const revision = headerRevision(res)
      if (res.succeeded !== true) return refused(res, opts?.fence)
      const after = firstKV(res, 1)
      return { ok: true, revision, kv: { key, value, createRevision: after?.createRevision ?? 0, modRevision: revision, lease } }
    })
  }

  async delete(key: string, expectedModRevision?: number, opts: DeleteOptions = {}): Promise<DeleteResult> {
    const guardHolds = async () => {
      const { kv } = await this.get(key)
      return expectedModRevision === undefined ? kv !== undefined : kv?.modRevision === expectedModRevision
    }
    let res: Message
    try {
      res = await writeSettled(() => this.txn(deleteTxn(key, expectedModRevision, opts)), guardHolds)
    } catch (err) {
      throw toStorageError(err)
    }
    const revision = headerRevision(res)
    if (res.succeeded !== true) return refused(res, opts.fence)
    const del = responseOp(res, 0)?.response_delete_range as Message | undefined
    const prev = rangeKVs({ kvs: del?.prev_kvs })[0]
    if (prev === undefined) throw new StorageError('Internal', `delete of ${key} succeeded without its previous value`)
    return { ok: true, revision, prev }
  }

  watch(prefix: string, afterRevision: number, cb: WatchCallbacks, opts: WatchOptions = {}): WatchHandle {
    if (this.closed) throw new StorageError('Unavailable', 'storage is closed')
    const w = new RemoteWatch(keyBytes(prefix), afterRevision, cb, this.client, {
      progressIntervalMs: this.progressIntervalMs,
      retryTimeoutMs: this.watchRetryTimeoutMs,
      prevValues: opts.prevValues ?? true,
      onDone: (done) => this.watches.delete(done),
    })
    this.watches.add(w)
    return w
  }

  async currentRevision(): Promise<number> {
    return headerRevision(await this.read({ key: HEALTH_KEY, count_only: true }))
  }

  async compact(revision: number): Promise<void> {
    this.checkOpen()
    try {
      await this.client.unary('KV', 'Compact', { revision, physical: false }, 'unsent')
    } catch (err) {
      throw toStorageError(err)
    }
  }

  async healthy(): Promise<boolean> {
    if (this.closed) return false
    try {
      await this.client.unary('KV', 'Range', { key: HEALTH_KEY }, 'always', this.healthTimeoutMs)
      return true
    } catch {
      return false
    }
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const w of [...this.watches]) w.cancel()
    this.leases.clear()
    this.client.close()
  }

  // ------------------------------------------------------------ helpers

  private async read(req: Message): Promise<Message> {
    this.checkOpen()
    try {
      return await this.client.unary('KV', 'Range', req, 'always')
    } catch (err) {
      throw toStorageError(err)
    }
  }

  /** Throws the gRPC error as it came (callers map it, after looking for a lost lease). */
  private txn(req: ConditionalTxn): Promise<Message> {
    this.checkOpen()
    return this.client.unary('KV', 'Txn', req as unknown as Message, 'unsent')
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
      throw toStorageError(err)
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new StorageError('Unavailable', 'storage is closed')
  }
}

function responseOp(txn: Message, i: number): Message | undefined {
  return (txn.responses as Message[] | undefined)?.[i]
}

/** The first kv of the Txn's i-th response, a Range. */
function firstKV(txn: Message, i: number): StoredKV | undefined {
  return rangeKVs(responseOp(txn, i)?.response_range as Message | undefined)[0]
}

/** A refused conditional Txn (see conditional-txn.ts for the failure branch's layout). */
function refused(res: Message, fence: Fence | undefined): WriteRefused {
  const out: WriteRefused = { ok: false, current: firstKV(res, 0), revision: headerRevision(res) }
  const fencedBy = fenceRefusal(fence, firstKV(res, 1)?.value)
  if (fencedBy !== undefined) out.fencedBy = fencedBy
  return out
}
