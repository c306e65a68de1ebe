import type { Backend } from './backend.js'
import { toByteString } from './byte-string.js'
import { KeyIndex } from './key-index.js'
import { decodeKeyValue } from './key-value.js'
import { decodeRevision } from './revision.js'
import { TreeIndex } from './tree-index.js'

/** The index rebuilt from the backend, and the newest main revision found there (0 if none). */
export interface Restored {
  index: TreeIndex
  lastMain: number
  /** Live keys (byte-strings) with a lease attached, and the lease: what the lessor rebuilds its key sets from. */
  leased: Map<string, string>
}

/**
 * Rebuilds the key index by scanning every stored revision in order, as etcd's
 * restoreIntoIndex does. A key first seen through a put starts from the stored
 * create_revision and version (older history may have been compacted away); a key
 * first seen through a tombstone has lost its creation, which reads as 0, as in etcd.
 */
export async function restoreIndex(backend: Backend): Promise<Restored> {
  const index = new TreeIndex()
  let lastMain = 0
  const leased = new Map<string, string>()
  for await (const chunk of backend.scan({ chunk: 4096 })) {
    for (const stored of chunk) {
      const { rev, tombstone } = decodeRevision(stored.rev)
      const kv = decodeKeyValue(stored.value)
      const key = toByteString(kv.key)
      const ki = index.keyIndex(key)
      if (ki !== undefined) {
        if (tombstone) ki.tombstone(rev.main, rev.sub)
        else ki.put(rev.main, rev.sub)
      } else {
        const fresh = new KeyIndex(key)
        if (tombstone) fresh.restoreTombstone(rev.main, rev.sub)
        else fresh.restore({ main: kv.createRevision, sub: 0 }, rev, kv.version)
        index.insert(fresh)
      }
      if (!tombstone && kv.lease !== '0') leased.set(key, kv.lease)
      else leased.delete(key)
      lastMain = rev.main
    }
  }
  return { index, lastMain, leased }
}
