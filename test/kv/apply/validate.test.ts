// The checks etcd makes before a KV request is applied (api/v3rpc/key.go), each with
// etcd's message and gRPC status, and the duplicate-key rules of txn branches,
// including etcd's own interval arithmetic for delete ranges.
import t from 'tap'
import { GrpcCode, validateDeleteRange, validatePut, validateRange, validateTxn } from '../../../src/kv/apply/validate.js'
import type { RequestOp, TxnRequest } from '../../../src/kv/apply/requests.js'
import { b, cmp, fixture, opDel, opGet, opPut, opTxn } from './helpers/fixture.js'

const EMPTY_KEY = { code: GrpcCode.INVALID_ARGUMENT, message: 'etcdserver: key is not provided' }
const DUPLICATE = { code: GrpcCode.INVALID_ARGUMENT, message: 'etcdserver: duplicate key given in txn request' }
const TOO_MANY = { code: GrpcCode.INVALID_ARGUMENT, message: 'etcdserver: too many operations in txn request' }

const ops = (n: number, op: (i: number) => RequestOp = (i) => opPut(`k${i}`)): RequestOp[] => Array.from({ length: n }, (_, i) => op(i))
// Both validate a success branch; two names so each assertion reads as what it expects.
const dup = (success: RequestOp[]) => () => validateTxn({ success })
const ok = dup

t.test('an empty key is refused in every request that takes one', async (t) => {
  t.throws(() => validateRange({ key: b('') }), EMPTY_KEY)
  t.throws(() => validatePut({ key: b(''), value: b('v') }), EMPTY_KEY)
  t.throws(() => validateDeleteRange({ key: b('') }), EMPTY_KEY)
  t.throws(() => validateTxn({ compare: [cmp('', 'VERSION', 'EQUAL', 0)] }), EMPTY_KEY, 'in a compare')
  t.throws(() => validateTxn({ failure: [opGet('')] }), EMPTY_KEY, 'in a branch op')
  t.throws(() => validateTxn({ success: [opTxn({ success: [opDel('')] })] }), EMPTY_KEY, 'in a nested txn')
})

t.test('ignore_value and ignore_lease refuse a value or lease given alongside', async (t) => {
  t.throws(() => validatePut({ key: b('a'), value: b('v'), ignore_value: true }), {
    code: GrpcCode.INVALID_ARGUMENT,
    message: 'etcdserver: value is provided',
  })
  t.throws(() => validatePut({ key: b('a'), lease: '7', ignore_lease: true }), {
    code: GrpcCode.INVALID_ARGUMENT,
    message: 'etcdserver: lease is provided',
  })
  t.doesNotThrow(() => validatePut({ key: b('a'), value: b(''), ignore_value: true }), 'an empty value is no value')
  t.doesNotThrow(() => validatePut({ key: b('a'), lease: '0', ignore_lease: true }), 'lease 0 is no lease')
})

t.test('an op with no request set is answered "key not found", as etcd does', async (t) => {
  t.throws(() => validateTxn({ success: [{}] }), { code: GrpcCode.INVALID_ARGUMENT, message: 'etcdserver: key not found' })
})

t.test('max txn ops bounds the longest of compare, success and failure, not their sum', async (t) => {
  t.doesNotThrow(() => validateTxn({ success: ops(128) }))
  t.throws(() => validateTxn({ success: ops(129) }), TOO_MANY)
  t.throws(() => validateTxn({ failure: ops(129) }), TOO_MANY)
  t.throws(() => validateTxn({ compare: Array.from({ length: 129 }, (_, i) => cmp(`k${i}`, 'VERSION', 'EQUAL', 0)) }), TOO_MANY)
  t.doesNotThrow(() => validateTxn({ compare: ops(100).map((_, i) => cmp(`c${i}`, 'MOD', 'LESS', 9)), success: ops(100), failure: ops(100) }))
  t.throws(() => validateTxn({ success: ops(3) }, 2), TOO_MANY, 'the limit is configurable')
})

t.test('a nested txn gets only what its parent left of the op budget', async (t) => {
  const nested = (n: number): TxnRequest => ({ success: [...ops(99, (i) => opGet(`g${i}`)), opTxn({ success: ops(n) })] })
  // The parent has 100 ops, so its nested txns may have 128 - 100 = 28.
  t.doesNotThrow(() => validateTxn(nested(28)))
  t.throws(() => validateTxn(nested(29)), TOO_MANY)
})

t.test('a key put twice, or put and deleted, in one branch is a duplicate', async (t) => {
  t.throws(dup([opPut('a'), opPut('a')]), DUPLICATE)
  t.throws(dup([opPut('a'), opDel('a')]), DUPLICATE)
  t.throws(dup([opDel('a'), opPut('a')]), DUPLICATE, 'whatever the order')
  t.throws(dup([opDel('a', 'c'), opPut('b')]), DUPLICATE, 'a put inside a deleted range')
  t.throws(dup([opDel('a', 'c'), opPut('a')]), DUPLICATE, 'the range start is inside')
  t.doesNotThrow(ok([opDel('a', 'c'), opPut('c')]), 'the range end is outside')
  t.doesNotThrow(ok([opDel('a', 'c'), opDel('b', 'd'), opDel('b')]), 'deletes may overlap each other')
  t.doesNotThrow(ok([opPut('a'), opGet('a'), opGet('a')]), 'reads never conflict')
  t.doesNotThrow(() => validateTxn({ success: [opPut('a')], failure: [opPut('a')] }), 'success and failure are separate')
})

t.test('etcd sees no conflict with a from-key delete ("\\x00") or an inverted range', async (t) => {
  // etcd's interval tree takes range_end "\x00" literally: [key, "\x00") is empty.
  t.doesNotThrow(ok([opDel('a', '\x00'), opPut('b')]))
  t.doesNotThrow(ok([opDel('a', '\x00'), opPut('a')]))
  t.doesNotThrow(ok([opDel('c', 'a'), opPut('b')]))
})

t.test('nested txns: puts are checked against the parent and the nested txns before them', async (t) => {
  t.throws(dup([opPut('a'), opTxn({ success: [opPut('a')] })]), DUPLICATE, 'a parent put and a nested put')
  t.throws(dup([opDel('a'), opTxn({ failure: [opPut('a')] })]), DUPLICATE, 'a parent delete and a nested put')
  t.throws(dup([opPut('a'), opTxn({ success: [opDel('a')] })]), DUPLICATE, 'a nested delete and a parent put')
  t.throws(dup([opTxn({ success: [opPut('a')] }), opTxn({ success: [opPut('a')] })]), DUPLICATE, 'two nested txns put one key')
  t.throws(dup([opTxn({ success: [opDel('a', 'c')] }), opTxn({ success: [opPut('b')] })]), DUPLICATE, 'an earlier nested delete')
  t.throws(dup([opTxn({ success: [opTxn({ success: [opPut('a')] }), opPut('a')] })]), DUPLICATE, 'two levels down')
  t.doesNotThrow(ok([opTxn({ success: [opPut('a')], failure: [opPut('a')] })]), 'then and else of one nested txn')
  // etcd's order of checks lets a later nested txn delete what an earlier one put.
  t.doesNotThrow(ok([opTxn({ success: [opPut('a')] }), opTxn({ success: [opDel('a')] })]))
  t.doesNotThrow(ok([opTxn({ success: [opPut('a')], failure: [opDel('a')] })]), 'then puts what else deletes: only one runs')
  t.throws(dup([opTxn({ success: [opPut('a'), opDel('a')] })]), DUPLICATE, 'within one nested branch')
})

t.test('a refused request is still recorded as applied, and changes nothing', async (t) => {
  const f = await fixture(t)
  await f.put('a', '1')
  await t.rejects(f.txn({ success: [opPut('b'), opPut('b')] }), DUPLICATE)
  t.equal(f.store.consistentIndex, 2, 'the raft entry was consumed')
  t.equal(f.store.currentRevision, 2, 'the revision did not move')
  t.same((await f.store.range(b('b'), undefined)).kvs, [])
})
