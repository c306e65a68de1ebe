// WAL record framing and the binary codec of what goes inside.
//
//   record  = [u32 LE payload length][u32 LE crc32(type + payload)][u8 type][payload]
//   u64     = two u32 LE (low, high): plain little-endian u64 on disk, exact for any
//             safe integer, and readable by tools in any language
//
// The length is outside the checksum, so a damaged length shows up as a checksum
// mismatch or a record running past the end of the file; the reader (replay.ts)
// decides whether that is a torn tail or corruption.
import { crc32 } from 'node:zlib'
import type { Entry, EntryType, HardState } from '../types.js'
import { MalformedRecordError } from './errors.js'

export enum RecordType {
  /** First record of every segment: its sequence number and the next index it expects. */
  SegmentHeader = 1,
  HardState = 2,
  /** A batch of contiguous entries. */
  Entries = 3,
  /** A snapshot at (index, term) is saved; replay starts the log from there. */
  SnapshotMarker = 4,
}

export const HEADER_BYTES = 9
const U64_HIGH_LIMIT = 0x200000 // 2^53 / 2^32: a larger high word is not a safe integer
/** term u64, type u8, data length u32. */
const ENTRY_HEADER_BYTES = 13

export function writeU64(buf: Buffer, n: number, off: number): void {
  const lo = n >>> 0
  buf.writeUInt32LE(lo, off)
  buf.writeUInt32LE((n - lo) / 0x100000000, off + 4)
}

export function readU64(buf: Buffer, off: number): number {
  const hi = buf.readUInt32LE(off + 4)
  if (hi >= U64_HIGH_LIMIT) throw new MalformedRecordError(`u64 at ${off} exceeds 2^53`)
  return hi * 0x100000000 + buf.readUInt32LE(off)
}

/** A record with room for `payloadBytes`; fill the payload from HEADER_BYTES, then seal(). */
function frame(type: RecordType, payloadBytes: number): Buffer {
  const buf = Buffer.allocUnsafe(HEADER_BYTES + payloadBytes)
  buf[8] = type
  return buf
}

function seal(buf: Buffer): Buffer {
  buf.writeUInt32LE(buf.length - HEADER_BYTES, 0)
  buf.writeUInt32LE(crc32(buf.subarray(8)), 4)
  return buf
}

export function encodeSegmentHeader(seq: number, firstIndex: number): Buffer {
  const buf = frame(RecordType.SegmentHeader, 16)
  writeU64(buf, seq, HEADER_BYTES)
  writeU64(buf, firstIndex, HEADER_BYTES + 8)
  return seal(buf)
}

export function encodeHardState(hs: HardState): Buffer {
  const buf = frame(RecordType.HardState, 24)
  writeU64(buf, hs.term, HEADER_BYTES)
  writeU64(buf, hs.vote, HEADER_BYTES + 8)
  writeU64(buf, hs.commit, HEADER_BYTES + 16)
  return seal(buf)
}

export function encodeSnapshotMarker(index: number, term: number): Buffer {
  const buf = frame(RecordType.SnapshotMarker, 16)
  writeU64(buf, index, HEADER_BYTES)
  writeU64(buf, term, HEADER_BYTES + 8)
  return seal(buf)
}

/**
 * One record, one allocation for the whole batch. Raft only ever persists contiguous
 * runs, so the index is stored once: payload = [u32 count][u64 first index] then per
 * entry [u64 term][u8 type][u32 data length][data].
 */
export function encodeEntries(entries: Entry[]): Buffer {
  const first = entries[0]!.index
  let size = 12
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!
    if (e.index !== first + i) throw new Error(`wal: entries not contiguous: ${e.index} follows ${first + i - 1}`)
    size += ENTRY_HEADER_BYTES + e.data.length
  }
  const buf = frame(RecordType.Entries, size)
  let off = HEADER_BYTES
  buf.writeUInt32LE(entries.length, off)
  writeU64(buf, first, off + 4)
  off += 12
  for (const e of entries) {
    writeU64(buf, e.term, off)
    buf[off + 8] = e.type
    buf.writeUInt32LE(e.data.length, off + 9)
    off += ENTRY_HEADER_BYTES
    buf.set(e.data, off)
    off += e.data.length
  }
  return seal(buf)
}

export type ReadResult =
  | { ok: true; type: RecordType; payload: Buffer; end: number }
  | { ok: false; reason: 'incomplete record' | 'crc mismatch' | 'unknown record type' }

/** The record starting at `offset` (which must be < buf.length). */
export function readRecord(buf: Buffer, offset: number): ReadResult {
  if (buf.length - offset < HEADER_BYTES) return { ok: false, reason: 'incomplete record' }
  const end = offset + HEADER_BYTES + buf.readUInt32LE(offset)
  if (end > buf.length) return { ok: false, reason: 'incomplete record' }
  if (crc32(buf.subarray(offset + 8, end)) !== buf.readUInt32LE(offset + 4)) return { ok: false, reason: 'crc mismatch' }
  const type = buf[offset + 8]!
  if (!(type in RecordType)) return { ok: false, reason: 'unknown record type' }
  return { ok: true, type, payload: buf.subarray(offset + HEADER_BYTES, end), end }
}

/**
 * Whether any intact record starts after `from`. Garbage rarely even passes the cheap
 * length and type tests, so this stays linear on the torn-tail path it serves.
 */
export function hasRecordAfter(buf: Buffer, from: number): boolean {
  for (let p = from + 1; p + HEADER_BYTES <= buf.length; p++) {
    if (!(buf[p + 8]! in RecordType)) continue
    if (p + HEADER_BYTES + buf.readUInt32LE(p) > buf.length) continue
    if (readRecord(buf, p).ok) return true
  }
  return false
}

function expectLength(payload: Buffer, n: number, what: string): void {
  if (payload.length !== n) throw new MalformedRecordError(`${what} record has ${payload.length} bytes, want ${n}`)
}

export function decodeSegmentHeader(payload: Buffer): { seq: number; firstIndex: number } {
  expectLength(payload, 16, 'segment header')
  return { seq: readU64(payload, 0), firstIndex: readU64(payload, 8) }
}

export function decodeHardState(payload: Buffer): HardState {
  expectLength(payload, 24, 'hard state')
  return { term: readU64(payload, 0), vote: readU64(payload, 8), commit: readU64(payload, 16) }
}

export function decodeSnapshotMarker(payload: Buffer): { index: number; term: number } {
  expectLength(payload, 16, 'snapshot marker')
  return { index: readU64(payload, 0), term: readU64(payload, 8) }
}

/** Entry data is copied out so the entries do not pin the whole segment file in memory. */
export function decodeEntries(payload: Buffer): Entry[] {
  if (payload.length < 12) throw new MalformedRecordError('entries record shorter than its header')
  const count = payload.readUInt32LE(0)
  const first = readU64(payload, 4)
  const entries: Entry[] = new Array<Entry>(count)
  let off = 12
  for (let i = 0; i < count; i++) {
    if (payload.length - off < ENTRY_HEADER_BYTES) throw new MalformedRecordError(`entries record ends inside entry ${i}`)
    const term = readU64(payload, off)
    const type = payload[off + 8]! as EntryType
    const len = payload.readUInt32LE(off + 9)
    off += ENTRY_HEADER_BYTES
    if (payload.length - off < len) throw new MalformedRecordError(`entries record ends inside the data of entry ${i}`)
    entries[i] = { term, index: first + i, type, data: Buffer.from(payload.subarray(off, off + len)) }
    off += len
  }
  if (off !== payload.length) throw new MalformedRecordError(`entries record has ${payload.length - off} trailing bytes`)
  return entries
}
