// Snapshot files: one file per snapshot, `<term>-<index>.snap` in 16 hex digits each so
// that names sort oldest to newest (as etcd's snap package).
//
//   file = [u32 LE crc32 of the rest][u64 index][u64 term]
//          [u32 voter count][u64 voter]… [u32 learner count][u64 learner]…
//          [u64 data length][data]
import { readFile, readdir, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { crc32 } from 'node:zlib'
import type { NodeId, Snapshot } from '../types.js'
import { MalformedRecordError, SnapshotCorruptError } from './errors.js'
import { ensureDir, fsyncDir, writeFileAtomic } from './fsutil.js'
import { readU64, writeU64 } from './record.js'

export interface SnapshotFile {
  path: string
  term: number
  index: number
}

const NAME = /^([0-9a-f]{16})-([0-9a-f]{16})\.snap$/

function fileName(term: number, index: number): string {
  return `${term.toString(16).padStart(16, '0')}-${index.toString(16).padStart(16, '0')}.snap`
}

function encodeHead(snap: Snapshot): Buffer {
  const { index, term, confState } = snap.metadata
  const { voters, learners } = confState
  const head = Buffer.allocUnsafe(4 + 16 + 4 + 8 * voters.length + 4 + 8 * learners.length + 8)
  let off = 4
  writeU64(head, index, off)
  writeU64(head, term, off + 8)
  off += 16
  for (const ids of [voters, learners]) {
    head.writeUInt32LE(ids.length, off)
    off += 4
    for (const id of ids) {
      writeU64(head, id, off)
      off += 8
    }
  }
  writeU64(head, snap.data.length, off)
  head.writeUInt32LE(crc32(snap.data, crc32(head.subarray(4))), 0)
  return head
}

function decode(buf: Buffer): Snapshot {
  if (buf.length < 4) throw new MalformedRecordError('shorter than its checksum')
  if (crc32(buf.subarray(4)) !== buf.readUInt32LE(0)) throw new MalformedRecordError('crc mismatch')
  let off = 4
  const need = (n: number): void => {
    if (buf.length - off < n) throw new MalformedRecordError('truncated metadata')
  }
  need(16)
  const index = readU64(buf, off)
  const term = readU64(buf, off + 8)
  off += 16
  const readIds = (): NodeId[] => {
    need(4)
    const n = buf.readUInt32LE(off)
    off += 4
    need(8 * n)
    const ids: NodeId[] = []
    for (let i = 0; i < n; i++, off += 8) ids.push(readU64(buf, off))
    return ids
  }
  const voters = readIds()
  const learners = readIds()
  need(8)
  const len = readU64(buf, off)
  off += 8
  if (buf.length - off !== len) throw new MalformedRecordError(`data is ${buf.length - off} bytes, want ${len}`)
  return { metadata: { index, term, confState: { voters, learners } }, data: buf.subarray(off) }
}

export class Snapshotter {
  private constructor(
    private readonly dir: string,
    private readonly onWarn: (msg: string) => void,
  ) {}

  /** onWarn hears of corrupt snapshots skipped (default: process.emitWarning). */
  static async open(dir: string, opts: { onWarn?: (msg: string) => void } = {}): Promise<Snapshotter> {
    await ensureDir(dir)
    // Leftovers of a save cut short by a crash; the snapshot they held was never used.
    const leftovers = (await readdir(dir)).filter((n) => n.endsWith('.snap.tmp'))
    for (const n of leftovers) await unlink(join(dir, n))
    if (leftovers.length > 0) await fsyncDir(dir)
    return new Snapshotter(dir, opts.onWarn ?? ((msg: string) => process.emitWarning(msg)))
  }

  /** Durable when it resolves; a crash before that leaves no partial file behind. */
  async save(snap: Snapshot): Promise<void> {
    const { term, index } = snap.metadata
    await writeFileAtomic(join(this.dir, fileName(term, index)), [encodeHead(snap), snap.data])
  }

  /** Snapshot files, newest first. */
  async list(): Promise<SnapshotFile[]> {
    const files: SnapshotFile[] = []
    for (const name of await readdir(this.dir)) {
      const m = NAME.exec(name)
      if (m) files.push({ path: join(this.dir, name), term: parseInt(m[1]!, 16), index: parseInt(m[2]!, 16) })
    }
    return files.sort((a, b) => b.term - a.term || b.index - a.index)
  }

  /**
   * The newest snapshot that verifies; a damaged newer one is reported and skipped.
   * Undefined only when there are no snapshot files at all.
   */
  async loadNewest(): Promise<Snapshot | undefined> {
    const failures: { path: string; reason: string }[] = []
    for (const f of await this.list()) {
      try {
        const snap = decode(await readFile(f.path))
        if (snap.metadata.term !== f.term || snap.metadata.index !== f.index) {
          throw new MalformedRecordError(`holds term ${snap.metadata.term} index ${snap.metadata.index}`)
        }
        return snap
      } catch (err) {
        if (!(err instanceof MalformedRecordError)) throw err
        failures.push({ path: f.path, reason: err.message })
        this.onWarn(`snap: skipping corrupt snapshot ${f.path}: ${err.message}`)
      }
    }
    if (failures.length > 0) throw new SnapshotCorruptError(failures)
    return undefined
  }

  /** Delete all but the newest `keep` snapshot files. */
  async purge(keep = 3): Promise<void> {
    const old = (await this.list()).slice(keep)
    for (const f of old) await unlink(f.path)
    if (old.length > 0) await fsyncDir(this.dir)
  }
}
