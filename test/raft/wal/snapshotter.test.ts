import { readFile, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import type { Snapshot } from '../../../src/raft/types.js'
import { SnapshotCorruptError } from '../../../src/raft/wal/errors.js'
import { Snapshotter } from '../../../src/raft/wal/snapshotter.js'
import { warnings } from './fixtures.js'

function snap(index: number, term: number, data = `state at ${index}`): Snapshot {
  return { metadata: { index, term, confState: { voters: [1, 2, 3], learners: [2 ** 40] } }, data: Buffer.from(data) }
}

function plain(s: Snapshot | undefined): unknown {
  return s && { metadata: s.metadata, data: Buffer.from(s.data).toString() }
}

async function flipByte(path: string, at: number): Promise<void> {
  const buf = await readFile(path)
  buf[at] ^= 0x01
  await writeFile(path, buf)
}

t.test('an empty snapshot directory loads nothing', async (t) => {
  const s = await Snapshotter.open(join(t.testdir(), 'snap'))
  t.equal(await s.loadNewest(), undefined)
})

t.test('a saved snapshot loads back with its metadata, membership and data', async (t) => {
  const dir = t.testdir()
  const s = await Snapshotter.open(dir)
  await s.save(snap(10, 2))
  await s.save(snap(20, 3))
  t.same(plain(await s.loadNewest()), plain(snap(20, 3)))
  t.same(await readdir(dir), ['0000000000000002-000000000000000a.snap', '0000000000000003-0000000000000014.snap'])
})

t.test('files are named so that sorting by name sorts oldest to newest', async (t) => {
  const s = await Snapshotter.open(t.testdir())
  for (const [i, term] of [
    [9, 1],
    [0x10, 1],
    [0x100, 2],
  ] as const) {
    await s.save(snap(i, term))
  }
  const names = (await s.list()).map((f) => f.path)
  t.same(names, [...names].sort().reverse())
  t.same((await s.list()).map((f) => f.index), [0x100, 0x10, 9])
})

t.test('a corrupt newest snapshot is reported and the previous one is used', async (t) => {
  const dir = t.testdir()
  const w = warnings()
  const s = await Snapshotter.open(dir, { onWarn: w.onWarn })
  await s.save(snap(10, 2))
  await s.save(snap(20, 2))
  const newest = (await s.list())[0]!.path
  await flipByte(newest, 40)
  t.same(plain(await s.loadNewest()), plain(snap(10, 2)))
  t.equal(w.list.length, 1)
  t.match(w.list[0], newest)
})

t.test('when every snapshot file is corrupt, loading fails and names the files', async (t) => {
  const dir = t.testdir()
  const s = await Snapshotter.open(dir, { onWarn: () => {} })
  await s.save(snap(10, 2))
  await s.save(snap(20, 2))
  const files = await s.list()
  await flipByte(files[0]!.path, 10)
  await writeFile(files[1]!.path, Buffer.alloc(0))
  const err = await s.loadNewest().then(
    () => undefined,
    (e: unknown) => e,
  )
  t.ok(err instanceof SnapshotCorruptError)
  for (const f of files) t.match((err as Error).message, f.path)
})

t.test('a snapshot file whose name disagrees with its content is corrupt', async (t) => {
  const dir = t.testdir()
  const s = await Snapshotter.open(dir)
  await s.save(snap(10, 2))
  const [f] = await s.list()
  await writeFile(join(dir, '0000000000000002-000000000000000b.snap'), await readFile(f!.path))
  const w = warnings()
  const s2 = await Snapshotter.open(dir, { onWarn: w.onWarn })
  t.same(plain(await s2.loadNewest()), plain(snap(10, 2)))
  t.match(w.list[0], /holds term 2 index 10/)
})

t.test('purge keeps only the newest snapshots, and a leftover temp file is removed on open', async (t) => {
  const dir = t.testdir()
  const s = await Snapshotter.open(dir)
  for (let i = 1; i <= 5; i++) await s.save(snap(i * 10, 1))
  await s.purge()
  t.same((await s.list()).map((f) => f.index), [50, 40, 30])
  await s.purge(1)
  t.same((await s.list()).map((f) => f.index), [50])

  await writeFile(join(dir, '0000000000000001-000000000000003c.snap.tmp'), 'interrupted')
  await Snapshotter.open(dir)
  t.same(await readdir(dir), ['0000000000000001-0000000000000032.snap'])
})
