import t from 'tap'
import { KVStore } from '../../../src/kv/mvcc/kv-store.js'
import { WatchHub, type WatchHubOptions } from '../../../src/kv/watch/hub.js'
import { ERR_COMPACTED, ERR_DUPLICATE_ID, ERR_EMPTY_RANGE } from '../../../src/kv/watch/stream.js'
import { Applier, HEADER, RecordingSink, summary, tick, waitFor } from './fixtures/watch-helpers.js'

async function setup(t: { testdir(): string; teardown(fn: () => unknown): void }, opts: Partial<WatchHubOptions> = {}) {
  const store = await KVStore.open(t.testdir())
  const hub = new WatchHub(store, { header: () => HEADER, ...opts })
  t.teardown(async () => {
    hub.close()
    await store.close()
  })
  return { store, hub, apply: new Applier(store, hub) }
}

const b = (s: string) => Buffer.from(s)

t.test('live events: single key, prefix range, all keys; ids, headers', async (t) => {
  const { hub, apply } = await setup(t)
  const sink = new RecordingSink()
  const s = hub.openStream(sink)
  t.equal(s.create({ key: b('a') }), 0n)
  t.equal(s.create({ key: b('p/'), range_end: b('p0') }), 1n)
  t.equal(s.create({ key: b('\0'), range_end: b('\0') }), 2n)
  t.equal(s.create({ key: b('m'), range_end: b('\0') }), 3n, 'from m to the end')
  t.match(sink.out[0], { created: true, canceled: false, watch_id: '0', header: { revision: '1', cluster_id: HEADER.clusterId, member_id: HEADER.memberId, raft_term: '3' } })
  await apply.put('a', '1')
  await apply.put('p/x', '2')
  await apply.put('ab', '3')
  await apply.del('a')
  await apply.write([{ put: { key: b('p/y'), value: b('4') } }, { put: { key: b('z'), value: b('5') } }])
  await waitFor('events', () => sink.events('2').length === 6)
  t.same(summary(sink.events('0')), ['PUT a@2', 'DELETE a@5'])
  t.same(summary(sink.events('1')), ['PUT p/x@3', 'PUT p/y@6'])
  t.same(summary(sink.events('2')), ['PUT a@2', 'PUT p/x@3', 'PUT ab@4', 'DELETE a@5', 'PUT p/y@6', 'PUT z@6'])
  t.same(summary(sink.events('3')), ['PUT p/x@3', 'PUT p/y@6', 'PUT z@6'])
  const del = sink.events('0')[1]
  t.match(del.kv, { version: '0', create_revision: '0', mod_revision: '5' })
  t.equal(del.kv.value.length, 0)
  const last = sink.out.filter((r) => r.watch_id === '2').at(-1)
  t.equal(last?.header.revision, '6', 'header at the event revision')
  // Revisions notified in one turn may share a response (as etcd's catch-up responses do);
  // a revision's changes stay together, in sub-revision order.
  t.same(last?.events.map((e) => e.kv.value.toString()).slice(-2), ['4', '5'], 'sub-revision order, same response')
})

t.test('refusals as etcd 3.5: negative start, empty range, duplicate id; cancel', async (t) => {
  const { hub, apply } = await setup(t)
  const sink = new RecordingSink()
  const s = hub.openStream(sink)
  t.equal(s.create({ key: b('a'), start_revision: '-1' }), -1n)
  t.equal(s.create({ key: b('b'), range_end: b('a') }), -1n)
  t.equal(s.create({ key: b('a'), watch_id: '7' }), 7n)
  t.equal(s.create({ key: b('a'), watch_id: '7' }), -1n)
  t.equal(s.create({ key: b('a') }), 0n)
  t.equal(s.create({ key: b('a'), watch_id: '1' }), 1n)
  t.equal(s.create({ key: b('a') }), 2n, 'server ids skip client-chosen ones')
  t.match(sink.out.map((r) => [r.watch_id, r.created, r.canceled, r.cancel_reason]), [
    ['-1', true, true, ERR_COMPACTED],
    ['-1', true, true, ERR_EMPTY_RANGE],
    ['7', true, false, ''],
    ['-1', true, true, ERR_DUPLICATE_ID],
    ['0', true, false, ''],
    ['1', true, false, ''],
    ['2', true, false, ''],
  ])
  sink.out.length = 0
  s.handle({ request_union: 'cancel_request', cancel_request: { watch_id: '7' } })
  t.equal(s.cancel(99n), false, 'an unknown id is not answered')
  t.match(sink.out, [{ watch_id: '7', canceled: true, created: false, header: { revision: '1' } }])
  t.equal(sink.out.length, 1)
  await apply.put('a', 'x')
  await waitFor('events', () => sink.events().length === 3)
  t.same(sink.out.filter((r) => r.events.length > 0).map((r) => r.watch_id).sort(), ['0', '1', '2'], 'the canceled watch gets nothing')
  s.handle({ request_union: 'create_request', create_request: { key: b('a'), start_revision: 'junk' } })
  s.handle(null as never)
  t.pass('malformed requests are ignored')
})

t.test('catch-up from history in chunks, then live, with no gap or duplicate while writing', async (t) => {
  const { hub, apply } = await setup(t, { historyChunk: 7 })
  for (let i = 0; i < 60; i++) await apply.put(`k${i % 5}`, `v${i}`)
  await apply.write([{ deleteRange: { key: b('k'), end: b('l') } }]) // 5 tombstones in one revision
  const sink = new RecordingSink()
  const s = hub.openStream(sink)
  s.create({ key: b('k'), range_end: b('l'), start_revision: '2' })
  s.create({ key: b('k3'), start_revision: '30' })
  // Keep writing while it catches up.
  for (let i = 0; i < 40; i++) await apply.put(`k${i % 3}`, `w${i}`)
  const last = hub.revision
  await waitFor('all events', () => sink.events('0').at(-1)?.kv.mod_revision === String(last))
  await tick()
  const revs = sink.events('0').map((e) => Number(e.kv.mod_revision))
  t.equal(revs.length, 60 + 5 + 40, 'every change exactly once')
  t.same(revs, [...revs].sort((a, b) => a - b), 'in revision order')
  t.same(new Set(revs.slice(0, 60)).size, 60)
  t.same(summary(sink.events('0')).slice(60, 65), ['DELETE k0@62', 'DELETE k1@62', 'DELETE k2@62', 'DELETE k3@62', 'DELETE k4@62'])
  t.same(sink.events('1').map((e) => e.kv.mod_revision), ['30', '35', '40', '45', '50', '55', '60', '62'], 'single key from rev 30')
  t.same(hub.counts, { synced: 2, unsynced: 0, streams: 1 })
  // A catch-up response's header is at the revision it covers up to.
  const first = sink.out.find((r) => r.watch_id === '0' && r.events.length > 0)
  t.ok(Number(first?.header.revision) >= Number(first?.events.at(-1)?.kv.mod_revision))
})

t.test('filters and prev_kv, live and from history', async (t) => {
  const { hub, apply } = await setup(t)
  await apply.put('f', '1') // 2
  await apply.put('f', '2') // 3
  await apply.del('f') // 4
  const sink = new RecordingSink()
  const s = hub.openStream(sink)
  s.create({ key: b('f'), start_revision: '2', prev_kv: true }) // 0
  s.create({ key: b('f'), start_revision: '2', filters: ['NOPUT'] }) // 1
  s.create({ key: b('f'), start_revision: '2', filters: ['NODELETE'] }) // 2
  s.create({ key: b('f'), prev_kv: true, filters: ['NODELETE'] }) // 3, live
  await apply.put('f', '3') // 5
  await apply.put('f', '4') // 6
  await waitFor('events', () => sink.events('0').length === 5 && sink.events('3').length === 2)
  const pk = sink.events('0').map((e) => `${e.type} ${e.kv.value.toString()} prev=${e.prev_kv?.value.toString() ?? '-'}`)
  t.same(pk, ['PUT 1 prev=-', 'PUT 2 prev=1', 'DELETE  prev=2', 'PUT 3 prev=-', 'PUT 4 prev=3'])
  t.same(summary(sink.events('1')), ['DELETE f@4'])
  t.same(summary(sink.events('2')), ['PUT f@2', 'PUT f@3', 'PUT f@5', 'PUT f@6'])
  t.same(sink.events('3').map((e) => e.prev_kv?.value.toString() ?? '-'), ['-', '3'])
})

t.test('a start below the compacted revision: created, then a compacted cancel', async (t) => {
  const { hub, apply } = await setup(t)
  for (let i = 0; i < 5; i++) await apply.put('c', String(i))
  await apply.compact(4)
  const sink = new RecordingSink()
  const s = hub.openStream(sink)
  s.create({ key: b('c'), start_revision: '2' })
  s.create({ key: b('c'), start_revision: '5' })
  await waitFor('cancel', () => sink.out.some((r) => r.canceled) && sink.events('1').length === 2)
  t.match(sink.out[0], { watch_id: '0', created: true, canceled: false })
  const cancel = sink.out.find((r) => r.canceled)
  t.match(cancel, { watch_id: '0', created: false, canceled: true, compact_revision: '4', cancel_reason: '', header: { revision: '0' } })
  t.same(summary(sink.events('1')), ['PUT c@5', 'PUT c@6'])
  t.equal(s.watchers.size, 1)
})

t.test('a stream that stops reading does not hold back others; it later gets every event in order', async (t) => {
  const { hub, apply } = await setup(t, { maxBufferedEvents: 4 })
  const slow = new RecordingSink()
  const fast = new RecordingSink()
  const sSlow = hub.openStream(slow)
  const sFast = hub.openStream(fast)
  for (let i = 0; i < 3; i++) sSlow.create({ key: b('v/'), range_end: b('v0'), prev_kv: i === 2 })
  sFast.create({ key: b('v/'), range_end: b('v0') })
  await apply.put('v/0', 'x')
  await waitFor('first', () => slow.events().length === 3)
  slow.full = true
  await apply.put('v/1', 'x') // written (the sink accepts it) but reports backpressure
  await waitFor('blocked', () => sSlow.blocked)
  for (let i = 2; i < 200; i++) await apply.put(`v/${i}`, String(i))
  await waitFor('fast stream', () => fast.events().length === 200)
  await tick()
  t.equal(hub.counts.unsynced, 3, 'the slow stream’s watchers were moved aside')
  const before = slow.events().length
  t.ok(before < 12, `the slow stream got little meanwhile (${before})`)
  slow.full = false
  sSlow.resume()
  await waitFor('slow catch-up', () => ['0', '1', '2'].every((id) => slow.events(id).length === 200))
  for (const id of ['0', '1', '2']) {
    t.same(slow.events(id).map((e) => e.kv.key.toString()), Array.from({ length: 200 }, (_, i) => `v/${i}`), `watch ${id}: every event once, in order`)
  }
  t.equal(slow.events('2')[5].prev_kv, null)
  await apply.put('v/0', 'again')
  // Watch 2 reads prev_kv first, so it may lag the others by a turn.
  await waitFor('live again', () => ['0', '1', '2'].every((id) => slow.events(id).length === 201))
  t.equal(slow.events('2').at(-1)?.prev_kv?.value.toString(), 'x')
  t.same(hub.counts, { synced: 4, unsynced: 0, streams: 2 })
})

t.test('progress: periodic for progress_notify watchers, on request with watch_id -1 when synced', async (t) => {
  const { hub, apply } = await setup(t, { progressIntervalMs: 40 })
  const sink = new RecordingSink()
  const s = hub.openStream(sink)
  s.requestProgress()
  t.equal(sink.out.length, 0, 'no watchers: no response (etcd 3.5)')
  s.create({ key: b('p'), progress_notify: true })
  s.create({ key: b('q') })
  await apply.put('x', '1')
  await waitFor('progress', () => sink.out.filter((r) => r.watch_id === '0' && r.events.length === 0 && !r.created).length >= 2)
  const p = sink.out.find((r) => r.watch_id === '0' && !r.created)
  t.match(p, { events: [], canceled: false, header: { revision: '2' } })
  t.notOk(sink.out.some((r) => r.watch_id === '1' && !r.created), 'only watchers that asked get periodic progress')
  sink.out.length = 0
  s.handle({ request_union: 'progress_request', progress_request: {} })
  t.match(sink.out, [{ watch_id: '-1', created: false, canceled: false, events: [], header: { revision: '2' } }])
  // An unsynced watcher on the stream: no progress response (3.5).
  sink.out.length = 0
  s.create({ key: b('p'), start_revision: '1' })
  s.requestProgress()
  t.same(sink.out.map((r) => r.watch_id), ['2'], 'only the created response')
  s.create({ key: b('p'), start_revision: '100' })
  await waitFor('synced', () => hub.counts.unsynced === 0)
  s.requestProgress()
  t.equal(sink.out.filter((r) => r.watch_id === '-1').length, 0, 'a watcher waiting for a future start revision blocks it too')
})

t.test('fragment: events beyond the limit are split, fragment on all but the last', async (t) => {
  const { hub, apply } = await setup(t, { maxResponseBytes: 1000 })
  const ops = Array.from({ length: 30 }, (_, i) => ({ put: { key: b(`big/${i}`), value: Buffer.alloc(100, 97) } }))
  await apply.write(ops)
  const sink = new RecordingSink()
  const s = hub.openStream(sink)
  s.create({ key: b('big/'), range_end: b('big0'), start_revision: '1', fragment: true })
  s.create({ key: b('big/'), range_end: b('big0'), start_revision: '1' })
  await waitFor('events', () => sink.events('0').length === 30 && sink.events('1').length === 30)
  const frags = sink.out.filter((r) => r.watch_id === '0' && !r.created)
  t.ok(frags.length >= 4, `${frags.length} fragments`)
  t.same(frags.map((r) => r.fragment), [...frags.slice(1).map(() => true), false])
  t.ok(frags.every((r) => r.header.revision === '2'))
  t.equal(sink.out.filter((r) => r.watch_id === '1' && !r.created).length, 1, 'without fragment: one response')
  t.same(sink.events('0').map((e) => e.kv.key.toString()), ops.map((o) => o.put.key.toString()))
})

t.test('closing a stream or the hub removes its watchers', async (t) => {
  const { hub, apply } = await setup(t)
  const sink = new RecordingSink()
  const s = hub.openStream(sink)
  s.create({ key: b('a') })
  s.create({ key: b('a'), start_revision: '1' })
  s.close()
  t.same(hub.counts, { synced: 0, unsynced: 0, streams: 0 })
  await apply.put('a', '1')
  await tick()
  t.equal(sink.events().length, 0)
  const s2 = hub.openStream(new RecordingSink())
  s2.create({ key: b('a') })
  const sink3 = new RecordingSink()
  hub.openStream(sink3)
  hub.close()
  t.ok(sink3.closed, 'sinks are told')
  t.same(hub.counts, { synced: 0, unsynced: 0, streams: 0 })
  t.throws(() => hub.openStream(new RecordingSink()))
})

t.test('matching scales: 10,000 prefix watchers and 10,000 single-key watchers', async (t) => {
  const { hub, apply } = await setup(t)
  const sinks = Array.from({ length: 10 }, () => new RecordingSink())
  const streams = sinks.map((s) => hub.openStream(s))
  for (let i = 0; i < 10_000; i++) streams[i % 10].create({ key: b('/reg/'), range_end: b('/reg0') })
  for (let i = 0; i < 10_000; i++) streams[i % 10].create({ key: b(`/one/${i}`) })
  for (const s of sinks) s.out.length = 0
  const r = await apply.store.write(1000, [{ put: { key: b('/one/5'), value: b('x') } }])
  let start = performance.now()
  hub.notify(r.revision, r.changes)
  const single = performance.now() - start
  const r2 = await apply.store.write(1001, [{ put: { key: b('/reg/a'), value: b('x') } }])
  start = performance.now()
  hub.notify(r2.revision, r2.changes)
  const fan = performance.now() - start
  t.comment(`notify: single-key match ${single.toFixed(3)} ms, 10,000-watcher fan-out ${fan.toFixed(2)} ms`)
  t.ok(single < 5, 'a single-key write does not scan the watchers')
  await waitFor('fan-out', () => sinks.reduce((n, s) => n + s.events().length, 0) === 10_001)
  t.equal(sinks.reduce((n, s) => n + s.out.length, 0), 10_001, 'one response per watcher per revision')
})

t.test('a start at exactly the compacted revision is served, as etcd serves it', async (t) => {
  const { hub, apply } = await setup(t)
  for (let i = 0; i < 5; i++) await apply.put('c', String(i))
  await apply.compact(4)
  const sink = new RecordingSink()
  hub.openStream(sink).create({ key: b('c'), start_revision: '4' })
  await waitFor('events', () => sink.events('0').length === 3)
  t.same(summary(sink.events('0')), ['PUT c@4', 'PUT c@5', 'PUT c@6'])
  t.notOk(sink.out.some((r) => r.canceled))
})

t.test('after the store is restored from a snapshot, live watchers catch up what they skipped', async (t) => {
  const { store, hub, apply } = await setup(t)
  const other = await KVStore.open(t.testdir() + '-other')
  t.teardown(() => other.close())
  await apply.put('a', '1') // rev 2, seen live
  const sink = new RecordingSink()
  hub.openStream(sink).create({ key: b('a'), range_end: b('b') })
  await apply.put('a', '2') // rev 3
  await waitFor('live', () => sink.events('0').length === 1)
  // The leader's state: the same first two writes, then two more this member never applied.
  for (const [i, v] of ['1', '2', '3', '4'].entries()) await other.write(i + 1, [{ put: { key: b('a'), value: b(v) } }])
  await store.restore(await other.snapshot())
  hub.restored()
  await waitFor('catch-up', () => sink.events('0').length === 3)
  t.same(summary(sink.events('0')), ['PUT a@3', 'PUT a@4', 'PUT a@5'])
  await apply.write([]) // keep the applier's index past the snapshot's
  const next = await store.write(10, [{ put: { key: b('a'), value: b('5') } }])
  hub.notify(next.revision, next.changes)
  await waitFor('live again', () => sink.events('0').length === 4)
  t.same(summary(sink.events('0')).at(-1), 'PUT a@6')
})
