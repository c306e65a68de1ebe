// Compaction of a store too big for one slice: the index is compacted and the backend
// pruned in several slices, yielding to the event loop between them, and a store
// closed in the middle finishes the job on its next open.
import t from 'tap'
import { BACKEND_BATCH, INDEX_SLICE_KEYS } from '../../../src/kv/mvcc/compaction.js'
import { KVStore, type WriteOp } from '../../../src/kv/mvcc/kv-store.js'

const KEYS = INDEX_SLICE_KEYS + 500
const puts = (value: string): WriteOp[] =>
  Array.from({ length: KEYS }, (_, i) => ({ put: { key: Buffer.from(`k${i}`), value: Buffer.from(value) } }))

t.test('a compaction spanning several slices keeps one value per key and lets the loop run', async (t) => {
  t.ok(KEYS * 2 > BACKEND_BATCH * 2, 'more revisions than one backend batch')
  const store = await KVStore.open(t.testdir())
  t.teardown(() => store.close())
  await store.write(1, puts('old')) // revision 2
  await store.write(2, puts('new')) // revision 3
  let ticks = 0
  const timer = setInterval(() => ticks++, 0)
  await (await store.compact(3, 3)).done
  clearInterval(timer)
  t.ok(ticks > 0, 'timers ran during the compaction')
  const all = await store.range(Buffer.from('\0'), Buffer.from('\0'))
  t.equal(all.count, KEYS)
  t.ok(all.kvs.every((kv) => Buffer.from(kv.value).toString() === 'new' && kv.version === 2 && kv.createRevision === 2))
})

// Whether close() lands between slices depends on timing; the deterministic resume
// case (only the scheduled mark written) is in kv-store.test.ts.
t.test('closing a store right after a compaction starts leaves it reopening compacted and complete', async (t) => {
  const dir = t.testdir()
  const store = await KVStore.open(dir)
  await store.write(1, puts('old'))
  await store.write(2, puts('new'))
  await store.compact(3, 3)
  await store.close() // may stop between slices, before the finished mark
  const again = await KVStore.open(dir)
  t.teardown(() => again.close())
  t.equal(again.compactedRevision, 3)
  await again.idle()
  await t.rejects(again.range(Buffer.from('k1'), undefined, { rev: 2 }), { message: 'mvcc: required revision has been compacted' })
  t.equal((await again.range(Buffer.from('\0'), Buffer.from('\0'), { countOnly: true })).count, KEYS)
})
