// The byte stream of etcd's Snapshot RPC and `etcdctl snapshot save`: our store
// snapshot (KVStore.snapshot) behind a magic header and its length, zero-padded to a
// multiple of 512 bytes, then etcd's trailing sha256 of everything before it.
// etcdctl finds the checksum by the file size (a bolt db is whole 512-byte pages, so
// size % 512 == 32 means "checksum present") — hence the padding; `raftplane store
// restore` checks the checksum as etcd's restore does.
import { createHash } from 'node:crypto'

const MAGIC = Buffer.from('raftplane-store-snapshot-v1\n')
const SHA256_BYTES = 32

const PAGE = 512

export function wrapStoreSnapshot(store: Uint8Array): { body: Buffer; digest: Buffer } {
  const len = Buffer.alloc(8)
  len.writeBigUInt64BE(BigInt(store.length))
  const used = MAGIC.length + 8 + store.length
  const body = Buffer.concat([MAGIC, len, store, Buffer.alloc((PAGE - (used % PAGE)) % PAGE)])
  return { body, digest: createHash('sha256').update(body).digest() }
}

/** The store snapshot inside a saved file; throws with a clear reason when it is not one or is damaged. */
export function unwrapSavedSnapshot(file: Uint8Array): Uint8Array {
  const buf = Buffer.from(file.buffer, file.byteOffset, file.byteLength)
  if (buf.length < MAGIC.length + 8 + SHA256_BYTES || !buf.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new Error('snapshot: not a raftplane store snapshot (saved by `etcdctl snapshot save` from a raftplane store)')
  }
  const body = buf.subarray(0, buf.length - SHA256_BYTES)
  const want = buf.subarray(buf.length - SHA256_BYTES)
  if (!createHash('sha256').update(body).digest().equals(want)) throw new Error('snapshot: sha256 checksum mismatch; the file is damaged')
  const len = Number(body.readBigUInt64BE(MAGIC.length))
  if (MAGIC.length + 8 + len > body.length) throw new Error('snapshot: truncated')
  return body.subarray(MAGIC.length + 8, MAGIC.length + 8 + len)
}
