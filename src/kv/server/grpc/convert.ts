// Between proto-loader's objects (keepCase, int64 as decimal strings, enums as names,
// defaults filled in) and our request/response shapes (src/kv/apply/requests.ts:
// numbers for revisions and counts, strings for lease IDs, camelCase KeyValue).
import type {
  Compare,
  DeleteRangeRequest,
  PutRequest,
  RangeRequest,
  RequestOp,
  ResponseOp,
  TxnRequest,
  TxnResponse,
} from '../../apply/requests.js'
import type { KeyValue } from '../../mvcc/key-value.js'

type Wire = Record<string, unknown>

const EMPTY = Buffer.alloc(0)

/** An int64 field as a number (revisions, counts and TTLs fit in a double). */
export function num(v: unknown): number {
  if (v === undefined || v === null || v === '') return 0
  return typeof v === 'number' ? v : Number(v)
}

/** An int64 ID field as the decimal string we keep IDs in. */
export function id(v: unknown): string {
  if (v === undefined || v === null || v === '') return '0'
  return typeof v === 'string' ? v : String(v)
}

function bytes(v: unknown): Uint8Array {
  return v instanceof Uint8Array ? v : EMPTY
}

function optBytes(v: unknown): Uint8Array | undefined {
  return v instanceof Uint8Array && v.length > 0 ? v : undefined
}

export function rangeRequest(w: Wire): RangeRequest {
  return {
    key: bytes(w.key),
    range_end: optBytes(w.range_end),
    limit: num(w.limit),
    revision: num(w.revision),
    sort_order: (w.sort_order as RangeRequest['sort_order']) ?? 'NONE',
    sort_target: (w.sort_target as RangeRequest['sort_target']) ?? 'KEY',
    serializable: w.serializable === true,
    keys_only: w.keys_only === true,
    count_only: w.count_only === true,
    min_mod_revision: num(w.min_mod_revision),
    max_mod_revision: num(w.max_mod_revision),
    min_create_revision: num(w.min_create_revision),
    max_create_revision: num(w.max_create_revision),
  }
}

export function putRequest(w: Wire): PutRequest {
  return {
    key: bytes(w.key),
    value: bytes(w.value),
    lease: id(w.lease),
    prev_kv: w.prev_kv === true,
    ignore_value: w.ignore_value === true,
    ignore_lease: w.ignore_lease === true,
  }
}

export function deleteRangeRequest(w: Wire): DeleteRangeRequest {
  return { key: bytes(w.key), range_end: optBytes(w.range_end), prev_kv: w.prev_kv === true }
}

function compare(w: Wire): Compare {
  return {
    result: (w.result as Compare['result']) ?? 'EQUAL',
    target: (w.target as Compare['target']) ?? 'VERSION',
    key: bytes(w.key),
    range_end: optBytes(w.range_end),
    version: num(w.version),
    create_revision: num(w.create_revision),
    mod_revision: num(w.mod_revision),
    value: bytes(w.value),
    lease: id(w.lease),
  }
}

function requestOp(w: Wire): RequestOp {
  // proto-loader's `oneofs: true` names the set field in `request`; fall back to the fields.
  const which = (w.request as string | undefined) ?? ['request_range', 'request_put', 'request_delete_range', 'request_txn'].find((f) => w[f] != null)
  switch (which) {
    case 'request_range':
      return { request_range: rangeRequest(w.request_range as Wire) }
    case 'request_put':
      return { request_put: putRequest(w.request_put as Wire) }
    case 'request_delete_range':
      return { request_delete_range: deleteRangeRequest(w.request_delete_range as Wire) }
    case 'request_txn':
      return { request_txn: txnRequest(w.request_txn as Wire) }
    default:
      return {}
  }
}

export function txnRequest(w: Wire): TxnRequest {
  return {
    compare: ((w.compare as Wire[] | undefined) ?? []).map(compare),
    success: ((w.success as Wire[] | undefined) ?? []).map(requestOp),
    failure: ((w.failure as Wire[] | undefined) ?? []).map(requestOp),
  }
}

export function keyValue(kv: KeyValue): Wire {
  return {
    key: kv.key,
    create_revision: kv.createRevision,
    mod_revision: kv.modRevision,
    version: kv.version,
    value: kv.value,
    lease: kv.lease,
  }
}

export interface HeaderFields {
  cluster_id: string
  member_id: string
  raft_term: number
}

export function header(h: HeaderFields, revision: number): Wire {
  return { cluster_id: h.cluster_id, member_id: h.member_id, revision, raft_term: h.raft_term }
}

/**
 * A Range/Put/DeleteRange/Txn response with our KeyValues, as the wire wants it. The
 * responses inside a txn carry only a revision in their header, as etcd's do.
 */
export function kvResponse(r: Record<string, unknown>, h: HeaderFields | undefined): Wire {
  const out: Wire = {}
  for (const [k, v] of Object.entries(r)) {
    if (k === 'header') out.header = h ? header(h, (v as { revision: number }).revision) : { revision: (v as { revision: number }).revision }
    else if (k === 'kvs' || k === 'prev_kvs') out[k] = (v as KeyValue[]).map(keyValue)
    else if (k === 'prev_kv') out[k] = v === undefined ? null : keyValue(v as KeyValue)
    else if (k === 'responses') out[k] = (v as ResponseOp[]).map(responseOp)
    else out[k] = v
  }
  return out
}

function responseOp(op: ResponseOp): Wire {
  if ('response_range' in op) return { response_range: kvResponse(op.response_range as never, undefined) }
  if ('response_put' in op) return { response_put: kvResponse(op.response_put as never, undefined) }
  if ('response_delete_range' in op) return { response_delete_range: kvResponse(op.response_delete_range as never, undefined) }
  return { response_txn: kvResponse((op as { response_txn: TxnResponse }).response_txn as never, undefined) }
}
