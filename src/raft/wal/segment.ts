// Segment file names and the records every segment starts with.
import { join } from 'node:path'
import { type HardState, isEmptyHardState } from '../types.js'
import { encodeHardState, encodeSegmentHeader, encodeSnapshotMarker } from './record.js'

export interface Segment {
  seq: number
  /** Index the log expected next when the segment was created: no entry in an older segment is ≥ this. */
  firstIndex: number
  path: string
}

export interface SnapshotMarker {
  index: number
  term: number
}

/** What a new segment restates, so older segments can be deleted without losing it. */
export interface LogPosition {
  /** Highest index ever written or marked: never goes down, even when a tail is overwritten. */
  highWater: number
  hardState: HardState
  marker: SnapshotMarker | undefined
}

const NAME = /^([0-9a-f]{16})-([0-9a-f]{16})\.wal$/

function hex16(n: number): string {
  return n.toString(16).padStart(16, '0')
}

/** 16 hex digits each, like etcd, so names sort in sequence order. */
export function segmentPath(dir: string, seq: number, firstIndex: number): string {
  return join(dir, `${hex16(seq)}-${hex16(firstIndex)}.wal`)
}

export function parseSegmentName(dir: string, name: string): Segment | undefined {
  const m = NAME.exec(name)
  if (!m) return undefined
  return { seq: parseInt(m[1]!, 16), firstIndex: parseInt(m[2]!, 16), path: join(dir, name) }
}

export function segmentStart(seq: number, pos: LogPosition): Buffer {
  const records = [encodeSegmentHeader(seq, pos.highWater + 1)]
  if (!isEmptyHardState(pos.hardState)) records.push(encodeHardState(pos.hardState))
  if (pos.marker) records.push(encodeSnapshotMarker(pos.marker.index, pos.marker.term))
  return Buffer.concat(records)
}
