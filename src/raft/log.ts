import { CompactedError, UnavailableError } from './errors.js'
import { type Storage, limitSize } from './storage.js'
import type { Entry, Snapshot } from './types.js'
import { Unstable } from './unstable.js'

/**
 * The raft log as the core sees it: durable entries in Storage followed by the unstable
 * tail, plus the commit and apply cursors. Invariant: applied ≤ committed ≤ lastIndex().
 */
export class RaftLog {
  readonly unstable: Unstable
  committed: number
  applied: number

  constructor(
    readonly storage: Storage,
    /** Bytes of committed entries handed out per Ready. */
    readonly maxNextEntsSize = Number.MAX_SAFE_INTEGER,
  ) {
    const first = storage.firstIndex()
    const last = storage.lastIndex()
    this.unstable = new Unstable(last + 1)
    this.committed = first - 1
    this.applied = first - 1
  }

  toString(): string {
    return `committed=${this.committed}, applied=${this.applied}, unstable.offset=${this.unstable.offset}, len(unstable.entries)=${this.unstable.entries.length}`
  }

  /**
   * Append entries sent by the leader after (index, logTerm) if our log matches there.
   * Returns the index of the last new entry, or -1 on mismatch.
   */
  maybeAppend(index: number, logTerm: number, committed: number, ents: Entry[]): number {
    if (!this.matchTerm(index, logTerm)) return -1
    const lastNew = index + ents.length
    const ci = this.findConflict(ents)
    if (ci !== 0) {
      if (ci <= this.committed) throw new Error(`entry ${ci} conflict with committed entry [committed(${this.committed})]`)
      this.append(ents.slice(ci - (index + 1)))
    }
    this.commitTo(Math.min(committed, lastNew))
    return lastNew
  }

  append(ents: Entry[]): number {
    if (ents.length === 0) return this.lastIndex()
    const after = ents[0]!.index - 1
    if (after < this.committed) throw new Error(`after(${after}) is out of range [committed(${this.committed})]`)
    this.unstable.truncateAndAppend(ents)
    return this.lastIndex()
  }

  /** First index whose term differs from ours (or that we lack); 0 if all match. */
  findConflict(ents: Entry[]): number {
    for (const e of ents) {
      if (!this.matchTerm(e.index, e.term)) return e.index
    }
    return 0
  }

  /**
   * The largest index ≤ index whose term ≤ term: the best guess at where two logs agree,
   * used to skip a whole term of mismatching entries in one round trip.
   */
  findConflictByTerm(index: number, term: number): number {
    for (let i = index; i > 0; i--) {
      let t: number
      try {
        t = this.term(i)
      } catch {
        return i
      }
      if (t <= term) return i
    }
    return 0
  }

  unstableEntries(): Entry[] {
    return this.unstable.entries
  }

  /** Committed entries not yet applied (bounded by maxNextEntsSize). */
  nextEnts(): Entry[] {
    const off = Math.max(this.applied + 1, this.firstIndex())
    if (this.committed + 1 > off) return this.slice(off, this.committed + 1, this.maxNextEntsSize)
    return []
  }

  hasNextEnts(): boolean {
    return this.committed + 1 > Math.max(this.applied + 1, this.firstIndex())
  }

  hasPendingSnapshot(): boolean {
    return this.unstable.snapshot !== undefined && this.unstable.snapshot.metadata.index !== 0
  }

  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot()
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex()
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex()
  }

  commitTo(toCommit: number): void {
    if (this.committed >= toCommit) return
    if (this.lastIndex() < toCommit) {
      throw new Error(`tocommit(${toCommit}) is out of range [lastIndex(${this.lastIndex()})]. Was the raft log corrupted, truncated, or lost?`)
    }
    this.committed = toCommit
  }

  appliedTo(i: number): void {
    if (i === 0) return
    if (this.committed < i || i < this.applied) {
      throw new Error(`applied(${i}) is out of range [prevApplied(${this.applied}), committed(${this.committed})]`)
    }
    this.applied = i
  }

  stableTo(i: number, t: number): void {
    this.unstable.stableTo(i, t)
  }

  stableSnapTo(i: number): void {
    this.unstable.stableSnapTo(i)
  }

  lastTerm(): number {
    return this.termOrZero(this.lastIndex())
  }

  /** Term of entry i; 0 when i is beyond either end. Throws CompactedError below the snapshot. */
  term(i: number): number {
    const dummy = this.firstIndex() - 1
    if (i < dummy || i > this.lastIndex()) return 0
    const t = this.unstable.maybeTerm(i)
    if (t !== undefined) return t
    try {
      return this.storage.term(i)
    } catch (err) {
      if (err instanceof UnavailableError) return 0
      throw err
    }
  }

  /** term(i), with 0 for a compacted index: for callers to whom "unknown" is enough. */
  termOrZero(i: number): number {
    try {
      return this.term(i)
    } catch (err) {
      if (err instanceof CompactedError) return 0
      throw err
    }
  }

  entries(i: number, maxSize: number): Entry[] {
    if (i > this.lastIndex()) return []
    return this.slice(i, this.lastIndex() + 1, maxSize)
  }

  allEntries(): Entry[] {
    for (;;) {
      try {
        return this.entries(this.firstIndex(), Number.MAX_SAFE_INTEGER)
      } catch (err) {
        // A snapshot may have compacted storage meanwhile: try again.
        if (!(err instanceof CompactedError)) throw err
      }
    }
  }

  /** Is a log ending at (lasti, term) at least as up to date as ours (Raft §5.4.1)? */
  isUpToDate(lasti: number, term: number): boolean {
    const lastTerm = this.lastTerm()
    return term > lastTerm || (term === lastTerm && lasti >= this.lastIndex())
  }

  matchTerm(i: number, term: number): boolean {
    try {
      return this.term(i) === term
    } catch {
      return false
    }
  }

  /** Commit maxIndex if its entry is from `term`: leaders only count current-term entries (§5.4.2). */
  maybeCommit(maxIndex: number, term: number): boolean {
    if (maxIndex > this.committed && this.termOrZero(maxIndex) === term) {
      this.commitTo(maxIndex)
      return true
    }
    return false
  }

  restore(s: Snapshot): void {
    this.committed = s.metadata.index
    this.unstable.restore(s)
  }

  /** Entries [lo, hi) from storage and/or the unstable tail, at most maxSize bytes (≥ 1 entry). */
  slice(lo: number, hi: number, maxSize: number): Entry[] {
    this.mustCheckOutOfBounds(lo, hi)
    if (lo === hi) return []
    let ents: Entry[] = []
    if (lo < this.unstable.offset) {
      const stored = this.storage.entries(lo, Math.min(hi, this.unstable.offset), maxSize)
      // Storage returned fewer than asked: the size limit was hit.
      if (stored.length < Math.min(hi, this.unstable.offset) - lo) return stored
      ents = stored
    }
    if (hi > this.unstable.offset) {
      const un = this.unstable.slice(Math.max(lo, this.unstable.offset), hi)
      ents = ents.length > 0 ? ents.concat(un) : un
    }
    return limitSize(ents, maxSize)
  }

  private mustCheckOutOfBounds(lo: number, hi: number): void {
    if (lo > hi) throw new Error(`invalid slice ${lo} > ${hi}`)
    const fi = this.firstIndex()
    if (lo < fi) throw new CompactedError()
    const length = this.lastIndex() + 1 - fi
    if (hi > fi + length) throw new Error(`slice[${lo},${hi}) out of bound [${fi},${this.lastIndex()}]`)
  }
}
