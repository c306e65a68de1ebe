// Range with etcd's semantics (server/etcdserver/txn/txn.go rangeKeys) on top of a
// KVReader: revision filters, sorting, limit/more and count.
import { Buffer } from 'node:buffer'
import type { KeyValue } from '../mvcc/key-value.js'
import type { KVStore } from '../mvcc/kv-store.js'
import { fromStoreError } from './errors.js'
import { rangeEnd, storeReader, type KVReader } from './reader.js'
import type { RangeRequest, RangeResponse, SortOrder, SortTarget } from './requests.js'
import { validateRange } from './validate.js'

const EMPTY = new Uint8Array(0)

/** A standalone Range: validated, read at the request's revision (0: current). */
export async function applyRange(store: KVStore, r: RangeRequest): Promise<RangeResponse> {
  validateRange(r)
  try {
    return await executeRange(storeReader(store), r)
  } catch (err) {
    throw fromStoreError(err)
  }
}

/** etcd's rangeKeys: the caller has validated `r` (and, in a txn, its revision). */
export async function executeRange(reader: KVReader, r: RangeRequest): Promise<RangeResponse> {
  const limit = r.limit ?? 0
  const filters: Array<(kv: KeyValue) => boolean> = []
  if ((r.max_mod_revision ?? 0) !== 0) filters.push((kv) => kv.modRevision <= (r.max_mod_revision ?? 0))
  if ((r.min_mod_revision ?? 0) !== 0) filters.push((kv) => kv.modRevision >= (r.min_mod_revision ?? 0))
  if ((r.max_create_revision ?? 0) !== 0) filters.push((kv) => kv.createRevision <= (r.max_create_revision ?? 0))
  if ((r.min_create_revision ?? 0) !== 0) filters.push((kv) => kv.createRevision >= (r.min_create_revision ?? 0))

  // Sorting or filtering needs every key before the limit applies; otherwise one key
  // past the limit is enough to tell `more`. etcd decides on the *requested* order, so
  // a non-KEY target with order NONE sorts only the first limit+1 keys (sic).
  let fetchLimit = (r.sort_order ?? 'NONE') !== 'NONE' || filters.length > 0 ? 0 : limit
  if (fetchLimit > 0) fetchLimit++
  const rr = await reader.read(r.key, rangeEnd(r.range_end), {
    rev: r.revision ?? 0,
    limit: fetchLimit,
    countOnly: r.count_only === true,
  })

  let kvs = filters.length === 0 ? rr.kvs : rr.kvs.filter((kv) => filters.every((f) => f(kv)))
  kvs = sortKVs(kvs, r.sort_order ?? 'NONE', r.sort_target ?? 'KEY')
  let more = false
  if (limit > 0 && kvs.length > limit) {
    kvs = kvs.slice(0, limit)
    more = true
  }
  if (r.keys_only === true) kvs = kvs.map((kv) => ({ ...kv, value: EMPTY }))
  // count is the keys in the range before filters, as etcd reports it.
  return { header: { revision: rr.revision }, kvs, more, count: rr.count }
}

function sortKVs(kvs: KeyValue[], requested: SortOrder, target: SortTarget): KeyValue[] {
  let order = requested
  // The reader answers in ascending key order already: a non-KEY target with no order
  // means ascending; KEY ascending needs no work.
  if (target !== 'KEY' && order === 'NONE') order = 'ASCEND'
  else if (target === 'KEY' && order === 'ASCEND') order = 'NONE'
  if (order === 'NONE') return kvs
  const cmp = comparator(target)
  // Stable, so equal elements stay in key order (etcd's sort.Sort is not stable; its tie order is unspecified).
  return [...kvs].sort(order === 'ASCEND' ? cmp : (a, b) => cmp(b, a))
}

function comparator(target: SortTarget): (a: KeyValue, b: KeyValue) => number {
  switch (target) {
    case 'KEY':
      return (a, b) => Buffer.compare(a.key, b.key)
    case 'VERSION':
      return (a, b) => a.version - b.version
    case 'CREATE':
      return (a, b) => a.createRevision - b.createRevision
    case 'MOD':
      return (a, b) => a.modRevision - b.modRevision
    case 'VALUE':
      return (a, b) => Buffer.compare(a.value, b.value)
  }
}
