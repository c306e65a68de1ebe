// A KVStore in a tap testdir with a raft-index counter, and short builders for etcd
// requests, so the apply tests read like the requests a client sends.
import type { Test } from 'tap'
import type { KeyValue } from '../../../../src/kv/mvcc/key-value.js'
import { KVStore } from '../../../../src/kv/mvcc/kv-store.js'
import { applyDeleteRange, applyPut, applyTxn } from '../../../../src/kv/apply/kv.js'
import type {
  Compare,
  CompareResult,
  CompareTarget,
  DeleteRangeRequest,
  PutRequest,
  RangeRequest,
  RequestOp,
  TxnRequest,
} from '../../../../src/kv/apply/requests.js'
import type { ApplyOptions } from '../../../../src/kv/apply/txn.js'

export const b = (s: string): Uint8Array => Buffer.from(s, 'latin1')
export const s = (u: Uint8Array): string => Buffer.from(u).toString('latin1')

/** A kv as `key=value c<create> m<mod> v<version>[ l<lease>]`, for compact assertions. */
export const show = (kv: KeyValue): string =>
  `${s(kv.key)}=${s(kv.value)} c${kv.createRevision} m${kv.modRevision} v${kv.version}` + (kv.lease === '0' ? '' : ` l${kv.lease}`)

/** The lessor of these tests: leases 7 and 8 are alive, no other. */
export const LEASES: ApplyOptions = { leaseExists: (id) => id === '7' || id === '8' }

/** Applies requests as consecutive raft entries 1, 2, 3… */
export class Fixture {
  index = 0
  constructor(readonly store: KVStore) {}

  put(key: string, value: string, extra: Omit<PutRequest, 'key' | 'value'> = {}, opts: ApplyOptions = LEASES) {
    return applyPut(this.store, ++this.index, { key: b(key), value: b(value), ...extra }, opts)
  }

  del(key: string, end?: string, extra: Omit<DeleteRangeRequest, 'key' | 'range_end'> = {}) {
    return applyDeleteRange(this.store, ++this.index, { key: b(key), ...(end === undefined ? {} : { range_end: b(end) }), ...extra })
  }

  txn(req: TxnRequest, opts: ApplyOptions = LEASES) {
    return applyTxn(this.store, ++this.index, req, opts)
  }
}

export async function fixture(t: Test): Promise<Fixture> {
  const store = await KVStore.open(t.testdir())
  t.teardown(() => store.close())
  return new Fixture(store)
}

export const opPut = (key: string, value = '', extra: Omit<PutRequest, 'key' | 'value'> = {}): RequestOp => ({
  request_put: { key: b(key), value: b(value), ...extra },
})
export const opDel = (key: string, end?: string, extra: Omit<DeleteRangeRequest, 'key' | 'range_end'> = {}): RequestOp => ({
  request_delete_range: { key: b(key), ...(end === undefined ? {} : { range_end: b(end) }), ...extra },
})
export const opGet = (key: string, end?: string, extra: Omit<RangeRequest, 'key' | 'range_end'> = {}): RequestOp => ({
  request_range: { key: b(key), ...(end === undefined ? {} : { range_end: b(end) }), ...extra },
})
export const opTxn = (req: TxnRequest): RequestOp => ({ request_txn: req })

type TargetValue = number | string

/** cmp('a', 'VERSION', 'EQUAL', 1); a VALUE target takes a string, LEASE a decimal string. */
export function cmp(key: string, target: CompareTarget, result: CompareResult, v: TargetValue, rangeEnd?: string): Compare {
  const c: Compare = { key: b(key), target, result }
  if (rangeEnd !== undefined) c.range_end = b(rangeEnd)
  switch (target) {
    case 'VERSION':
      c.version = Number(v)
      break
    case 'CREATE':
      c.create_revision = Number(v)
      break
    case 'MOD':
      c.mod_revision = Number(v)
      break
    case 'VALUE':
      c.value = b(String(v))
      break
    case 'LEASE':
      c.lease = String(v)
      break
  }
  return c
}
