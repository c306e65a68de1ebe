// Our in-process shapes of etcd's KV requests and responses (etcdserverpb
// RangeRequest, PutRequest, DeleteRangeRequest, TxnRequest, Compare, RequestOp and
// their responses). Field names are the proto's (snake_case, as proto-loader with
// keepCase gives them) and enums are their names (enums: String), so the gRPC edge
// maps almost one to one; bytes are Uint8Array, int64 revisions are numbers (they fit
// in a double), lease IDs stay decimal strings because they exceed 2^53 (see
// src/kv/etcd-proto.ts). KeyValue is the store's own (camelCase) type.
import type { KeyValue } from '../mvcc/key-value.js'

export type SortOrder = 'NONE' | 'ASCEND' | 'DESCEND'
export type SortTarget = 'KEY' | 'VERSION' | 'CREATE' | 'MOD' | 'VALUE'

export interface RangeRequest {
  key: Uint8Array
  /** Empty or absent: `key` alone; one zero byte: every key ≥ key; otherwise [key, range_end). */
  range_end?: Uint8Array
  limit?: number
  /** 0 or absent: the current revision. */
  revision?: number
  sort_order?: SortOrder
  sort_target?: SortTarget
  /** Decides how the read is ordered against raft before it reaches us; ignored here. */
  serializable?: boolean
  keys_only?: boolean
  count_only?: boolean
  min_mod_revision?: number
  max_mod_revision?: number
  min_create_revision?: number
  max_create_revision?: number
}

export interface PutRequest {
  key: Uint8Array
  value?: Uint8Array
  /** Decimal int64, "0" or absent for none. */
  lease?: string
  prev_kv?: boolean
  ignore_value?: boolean
  ignore_lease?: boolean
}

export interface DeleteRangeRequest {
  key: Uint8Array
  range_end?: Uint8Array
  prev_kv?: boolean
}

export type CompareResult = 'EQUAL' | 'GREATER' | 'LESS' | 'NOT_EQUAL'
export type CompareTarget = 'VERSION' | 'CREATE' | 'MOD' | 'VALUE' | 'LEASE'

/**
 * One condition of a Txn. Of the target_union fields only the one named by `target`
 * is read; an unset one compares as 0 (or empty bytes), as in etcd.
 */
export interface Compare {
  result: CompareResult
  target: CompareTarget
  key: Uint8Array
  range_end?: Uint8Array
  version?: number
  create_revision?: number
  mod_revision?: number
  value?: Uint8Array
  /** Decimal int64. */
  lease?: string
}

/**
 * The proto's oneof as proto-loader gives it: the first field set is the request
 * (checked in this order); none set is an empty op, which validation rejects as etcd
 * does. `null` is accepted because proto-loader reports unset message fields so.
 */
export interface RequestOp {
  request_range?: RangeRequest | null
  request_put?: PutRequest | null
  request_delete_range?: DeleteRangeRequest | null
  request_txn?: TxnRequest | null
}

export interface TxnRequest {
  compare?: Compare[]
  success?: RequestOp[]
  failure?: RequestOp[]
}

export interface ResponseHeader {
  /** The store revision the response reflects (cluster/member/term are the server's to fill). */
  revision: number
}

export interface RangeResponse {
  header: ResponseHeader
  kvs: KeyValue[]
  more: boolean
  count: number
}

export interface PutResponse {
  header: ResponseHeader
  prev_kv?: KeyValue
}

export interface DeleteRangeResponse {
  header: ResponseHeader
  deleted: number
  prev_kvs: KeyValue[]
}

export type ResponseOp =
  | { response_range: RangeResponse }
  | { response_put: PutResponse }
  | { response_delete_range: DeleteRangeResponse }
  | { response_txn: TxnResponse }

export interface TxnResponse {
  header: ResponseHeader
  succeeded: boolean
  responses: ResponseOp[]
}

/** The request an op carries, tagged; undefined for an empty op. */
export type OpRequest =
  | { kind: 'range'; req: RangeRequest }
  | { kind: 'put'; req: PutRequest }
  | { kind: 'deleteRange'; req: DeleteRangeRequest }
  | { kind: 'txn'; req: TxnRequest }

export function opRequest(op: RequestOp): OpRequest | undefined {
  if (op.request_range != null) return { kind: 'range', req: op.request_range }
  if (op.request_put != null) return { kind: 'put', req: op.request_put }
  if (op.request_delete_range != null) return { kind: 'deleteRange', req: op.request_delete_range }
  if (op.request_txn != null) return { kind: 'txn', req: op.request_txn }
  return undefined
}
