// Txn (and, through it, Put and DeleteRange) applied to a KVStore as etcd applies it
// (server/etcdserver/txn/txn.go Txn): decide the branches, check the chosen requests
// against the store, play the ops in order on a TxnView so reads see earlier writes,
// then make all writes in ONE KVStore.write, so they share one revision.
import type { KeyValue } from '../mvcc/key-value.js'
import type { KVStore, WriteOp } from '../mvcc/kv-store.js'
import { planTxn, type TxnPlan } from './compare.js'
import { ApplyError, Errors, fromStoreError } from './errors.js'
import { executeRange } from './range.js'
import { rangeEnd } from './reader.js'
import {
  opRequest,
  type DeleteRangeRequest,
  type DeleteRangeResponse,
  type PutRequest,
  type PutResponse,
  type ResponseOp,
  type TxnRequest,
  type TxnResponse,
} from './requests.js'
import { TxnView } from './txn-view.js'
import { DEFAULT_MAX_TXN_OPS, validateTxn } from './validate.js'

const NO_LEASE = '0'
const EMPTY = new Uint8Array(0)

export interface ApplyOptions {
  /** etcd's --max-txn-ops (default 128). */
  maxTxnOps?: number
  /** etcd's lessor.Lookup: whether a lease is alive. Absent: no lease exists (any non-zero lease is refused). */
  leaseExists?: (id: string) => boolean
}

export interface ApplyResult<R> {
  response: R
  /** What the store changed, for watchers (KVStore.write's `changes`). */
  changes: KeyValue[]
  /** The raft entry was applied before (replay after a restart): nothing done, `response` means nothing. */
  skipped: boolean
}

/**
 * Applies a Txn. `index` is the raft entry's index; it may be left out only for a txn
 * that turns out read-only (served outside the log), and is then not recorded. With
 * an index, the entry is recorded as applied even when the txn writes nothing or is
 * refused (an ApplyError after validation), as etcd's consistent index moves past
 * every applied entry. Must be called from the serial apply loop (see TxnView).
 */
export async function applyTxn(
  store: KVStore,
  index: number | undefined,
  r: TxnRequest,
  opts: ApplyOptions = {},
): Promise<ApplyResult<TxnResponse>> {
  return runTxn(store, index, opts, () => validateTxn(r, opts.maxTxnOps ?? DEFAULT_MAX_TXN_OPS), (rev) => planTxn(store, rev, r))
}

/** Runs one already-planned request tree; shared by Txn, Put and DeleteRange. */
export async function runTxn(
  store: KVStore,
  index: number | undefined,
  opts: ApplyOptions,
  validate: () => void,
  plan: (rev: number) => Promise<TxnPlan>,
): Promise<ApplyResult<TxnResponse>> {
  if (index !== undefined && index <= store.consistentIndex) {
    return { response: { header: { revision: store.currentRevision }, succeeded: false, responses: [] }, changes: [], skipped: true }
  }
  const view = new TxnView(store)
  const writes: WriteOp[] = []
  let response: TxnResponse
  try {
    validate()
    const p = await plan(view.beginRevision)
    await checkPuts(view, p, opts)
    checkRanges(store, p)
    response = await execute(view, p, writes)
    response.header.revision = view.revision
  } catch (err) {
    const mapped = fromStoreError(err)
    // A refused entry is still consumed: record it so a replay does not retry it.
    if (mapped instanceof ApplyError && index !== undefined) await store.write(index, [])
    throw mapped
  }
  if (index === undefined) {
    if (writes.length > 0) throw new Error('apply: a txn that writes needs its raft index')
    return { response, changes: [], skipped: false }
  }
  const result = await store.write(index, writes)
  if (result.revision !== view.revision) {
    throw new Error(`apply: txn played to revision ${view.revision} but the store is at ${result.revision}`)
  }
  return { response, changes: result.changes, skipped: result.skipped }
}

/**
 * etcd's checkRequestPut over the chosen ops, against the store before the txn: an
 * ignore_value/ignore_lease put needs the key to exist, a lease must be alive.
 */
async function checkPuts(view: TxnView, p: TxnPlan, opts: ApplyOptions): Promise<void> {
  for (const [i, op] of p.ops.entries()) {
    const o = opRequest(op)
    const nested = p.nested.get(i)
    if (nested !== undefined) await checkPuts(view, nested, opts)
    if (o?.kind !== 'put') continue
    const r = o.req
    if (r.ignore_value === true || r.ignore_lease === true) {
      const { kvs } = await view.read(r.key, undefined, { rev: view.beginRevision })
      if (kvs.length === 0) throw Errors.keyNotFound()
    }
    const lease = r.lease ?? NO_LEASE
    if (lease !== NO_LEASE && opts.leaseExists?.(lease) !== true) throw Errors.leaseNotFound()
  }
}

/** etcd's checkRequestRange: a txn's reads at a revision must be within [compacted, current]. */
function checkRanges(store: KVStore, p: TxnPlan): void {
  // etcd's compactMainRev is -1 until the first compaction, so revision -1 passes there.
  const first = store.compactedRevision === 0 ? -1 : store.compactedRevision
  for (const [i, op] of p.ops.entries()) {
    const nested = p.nested.get(i)
    if (nested !== undefined) checkRanges(store, nested)
    const o = opRequest(op)
    if (o?.kind !== 'range') continue
    const rev = o.req.revision ?? 0
    if (rev === 0) continue
    if (rev > store.currentRevision) throw Errors.futureRevision()
    if (rev < first) throw Errors.compacted()
  }
}

async function execute(view: TxnView, p: TxnPlan, writes: WriteOp[]): Promise<TxnResponse> {
  const responses: ResponseOp[] = []
  for (const [i, op] of p.ops.entries()) {
    const o = opRequest(op)
    const nested = p.nested.get(i)
    if (o === undefined) throw Errors.keyNotFound() // validation refuses empty ops first
    switch (o.kind) {
      case 'range':
        responses.push({ response_range: await executeRange(view, o.req) })
        break
      case 'put':
        responses.push({ response_put: await executePut(view, o.req, writes) })
        break
      case 'deleteRange':
        responses.push({ response_delete_range: await executeDelete(view, o.req, writes) })
        break
      case 'txn':
        if (nested === undefined) throw new Error('apply: nested txn without a plan')
        // etcd leaves a nested txn's header empty (revision 0); only the outer one is filled.
        responses.push({ response_txn: await execute(view, nested, writes) })
        break
    }
  }
  return { header: { revision: 0 }, succeeded: p.succeeded, responses }
}

async function executePut(view: TxnView, r: PutRequest, writes: WriteOp[]): Promise<PutResponse> {
  // The previous value is read only when the request needs it: a plain put learns all
  // it needs (create revision, version) from the index.
  const needPrev = r.prev_kv === true || r.ignore_value === true || r.ignore_lease === true
  const prev = needPrev ? await view.get(r.key) : undefined
  if ((r.ignore_value === true || r.ignore_lease === true) && prev === undefined) throw Errors.keyNotFound()
  const value = r.ignore_value === true && prev !== undefined ? prev.value : (r.value ?? EMPTY)
  const lease = r.ignore_lease === true && prev !== undefined ? prev.lease : (r.lease ?? NO_LEASE)
  view.put(r.key, value, lease)
  writes.push({ put: { key: r.key, value, lease } })
  const resp: PutResponse = { header: { revision: view.revision } }
  if (r.prev_kv === true && prev !== undefined) resp.prev_kv = prev
  return resp
}

async function executeDelete(view: TxnView, r: DeleteRangeRequest, writes: WriteOp[]): Promise<DeleteRangeResponse> {
  const end = rangeEnd(r.range_end)
  const deleted = await view.deleteRange(r.key, end)
  writes.push({ deleteRange: end === undefined ? { key: r.key } : { key: r.key, end } })
  return { header: { revision: view.revision }, deleted: deleted.length, prev_kvs: r.prev_kv === true ? deleted : [] }
}
