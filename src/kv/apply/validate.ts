// The checks etcd's gRPC layer makes before a KV request is proposed
// (server/etcdserver/api/v3rpc/key.go: checkRangeRequest, checkPutRequest,
// checkDeleteRequest, checkTxnRequest, checkIntervals). They need no store, so a bad
// request is refused before it reaches the raft log; the appliers run them again so
// every member refuses the same entries.
import { toByteString, type ByteString } from '../mvcc/byte-string.js'
import { Errors } from './errors.js'
import { opRequest, type DeleteRangeRequest, type PutRequest, type RangeRequest, type RequestOp, type TxnRequest } from './requests.js'

export { ApplyError, Errors, GrpcCode } from './errors.js'

/** etcd's --max-txn-ops default. */
export const DEFAULT_MAX_TXN_OPS = 128

const NO_LEASE = '0'

export function validateRange(r: RangeRequest): void {
  if (r.key.length === 0) throw Errors.emptyKey()
}

export function validatePut(r: PutRequest): void {
  if (r.key.length === 0) throw Errors.emptyKey()
  // The ignore flags mean "keep what the key has", so a value or lease alongside is a contradiction.
  if (r.ignore_value === true && (r.value?.length ?? 0) !== 0) throw Errors.valueProvided()
  if (r.ignore_lease === true && (r.lease ?? NO_LEASE) !== NO_LEASE) throw Errors.leaseProvided()
}

export function validateDeleteRange(r: DeleteRangeRequest): void {
  if (r.key.length === 0) throw Errors.emptyKey()
}

/** checkTxnRequest, then the put/delete overlap rules of each branch. */
export function validateTxn(r: TxnRequest, maxTxnOps = DEFAULT_MAX_TXN_OPS): void {
  checkTxn(r, maxTxnOps)
  checkIntervals(r.success ?? [])
  checkIntervals(r.failure ?? [])
}

function checkTxn(r: TxnRequest, maxTxnOps: number): void {
  const compare = r.compare ?? []
  const success = r.success ?? []
  const failure = r.failure ?? []
  // The limit is on the longest of the three lists, not their sum.
  const opc = Math.max(compare.length, success.length, failure.length)
  if (opc > maxTxnOps) throw Errors.tooManyOps()
  for (const c of compare) if (c.key.length === 0) throw Errors.emptyKey()
  // A nested txn gets only what its parent left of the budget (etcd passes maxTxnOps-opc).
  for (const op of success) checkOp(op, maxTxnOps - opc)
  for (const op of failure) checkOp(op, maxTxnOps - opc)
}

function checkOp(op: RequestOp, maxTxnOps: number): void {
  const o = opRequest(op)
  if (o === undefined) throw Errors.keyNotFound() // etcd's answer to an empty op
  switch (o.kind) {
    case 'range':
      return validateRange(o.req)
    case 'put':
      return validatePut(o.req)
    case 'deleteRange':
      return validateDeleteRange(o.req)
    case 'txn':
      return checkTxn(o.req, maxTxnOps)
  }
}

// ---- duplicate keys: etcd's checkIntervals, with its interval arithmetic ----
//
// etcd keeps deletes as adt "string affine" intervals, where an empty string is +∞
// and a put of k is the point [k, k+"\x00"). A delete's range_end is taken as is, so a
// "from key on" delete (range_end "\x00") is the interval [key, "\x00"), which is empty
// and conflicts with no put; nor does one with range_end ≤ key. We reproduce that
// rather than the intuitive rule, because a client that etcd accepts must be accepted.

interface Interval {
  begin: ByteString
  end: ByteString
}

/** adt.StringAffineComparable.Compare: "" is greater than everything but itself. */
function affineCompare(a: ByteString, b: ByteString): number {
  if (a === '') return b === '' ? 0 : 1
  if (b === '') return -1
  return a < b ? -1 : a > b ? 1 : 0
}

/** adt.Interval.Compare(...) === 0, which is what IntervalTree.Intersects looks for. */
function overlaps(a: Interval, b: Interval): boolean {
  if (affineCompare(a.begin, b.begin) < 0 && affineCompare(a.end, b.begin) <= 0) return false
  return affineCompare(a.begin, b.end) < 0
}

const point = (k: ByteString): Interval => ({ begin: k, end: k + '\x00' })

function deleteInterval(r: DeleteRangeRequest): Interval {
  const key = toByteString(r.key)
  const end = r.range_end === undefined || r.range_end.length === 0 ? '' : toByteString(r.range_end)
  return end === '' ? point(key) : { begin: key, end }
}

/**
 * Returns the keys put and the ranges deleted by ops (nested txns included) for the
 * parent's check; throws duplicateKey on a conflict. The order of checks is etcd's:
 * a nested txn's puts are checked against this level's deletes and the deletes of
 * nested txns before it (not after it), and the two branches of one nested txn may
 * put the same key since only one of them runs.
 */
function checkIntervals(ops: RequestOp[]): { puts: Set<ByteString>; dels: Interval[] } {
  const requests = ops.map(opRequest)
  const dels: Interval[] = []
  for (const o of requests) if (o?.kind === 'deleteRange') dels.push(deleteInterval(o.req))
  const deleted = (k: ByteString) => dels.some((d) => overlaps(point(k), d))

  const puts = new Set<ByteString>()
  for (const o of requests) {
    if (o?.kind !== 'txn') continue
    const then = checkIntervals(o.req.success ?? [])
    const otherwise = checkIntervals(o.req.failure ?? [])
    for (const k of then.puts) {
      if (puts.has(k) || deleted(k)) throw Errors.duplicateKey()
      puts.add(k)
    }
    for (const k of otherwise.puts) {
      if ((puts.has(k) && !then.puts.has(k)) || deleted(k)) throw Errors.duplicateKey()
      puts.add(k)
    }
    // etcd unions in only the intervals that meet ["\x00", +∞), which drops the empty
    // [key, "\x00") ones; those overlap nothing anyway, so keeping them all is the same.
    dels.push(...then.dels, ...otherwise.dels)
  }

  for (const o of requests) {
    if (o?.kind !== 'put') continue
    const k = toByteString(o.req.key)
    if (puts.has(k) || deleted(k)) throw Errors.duplicateKey()
    puts.add(k)
  }
  return { puts, dels }
}
