// KVStore.history: the changes a watcher catching up from a revision must see, read
// from the backend in revision order, with deletions marked and compaction respected.
import t from 'tap'
import { CompactedError } from '../../../src/kv/mvcc/kv-errors.js'
import { KVStore, type HistoryEvent } from '../../../src/kv/mvcc/kv-store.js'

const b = (s: string): Uint8Array => Buffer.from(s, 'latin1')
const show = (e: HistoryEvent): string =>
  `${e.deleted ? 'DEL' : 'PUT'} ${Buffer.from(e.kv.key).toString('latin1')} m${e.kv.modRevision}.${e.sub}` +
  (e.deleted ? '' : ` v${e.kv.version}=${Buffer.from(e.kv.value).toString('latin1')}`)

t.test('history returns puts and deletes in revision order from any revision', async (t) => {
  const store = await KVStore.open(t.testdir())
  t.teardown(() => store.close())
  await store.write(1, [{ put: { key: b('a'), value: b('1') } }]) // rev 2
  await store.write(2, [{ put: { key: b('b'), value: b('1') } }, { put: { key: b('c'), value: b('1') } }]) // rev 3
  await store.write(3, [{ deleteRange: { key: b('a'), end: b('c') } }]) // rev 4: a, b
  await store.write(4, [{ put: { key: b('a'), value: b('2') } }]) // rev 5
  t.same((await store.history(1)).map(show), [
    'PUT a m2.0 v1=1',
    'PUT b m3.0 v1=1',
    'PUT c m3.1 v1=1',
    'DEL a m4.0',
    'DEL b m4.1',
    'PUT a m5.0 v1=2',
  ])
  t.same((await store.history(4)).map(show), ['DEL a m4.0', 'DEL b m4.1', 'PUT a m5.0 v1=2'])
  t.same((await store.history(3, 4)).map(show), ['PUT b m3.0 v1=1', 'PUT c m3.1 v1=1', 'DEL a m4.0', 'DEL b m4.1'])
  t.same((await store.history(2, 5, 2)).map(show), ['PUT a m2.0 v1=1', 'PUT b m3.0 v1=1'], 'limit counts changes')
  t.same(await store.history(6), [], 'nothing after the current revision')
  t.same((await store.history(5, 99)).map(show), ['PUT a m5.0 v1=2'], '`to` beyond the current revision is clamped')
})

t.test('history below the compacted revision is refused', async (t) => {
  const store = await KVStore.open(t.testdir())
  t.teardown(() => store.close())
  for (let i = 1; i <= 5; i++) await store.write(i, [{ put: { key: b('k'), value: b(String(i)) } }])
  const c = await store.compact(4, 6)
  await c.done
  await t.rejects(store.history(3), CompactedError)
  t.same((await store.history(4)).map(show), ['PUT k m4.0 v3=3', 'PUT k m5.0 v4=4', 'PUT k m6.0 v5=5'], 'the compacted revision itself is served, as etcd')
  await t.rejects(store.history(1), CompactedError)
  t.same((await store.history(5)).map(show), ['PUT k m5.0 v4=4', 'PUT k m6.0 v5=5'])
})
