import type { ByteString } from './byte-string.js'
import { RevisionNotFoundError } from './errors.js'
import { compareRevisions, revisionToString, type Revision } from './revision.js'
import type { RevisionSet } from './revision-set.js'

/**
 * One life of a key, from the put that created it to the tombstone that deleted it.
 * Every generation but the newest is closed: its last revision is its tombstone.
 */
export interface Generation {
  /** Changes made in this life, the tombstone included. Compaction leaves it alone, so versions stay right. */
  ver: number
  /** The put that created the key; still reported after compaction drops it from revs. */
  created: Revision
  /** The revisions still indexed, ascending. */
  revs: Revision[]
}

/** A key as of some revision: its last put, the put that created it, and its version. */
export interface KeyAt {
  modified: Revision
  created: Revision
  /** Puts since creation (1 for the create); reset by a delete. */
  version: number
}

const NO_REVISION: Revision = { main: 0, sub: 0 }
const emptyGeneration = (): Generation => ({ ver: 0, created: NO_REVISION, revs: [] })

/**
 * The history of one key, as etcd's keyIndex keeps it. A deletion appends a tombstone
 * to the open generation and opens an empty one, so
 * put(2) put(4) del(6) put(8) gives [{2, 4, 6t}, {8}], and a further del(10)
 * gives [{2, 4, 6t}, {8, 10t}, {}].
 *
 * Compaction at rev forgets what no read at rev or later can see: generations whose
 * tombstone is before rev, and within the first remaining generation every revision
 * before the largest one ≤ rev. A tombstone at exactly rev is kept (the key reads as
 * deleted at rev); an index left with no revision at all is empty and is dropped by
 * the tree.
 */
export class KeyIndex {
  private lastChange: Revision = NO_REVISION
  private gens: Generation[] = [emptyGeneration()]

  constructor(readonly key: ByteString) {}

  /** The key's last change, put or delete. */
  get modified(): Revision {
    return this.lastChange
  }

  /** Oldest first; the last one is open (empty while the key is deleted). Do not mutate. */
  get generations(): readonly Generation[] {
    return this.gens
  }

  /** Records a put; revisions must only grow. */
  put(main: number, sub: number): void {
    const rev: Revision = { main, sub }
    if (compareRevisions(rev, this.lastChange) <= 0) {
      throw new Error(
        `mvcc: put of ${JSON.stringify(this.key)} at ${revisionToString(rev)} is not after its last change at ${revisionToString(this.lastChange)}`,
      )
    }
    const g = this.open()
    if (g.revs.length === 0) {
      g.created = rev
      // A literal of one: pushing onto an empty array reserves 17 slots, which would
      // double the memory of a store whose keys are mostly written once.
      g.revs = [rev]
    } else {
      g.revs.push(rev)
    }
    g.ver++
    this.lastChange = rev
  }

  /** Records a delete: the tombstone closes the open generation. Throws RevisionNotFoundError if the key is not live. */
  tombstone(main: number, sub: number): void {
    if (this.open().revs.length === 0) throw new RevisionNotFoundError()
    this.put(main, sub)
    this.gens.push(emptyGeneration())
  }

  /**
   * Rebuilds a live key from the backend on start. After a compaction the backend may hold only the
   * key's latest revision, so the version and creation come from the stored value.
   */
  restore(created: Revision, modified: Revision, ver: number): void {
    if (!this.isEmpty()) throw new Error(`mvcc: restore of ${JSON.stringify(this.key)} into a non-empty key index`)
    this.gens = [{ ver, created, revs: [modified] }]
    this.lastChange = modified
  }

  /**
   * Rebuilds a key whose only revision left in the backend is its tombstone. Its creation
   * was compacted away, so it is unknown (zero), as in etcd.
   */
  restoreTombstone(main: number, sub: number): void {
    this.restore(NO_REVISION, { main, sub }, 1)
    this.gens.push(emptyGeneration())
  }

  /** The key as of atRev, or undefined if it did not exist then (not yet created, or deleted at or before atRev). */
  get(atRev: number): KeyAt | undefined {
    if (atRev >= this.lastChange.main) {
      // Reads at the current revision, the common case, need only the open generation.
      const open = this.open()
      return open.revs.length === 0 ? undefined : { modified: this.lastChange, created: open.created, version: open.ver }
    }
    const g = this.findGeneration(atRev)
    if (g === undefined) return undefined
    const revs = g.revs
    let n = revs.length - 1
    while (revs[n].main > atRev) n-- // findGeneration promises revs[0].main <= atRev
    return { modified: revs[n], created: g.created, version: g.ver - (revs.length - 1 - n) }
  }

  /**
   * The revisions at or after main revision rev, oldest first. A watcher sees each txn
   * as one change per key, so of several changes sharing a main revision only the last
   * is returned.
   */
  since(rev: number): Revision[] {
    // Generations created before rev, except the newest of them, ended before rev.
    let gi = this.gens.length - 1
    while (gi > 0 && !(this.gens[gi].revs.length > 0 && this.gens[gi].created.main < rev)) gi--
    const out: Revision[] = []
    for (; gi < this.gens.length; gi++) {
      for (const r of this.gens[gi].revs) {
        if (r.main < rev) continue
        if (out.length > 0 && out[out.length - 1].main === r.main) out[out.length - 1] = r
        else out.push(r)
      }
    }
    return out
  }

  /** Forgets the history no read at atRev or later needs; adds the revisions the backend must keep to `available`. */
  compact(atRev: number, available: RevisionSet): void {
    const { genIdx, revIdx } = this.findCompactPoint(atRev, available)
    if (revIdx > 0) this.gens[genIdx].revs = this.gens[genIdx].revs.slice(revIdx)
    if (genIdx > 0) this.gens = this.gens.slice(genIdx)
  }

  /**
   * Adds to `available` what compact(atRev) would keep, without compacting, except a
   * tombstone at atRev: compaction keeps that in the index, but it is no live value at
   * atRev, and the hash of the kv state at atRev must match etcd's, which skips it.
   */
  keep(atRev: number, available: RevisionSet): void {
    if (this.isEmpty()) return
    const { genIdx, revIdx } = this.findCompactPoint(atRev, available)
    const revs = this.gens[genIdx].revs
    if (genIdx !== this.gens.length - 1 && revIdx === revs.length - 1) available.delete(revs[revIdx])
  }

  /** True when no revision is left: the key is deleted and its history compacted away. */
  isEmpty(): boolean {
    return this.gens.length === 1 && this.gens[0].revs.length === 0
  }

  private open(): Generation {
    return this.gens[this.gens.length - 1]
  }

  // The generation the key was live in at rev; none if it was deleted or not yet created then.
  private findGeneration(rev: number): Generation | undefined {
    const last = this.gens.length - 1
    for (let i = last; i >= 0; i--) {
      const revs = this.gens[i].revs
      if (revs.length === 0) continue
      if (i !== last && revs[revs.length - 1].main <= rev) return undefined // its tombstone is at or before rev
      if (revs[0].main <= rev) return this.gens[i]
    }
    return undefined
  }

  // Where compaction at atRev cuts: the first generation whose tombstone is at or after
  // atRev (else the open one) and in it the largest revision ≤ atRev (-1 if none), which
  // is added to `available` as the one the backend must keep.
  private findCompactPoint(atRev: number, available: RevisionSet): { genIdx: number; revIdx: number } {
    let genIdx = 0
    while (genIdx < this.gens.length - 1) {
      const revs = this.gens[genIdx].revs
      if (revs[revs.length - 1].main >= atRev) break
      genIdx++
    }
    const revs = this.gens[genIdx].revs
    let revIdx = revs.length - 1
    while (revIdx >= 0 && revs[revIdx].main > atRev) revIdx--
    if (revIdx >= 0) available.add(revs[revIdx])
    return { genIdx, revIdx }
  }
}
