// The MVCC store as etcd's kvstore behaves (server/storage/mvcc/kvstore_test.go and
// kv_test.go): revisions, create/mod/version, txns at one revision, history reads,
// range limits, etcd's errors, compaction, restart and idempotent replay of raft entries.
import t, { type Test } from 'tap'
import { Backend, Batch, META_SCHEDULED_COMPACT } from '../../../src/kv/mvcc/backend.js'
import type { KeyValue } from '../../../src/kv/mvcc/key-value.js'
import { CompactedError, FutureRevisionError } from '../../../src/kv/mvcc/kv-errors.js'
import { KVStore, type WriteOp } from '../../../src/kv/mvcc/kv-store.js'

const b = (s: string): Uint8Array => Buffer.from(s, 'latin1')
const s = (u: Uint8Array): string => Buffer.from(u).toString('latin1')
const put = (key: string, value: string, extra: { lease?: string; prevKv?: boolean } = {}): WriteOp => ({
  put: { key: b(key), value: b(value), ...extra },
})
const del = (key: string, end?: string, prevKv = false): WriteOp => ({
  deleteRange: { key: b(key), ...(end === undefined ? {} : { end: b(end) }), prevKv },
})
/** A kv as `key=value c<create> m<mod> v<version>`, for compact assertions. */
const show = (kv: KeyValue): string =>
  `${s(kv.key)}=${s(kv.value)} c${kv.createRevision} m${kv.modRevision} v${kv.version}` + (kv.lease === '0' ? '' : ` l${kv.lease}`)

/** Applies each op list as one raft entry, with raft indexes 1, 2, 3… */
class Feeder {
  index = 0
  constructor(readonly store: KVStore) {}
  write(...ops: WriteOp[]) {
    return this.store.write(++this.index, ops)
  }
}

async function open(t: Test, dir = t.testdir()): Promise<KVStore> {
  const store = await KVStore.open(dir)
  t.teardown(() => store.close())
  return store
}

async function get(store: KVStore, key: string, rev = 0): Promise<string[]> {
  return (await store.range(b(key), undefined, { rev })).kvs.map(show)
}

async function storedRevisions(dir: string): Promise<number> {
  const backend = await Backend.open(dir)
  let n = 0
  for await (const chunk of backend.scan()) n += chunk.length
  await backend.close()
  return n
}

t.test('a fresh store is at revision 1, never compacted, at raft index 0, and empty', async (t) => {
  const store = await open(t)
  t.equal(store.currentRevision, 1)
  t.equal(store.compactedRevision, 0)
  t.equal(store.consistentIndex, 0)
  const r = await store.range(b('\0'), b('\0'))
  t.same({ kvs: r.kvs, count: r.count, more: r.more, revision: r.revision }, { kvs: [], count: 0, more: false, revision: 1 })
})

t.test('each put is a new revision; a key keeps its create revision and counts its versions', async (t) => {
  const f = new Feeder(await open(t))
  t.equal((await f.write(put('foo', 'a'))).revision, 2)
  t.equal((await f.write(put('bar', 'x'))).revision, 3)
  t.equal((await f.write(put('foo', 'b', { lease: '7587862118428356609' }))).revision, 4)
  t.same(await get(f.store, 'foo'), ['foo=b c2 m4 v2 l7587862118428356609'])
  t.same(await get(f.store, 'bar'), ['bar=x c3 m3 v1'])
  t.equal(f.store.consistentIndex, 3)
})

t.test('the ops of one write share one main revision, with sub revisions in op order', async (t) => {
  const f = new Feeder(await open(t))
  await f.write(put('c', '0'))
  const w = await f.write(put('a', '1'), put('b', '1'), put('a', '2'), del('c'))
  t.equal(w.revision, 3)
  t.same(w.changes.map(show), ['a=1 c3 m3 v1', 'b=1 c3 m3 v1', 'a=2 c3 m3 v2', 'c= c0 m3 v0'])
  t.same((await f.store.range(b('a'), b('z'))).kvs.map(show), ['a=2 c3 m3 v2', 'b=1 c3 m3 v1'])
  t.same(w.results[3], { deleteRange: { deleted: 1, prevKvs: [] } })
})

t.test('a key deleted and put again starts at version 1 with a new create revision', async (t) => {
  const f = new Feeder(await open(t))
  await f.write(put('foo', 'a')) // 2
  await f.write(put('foo', 'b')) // 3
  const d = await f.write(del('foo')) // 4
  t.same(d.changes.map(show), ['foo= c0 m4 v0'], 'the tombstone event carries the key and the delete revision')
  t.same(await get(f.store, 'foo'), [])
  await f.write(put('foo', 'c')) // 5
  t.same(await get(f.store, 'foo'), ['foo=c c5 m5 v1'])
})

t.test('a write that changes nothing records the raft index but keeps the revision', async (t) => {
  const f = new Feeder(await open(t))
  await f.write(put('foo', 'a'))
  const none = await f.write(del('nothing'), del('x', 'y'))
  t.same(
    { revision: none.revision, results: none.results, changes: none.changes },
    {
      revision: 2,
      results: [{ deleteRange: { deleted: 0, prevKvs: [] } }, { deleteRange: { deleted: 0, prevKvs: [] } }],
      changes: [],
    },
  )
  t.equal((await f.write()).revision, 2)
  t.equal(f.store.consistentIndex, 3)
  t.equal((await f.write(put('foo', 'b'))).revision, 3)
})

t.test('prev_kv: puts and deletes return the value they replaced, also one written earlier in the same txn', async (t) => {
  const f = new Feeder(await open(t))
  await f.write(put('a', '1'), put('b', '1'))
  const w = await f.write(put('a', '2', { prevKv: true }), put('a', '3', { prevKv: true }), put('n', 'new', { prevKv: true }))
  t.same(
    w.results.map((r) => ('put' in r && r.put.prevKv ? show(r.put.prevKv) : undefined)),
    ['a=1 c2 m2 v1', 'a=2 c2 m3 v2', undefined],
  )
  const d = await f.write(del('a', 'c', true))
  t.ok('deleteRange' in d.results[0])
  if ('deleteRange' in d.results[0]) {
    t.equal(d.results[0].deleteRange.deleted, 2)
    t.same(d.results[0].deleteRange.prevKvs.map(show), ['a=3 c2 m3 v3', 'b=1 c2 m2 v1'])
  }
})

t.test('a range at a past revision sees the history as it was', async (t) => {
  const f = new Feeder(await open(t))
  await f.write(put('foo', 'a')) // 2
  await f.write(put('foo', 'b')) // 3
  await f.write(del('foo')) // 4
  await f.write(put('foo', 'c')) // 5
  t.same(await get(f.store, 'foo', 1), [])
  t.same(await get(f.store, 'foo', 2), ['foo=a c2 m2 v1'])
  t.same(await get(f.store, 'foo', 3), ['foo=b c2 m3 v2'])
  t.same(await get(f.store, 'foo', 4), [])
  t.same(await get(f.store, 'foo', 5), ['foo=c c5 m5 v1'])
  t.equal((await f.store.range(b('foo'), undefined, { rev: 2 })).revision, 5, 'the header revision is the current one')
})

t.test('ranges: prefix end, from-key, limit with count and more, keysOnly, countOnly', async (t) => {
  const f = new Feeder(await open(t))
  for (const k of ['a', 'b/1', 'b/2', 'b/3', 'c']) await f.write(put(k, `v-${k}`))
  const prefix = await f.store.range(b('b/'), b('b0'))
  t.same(prefix.kvs.map((kv) => s(kv.key)), ['b/1', 'b/2', 'b/3'])
  t.same((await f.store.range(b('b/3'), b('\0'))).kvs.map((kv) => s(kv.key)), ['b/3', 'c'])
  const limited = await f.store.range(b('\0'), b('\0'), { limit: 2 })
  t.same({ keys: limited.kvs.map((kv) => s(kv.key)), count: limited.count, more: limited.more }, { keys: ['a', 'b/1'], count: 5, more: true })
  const exact = await f.store.range(b('\0'), b('\0'), { limit: 5 })
  t.same({ n: exact.kvs.length, more: exact.more }, { n: 5, more: false })
  const keysOnly = await f.store.range(b('b/1'), undefined, { keysOnly: true })
  t.same(keysOnly.kvs.map(show), ['b/1= c3 m3 v1'])
  const counted = await f.store.range(b('b/'), b('b0'), { countOnly: true })
  t.same({ kvs: counted.kvs, count: counted.count, more: counted.more }, { kvs: [], count: 3, more: false })
  t.equal((await f.store.range(b('b/'), b('b0'), { countOnly: true, rev: 3 })).count, 1)
})

t.test('reads above the current revision or below the compacted one fail with etcd messages', async (t) => {
  const f = new Feeder(await open(t))
  for (let i = 0; i < 4; i++) await f.write(put('foo', `${i}`)) // 2..5
  await t.rejects(f.store.range(b('foo'), undefined, { rev: 6 }), new FutureRevisionError())
  await t.rejects(f.store.range(b('foo'), undefined, { rev: 6 }), { message: 'mvcc: required revision is a future revision' })
  await (await f.store.compact(4, ++f.index)).done
  await t.rejects(f.store.range(b('foo'), undefined, { rev: 3 }), new CompactedError())
  await t.rejects(f.store.range(b('foo'), undefined, { rev: 3 }), { message: 'mvcc: required revision has been compacted' })
  await t.rejects(f.store.compact(4, ++f.index), { message: 'mvcc: required revision has been compacted' })
  await t.rejects(f.store.compact(6, ++f.index), { message: 'mvcc: required revision is a future revision' })
  await t.rejects(f.store.hashKV(3), { message: 'mvcc: required revision has been compacted' })
})

t.test('compaction drops history below its revision but keeps what reads at or after it need', async (t) => {
  const dir = t.testdir()
  const f = new Feeder(await KVStore.open(dir))
  await f.write(put('foo', 'a')) // 2
  await f.write(put('foo', 'b')) // 3
  await f.write(put('gone', 'x')) // 4
  await f.write(del('gone')) // 5
  await f.write(put('foo', 'c')) // 6
  const c = await f.store.compact(5, ++f.index)
  t.equal(f.store.compactedRevision, 5, 'reads below 5 fail as soon as the compaction is scheduled')
  await c.done
  t.same(await get(f.store, 'foo', 5), ['foo=b c2 m3 v2'], 'a range at the compacted revision still works')
  t.same(await get(f.store, 'gone', 5), [])
  t.same(await get(f.store, 'foo'), ['foo=c c2 m6 v3'], 'create revision and version survive')
  await f.store.close()
  // Left: foo@3 (live at 5), gone@5t (the tombstone at the compacted revision), foo@6.
  t.equal(await storedRevisions(dir), 3)
})

t.test('a compaction entry at or below the consistent index is skipped on replay', async (t) => {
  const f = new Feeder(await open(t))
  await f.write(put('foo', 'a'))
  await f.write(put('foo', 'b'))
  const c = await f.store.compact(2, f.index)
  t.equal(c.skipped, true)
  t.equal(f.store.compactedRevision, 0)
})

t.test('restart: a reopened store has the same revision, reads and consistent index, and skips old entries', async (t) => {
  const dir = t.testdir()
  const f = new Feeder(await KVStore.open(dir))
  await f.write(put('a', '1'), put('b', '1')) // 2
  await f.write(put('a', '2')) // 3
  await f.write(del('b')) // 4
  await f.write(put('b', '2')) // 5
  await f.write(del('nothing')) // raft index 5, no revision
  const before = await Promise.all([1, 2, 3, 4, 5].map((rev) => f.store.range(b('\0'), b('\0'), { rev })))
  await f.store.close()

  const store = await open(t, dir)
  t.equal(store.currentRevision, 5)
  t.equal(store.consistentIndex, 5)
  const after = await Promise.all([1, 2, 3, 4, 5].map((rev) => store.range(b('\0'), b('\0'), { rev })))
  t.same(after.map((r) => r.kvs.map(show)), before.map((r) => r.kvs.map(show)))

  const replay = await store.write(3, [put('a', 'replayed')])
  t.equal(replay.skipped, true)
  t.equal(store.currentRevision, 5)
  t.same(await get(store, 'a'), ['a=2 c2 m3 v2'])
  t.same((await store.write(6, [put('a', '3')])).changes.map(show), ['a=3 c2 m6 v3'])
})

t.test('restart after compaction: keys keep their create revision and version; a tombstone-only key is deleted', async (t) => {
  const dir = t.testdir()
  const f = new Feeder(await KVStore.open(dir))
  await f.write(put('foo', 'a')) // 2
  await f.write(put('foo', 'b')) // 3
  await f.write(put('bar', 'x')) // 4
  await f.write(del('bar')) // 5
  await (await f.store.compact(5, ++f.index)).done
  await f.store.close()

  const store = await open(t, dir)
  t.equal(store.currentRevision, 5)
  t.equal(store.compactedRevision, 5)
  t.same(await get(store, 'foo'), ['foo=b c2 m3 v2'])
  t.same(await get(store, 'bar'), [])
  await store.write(10, [put('foo', 'c'), put('bar', 'y')])
  t.same((await store.range(b('\0'), b('\0'))).kvs.map(show), ['bar=y c6 m6 v1', 'foo=c c2 m6 v3'])
})

t.test('a store killed mid-compaction resumes the compaction on open', async (t) => {
  const dir = t.testdir()
  const f = new Feeder(await KVStore.open(dir))
  for (let i = 0; i < 5; i++) await f.write(put('foo', `${i}`)) // 2..6
  await f.store.close()
  t.equal(await storedRevisions(dir), 5)
  // What a crash right after scheduling leaves: the mark, no finished mark, all history.
  const raw = await Backend.open(dir)
  const mark = new Batch()
  mark.putMeta(META_SCHEDULED_COMPACT, 4)
  await raw.commit(mark)
  await raw.close()

  const store = await KVStore.open(dir)
  t.equal(store.compactedRevision, 4)
  await store.idle()
  await t.rejects(store.range(b('foo'), undefined, { rev: 3 }), new CompactedError())
  t.same(await get(store, 'foo', 4), ['foo=2 c2 m4 v3'])
  t.same(await get(store, 'foo'), ['foo=4 c2 m6 v5'])
  await store.close()
  t.equal(await storedRevisions(dir), 3, 'revisions 2 and 3 were deleted')
  const again = await open(t, dir)
  t.equal(again.compactedRevision, 4, 'the finished mark was recorded')
})

t.test('a read racing a write never sees the uncommitted revision', async (t) => {
  const f = new Feeder(await open(t))
  await f.write(put('foo', 'a'))
  const writing = f.write(put('foo', 'b'))
  const read = await f.store.range(b('foo'), undefined)
  t.same({ rev: read.revision, kvs: read.kvs.map(show) }, { rev: 2, kvs: ['foo=a c2 m2 v1'] })
  await writing
  t.same(await get(f.store, 'foo'), ['foo=b c2 m3 v2'])
})

t.test('an empty key is refused before anything changes', async (t) => {
  const f = new Feeder(await open(t))
  await t.rejects(f.write(put('a', '1'), put('', 'x')), { message: 'mvcc: key is not provided' })
  t.equal(f.store.currentRevision, 1)
  t.same(await get(f.store, 'a'), [])
  t.equal((await f.write(put('a', '1'))).revision, 2, 'the store is still usable')
})

t.test('close lets queued writes finish, then refuses new ones', async (t) => {
  const dir = t.testdir()
  const store = await KVStore.open(dir)
  const queued = [store.write(1, [put('a', '1')]), store.write(2, [put('a', '2')])]
  await store.close()
  t.same((await Promise.all(queued)).map((w) => w.revision), [2, 3])
  await t.rejects(store.write(3, [put('a', '3')]), { message: 'mvcc: store is closed' })
  await t.rejects(store.range(b('a'), undefined), { message: 'mvcc: store is closed' })
  const again = await open(t, dir)
  t.same(await get(again, 'a'), ['a=2 c2 m3 v2'])
})
