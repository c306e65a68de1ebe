import type { NodeId } from './types.js'

// A raft snapshot carries the member list (so a member restored from it can reach its
// peers) in front of the application's own snapshot: [u32 json length][json][app].

export interface Member {
  id: NodeId
  /** Peer (raft transport) address, host:port. */
  address: string
}

export function wrapSnapshot(members: Member[], app: Uint8Array): Uint8Array {
  const json = Buffer.from(JSON.stringify(members))
  const out = Buffer.allocUnsafe(4 + json.length + app.length)
  out.writeUInt32LE(json.length, 0)
  json.copy(out, 4)
  out.set(app, 4 + json.length)
  return out
}

export function unwrapSnapshot(data: Uint8Array): { members: Member[]; app: Uint8Array } {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  const len = buf.readUInt32LE(0)
  return { members: JSON.parse(buf.subarray(4, 4 + len).toString()) as Member[], app: buf.subarray(4 + len) }
}
