// What a member proposes through raft: every change to the replicated state, one
// request per entry (etcd's InternalRaftRequest). Encoded with V8's serializer: it
// keeps Uint8Array keys and values as bytes, costs a native call, and every member
// runs the same Node, so what one member writes the others read.
import { deserialize, serialize } from 'node:v8'
import type { DeleteRangeRequest, PutRequest, TxnRequest } from '../apply/requests.js'

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

export function encodeRaftRequest(r: RaftRequest): Uint8Array {
  return serialize(r)
}

export function decodeRaftRequest(data: Uint8Array): RaftRequest {
  return deserialize(data) as RaftRequest
}
