// `raftplane store restore`: a data dir for a member of a NEW cluster, holding the
// KVs, history and leases of a saved snapshot, and no raft log: the member bootstraps
// from --initial-cluster as on first start, and applies from log index 1 on.
import { access, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { KVStore } from '../mvcc/kv-store.js'
import type { StoreConfig } from './config.js'
import { unwrapSavedSnapshot } from './snapshot-file.js'

export async function restoreDataDir(file: Uint8Array, cfg: StoreConfig): Promise<void> {
  const data = unwrapSavedSnapshot(file)
  const memberDir = join(cfg.dataDir, 'member')
  const exists = await access(memberDir).then(
    () => true,
    () => false,
  )
  if (exists) throw new Error(`data-dir "${cfg.dataDir}" exists; restore into a new directory`)
  await mkdir(memberDir, { recursive: true })
  const store = await KVStore.open(join(memberDir, 'kv'))
  try {
    await store.restore(data, { newCluster: true })
  } finally {
    await store.close()
  }
}
