import { appendFile, readFile, stat, truncate, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { WalCorruptError } from '../../../src/raft/wal/errors.js'
import { Wal } from '../../../src/raft/wal/wal.js'
import { ents, ids, walFiles, warnings } from './fixtures.js'

async function sizeOf(path: string): Promise<number> {
  return (await stat(path)).size
}

/** A WAL with three synced batches; returns the segment path and the byte offset after each sync. */
async function threeBatches(dir: string): Promise<{ path: string; ends: number[] }> {
  const { wal } = await Wal.open(dir)
  const path = join(dir, (await walFiles(dir))[0]!)
  const ends: number[] = []
  for (const [from, to] of [
    [1, 10],
    [11, 20],
    [21, 30],
  ] as const) {
    wal.save({ term: 1, vote: 1, commit: from - 1 }, ents(from, to, 1, 100))
    await wal.sync()
    ends.push(await sizeOf(path))
  }
  await wal.close()
  return { path, ends }
}

t.test('a fresh directory opens empty with one segment', async (t) => {
  const dir = t.testdir()
  const r = await Wal.open(dir)
  t.same(r.entries, [])
  t.same(r.hardState, { term: 0, vote: 0, commit: 0 })
  t.equal(r.lastMarker, undefined)
  t.same(await walFiles(dir), ['0000000000000001-0000000000000001.wal'])
  await r.wal.close()
})

t.test('entries and hard state saved and synced come back on reopen', async (t) => {
  const dir = t.testdir()
  const { wal } = await Wal.open(dir)
  wal.save({ term: 1, vote: 2, commit: 0 }, ents(1, 5, 1))
  wal.save({ term: 2, vote: 3, commit: 4 }, ents(6, 9, 2))
  await wal.sync()
  await wal.close()

  const r = await Wal.open(dir)
  t.same(r.hardState, { term: 2, vote: 3, commit: 4 })
  t.same(ids(r.entries), ids([...ents(1, 5, 1), ...ents(6, 9, 2)]))
  t.same(Buffer.from(r.entries[6]!.data), Buffer.alloc(8, 7))
  await r.wal.close()
})

t.test('a conflicting tail written later overwrites the earlier entries on reopen', async (t) => {
  const dir = t.testdir()
  const { wal } = await Wal.open(dir)
  wal.save(undefined, ents(1, 10, 1))
  // A new leader in term 2 truncates our log after 6 and appends its own entries.
  wal.save(undefined, ents(7, 8, 2))
  await wal.sync()
  await wal.close()

  const r = await Wal.open(dir)
  t.same(ids(r.entries), ids([...ents(1, 6, 1), ...ents(7, 8, 2)]))
  await r.wal.close()
})

t.test('close syncs what is still buffered', async (t) => {
  const dir = t.testdir()
  const { wal } = await Wal.open(dir)
  wal.save({ term: 1, vote: 1, commit: 1 }, ents(1, 3, 1))
  await wal.close()
  t.throws(() => wal.save(undefined, ents(4, 4, 1)), /closed/)
  const r = await Wal.open(dir)
  t.same(ids(r.entries), ids(ents(1, 3, 1)))
  await r.wal.close()
})

t.test('segments rotate past segmentBytes and replay reads across all of them', async (t) => {
  const dir = t.testdir()
  const { wal } = await Wal.open(dir, { segmentBytes: 4096 })
  for (let i = 1; i <= 100; i += 10) {
    wal.save({ term: 1, vote: 1, commit: i - 1 }, ents(i, i + 9, 1, 100))
    await wal.sync()
  }
  await wal.close()
  const files = await walFiles(dir)
  t.ok(files.length >= 3, `${files.length} segments`)
  // Each name carries the next index the log expected when the segment began.
  t.equal(files[1], '0000000000000002-0000000000000029.wal')

  const r = await Wal.open(dir, { segmentBytes: 4096 })
  t.same(ids(r.entries), ids(ents(1, 100, 1)))
  t.same(r.hardState, { term: 1, vote: 1, commit: 90 })
  await r.wal.close()
})

t.test('releaseTo deletes only segments whose entries are all covered, never the one in use', async (t) => {
  const dir = t.testdir()
  const { wal } = await Wal.open(dir, { segmentBytes: 4096 })
  wal.save({ term: 1, vote: 1, commit: 0 }, [])
  for (let i = 1; i <= 100; i += 10) {
    wal.save(undefined, ents(i, i + 9, 1, 100))
    await wal.sync()
  }
  wal.saveSnapshotMarker(60, 1)
  await wal.sync()
  const before = await walFiles(dir)
  const firstIndexes = before.map((n) => parseInt(n.slice(17, 33), 16))

  await wal.releaseTo(60)
  const after = await walFiles(dir)
  // A segment goes when the next one starts at or below 61: all its entries are ≤ 60.
  const keepFrom = firstIndexes.findLastIndex((f) => f <= 61)
  t.same(after, before.slice(keepFrom))
  t.ok(after.length < before.length)

  await wal.releaseTo(1_000_000)
  t.same(await walFiles(dir), [before.at(-1)], 'the segment in use stays')
  await wal.close()

  // The hard state was only ever written in the first segment; every new segment restates it.
  const r = await Wal.open(dir)
  t.same(r.hardState, { term: 1, vote: 1, commit: 0 })
  t.same(r.lastMarker, { index: 60, term: 1 })
  t.equal(r.entries.at(-1)!.index, 100)
  await r.wal.close()
})

t.test('a torn tail is truncated on open and the complete records survive', async (t) => {
  const dir = t.testdir()
  const { path, ends } = await threeBatches(dir)
  await truncate(path, ends[1]! + 50) // the last write only partly reached the disk
  const w = warnings()

  const r = await Wal.open(dir, { onWarn: w.onWarn })
  t.same(ids(r.entries), ids(ents(1, 20, 1)))
  t.same(r.hardState, { term: 1, vote: 1, commit: 10 })
  t.equal(await sizeOf(path), ends[1], 'the file is cut back to the last complete record')
  t.equal(w.list.length, 1)
  t.match(w.list[0], path)
  t.match(w.list[0], `offset ${ends[1]}`)

  // Appending after the repair continues the log cleanly.
  r.wal.save(undefined, ents(21, 22, 2))
  await r.wal.sync()
  await r.wal.close()
  const again = await Wal.open(dir, { onWarn: w.onWarn })
  t.same(ids(again.entries), ids([...ents(1, 20, 1), ...ents(21, 22, 2)]))
  t.equal(w.list.length, 1, 'no further repair needed')
  await again.wal.close()
})

t.test('garbage appended after the last record is cut off on open', async (t) => {
  const dir = t.testdir()
  const { path, ends } = await threeBatches(dir)
  await appendFile(path, Buffer.from('\x13\x00\x00\x00garbage from a write that never completed'))
  await appendFile(path, Buffer.alloc(4096)) // and a zero-filled page
  const w = warnings()

  const r = await Wal.open(dir, { onWarn: w.onWarn })
  t.same(ids(r.entries), ids(ents(1, 30, 1)))
  t.equal(await sizeOf(path), ends[2])
  t.equal(w.list.length, 1)
  await r.wal.close()
})

t.test('a flipped byte in the middle of a segment rejects open, naming the file and offset', async (t) => {
  const dir = t.testdir()
  const { path, ends } = await threeBatches(dir)
  const buf = await readFile(path)
  buf[ends[0]! + 50] ^= 0x20 // inside the second batch; the third is intact after it
  await writeFile(path, buf)

  const err = await Wal.open(dir).then(
    () => undefined,
    (e: unknown) => e,
  )
  t.ok(err instanceof WalCorruptError)
  t.match((err as Error).message, `wal: corrupt record in ${path} at offset ${ends[0]}: crc mismatch`)
  t.equal(await sizeOf(path), buf.length, 'nothing was truncated')
})

t.test('a damaged length field in the middle is corruption, not a torn tail', async (t) => {
  const dir = t.testdir()
  const { path, ends } = await threeBatches(dir)
  const buf = await readFile(path)
  buf.writeUInt32LE(0x7fffffff, ends[0]!) // the record now claims to run past the end of the file
  await writeFile(path, buf)
  await t.rejects(Wal.open(dir), { name: 'WalCorruptError', message: new RegExp(`at offset ${ends[0]}: incomplete record`) })
})

t.test('damage at the end of a segment that is not the last is corruption', async (t) => {
  const dir = t.testdir()
  const { wal } = await Wal.open(dir, { segmentBytes: 1024 })
  for (let i = 1; i <= 40; i += 10) {
    wal.save(undefined, ents(i, i + 9, 1, 100))
    await wal.sync()
  }
  await wal.close()
  const files = await walFiles(dir)
  t.ok(files.length >= 2)
  const first = join(dir, files[0]!)
  await truncate(first, (await sizeOf(first)) - 3)
  await t.rejects(Wal.open(dir), { name: 'WalCorruptError', message: new RegExp(first) })
})

t.test('a missing segment in the middle of the sequence is corruption', async (t) => {
  const dir = t.testdir()
  const { wal } = await Wal.open(dir, { segmentBytes: 1024 })
  for (let i = 1; i <= 40; i += 10) {
    wal.save(undefined, ents(i, i + 9, 1, 100))
    await wal.sync()
  }
  await wal.close()
  const files = await walFiles(dir)
  t.ok(files.length >= 3)
  await unlink(join(dir, files[1]!))
  await t.rejects(Wal.open(dir), { name: 'WalCorruptError', message: /segment 2 is missing/ })
})

t.test('a temp file left by an interrupted rotation is removed on open', async (t) => {
  const dir = t.testdir()
  const { wal } = await Wal.open(dir)
  wal.save(undefined, ents(1, 3, 1))
  await wal.close()
  await writeFile(join(dir, '0000000000000002-0000000000000004.wal.tmp'), 'half a header')
  const r = await Wal.open(dir)
  t.same(ids(r.entries), ids(ents(1, 3, 1)))
  t.same(await walFiles(dir), ['0000000000000001-0000000000000001.wal'])
  await r.wal.close()
})

t.test('100 concurrent save+sync calls share far fewer fsyncs, and all data is back on reopen', async (t) => {
  const dir = t.testdir()
  const { wal } = await Wal.open(dir)
  const fsyncsBefore = wal.stats.fsyncs
  const syncs: Promise<void>[] = []
  for (let i = 1; i <= 100; i++) {
    wal.save({ term: 1, vote: 1, commit: i - 1 }, ents(i, i, 1, 256))
    syncs.push(wal.sync())
  }
  await Promise.all(syncs)
  const fsyncs = wal.stats.fsyncs - fsyncsBefore
  t.ok(fsyncs <= 2, `${fsyncs} fsyncs for 100 syncs`)
  t.equal(wal.stats.entriesSynced, 100)
  await wal.close()

  const r = await Wal.open(dir)
  t.same(ids(r.entries), ids(ents(1, 100, 1)))
  t.same(r.hardState, { term: 1, vote: 1, commit: 99 })
  await r.wal.close()
})

t.test('a sync that arrives during an fsync waits for the next one, which covers its data', async (t) => {
  const dir = t.testdir()
  const { wal } = await Wal.open(dir)
  wal.save(undefined, ents(1, 1, 1))
  const first = wal.sync()
  wal.save(undefined, ents(2, 2, 1))
  const second = wal.sync()
  wal.save(undefined, ents(3, 3, 1))
  const third = wal.sync()
  t.equal(second, third, 'both late callers share one pending fsync')
  await first
  t.equal(wal.stats.entriesSynced, 1)
  await second
  t.equal(wal.stats.entriesSynced, 3)
  t.equal(wal.stats.fsyncs, 2)
  await wal.close()
})

t.test('a snapshot marker the log does not contain replaces the log on replay', async (t) => {
  const dir = t.testdir()
  const { wal } = await Wal.open(dir)
  wal.save(undefined, ents(1, 10, 1))
  // A leader sent a snapshot at 50 (term 3) to this follower, then entries after it.
  wal.saveSnapshotMarker(50, 3)
  wal.save({ term: 3, vote: 0, commit: 50 }, ents(51, 52, 3))
  // A local compaction at 51 leaves the log alone.
  wal.saveSnapshotMarker(51, 3)
  await wal.close()

  const r = await Wal.open(dir)
  t.same(ids(r.entries), ids(ents(51, 52, 3)))
  t.same(r.lastMarker, { index: 51, term: 3 })
  await r.wal.close()
})
