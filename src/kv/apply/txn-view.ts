// The store as a txn sees it part-way through. KVStore.write takes all of a txn's
// writes at once (one revision, one batch) and cannot answer reads between them, but
// etcd runs a txn's ops in order and a Range after a Put in the same txn sees the Put.
// So a txn is first played here: reads go to the store at the txn's start, overlaid
// with what the txn's earlier puts and deletes did (computed the way KVStore will do
// them), and the writes are collected for one KVStore.write afterwards.
//
// Sound only while nothing else writes to the store between the start of the txn and
// its write: the appliers are called from the single, serial raft apply loop.
import { toByteString, type ByteString } from '../mvcc/byte-string.js'
import type { KeyValue } from '../mvcc/key-value.js'
import type { KVStore } from '../mvcc/kv-store.js'
import type { KVReader, ReadOptions, ReadResult } from './reader.js'

export class TxnView implements KVReader {
  /** Keys this txn wrote so far: their new value, or null once deleted. */
  private readonly written = new Map<ByteString, KeyValue | null>()
  private changed = false
  readonly beginRevision: number

  constructor(private readonly store: KVStore) {
    this.beginRevision = store.currentRevision
  }

  /** The revision the txn's writes get. */
  get writeRevision(): number {
    return this.beginRevision + 1
  }

  /** What etcd reports as the revision at this point of the txn: the new one once something changed. */
  get revision(): number {
    return this.changed ? this.writeRevision : this.beginRevision
  }

  async read(key: Uint8Array, end: Uint8Array | undefined, opts: ReadOptions): Promise<ReadResult> {
    const rev = opts.rev ?? 0
    // A read at a given revision is history, which the txn cannot have changed.
    if (rev > 0 || this.written.size === 0) {
      const r = await this.store.range(key, end, opts)
      return { kvs: r.kvs, count: r.count, revision: this.revision }
    }
    const kvs = await this.current(key, end)
    const limit = opts.limit ?? 0
    return {
      kvs: opts.countOnly === true ? [] : limit > 0 ? kvs.slice(0, limit) : kvs,
      count: kvs.length,
      revision: this.revision,
    }
  }

  /** The key's live value at this point of the txn. */
  async get(key: Uint8Array): Promise<KeyValue | undefined> {
    const k = toByteString(key)
    if (this.written.has(k)) return this.written.get(k) ?? undefined
    return (await this.store.range(key, undefined, { rev: this.beginRevision })).kvs[0]
  }

  /** The key's create revision and version at this point of the txn, without reading its value. */
  meta(key: Uint8Array): { createRevision: number; version: number } | undefined {
    const k = toByteString(key)
    if (this.written.has(k)) return this.written.get(k) ?? undefined
    return this.store.keyMeta(key, this.beginRevision)
  }

  /** Records a put as KVStore.write will apply it. */
  put(key: Uint8Array, value: Uint8Array, lease: string): void {
    const prev = this.meta(key)
    const rev = this.writeRevision
    this.written.set(toByteString(key), {
      key,
      value,
      lease,
      createRevision: prev === undefined ? rev : prev.createRevision,
      modRevision: rev,
      version: (prev?.version ?? 0) + 1,
    })
    this.changed = true
  }

  /** Records a delete of [key, end); returns the values deleted, in key order. */
  async deleteRange(key: Uint8Array, end: Uint8Array | undefined): Promise<KeyValue[]> {
    const kvs = await this.current(key, end)
    for (const kv of kvs) this.written.set(toByteString(kv.key), null)
    if (kvs.length > 0) this.changed = true
    return kvs
  }

  /** Every live key of [key, end) at this point: the store at the start, then this txn's writes. */
  private async current(key: Uint8Array, end: Uint8Array | undefined): Promise<KeyValue[]> {
    const base = await this.store.range(key, end, { rev: this.beginRevision })
    const byKey = new Map<ByteString, KeyValue>()
    for (const kv of base.kvs) byKey.set(toByteString(kv.key), kv)
    const from = toByteString(key)
    const to = end === undefined ? '' : toByteString(end)
    for (const [k, kv] of this.written) {
      if (!inRange(k, from, to)) continue
      if (kv === null) byKey.delete(k)
      else byKey.set(k, kv)
    }
    // Byte strings sort bytewise with the default (code unit) order.
    const out: KeyValue[] = []
    for (const k of [...byKey.keys()].sort()) {
      const kv = byKey.get(k)
      if (kv !== undefined) out.push(kv)
    }
    return out
  }
}

function inRange(k: ByteString, from: ByteString, to: ByteString): boolean {
  if (to === '') return k === from
  if (to === '\x00') return k >= from
  return k >= from && k < to
}
