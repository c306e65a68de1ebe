// A reference for the tree index that is obviously right: the plain list of every
// change, with each question answered by scanning it. Assumes what etcd's txn checks
// guarantee: a txn changes a key at most once, so no key has two changes sharing a
// main revision.
import type { ByteString } from '../../../../src/kv/mvcc/byte-string.js'
import type { KeyAt } from '../../../../src/kv/mvcc/key-index.js'
import { compareRevisions, type Revision } from '../../../../src/kv/mvcc/revision.js'
import { FROM_KEY, type IndexEntry } from '../../../../src/kv/mvcc/tree-index.js'

export interface Change {
  key: ByteString
  rev: Revision
  deleted: boolean
}

export function inRange(k: ByteString, key: ByteString, end: ByteString): boolean {
  if (end === '') return k === key
  return k >= key && (end === FROM_KEY || k < end)
}

export class ReferenceModel {
  /** In revision order. */
  readonly changes: Change[] = []

  record(change: Change): void {
    this.changes.push(change)
  }

  get(key: ByteString, atRev: number): KeyAt | undefined {
    let at: KeyAt | undefined
    for (const c of this.changes) {
      if (c.rev.main > atRev) break
      if (c.key !== key) continue
      if (c.deleted) at = undefined
      else at = { modified: c.rev, created: at?.created ?? c.rev, version: (at?.version ?? 0) + 1 }
    }
    return at
  }

  /** Every live key of the range at atRev, in key order. */
  range(key: ByteString, end: ByteString, atRev: number): IndexEntry[] {
    const out: IndexEntry[] = []
    for (const k of this.keys()) {
      if (!inRange(k, key, end)) continue
      const at = this.get(k, atRev)
      if (at !== undefined) out.push({ key: k, ...at })
    }
    return out
  }

  since(key: ByteString, end: ByteString, rev: number): Revision[] {
    return this.changes.filter((c) => c.rev.main >= rev && inRange(c.key, key, end)).map((c) => c.rev)
  }

  /** What compaction at rev keeps: each key's last change at or before rev, unless it is a delete before rev. */
  keptByCompaction(rev: number): Revision[] {
    return this.lastChanges(rev)
      .filter((c) => !c.deleted || c.rev.main === rev)
      .map((c) => c.rev)
      .sort(compareRevisions)
  }

  /** The live values at rev: each key's last change at or before rev, if a put. */
  keptLive(rev: number): Revision[] {
    return this.lastChanges(rev)
      .filter((c) => !c.deleted)
      .map((c) => c.rev)
      .sort(compareRevisions)
  }

  /** Keys the index still holds after compaction at rev: those with a change kept or a change after rev. */
  keysAfterCompaction(rev: number): number {
    const kept = new Set(this.lastChanges(rev).filter((c) => !c.deleted || c.rev.main === rev).map((c) => c.key))
    for (const c of this.changes) if (c.rev.main > rev) kept.add(c.key)
    return kept.size
  }

  private keys(): ByteString[] {
    return [...new Set(this.changes.map((c) => c.key))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  }

  private lastChanges(rev: number): Change[] {
    const last = new Map<ByteString, Change>()
    for (const c of this.changes) if (c.rev.main <= rev) last.set(c.key, c)
    return [...last.values()]
  }
}
