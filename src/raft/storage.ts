import { CompactedError, SnapOutOfDateError, UnavailableError } from './errors.js'
import {
  type ConfState,
  type Entry,
  EntryType,
  type HardState,
  type NodeId,
  type Snapshot,
  emptyHardState,
  emptySnapshot,
  entrySize,
} from './types.js'

/**
 * The stable log as the core reads it. Synchronous on purpose: the core never waits.
 * Durable implementations keep the tail since the last snapshot in memory (as etcd's
 * MemoryStorage beside its WAL) and are filled from disk on start.
 */
export interface Storage {
  initialState(): { hardState: HardState; confState: ConfState }
  /** Entries [lo, hi), at least one if any exist, at most maxBytes beyond the first. */
  entries(lo: number, hi: number, maxBytes: number): Entry[]
  /** Term of entry i; i may be the snapshot's index. Throws CompactedError / UnavailableError. */
  term(i: number): number
  lastIndex(): number
  /** Index of the first entry that is still available (snapshot index + 1). */
  firstIndex(): number
  snapshot(): Snapshot
}

/** Limit a run of entries to maxBytes, always keeping at least the first. */
export function limitSize(ents: Entry[], maxBytes: number): Entry[] {
  if (ents.length === 0) return ents
  let size = entrySize(ents[0]!)
  let n = 1
  for (; n < ents.length; n++) {
    size += entrySize(ents[n]!)
    if (size > maxBytes) break
  }
  return n === ents.length ? ents : ents.slice(0, n)
}

/**
 * In-memory Storage. `ents[0]` is a placeholder carrying the index and term of the last
 * compaction point (the snapshot), so term(snapshotIndex) stays answerable.
 */
export class MemoryStorage implements Storage {
  private hardState: HardState = emptyHardState()
  private snap: Snapshot = emptySnapshot()
  private ents: Entry[] = [{ term: 0, index: 0, type: EntryType.Normal, data: new Uint8Array(0) }]

  /**
   * An empty log whose initial configuration (the ConfState at index 0) is the given
   * members: how a cluster starts when its membership is known up front.
   */
  static withPeers(voters: NodeId[], learners: NodeId[] = []): MemoryStorage {
    const s = new MemoryStorage()
    s.snap = { metadata: { index: 0, term: 0, confState: { voters: [...voters], learners: [...learners] } }, data: new Uint8Array(0) }
    return s
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: { ...this.hardState }, confState: this.snap.metadata.confState }
  }

  setHardState(hs: HardState): void {
    this.hardState = { ...hs }
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    const offset = this.ents[0]!.index
    if (lo <= offset) throw new CompactedError()
    if (hi > this.lastIndex() + 1) throw new UnavailableError()
    if (this.ents.length === 1) throw new UnavailableError()
    return limitSize(this.ents.slice(lo - offset, hi - offset), maxBytes)
  }

  term(i: number): number {
    const offset = this.ents[0]!.index
    if (i < offset) throw new CompactedError()
    if (i - offset >= this.ents.length) throw new UnavailableError()
    return this.ents[i - offset]!.term
  }

  lastIndex(): number {
    return this.ents[0]!.index + this.ents.length - 1
  }

  firstIndex(): number {
    return this.ents[0]!.index + 1
  }

  snapshot(): Snapshot {
    return this.snap
  }

  /** Replace everything with a snapshot (a follower installing one from its leader). */
  applySnapshot(snap: Snapshot): void {
    const idx = this.snap.metadata.index
    if (idx >= snap.metadata.index) throw new SnapOutOfDateError()
    this.snap = snap
    this.ents = [{ term: snap.metadata.term, index: snap.metadata.index, type: EntryType.Normal, data: new Uint8Array(0) }]
  }

  /**
   * Record a snapshot the application made at index i (≤ applied) and return it; the
   * log is not trimmed until compact() is called, so slow followers can still catch up.
   */
  createSnapshot(i: number, confState: ConfState, data: Uint8Array): Snapshot {
    if (i <= this.snap.metadata.index) throw new SnapOutOfDateError()
    const offset = this.ents[0]!.index
    if (i > this.lastIndex()) throw new Error(`snapshot ${i} is out of bound lastindex(${this.lastIndex()})`)
    this.snap = { metadata: { index: i, term: this.ents[i - offset]!.term, confState }, data }
    return this.snap
  }

  /** Discard entries up to and including compactIndex. */
  compact(compactIndex: number): void {
    const offset = this.ents[0]!.index
    if (compactIndex <= offset) throw new CompactedError()
    if (compactIndex > this.lastIndex()) throw new Error(`compact ${compactIndex} is out of bound lastindex(${this.lastIndex()})`)
    const i = compactIndex - offset
    const head: Entry = { term: this.ents[i]!.term, index: this.ents[i]!.index, type: EntryType.Normal, data: new Uint8Array(0) }
    this.ents = [head, ...this.ents.slice(i + 1)]
  }

  /** Append entries, truncating any conflicting suffix. Entries must be contiguous. */
  append(entries: Entry[]): void {
    if (entries.length === 0) return
    const first = this.firstIndex()
    const last = entries[0]!.index + entries.length - 1
    if (last < first) return // all already compacted
    if (first > entries[0]!.index) entries = entries.slice(first - entries[0]!.index)
    const offset = entries[0]!.index - this.ents[0]!.index
    if (offset > this.ents.length) {
      throw new Error(`missing log entry [last: ${this.lastIndex()}, append at: ${entries[0]!.index}]`)
    }
    if (offset < this.ents.length) this.ents.length = offset
    for (const e of entries) this.ents.push(e)
  }
}
