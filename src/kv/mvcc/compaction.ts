import { setImmediate as yieldToLoop } from 'node:timers/promises'
import { Backend, Batch, META_FINISHED_COMPACT } from './backend.js'
import type { ByteString } from './byte-string.js'
import { decodeRevision, encodeRevision } from './revision.js'
import { RevisionSet } from './revision-set.js'
import type { TreeIndex } from './tree-index.js'

/** Keys of the index compacted per slice: a million keys take about a second in one go. */
export const INDEX_SLICE_KEYS = 10_000
/** Backend revisions examined per delete batch (etcd's default compaction-batch-limit). */
export const BACKEND_BATCH = 1000

/**
 * Physically compacts at main revision `rev`, as etcd's scheduleCompaction: compacts
 * the index (which yields the revisions reads at rev or later still need), then deletes
 * every other backend revision with main ≤ rev, a batch at a time, yielding to the
 * event loop between slices so raft heartbeats and reads keep flowing. The batch that
 * finds nothing left also records finishedCompactRev; until then the scheduled mark
 * stays ahead of it, and the store resumes the compaction on its next open.
 *
 * Writes may interleave with the slices: they are all above rev, which compaction at
 * rev neither reads nor deletes. Returns false if `stop()` said to give up (on close).
 */
export async function runCompaction(
  index: TreeIndex,
  backend: Backend,
  rev: number,
  stop: () => boolean,
): Promise<boolean> {
  const keep = new RevisionSet()
  let from: ByteString | undefined = ''
  for (;;) {
    from = index.compactFrom(rev, from, INDEX_SLICE_KEYS, keep)
    if (from === undefined) break
    await yieldToLoop()
    if (stop()) return false
  }

  const before = encodeRevision({ main: rev + 1, sub: 0 })
  let after: Uint8Array | undefined
  for (;;) {
    const keys = await backend.revisionKeys(after, before, BACKEND_BATCH)
    const batch = new Batch()
    for (const k of keys) if (!keep.has(decodeRevision(k).rev)) batch.delKV(k)
    const last = keys.length < BACKEND_BATCH
    if (last) batch.putMeta(META_FINISHED_COMPACT, rev)
    await backend.commit(batch)
    if (last) return true
    after = keys[keys.length - 1]
    await yieldToLoop()
    if (stop()) return false
  }
}
