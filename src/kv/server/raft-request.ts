// What a member proposes through raft: every change to the replicated state, one
// request per entry (etcd's InternalRaftRequest). The first byte says how the rest is
// encoded:
//   1: a Put, as the client's own etcdserverpb.PutRequest bytes — the hot path
//      proposes what it received, with no re-encoding, and applies it with the same
//      hand-written decoder the gRPC edge uses;
//   0: anything else, with V8's serializer (keeps Uint8Array keys and values as
//      bytes; every member runs the same Node, so what one writes the others read).
import { deserialize, serialize } from 'node:v8'
import type { DeleteRangeRequest, PutRequest, TxnRequest } from '../apply/requests.js'
import { decodePutRequest } from './kv-codec.js'

const V8 = 0
const PUT_BYTES = 1

export type AlarmType = 'NOSPACE' | 'CORRUPT'

export interface MemberAttributes {
  /** Raft member ID (decimal). */
  id: number
  name: string
  peerURLs: string[]
  clientURLs: string[]
}

export type RaftRequest =
  | { op: 'put'; req: PutRequest }
  | { op: 'deleteRange'; req: DeleteRangeRequest }
  | { op: 'txn'; req: TxnRequest }
  | { op: 'compact'; revision: number }
  /** `id` is chosen by the proposing member (never "0"); ttl in seconds. */
  | { op: 'leaseGrant'; id: string; ttl: number }
  | { op: 'leaseRevoke'; id: string }
  | { op: 'leaseCheckpoint'; checkpoints: { id: string; remainingTTL: number }[] }
  | { op: 'alarm'; action: 'ACTIVATE' | 'DEACTIVATE'; memberId: string; alarm: AlarmType }
  /** A member announcing its name and client URLs (etcd's publish), or an update of its peer URLs. */
  | { op: 'memberAttributes'; member: MemberAttributes }
  | { op: 'memberRemoved'; id: number }

/** `putBytes`: the PutRequest's wire bytes, when `r` is a put decoded from them. */
export function encodeRaftRequest(r: RaftRequest, putBytes?: Uint8Array): Uint8Array {
  if (r.op === 'put' && putBytes !== undefined) {
    const out = Buffer.allocUnsafe(1 + putBytes.length)
    out[0] = PUT_BYTES
    out.set(putBytes, 1)
    return out
  }
  const body = serialize(r)
  const out = Buffer.allocUnsafe(1 + body.length)
  out[0] = V8
  body.copy(out, 1)
  return out
}

export function decodeRaftRequest(data: Uint8Array): RaftRequest {
  const body = data.subarray(1)
  switch (data[0]) {
    case PUT_BYTES:
      return { op: 'put', req: decodePutRequest(body) }
    case V8:
      return deserialize(body) as RaftRequest
    default:
      throw new Error(`raft request: unknown encoding ${data[0]}`)
  }
}
