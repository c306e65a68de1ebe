import { BTree } from './btree.js'
import type { ByteString } from './byte-string.js'
import { RevisionNotFoundError } from './errors.js'
import { KeyIndex, type KeyAt } from './key-index.js'
import { compareRevisions, type Revision } from './revision.js'
import { RevisionSet } from './revision-set.js'

/**
 * A range end of one zero byte: every key from the start key on (etcd's --from-key).
 * Any other non-empty end is exclusive; an empty end means the start key alone.
 */
export const FROM_KEY: ByteString = '\0'

/** A key live at the revision a range was read at. */
export interface IndexEntry extends KeyAt {
  key: ByteString
}

export interface RangeResult {
  /** In key order, at most `limit`. */
  entries: IndexEntry[]
  /** Keys live in the whole range, regardless of the limit (when counted). */
  total: number
}

/**
 * The index of every key's history, in bytewise key order (etcd's treeIndex): answers
 * "which revision holds key k as of revision r" for reads, watches and compaction;
 * the values themselves live in the backend under those revisions.
 *
 * Each key index sits in a B-tree, for ranges, and in a hash map, for the point
 * lookups every write and single-key read makes: at a million keys a tree descent
 * makes ~20 string comparisons, most of them cache misses, and takes several times
 * as long as one hash lookup (bench/kv-index.ts). V8 caps a Map at 2^24 entries, far
 * above the key counts an etcd-sized store holds.
 */
export class TreeIndex {
  private readonly tree = new BTree<KeyIndex>()
  private readonly byKey = new Map<ByteString, KeyIndex>()

  /** Keys with any history left, live or not. */
  get size(): number {
    return this.byKey.size
  }

  put(key: ByteString, rev: Revision): void {
    let ki = this.byKey.get(key)
    if (ki === undefined) {
      ki = new KeyIndex(key)
      this.insert(ki)
    }
    ki.put(rev.main, rev.sub)
  }

  /** Throws RevisionNotFoundError unless the key is live. */
  tombstone(key: ByteString, rev: Revision): void {
    const ki = this.byKey.get(key)
    if (ki === undefined) throw new RevisionNotFoundError()
    ki.tombstone(rev.main, rev.sub)
  }

  get(key: ByteString, atRev: number): KeyAt | undefined {
    return this.byKey.get(key)?.get(atRev)
  }

  /**
   * The keys in [key, end) live at atRev, in key order, at most `limit` of them
   * (0: no limit). `total` counts all live keys in the range unless withTotalCount is
   * false, when the scan stops at the limit and total is the number returned.
   */
  range(key: ByteString, end: ByteString, atRev: number, limit = 0, withTotalCount = true): RangeResult {
    if (end === '') {
      const at = this.get(key, atRev)
      return at === undefined ? { entries: [], total: 0 } : { entries: [{ key, ...at }], total: 1 }
    }
    const entries: IndexEntry[] = []
    let total = 0
    this.visit(key, end, (ki) => {
      const full = limit > 0 && entries.length >= limit
      if (full && !withTotalCount) return false
      const at = ki.get(atRev)
      if (at !== undefined) {
        if (!full) entries.push({ key: ki.key, ...at })
        total++
      }
      return true
    })
    return { entries, total }
  }

  /** How many keys in [key, end) are live at atRev (a count-only range). */
  countRevisions(key: ByteString, end: ByteString, atRev: number): number {
    if (end === '') return this.get(key, atRev) === undefined ? 0 : 1
    let total = 0
    this.visit(key, end, (ki) => {
      if (ki.get(atRev) !== undefined) total++
      return true
    })
    return total
  }

  /**
   * Every revision at or after main revision rev of the keys in [key, end), in revision
   * order, one per key per main revision (KeyIndex.since): what a watcher starting at
   * rev has to catch up on.
   */
  rangeSince(key: ByteString, end: ByteString, rev: number): Revision[] {
    if (end === '') return this.byKey.get(key)?.since(rev) ?? []
    const revs: Revision[] = []
    this.visit(key, end, (ki) => {
      for (const r of ki.since(rev)) revs.push(r)
      return true
    })
    return revs.sort(compareRevisions)
  }

  /**
   * Compacts every key at rev (KeyIndex.compact), drops keys left without history,
   * and returns the revisions the backend must keep; it may delete every other
   * revision with main ≤ rev.
   */
  compact(rev: number): RevisionSet {
    const available = new RevisionSet()
    let from: ByteString | undefined = ''
    while (from !== undefined) from = this.compactFrom(rev, from, Infinity, available)
    return available
  }

  /**
   * Compacts at most maxKeys keys from `from` on, adding what the backend must keep to
   * `available`; returns the key to resume from, or undefined when none is left. A
   * million keys take about a second, too long to hold the event loop (raft
   * heartbeats every 100 ms), so the store compacts in slices, as etcd takes its index
   * lock key by key. Writes between slices are safe: they are after rev, which
   * compaction at rev never touches.
   */
  compactFrom(rev: number, from: ByteString, maxKeys: number, available: RevisionSet): ByteString | undefined {
    const emptied: ByteString[] = []
    let resume: ByteString | undefined
    let done = 0
    this.tree.ascend(from, (key, ki) => {
      if (done === maxKeys) {
        resume = key
        return false
      }
      ki.compact(rev, available)
      if (ki.isEmpty()) emptied.push(key)
      done++
      return true
    })
    for (const key of emptied) {
      this.tree.delete(key)
      this.byKey.delete(key)
    }
    return resume
  }

  /** The revisions compact(rev) would keep, less tombstones at rev, without compacting (for the kv hash). */
  keep(rev: number): RevisionSet {
    const available = new RevisionSet()
    this.tree.ascend('', (_, ki) => {
      ki.keep(rev, available)
      return true
    })
    return available
  }

  /** Adds a key index rebuilt from the backend on start, replacing any for that key. */
  insert(ki: KeyIndex): void {
    this.tree.set(ki.key, ki)
    this.byKey.set(ki.key, ki)
  }

  keyIndex(key: ByteString): KeyIndex | undefined {
    return this.byKey.get(key)
  }

  private visit(key: ByteString, end: ByteString, fn: (ki: KeyIndex) => boolean): void {
    if (end === FROM_KEY) this.tree.ascend(key, (_, ki) => fn(ki))
    else this.tree.ascend(key, (k, ki) => k < end && fn(ki))
  }
}
