// Member and cluster IDs. etcd derives a member's ID from its peer URLs and the
// cluster token (sha1, first 8 bytes) and the cluster's from its members' IDs, so the
// same --initial-cluster gives the same IDs on every member without talking. Ours are
// derived the same way but kept below 2^53, because raft node IDs are JS numbers;
// clients treat IDs as opaque uint64s and print them in hex, so they cannot tell.
import { createHash } from 'node:crypto'

const MASK_53 = (1n << 53n) - 1n

function idFrom(bytes: Buffer): number {
  const id = Number(bytes.readBigUInt64BE(0) & MASK_53)
  return id === 0 ? 1 : id
}

export function memberId(peerURLs: readonly string[], clusterToken: string): number {
  const h = createHash('sha1')
  h.update([...peerURLs].sort().join(''))
  if (clusterToken) h.update(clusterToken)
  return idFrom(h.digest())
}

export function clusterId(memberIds: readonly number[], clusterToken: string): number {
  const h = createHash('sha1')
  const buf = Buffer.alloc(8)
  for (const id of [...memberIds].sort((a, b) => a - b)) {
    buf.writeBigUInt64BE(BigInt(id))
    h.update(buf)
  }
  h.update(clusterToken)
  return idFrom(h.digest())
}

/** As etcd prints IDs (etcdctl member list, logs): lower-case hex without leading zeros. */
export function hexId(id: number | bigint | string): string {
  return BigInt(id).toString(16)
}
