// What Range and Txn read through: the store itself, or (inside a txn) the store as
// the txn's earlier ops have changed it so far.
import type { KeyValue } from '../mvcc/key-value.js'
import type { KVStore } from '../mvcc/kv-store.js'

export interface ReadOptions {
  /** 0 or absent: the latest state. */
  rev?: number
  /** At most this many kvs (by key order); 0, negative or absent: no limit. */
  limit?: number
  countOnly?: boolean
}

export interface ReadResult {
  /** In key order; empty when countOnly. */
  kvs: KeyValue[]
  /** Keys in the range, regardless of the limit. */
  count: number
  /** The revision to report in the response header. */
  revision: number
}

/** Reads [key, end) with KVStore's range conventions (end absent: key alone; "\x00": every key ≥ key). */
export interface KVReader {
  read(key: Uint8Array, end: Uint8Array | undefined, opts: ReadOptions): Promise<ReadResult>
}

export function storeReader(store: KVStore): KVReader {
  return {
    async read(key, end, opts) {
      const r = await store.range(key, end, opts)
      return { kvs: r.kvs, count: r.count, revision: r.revision }
    },
  }
}

/** A request's range_end as KVStore takes it: empty means the key alone. */
export function rangeEnd(end: Uint8Array | undefined): Uint8Array | undefined {
  return end === undefined || end.length === 0 ? undefined : end
}
