import { readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { CompactedError } from '../../../src/raft/errors.js'
import type { MemoryStorage } from '../../../src/raft/storage.js'
import type { Snapshot } from '../../../src/raft/types.js'
import { DurableLog } from '../../../src/raft/wal/durable-log.js'
import { LogGapError } from '../../../src/raft/wal/errors.js'
import { Snapshotter } from '../../../src/raft/wal/snapshotter.js'
import { ents, ids, walFiles } from './fixtures.js'

function snap(index: number, term: number): Snapshot {
  return { metadata: { index, term, confState: { voters: [1, 2, 3], learners: [] } }, data: Buffer.from(`state at ${index}`) }
}

function all(s: MemoryStorage): string[] {
  return s.lastIndex() < s.firstIndex() ? [] : ids(s.entries(s.firstIndex(), s.lastIndex() + 1, Infinity))
}

/** 100 entries: 1..60 in term 1, 61..100 in term 2, all committed. */
async function fill(log: DurableLog): Promise<void> {
  await log.persist({ term: 1, vote: 1, commit: 0 }, ents(1, 60, 1), undefined, true)
  await log.persist({ term: 2, vote: 2, commit: 100 }, ents(61, 100, 2), undefined, true)
}

t.test('a fresh directory opens as an empty log', async (t) => {
  const log = await DurableLog.open(t.testdir())
  t.equal(log.storage.firstIndex(), 1)
  t.equal(log.storage.lastIndex(), 0)
  t.same(log.hardState, { term: 0, vote: 0, commit: 0 })
  t.equal(log.snapshot, undefined)
  await log.close()
})

t.test('persisted hard state and entries are in storage, and again after reopen', async (t) => {
  const dir = t.testdir()
  const log = await DurableLog.open(dir)
  await fill(log)
  t.same(all(log.storage), ids([...ents(1, 60, 1), ...ents(61, 100, 2)]))
  t.match(log.stats, { fsyncs: 2, entriesSynced: 100 }, 'one fsync per persist with mustSync')
  await log.close()

  const again = await DurableLog.open(dir)
  t.same(all(again.storage), ids([...ents(1, 60, 1), ...ents(61, 100, 2)]))
  t.same(again.hardState, { term: 2, vote: 2, commit: 100 })
  await again.close()
})

t.test('after compact, memory keeps trailing entries and a reopen restores snapshot plus the entries after it', async (t) => {
  const dir = t.testdir()
  const log = await DurableLog.open(dir, { keepEntries: 10 })
  await fill(log)
  await log.compact(snap(80, 2))
  t.equal(log.storage.firstIndex(), 71, 'slow followers can still read 71..80')
  t.equal(log.storage.snapshot().metadata.index, 80)
  await log.close()

  const again = await DurableLog.open(dir, { keepEntries: 10 })
  const s = again.storage
  t.equal(s.firstIndex(), 81)
  t.equal(s.lastIndex(), 100)
  t.equal(s.term(80), 2)
  t.equal(s.term(81), 2)
  t.throws(() => s.term(79), CompactedError)
  t.same(all(s), ids(ents(81, 100, 2)))
  t.same(again.snapshot?.metadata, snap(80, 2).metadata)
  t.same(Buffer.from(again.snapshot!.data).toString(), 'state at 80')
  t.same(s.initialState().confState, { voters: [1, 2, 3], learners: [] })
  t.same(again.hardState, { term: 2, vote: 2, commit: 100 })
  await again.close()
})

t.test('compact releases WAL segments and snapshot files the kept snapshots no longer need', async (t) => {
  const dir = t.testdir()
  const opts = { keepEntries: 5, keepSnapshots: 2, segmentBytes: 2048 }
  const log = await DurableLog.open(dir, opts)
  for (let i = 1; i <= 200; i += 10) await log.persist({ term: 1, vote: 1, commit: i + 9 }, ents(i, i + 9, 1, 100), undefined, true)
  const segmentsBefore = (await walFiles(dir)).length
  for (const i of [50, 100, 150]) await log.compact(snap(i, 1))
  t.same(await readdir(join(dir, 'snap')), ['0000000000000001-0000000000000064.snap', '0000000000000001-0000000000000096.snap'])
  const segmentsAfter = await walFiles(dir)
  t.ok(segmentsAfter.length < segmentsBefore, `${segmentsBefore} -> ${segmentsAfter.length} segments`)
  t.ok(parseInt(segmentsAfter[0]!.slice(17, 33), 16) <= 101, 'entries after the oldest kept snapshot (100) are still there')
  await log.close()

  const again = await DurableLog.open(dir, opts)
  t.equal(again.storage.firstIndex(), 151)
  t.equal(again.storage.lastIndex(), 200)
  await again.close()
})

t.test('a snapshot received from the leader replaces the log, also after reopen', async (t) => {
  const dir = t.testdir()
  const log = await DurableLog.open(dir)
  await log.persist({ term: 1, vote: 1, commit: 5 }, ents(1, 10, 1), undefined, true)
  await log.persist({ term: 3, vote: 0, commit: 500 }, [], snap(500, 3), true)
  t.equal(log.storage.firstIndex(), 501)
  t.equal(log.storage.lastIndex(), 500)
  await log.persist({ term: 3, vote: 0, commit: 502 }, ents(501, 502, 3), undefined, true)
  await log.close()

  const again = await DurableLog.open(dir)
  t.equal(again.storage.firstIndex(), 501)
  t.same(all(again.storage), ids(ents(501, 502, 3)))
  t.equal(again.storage.term(500), 3)
  t.same(again.hardState, { term: 3, vote: 0, commit: 502 })
  await again.close()
})

t.test('a crash between saving a snapshot file and its WAL records still restarts consistently', async (t) => {
  const dir = t.testdir()
  const log = await DurableLog.open(dir)
  await log.persist({ term: 1, vote: 1, commit: 8 }, ents(1, 10, 1), undefined, true)
  await log.close()
  // The snapshot file reached the disk; the marker and hard state of that Ready did not.
  await (await Snapshotter.open(join(dir, 'snap'))).save(snap(500, 3))

  const again = await DurableLog.open(dir)
  t.equal(again.storage.firstIndex(), 501)
  t.equal(again.storage.lastIndex(), 500)
  t.same(again.hardState, { term: 3, vote: 0, commit: 500 }, 'the snapshot is committed; its term is at least ours')
  await again.close()
})

t.test('an older snapshot is not used when the WAL no longer reaches back to it', async (t) => {
  const dir = t.testdir()
  const opts = { keepEntries: 0, keepSnapshots: 1, segmentBytes: 1024 }
  const log = await DurableLog.open(dir, opts)
  for (let i = 1; i <= 100; i += 10) await log.persist({ term: 1, vote: 1, commit: i + 9 }, ents(i, i + 9, 1, 100), undefined, true)
  await log.compact(snap(90, 1))
  await log.close()
  await rm(join(dir, 'snap'), { recursive: true })

  await t.rejects(DurableLog.open(dir, opts), LogGapError)
})
