// Standalone Put and DeleteRange: in etcd each is a write txn of one op, so they run
// through the txn machinery with a one-op plan (no compares, no nested txns).
import type { KVStore } from '../mvcc/kv-store.js'
import type { DeleteRangeRequest, DeleteRangeResponse, PutRequest, PutResponse, RequestOp, TxnResponse } from './requests.js'
import { runTxn, type ApplyOptions, type ApplyResult } from './txn.js'
import { validateDeleteRange, validatePut } from './validate.js'

export { applyRange } from './range.js'
export { applyTxn, type ApplyOptions, type ApplyResult } from './txn.js'

export async function applyPut(store: KVStore, index: number, r: PutRequest, opts: ApplyOptions = {}): Promise<ApplyResult<PutResponse>> {
  const res = await runOne(store, index, opts, () => validatePut(r), { request_put: r })
  const op = res.response.responses[0]
  const response: PutResponse = op !== undefined && 'response_put' in op ? op.response_put : { header: { revision: 0 } }
  // The txn's header revision is the one etcd reports for the put.
  return { ...res, response: { ...response, header: res.response.header } }
}

export async function applyDeleteRange(
  store: KVStore,
  index: number,
  r: DeleteRangeRequest,
  opts: ApplyOptions = {},
): Promise<ApplyResult<DeleteRangeResponse>> {
  const res = await runOne(store, index, opts, () => validateDeleteRange(r), { request_delete_range: r })
  const op = res.response.responses[0]
  const response: DeleteRangeResponse =
    op !== undefined && 'response_delete_range' in op ? op.response_delete_range : { header: { revision: 0 }, deleted: 0, prev_kvs: [] }
  return { ...res, response: { ...response, header: res.response.header } }
}

function runOne(
  store: KVStore,
  index: number,
  opts: ApplyOptions,
  validate: () => void,
  op: RequestOp,
): Promise<ApplyResult<TxnResponse>> {
  return runTxn(store, index, opts, validate, async () => ({ succeeded: true, ops: [op], nested: new Map() }))
}
