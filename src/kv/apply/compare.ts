// A Txn's compares, evaluated as etcd does (server/etcdserver/txn/txn.go:
// compareToPath, applyCompares, applyCompare, compareKV).
import { Buffer } from 'node:buffer'
import type { KeyValue } from '../mvcc/key-value.js'
import type { KVStore } from '../mvcc/kv-store.js'
import { rangeEnd } from './reader.js'
import { opRequest, type Compare, type RequestOp, type TxnRequest } from './requests.js'

/** Which branch a txn takes, and the same for each nested txn of that branch, by op index. */
export interface TxnPlan {
  succeeded: boolean
  ops: RequestOp[]
  nested: Map<number, TxnPlan>
}

/**
 * Decides every branch up front against the store as it is before the txn, nested
 * txns included: as in etcd, a nested txn's compares do not see the writes of the ops
 * before it.
 */
export async function planTxn(store: KVStore, rev: number, r: TxnRequest): Promise<TxnPlan> {
  const succeeded = await applyCompares(store, rev, r.compare ?? [])
  const ops = (succeeded ? r.success : r.failure) ?? []
  const nested = new Map<number, TxnPlan>()
  for (const [i, op] of ops.entries()) {
    const o = opRequest(op)
    if (o?.kind === 'txn') nested.set(i, await planTxn(store, rev, o.req))
  }
  return { succeeded, ops, nested }
}

/** True when every compare holds (an empty list holds). */
export async function applyCompares(store: KVStore, rev: number, compares: Compare[]): Promise<boolean> {
  for (const c of compares) if (!(await applyCompare(store, rev, c))) return false
  return true
}

/**
 * A compare over a range holds when it holds for every key there; over no key at all,
 * it is checked against an absent key (version, create, mod and lease all 0), except
 * that a VALUE compare then fails whatever it asks: gRPC cannot tell a missing value
 * from an empty one.
 */
async function applyCompare(store: KVStore, rev: number, c: Compare): Promise<boolean> {
  // One key's version and revisions are in the in-memory index: no value read (the
  // apiserver's every conditional write compares a mod revision).
  if ((c.target === 'MOD' || c.target === 'CREATE' || c.target === 'VERSION') && rangeEnd(c.range_end) === undefined) {
    const meta = store.keyMeta(c.key, rev)
    return compareKV(c, meta === undefined ? ABSENT : { ...ABSENT, ...meta })
  }
  const { kvs } = await store.range(c.key, rangeEnd(c.range_end), { rev })
  if (kvs.length === 0) return c.target === 'VALUE' ? false : compareKV(c, ABSENT)
  return kvs.every((kv) => compareKV(c, kv))
}

const ABSENT: KeyValue = {
  key: new Uint8Array(0),
  value: new Uint8Array(0),
  createRevision: 0,
  modRevision: 0,
  version: 0,
  lease: '0',
}

export function compareKV(c: Compare, kv: KeyValue): boolean {
  let result: number
  switch (c.target) {
    case 'VALUE':
      result = Buffer.compare(kv.value, c.value ?? ABSENT.value)
      break
    case 'CREATE':
      result = Math.sign(kv.createRevision - (c.create_revision ?? 0))
      break
    case 'MOD':
      result = Math.sign(kv.modRevision - (c.mod_revision ?? 0))
      break
    case 'VERSION':
      result = Math.sign(kv.version - (c.version ?? 0))
      break
    case 'LEASE': {
      // int64 IDs beyond 2^53: compare exactly.
      const a = BigInt(kv.lease)
      const b = BigInt(c.lease ?? '0')
      result = a < b ? -1 : a > b ? 1 : 0
      break
    }
  }
  switch (c.result) {
    case 'EQUAL':
      return result === 0
    case 'NOT_EQUAL':
      return result !== 0
    case 'GREATER':
      return result > 0
    case 'LESS':
      return result < 0
  }
}
