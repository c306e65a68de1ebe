import { compareRevisions, type Revision } from './revision.js'

/**
 * A set of revisions compared by value: what a compaction must keep in the backend.
 * Compacting a big store keeps about one revision per key, so this is sized for
 * millions of members: revisions with sub 0 (every single-operation request) are plain
 * numbers in one Set, and only the rest pay for a per-main set of subs.
 */
export class RevisionSet {
  private readonly mainOnly = new Set<number>()
  private readonly withSub = new Map<number, Set<number>>()
  private count = 0

  get size(): number {
    return this.count
  }

  add(rev: Revision): void {
    if (this.has(rev)) return
    if (rev.sub === 0) {
      this.mainOnly.add(rev.main)
    } else {
      let subs = this.withSub.get(rev.main)
      if (subs === undefined) this.withSub.set(rev.main, (subs = new Set()))
      subs.add(rev.sub)
    }
    this.count++
  }

  has(rev: Revision): boolean {
    if (rev.sub === 0) return this.mainOnly.has(rev.main)
    return this.withSub.get(rev.main)?.has(rev.sub) ?? false
  }

  delete(rev: Revision): boolean {
    if (!this.has(rev)) return false
    if (rev.sub === 0) {
      this.mainOnly.delete(rev.main)
    } else {
      const subs = this.withSub.get(rev.main)
      subs?.delete(rev.sub)
      if (subs?.size === 0) this.withSub.delete(rev.main)
    }
    this.count--
    return true
  }

  /** The members in revision order. */
  toArray(): Revision[] {
    const out: Revision[] = []
    for (const main of this.mainOnly) out.push({ main, sub: 0 })
    for (const [main, subs] of this.withSub) for (const sub of subs) out.push({ main, sub })
    return out.sort(compareRevisions)
  }
}
