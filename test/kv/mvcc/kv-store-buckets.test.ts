// The store's other buckets (leases, members, alarms) are written in the same atomic
// batch as the KVs; a snapshot carries everything and restores into another store;
// leased keys are found again on open.
import t from 'tap'
import { Bucket } from '../../../src/kv/mvcc/backend.js'
import { KVStore } from '../../../src/kv/mvcc/kv-store.js'

const b = (s: string): Uint8Array => Buffer.from(s, 'latin1')
const s = (u: Uint8Array): string => Buffer.from(u).toString('latin1')

t.test('bucket entries commit with the write and survive a reopen', async (t) => {
  const dir = t.testdir()
  let store = await KVStore.open(dir)
  await store.write(1, [{ put: { key: b('a'), value: b('1'), lease: '7' } }], [{ bucket: Bucket.lease, key: b('7'), value: b('x') }])
  await store.write(2, [], [{ bucket: Bucket.alarm, key: b('1'), value: b('NOSPACE') }])
  t.equal(store.currentRevision, 2, 'a bucket-only write keeps the revision')
  t.equal(store.consistentIndex, 2)
  await store.write(3, [{ put: { key: b('b'), value: b('2'), lease: '7' } }, { put: { key: b('c'), value: b('3') } }])
  await store.write(4, [{ deleteRange: { key: b('a') } }], [{ bucket: Bucket.alarm, key: b('1'), delete: true }])
  await store.close()
  store = await KVStore.open(dir)
  t.teardown(() => store.close())
  t.same((await store.readBucket(Bucket.lease)).map(([k, v]) => [s(k), s(v)]), [['7', 'x']])
  t.same(await store.readBucket(Bucket.alarm), [])
  t.same([...store.leasedAtOpen], [['b', '7']], 'only live keys with a lease')
  t.equal(store.consistentIndex, 4)
})

t.test('a snapshot restores into another store: KVs, history, buckets, indexes', async (t) => {
  const src = await KVStore.open(t.testdir() + '/src')
  const dst = await KVStore.open(t.testdir() + '/dst')
  t.teardown(async () => {
    await src.close()
    await dst.close()
  })
  await src.write(1, [{ put: { key: b('k'), value: b('1') } }], [{ bucket: Bucket.members, key: b('m1'), value: b('{}') }])
  await src.write(2, [{ put: { key: b('k'), value: b('2'), lease: '9' } }])
  await dst.write(1, [{ put: { key: b('other'), value: b('gone') } }])
  const snap = await src.snapshot()
  await dst.restore(snap)
  t.equal(dst.currentRevision, 3)
  t.equal(dst.consistentIndex, 2)
  t.same((await dst.range(b('other'), undefined)).kvs, [], 'old contents replaced')
  t.same((await dst.range(b('k'), undefined, { rev: 2 })).kvs.map((kv) => s(kv.value)), ['1'], 'history kept')
  t.same([...dst.leasedAtOpen], [['k', '9']])
  t.same((await dst.readBucket(Bucket.members)).length, 1)
  t.equal((await dst.hashAll()).hash, (await src.hashAll()).hash, 'same bytes, same hash')
  t.equal((await dst.hashKV()).hash, (await src.hashKV()).hash)
  await t.rejects(dst.restore(snap.subarray(0, snap.length - 3)), /truncated/)
  t.equal(dst.currentRevision, 3, 'a bad snapshot changes nothing')
  t.same((await dst.range(b('k'), undefined)).kvs.map((kv) => s(kv.value)), ['2'])
})

t.test('defragment keeps the data and the size is reported', async (t) => {
  const store = await KVStore.open(t.testdir())
  t.teardown(() => store.close())
  for (let i = 1; i <= 50; i++) await store.write(i, [{ put: { key: b(`k${i % 5}`), value: Buffer.alloc(1000, i) } }])
  await (await store.compact(40, 51)).done
  await store.defragment()
  t.equal((await store.range(b('k'), b('l'))).count, 5)
  t.ok((await store.dbSize()) > 0)
})

t.test('a snapshot restored for a new cluster drops the old raft position, members and alarms', async (t) => {
  const src = await KVStore.open(t.testdir() + '/src')
  const dst = await KVStore.open(t.testdir() + '/dst')
  t.teardown(async () => {
    await src.close()
    await dst.close()
  })
  await src.write(5, [{ put: { key: b('k'), value: b('v') } }], [
    { bucket: Bucket.members, key: b('1'), value: b('{}') },
    { bucket: Bucket.alarm, key: b('1/NOSPACE'), value: b('{}') },
    { bucket: Bucket.lease, key: b('42'), value: b('rec') },
  ])
  await dst.restore(await src.snapshot(), { newCluster: true })
  t.equal(dst.consistentIndex, 0, 'the new log starts from 1 again')
  t.equal(dst.currentRevision, 2, 'revisions continue')
  t.same(await dst.readBucket(Bucket.members), [])
  t.same(await dst.readBucket(Bucket.alarm), [])
  t.equal((await dst.readBucket(Bucket.lease)).length, 1, 'leases are kept')
  await dst.write(1, [{ put: { key: b('k'), value: b('w') } }])
  t.equal(dst.currentRevision, 3, 'entry 1 of the new log applies')
})
