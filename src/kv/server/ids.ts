// Member and cluster IDs. etcd derives a member's ID from its peer URLs and the
// cluster token (sha1, first 8 bytes) and the cluster's from its members' IDs, so the
// same --initial-cluster gives the same IDs on every member without talking. Ours are
// derived the same way (the server leaves the token out of member IDs, see
// EtcdServer.start) but kept below 2^53, because raft node IDs are JS numbers;
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

/**
 * The ID clients see for a raft member or cluster ID: bit 62 set over our 53-bit ID.
 * etcd's IDs are full 64-bit hashes, which etcdctl prints as 16 hex digits (its
 * `%16x` pads shorter ones with spaces); ours then print the same way. Decimal string.
 */
export function etcdId(id: number): string {
  return id === 0 ? '0' : (BigInt(id) | ETCD_ID_BIT).toString()
}

/** Our raft ID from an ID a client sent (0 for one that cannot be ours). */
export function raftIdOf(wire: unknown): number {
  if (wire === undefined || wire === null || wire === '') return 0
  let v: bigint
  try {
    v = BigInt.asUintN(64, BigInt(wire as string | number | bigint))
  } catch {
    return 0
  }
  if ((v & ETCD_ID_BIT) === 0n) return 0
  return Number(v & MASK_53)
}

const ETCD_ID_BIT = 1n << 62n

/** As etcd prints IDs (etcdctl member list, logs): lower-case hex without leading zeros. */
export function hexId(id: number | bigint | string): string {
  return BigInt(id).toString(16)
}
