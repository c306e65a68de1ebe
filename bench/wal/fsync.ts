// How fast can a raft member make its log durable on this disk?
//
//   npx tsx bench/wal/fsync.ts
//
// Prints the disk's raw fdatasync rate for small appends, then the same write load
// (256-byte entries, 1/16/256 concurrent writers, each waiting for durability before
// its next write) through our segment-file WAL and through classic-level with
// { sync: true } batches, both group-committed: one write + one fsync in flight, the
// writers that arrive meanwhile share the next one.
import { mkdtemp, open, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { ClassicLevel } from 'classic-level'
import { type Entry, EntryType } from '../../src/raft/types.js'
import { encodeEntries } from '../../src/raft/wal/record.js'
import { Wal } from '../../src/raft/wal/wal.js'

const ENTRY_BYTES = 256
const SECONDS = 2
const WRITER_COUNTS = [1, 16, 256]

/** fdatasyncs per second of this disk, each after appending 256 bytes to a file in `dir`. */
export async function measureFsyncRate(dir: string, seconds: number): Promise<number> {
  const path = join(dir, 'fsync-probe')
  const fh = await open(path, 'w')
  const chunk = Buffer.alloc(256, 0x61)
  let fsyncs = 0
  try {
    const start = performance.now()
    const deadline = start + seconds * 1000
    while (performance.now() < deadline) {
      await fh.write(chunk, 0, chunk.length, fsyncs * chunk.length)
      await fh.datasync()
      fsyncs++
    }
    return fsyncs / ((performance.now() - start) / 1000)
  } finally {
    await fh.close()
    await rm(path, { force: true })
  }
}

interface Row {
  store: string
  writers: number
  entriesPerSec: number
  fsyncsPerSec: number
  entriesPerFsync: number
  meanLatencyMs: number
}

/** A durable store as the workload sees it: hand over one entry, resolve when it is on disk. */
interface Target {
  write(e: Entry): Promise<void>
  fsyncs(): number
  close(): Promise<void>
}

async function run(store: string, target: Target, writers: number, seconds: number): Promise<Row> {
  const data = Buffer.alloc(ENTRY_BYTES, 0x62)
  let next = 0
  let done = 0
  let latencyMs = 0
  const fsyncsBefore = target.fsyncs()
  const start = performance.now()
  const deadline = start + seconds * 1000
  const writer = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const t0 = performance.now()
      await target.write({ term: 1, index: ++next, type: EntryType.Normal, data })
      latencyMs += performance.now() - t0
      done++
    }
  }
  await Promise.all(Array.from({ length: writers }, writer))
  const elapsed = (performance.now() - start) / 1000
  const fsyncs = target.fsyncs() - fsyncsBefore
  await target.close()
  return {
    store,
    writers,
    entriesPerSec: done / elapsed,
    fsyncsPerSec: fsyncs / elapsed,
    entriesPerFsync: done / fsyncs,
    meanLatencyMs: latencyMs / done,
  }
}

async function walTarget(dir: string): Promise<Target> {
  const { wal } = await Wal.open(dir)
  return {
    write: (e) => {
      wal.save(undefined, [e])
      return wal.sync()
    },
    fsyncs: () => wal.stats.fsyncs,
    close: () => wal.close(),
  }
}

/** classic-level has no group commit of its own: one sync batch at a time, the rest queue for the next. */
async function levelTarget(dir: string): Promise<Target> {
  const db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' })
  await db.open()
  let queued: { key: Buffer; value: Buffer }[] = []
  let waiters: { resolve(): void; reject(err: unknown): void }[] = []
  let writing = false
  let batches = 0
  const flush = async (): Promise<void> => {
    writing = true
    while (queued.length > 0) {
      const ops = queued.map((op) => ({ type: 'put' as const, ...op }))
      const done = waiters
      queued = []
      waiters = []
      try {
        await db.batch(ops, { sync: true })
        batches++
        for (const w of done) w.resolve()
      } catch (err) {
        for (const w of done) w.reject(err)
      }
    }
    writing = false
  }
  return {
    write: (e) => {
      const key = Buffer.allocUnsafe(8)
      key.writeBigUInt64BE(BigInt(e.index))
      queued.push({ key, value: encodeEntries([e]) })
      const done = new Promise<void>((resolve, reject) => waiters.push({ resolve, reject }))
      if (!writing) void flush()
      return done
    },
    fsyncs: () => batches,
    close: () => db.close(),
  }
}

function table(rawRate: number, rows: Row[]): string {
  const lines = [
    `raw fdatasync, ${ENTRY_BYTES}-byte appends: ${rawRate.toFixed(0)}/s`,
    '',
    '| store | writers | entries/s | fsyncs/s | entries/fsync | mean latency ms |',
    '|---|---:|---:|---:|---:|---:|',
  ]
  for (const r of rows) {
    lines.push(
      `| ${r.store} | ${r.writers} | ${r.entriesPerSec.toFixed(0)} | ${r.fsyncsPerSec.toFixed(0)} | ` +
        `${r.entriesPerFsync.toFixed(1)} | ${r.meanLatencyMs.toFixed(2)} |`,
    )
  }
  return lines.join('\n')
}

async function main(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'raftplane-wal-bench-'))
  try {
    const rawRate = await measureFsyncRate(root, SECONDS)
    const rows: Row[] = []
    for (const writers of WRITER_COUNTS) {
      rows.push(await run('segment WAL', await walTarget(join(root, `wal-${writers}`)), writers, SECONDS))
      rows.push(await run('classic-level', await levelTarget(join(root, `level-${writers}`)), writers, SECONDS))
    }
    console.log(table(rawRate, rows))
  } finally {
    await rm(root, { recursive: true, force: true })
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main()
