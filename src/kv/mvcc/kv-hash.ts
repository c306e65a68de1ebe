import type { Backend } from './backend.js'
import { crc32c } from './crc32c.js'
import { decodeRevision, encodeRevision } from './revision.js'
import type { RevisionSet } from './revision-set.js'

// etcd's HashKV (server/storage/mvcc/hash.go): CRC-32C (Castagnoli) over the key
// bucket's name, then each stored revision key and value up to the hashed revision,
// skipping revisions at or below the compacted one that the index would not keep
// (they are awaiting physical deletion, and members delete at their own pace).
// Our backend holds etcd's exact bytes (revision keys, KeyValue encoding), so the
// result is the number etcd would compute. etcdctl (`endpoint hashkv`) and etcd's
// corruption check only compare members with each other, so that is a bonus, not a need.

const BUCKET_NAME = Buffer.from('key', 'latin1')

/**
 * The hash of the kv state at `rev`, given the revisions the index keeps at rev
 * (TreeIndex.keep) and the store's compacted revision (0 if none).
 */
export async function hashKV(backend: Backend, keep: RevisionSet, compactRev: number, rev: number): Promise<number> {
  let h = crc32c(0, BUCKET_NAME)
  for await (const chunk of backend.scan({ before: encodeRevision({ main: rev + 1, sub: 0 }), chunk: 4096 })) {
    for (const stored of chunk) {
      if (keep.size > 0) {
        const kr = decodeRevision(stored.rev).rev
        if (kr.main <= compactRev && !keep.has(kr)) continue
      }
      h = crc32c(h, stored.rev)
      h = crc32c(h, stored.value)
    }
  }
  return h
}
