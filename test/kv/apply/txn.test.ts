// Executing a Txn as etcd does: the chosen branch's ops in order as one write at one
// revision, reads that see the txn's earlier writes, nested txns, response shapes and
// header revisions, and the checks made against the store before anything is written.
import t from 'tap'
import { applyTxn } from '../../../src/kv/apply/kv.js'
import { GrpcCode } from '../../../src/kv/apply/validate.js'
import type { ResponseOp } from '../../../src/kv/apply/requests.js'
import { b, cmp, fixture, opDel, opGet, opPut, opTxn, show } from './helpers/fixture.js'

/** A response op in one line, e.g. `range[a=1 c2 m2 v1] count 1 @2`. */
function line(op: ResponseOp): string {
  if ('response_range' in op) {
    const r = op.response_range
    return `range[${r.kvs.map(show).join(', ')}] count ${r.count} @${r.header.revision}`
  }
  if ('response_put' in op) {
    const r = op.response_put
    return `put${r.prev_kv === undefined ? '' : ` prev ${show(r.prev_kv)}`} @${r.header.revision}`
  }
  if ('response_delete_range' in op) {
    const r = op.response_delete_range
    return `delete ${r.deleted}${r.prev_kvs.length > 0 ? ` prev [${r.prev_kvs.map(show).join(', ')}]` : ''} @${r.header.revision}`
  }
  const r = op.response_txn
  return `txn ${r.succeeded ? 'success' : 'failure'} (${r.responses.map(line).join('; ')}) @${r.header.revision}`
}

t.test('the success branch runs when the compares hold, the failure branch otherwise', async (t) => {
  const f = await fixture(t)
  const req = { compare: [cmp('a', 'CREATE', 'EQUAL', 0)], success: [opPut('a', 'created')], failure: [opGet('a')] }
  const first = await f.txn(req)
  t.equal(first.response.succeeded, true)
  t.strictSame(first.response.responses.map(line), ['put @2'])
  t.equal(first.response.header.revision, 2)
  const second = await f.txn(req)
  t.equal(second.response.succeeded, false)
  t.strictSame(second.response.responses.map(line), ['range[a=created c2 m2 v1] count 1 @2'])
  t.equal(second.response.header.revision, 2, 'a read-only branch keeps the revision')
  t.equal(f.store.currentRevision, 2)
  t.equal(f.store.consistentIndex, 2, 'the read-only entry is still recorded')
})

t.test('all writes of a txn share one revision, with sub-revisions in op order', async (t) => {
  const f = await fixture(t)
  await f.put('gone', 'x') // rev 2
  const res = await f.txn({ success: [opPut('a', '1'), opDel('gone'), opPut('b', '2')] })
  t.equal(res.response.header.revision, 3)
  t.strictSame(res.response.responses.map(line), ['put @3', 'delete 1 @3', 'put @3'])
  t.strictSame(res.changes.map((kv) => `${Buffer.from(kv.key)}@${kv.modRevision}`), ['a@3', 'gone@3', 'b@3'])
  t.equal(f.store.currentRevision, 3)
})

t.test("a txn's reads see its own earlier writes, and only those", async (t) => {
  const f = await fixture(t)
  await f.put('a', 'old') // rev 2
  await f.put('c', 'keep') // rev 3
  const res = await f.txn({
    success: [
      opGet('a'),
      opPut('a', 'new'),
      opGet('a', '\x00'),
      opDel('c'),
      opPut('b', 'born'),
      opGet('a', 'z', { count_only: true }),
      opGet('a', 'z'),
    ],
  })
  t.strictSame(res.response.responses.map(line), [
    'range[a=old c2 m2 v1] count 1 @3',
    'put @4',
    'range[a=new c2 m4 v2, c=keep c3 m3 v1] count 2 @4',
    'delete 1 @4',
    'put @4',
    'range[] count 2 @4',
    'range[a=new c2 m4 v2, b=born c4 m4 v1] count 2 @4',
  ])
  // The store agrees with what the txn saw.
  t.strictSame((await f.store.range(b('a'), b('z'))).kvs.map(show), ['a=new c2 m4 v2', 'b=born c4 m4 v1'])
})

t.test('a read at an explicit revision inside a txn reads history, not the txn', async (t) => {
  const f = await fixture(t)
  await f.put('a', 'v1') // rev 2
  await f.put('a', 'v2') // rev 3
  const res = await f.txn({ success: [opPut('a', 'v3'), opGet('a', undefined, { revision: 2 }), opGet('a', undefined, { revision: 3 })] })
  t.strictSame(res.response.responses.map(line), ['put @4', 'range[a=v1 c2 m2 v1] count 1 @4', 'range[a=v2 c2 m3 v2] count 1 @4'])
})

t.test('a delete that matches nothing does not bump the revision', async (t) => {
  const f = await fixture(t)
  await f.put('a', '1')
  const res = await f.txn({ success: [opDel('x', 'y'), opGet('a')] })
  t.strictSame(res.response.responses.map(line), ['delete 0 @2', 'range[a=1 c2 m2 v1] count 1 @2'])
  t.equal(res.response.header.revision, 2)
  t.equal(f.store.currentRevision, 2)
})

t.test('nested txns: branches decided on the state before the txn, ops run in order', async (t) => {
  const f = await fixture(t)
  await f.put('a', '1') // rev 2
  const res = await f.txn({
    compare: [cmp('a', 'VERSION', 'EQUAL', 1)],
    success: [
      opPut('a', '2'),
      // Sees version 1: the outer put is not visible to compares.
      opTxn({ compare: [cmp('a', 'VERSION', 'EQUAL', 1)], success: [opPut('n', 'then'), opGet('a')], failure: [opPut('n', 'else')] }),
      opTxn({ compare: [cmp('zz', 'VERSION', 'GREATER', 0)], success: [opDel('q')], failure: [opGet('n')] }),
    ],
  })
  t.equal(res.response.succeeded, true)
  t.strictSame(res.response.responses.map(line), [
    'put @3',
    // etcd leaves nested txn headers empty: revision 0.
    'txn success (put @3; range[a=2 c2 m3 v2] count 1 @3) @0',
    'txn failure (range[n=then c3 m3 v1] count 1 @3) @0',
  ])
  t.equal(res.response.header.revision, 3)
})

t.test('a read-only txn served outside the log needs no raft index and records none', async (t) => {
  const f = await fixture(t)
  await f.put('a', '1')
  const res = await applyTxn(f.store, undefined, { success: [opGet('a')] })
  t.strictSame(res.response.responses.map(line), ['range[a=1 c2 m2 v1] count 1 @2'])
  t.equal(f.store.consistentIndex, 1)
  await t.rejects(applyTxn(f.store, undefined, { success: [opPut('b')] }), /needs its raft index/)
  t.equal(f.store.currentRevision, 2)
})

t.test('a raft entry applied before is skipped', async (t) => {
  const f = await fixture(t)
  await f.put('a', '1') // index 1
  const res = await applyTxn(f.store, 1, { success: [opPut('a', 'again')] })
  t.equal(res.skipped, true)
  t.equal(f.store.currentRevision, 2)
})

t.test('checked against the store before anything is written', async (t) => {
  t.test('an unknown lease: NOT_FOUND', async (t) => {
    const f = await fixture(t)
    await t.rejects(f.txn({ success: [opPut('a', '1'), opPut('b', '2', { lease: '99' })] }), {
      code: GrpcCode.NOT_FOUND,
      message: 'etcdserver: requested lease not found',
    })
    t.equal(f.store.currentRevision, 1, 'not even the first put happened')
    t.equal(f.store.consistentIndex, 1, 'the entry was consumed')
  })
  t.test('ignore_value on a missing key: key not found', async (t) => {
    const f = await fixture(t)
    await t.rejects(f.txn({ success: [opTxn({ success: [opPut('a', '', { ignore_value: true })] })] }), {
      code: GrpcCode.INVALID_ARGUMENT,
      message: 'etcdserver: key not found',
    })
  })
  t.test('only the chosen branch is checked', async (t) => {
    const f = await fixture(t)
    const res = await f.txn({ compare: [cmp('a', 'VERSION', 'EQUAL', 5)], success: [opPut('a', '', { ignore_value: true })] })
    t.equal(res.response.succeeded, false)
  })
  t.test('a read at a future revision: OUT_OF_RANGE', async (t) => {
    const f = await fixture(t)
    await t.rejects(f.txn({ success: [opPut('a', '1'), opGet('a', undefined, { revision: 2 })] }), {
      code: GrpcCode.OUT_OF_RANGE,
      message: 'etcdserver: mvcc: required revision is a future revision',
    })
  })
  t.test('a read below the compacted revision: OUT_OF_RANGE', async (t) => {
    const f = await fixture(t)
    await f.put('a', '1')
    await f.put('a', '2')
    await (await f.store.compact(3, ++f.index)).done
    await t.rejects(f.txn({ success: [opGet('a', undefined, { revision: 2 })] }), {
      code: GrpcCode.OUT_OF_RANGE,
      message: 'etcdserver: mvcc: required revision has been compacted',
    })
  })
})
