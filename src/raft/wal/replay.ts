// Reading a WAL directory back: verify every record, cut off a torn tail, refuse
// anything else that is damaged, and rebuild the log exactly as raft's appends left it.
import { open, readFile, readdir, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { type Entry, emptyHardState } from '../types.js'
import { MalformedRecordError, WalCorruptError } from './errors.js'
import { fsyncDir } from './fsutil.js'
import {
  RecordType,
  decodeEntries,
  decodeHardState,
  decodeSegmentHeader,
  decodeSnapshotMarker,
  hasRecordAfter,
  readRecord,
} from './record.js'
import { type LogPosition, type Segment, type SnapshotMarker, parseSegmentName } from './segment.js'

export interface Replayed {
  segments: Segment[]
  /** Byte size of the last segment, after any torn tail was cut off. */
  tailSize: number
  position: LogPosition
  entries: Entry[]
}

/** The log as raft saw it: later batches overwrite the tail from their first index on. */
class ReplayLog {
  entries: Entry[] = []

  /** Returns why the batch does not fit, or undefined. */
  append(batch: Entry[]): string | undefined {
    const start = batch[0]!.index
    const first = this.entries[0]?.index
    if (first === undefined || start <= first) {
      this.entries = batch
      return undefined
    }
    const last = first + this.entries.length - 1
    if (start > last + 1) return `entries start at ${start} but the log ends at ${last}`
    this.entries.length = start - first
    for (const e of batch) this.entries.push(e)
    return undefined
  }

  /**
   * Mirror raft's snapshot restore: a snapshot the log already contains (a local
   * compaction) leaves the log alone; one it does not (sent by a leader to a follower
   * whose log diverged or fell behind) replaces the whole log.
   */
  marker(m: SnapshotMarker): void {
    const first = this.entries[0]?.index
    if (first === undefined || m.index < first) return
    const e = this.entries[m.index - first]
    if (e === undefined || e.term !== m.term) this.entries = []
  }
}

export async function replay(dir: string, onWarn: (msg: string) => void): Promise<Replayed> {
  const segments = await listSegments(dir)
  const log = new ReplayLog()
  const position: LogPosition = { highWater: 0, hardState: emptyHardState(), marker: undefined }
  let tailSize = 0
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!
    const isLast = i === segments.length - 1
    const buf = await readFile(seg.path)
    if (buf.length === 0) throw new WalCorruptError(seg.path, 0, 'empty segment has no header')
    let off = 0
    while (off < buf.length) {
      const r = readRecord(buf, off)
      if (!r.ok) {
        // A crash mid-write leaves a damaged record with nothing intact after it, and only
        // in the segment being written. The header (offset 0) is written atomically with
        // the file, so damage there is never a torn write.
        if (isLast && off > 0 && !hasRecordAfter(buf, off)) {
          await truncate(seg.path, off)
          onWarn(`wal: torn tail in ${seg.path} at offset ${off} (${r.reason}): cut off ${buf.length - off} bytes of an interrupted write`)
          break
        }
        throw new WalCorruptError(seg.path, off, r.reason)
      }
      const problem = applyRecord(r.type, r.payload, off, seg, log, position)
      if (problem !== undefined) throw new WalCorruptError(seg.path, off, problem)
      off = r.end
    }
    if (isLast) tailSize = off
  }
  return { segments, tailSize, position, entries: log.entries }
}

/** Applies one record; returns why it is inconsistent, or undefined. */
function applyRecord(
  type: RecordType,
  payload: Buffer,
  off: number,
  seg: Segment,
  log: ReplayLog,
  pos: LogPosition,
): string | undefined {
  if ((off === 0) !== (type === RecordType.SegmentHeader)) {
    return off === 0 ? 'segment does not start with its header' : 'segment header in the middle of a segment'
  }
  try {
    switch (type) {
      case RecordType.SegmentHeader: {
        const h = decodeSegmentHeader(payload)
        if (h.seq !== seg.seq || h.firstIndex !== seg.firstIndex) {
          return `header says segment ${h.seq} from index ${h.firstIndex}, the file name says ${seg.seq} from ${seg.firstIndex}`
        }
        pos.highWater = Math.max(pos.highWater, h.firstIndex - 1)
        break
      }
      case RecordType.HardState:
        pos.hardState = decodeHardState(payload)
        break
      case RecordType.Entries: {
        const batch = decodeEntries(payload)
        if (batch.length === 0) return 'empty entries record'
        const problem = log.append(batch)
        if (problem !== undefined) return problem
        pos.highWater = Math.max(pos.highWater, batch.at(-1)!.index)
        break
      }
      case RecordType.SnapshotMarker: {
        const m = decodeSnapshotMarker(payload)
        log.marker(m)
        pos.marker = m
        pos.highWater = Math.max(pos.highWater, m.index)
        break
      }
    }
  } catch (err) {
    if (err instanceof MalformedRecordError) return err.message
    throw err
  }
  return undefined
}

/** Segments in sequence order; leftovers of an interrupted segment creation are removed. */
async function listSegments(dir: string): Promise<Segment[]> {
  const names = await readdir(dir)
  const leftovers = names.filter((n) => n.endsWith('.wal.tmp'))
  for (const n of leftovers) await unlink(join(dir, n))
  if (leftovers.length > 0) await fsyncDir(dir)
  const segments = names.flatMap((n) => parseSegmentName(dir, n) ?? []).sort((a, b) => a.seq - b.seq)
  for (let i = 1; i < segments.length; i++) {
    const s = segments[i]!
    if (s.seq !== segments[i - 1]!.seq + 1) throw new WalCorruptError(s.path, 0, `segment ${s.seq - 1} is missing`)
  }
  return segments
}

async function truncate(path: string, size: number): Promise<void> {
  const fh = await open(path, 'r+')
  try {
    await fh.truncate(size)
    await fh.datasync()
  } finally {
    await fh.close()
  }
}
