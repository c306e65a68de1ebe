import { type ConfChange, ConfChangeType } from './types.js'

// ConfChange entries travel through the log as bytes; this fixed little layout keeps
// them readable by every member without a schema: [u8 type][f64 nodeId][context…].

export function encodeConfChange(cc: ConfChange): Uint8Array {
  const ctx = cc.context ?? new Uint8Array(0)
  const buf = Buffer.allocUnsafe(9 + ctx.length)
  buf.writeUInt8(cc.type, 0)
  buf.writeDoubleLE(cc.nodeId, 1)
  buf.set(ctx, 9)
  return buf
}

export function decodeConfChange(data: Uint8Array): ConfChange {
  if (data.length < 9) throw new Error(`raft: conf change entry too short (${data.length} bytes)`)
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  const type = buf.readUInt8(0)
  if (!(type in ConfChangeType)) throw new Error(`raft: unknown conf change type ${type}`)
  const cc: ConfChange = { type: type as ConfChangeType, nodeId: buf.readDoubleLE(1) }
  if (data.length > 9) cc.context = new Uint8Array(data.subarray(9))
  return cc
}
