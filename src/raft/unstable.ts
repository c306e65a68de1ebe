import type { Entry, Snapshot } from './types.js'

/**
 * The tail of the log (and possibly a snapshot) that the caller has not yet persisted.
 * `entries[i]` has index `offset + i`. Once the caller reports them stable they move
 * to Storage and are dropped here.
 */
export class Unstable {
  snapshot: Snapshot | undefined
  entries: Entry[] = []

  constructor(public offset: number) {}

  maybeFirstIndex(): number | undefined {
    return this.snapshot ? this.snapshot.metadata.index + 1 : undefined
  }

  maybeLastIndex(): number | undefined {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1
    return this.snapshot ? this.snapshot.metadata.index : undefined
  }

  maybeTerm(i: number): number | undefined {
    if (i < this.offset) {
      if (this.snapshot && this.snapshot.metadata.index === i) return this.snapshot.metadata.term
      return undefined
    }
    const last = this.maybeLastIndex()
    if (last === undefined || i > last) return undefined
    return this.entries[i - this.offset]!.term
  }

  /** Entries up to (i, t) are durable. A term mismatch means they were replaced meanwhile. */
  stableTo(i: number, t: number): void {
    const gt = this.maybeTerm(i)
    if (gt === undefined || gt !== t || i < this.offset) return
    this.entries = this.entries.slice(i + 1 - this.offset)
    this.offset = i + 1
  }

  stableSnapTo(i: number): void {
    if (this.snapshot && this.snapshot.metadata.index === i) this.snapshot = undefined
  }

  restore(s: Snapshot): void {
    this.offset = s.metadata.index + 1
    this.entries = []
    this.snapshot = s
  }

  truncateAndAppend(ents: Entry[]): void {
    const after = ents[0]!.index
    if (after === this.offset + this.entries.length) {
      for (const e of ents) this.entries.push(e)
    } else if (after <= this.offset) {
      // Replace everything: the new entries start at or before our first unstable one.
      this.offset = after
      this.entries = ents.slice()
    } else {
      this.entries = this.entries.slice(0, after - this.offset)
      for (const e of ents) this.entries.push(e)
    }
  }

  slice(lo: number, hi: number): Entry[] {
    if (lo > hi) throw new Error(`invalid unstable.slice ${lo} > ${hi}`)
    const upper = this.offset + this.entries.length
    if (lo < this.offset || hi > upper) throw new Error(`unstable.slice[${lo},${hi}) out of bound [${this.offset},${upper}]`)
    return this.entries.slice(lo - this.offset, hi - this.offset)
  }
}
