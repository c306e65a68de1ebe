// Standalone Put and DeleteRange as etcd applies them: prev_kv, ignore_value,
// ignore_lease, leases, header revisions and replayed entries.
import t from 'tap'
import { applyPut } from '../../../src/kv/apply/kv.js'
import { GrpcCode } from '../../../src/kv/apply/validate.js'
import { b, fixture, show } from './helpers/fixture.js'

t.test('put: the header has the new revision; prev_kv only when asked and when there was one', async (t) => {
  const f = await fixture(t)
  const first = await f.put('a', '1', { prev_kv: true })
  t.equal(first.response.header.revision, 2)
  t.equal(first.response.prev_kv, undefined, 'a new key has no previous value')
  const second = await f.put('a', '2', { prev_kv: true })
  t.equal(second.response.header.revision, 3)
  t.equal(second.response.prev_kv && show(second.response.prev_kv), 'a=1 c2 m2 v1')
  const third = await f.put('a', '3')
  t.equal(third.response.prev_kv, undefined, 'not asked')
  t.strictSame(third.changes.map(show), ['a=3 c2 m4 v3'])
})

t.test('put with ignore_value keeps the value and sets the lease', async (t) => {
  const f = await fixture(t)
  await f.put('a', 'kept')
  await f.put('a', '', { ignore_value: true, lease: '7' })
  t.strictSame((await f.store.range(b('a'), undefined)).kvs.map(show), ['a=kept c2 m3 v2 l7'])
})

t.test('put with ignore_lease keeps the lease and sets the value', async (t) => {
  const f = await fixture(t)
  await f.put('a', '1', { lease: '8' })
  await f.put('a', '2', { ignore_lease: true })
  t.strictSame((await f.store.range(b('a'), undefined)).kvs.map(show), ['a=2 c2 m3 v2 l8'])
})

t.test('put refusals, each as etcd words it', async (t) => {
  const f = await fixture(t)
  await t.rejects(f.put('a', '', { ignore_value: true }), { code: GrpcCode.INVALID_ARGUMENT, message: 'etcdserver: key not found' })
  await t.rejects(f.put('a', 'v', { ignore_value: true }), { code: GrpcCode.INVALID_ARGUMENT, message: 'etcdserver: value is provided' })
  await t.rejects(f.put('a', 'v', { ignore_lease: true, lease: '7' }), {
    code: GrpcCode.INVALID_ARGUMENT,
    message: 'etcdserver: lease is provided',
  })
  await t.rejects(f.put('a', 'v', { lease: '99' }), { code: GrpcCode.NOT_FOUND, message: 'etcdserver: requested lease not found' })
  await t.rejects(applyPut(f.store, ++f.index, { key: b('a'), value: b('v'), lease: '7' }), {
    code: GrpcCode.NOT_FOUND,
  }, 'with no lease lookup given, no lease exists')
  await t.rejects(f.put('', 'v'), { code: GrpcCode.INVALID_ARGUMENT, message: 'etcdserver: key is not provided' })
  t.equal(f.store.currentRevision, 1, 'nothing was written')
  t.equal(f.store.consistentIndex, 6, 'every refused entry was consumed')
})

t.test('delete range: count, prev_kvs in key order when asked, one revision for all', async (t) => {
  const f = await fixture(t)
  await f.put('a', '1') // 2
  await f.put('b', '2') // 3
  await f.put('c', '3') // 4
  const res = await f.del('a', 'c', { prev_kv: true })
  t.equal(res.response.deleted, 2)
  t.strictSame(res.response.prev_kvs.map(show), ['a=1 c2 m2 v1', 'b=2 c3 m3 v1'])
  t.equal(res.response.header.revision, 5)
  t.strictSame(res.changes.map((kv) => `${Buffer.from(kv.key)}@${kv.modRevision}`), ['a@5', 'b@5'])
  const rest = await f.del('a', '\x00')
  t.equal(rest.response.deleted, 1, '"\\x00" deletes every key from a on')
  t.strictSame(rest.response.prev_kvs, [], 'not asked')
})

t.test('a delete that matches nothing keeps the revision in its header', async (t) => {
  const f = await fixture(t)
  await f.put('a', '1')
  const res = await f.del('x')
  t.equal(res.response.deleted, 0)
  t.equal(res.response.header.revision, 2)
  t.equal(f.store.currentRevision, 2)
})

t.test('a replayed entry is skipped', async (t) => {
  const f = await fixture(t)
  await f.put('a', '1')
  const again = await applyPut(f.store, 1, { key: b('a'), value: b('1') })
  t.equal(again.skipped, true)
  t.equal(f.store.currentRevision, 2)
})
