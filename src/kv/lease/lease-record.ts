// A lease as etcd persists it in its backend's "lease" bucket: the bytes of
// leasepb.Lease { int64 ID = 1; int64 TTL = 2; int64 RemainingTTL = 3 }, so a
// member's lease records are byte-for-byte what etcd writes. Attached keys are not
// part of it: on restart they are rebuilt from the lease field of every key
// (Lessor.attach), as etcd does.
//
// Hand-written instead of protobufjs because the message is three varints and every
// field is an int64 that must survive beyond 2^53 (IDs do); values stay decimal
// strings, like lease IDs everywhere else.

import { assertCanonicalInt64 } from './int64.js'

/** leasepb.Lease with its proto field names; every int64 as a canonical decimal string. */
export interface LeaseRecord {
  ID: string
  /** Granted TTL in seconds. */
  TTL: string
  /** Checkpointed remaining TTL in seconds; "0" = not checkpointed (use TTL). */
  RemainingTTL: string
}

// Tags: (field number << 3) | wire type 0 (varint).
const TAG_ID = 0x08
const TAG_TTL = 0x10
const TAG_REMAINING = 0x18

/** The record's protobuf bytes; zero fields are omitted, as proto3 (gogoproto) does. */
export function encodeLeaseRecord(r: LeaseRecord): Uint8Array {
  const out: number[] = []
  field(out, TAG_ID, r.ID, 'ID')
  field(out, TAG_TTL, r.TTL, 'TTL')
  field(out, TAG_REMAINING, r.RemainingTTL, 'RemainingTTL')
  return Uint8Array.from(out)
}

function field(out: number[], tag: number, value: string, name: string): void {
  assertCanonicalInt64(value, name)
  if (value === '0') return
  out.push(tag)
  // int64 is encoded as its 64-bit two's complement, so negatives take 10 bytes.
  let v = BigInt.asUintN(64, BigInt(value))
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80)
    v >>= 7n
  }
  out.push(Number(v))
}

/** Decodes leasepb.Lease bytes; absent fields are "0", unknown fields are skipped. */
export function decodeLeaseRecord(bytes: Uint8Array): LeaseRecord {
  const r: LeaseRecord = { ID: '0', TTL: '0', RemainingTTL: '0' }
  let pos = 0
  const varint = (): bigint => {
    let v = 0n
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (pos >= bytes.length) throw new Error('leasepb: truncated varint')
      const b = bytes[pos++]!
      v |= BigInt(b & 0x7f) << shift
      if (b < 0x80) return BigInt.asUintN(64, v)
    }
    throw new Error('leasepb: varint longer than 10 bytes')
  }
  const skip = (n: number) => {
    if (pos + n > bytes.length) throw new Error('leasepb: truncated field')
    pos += n
  }
  while (pos < bytes.length) {
    const key = varint()
    const fieldNo = key >> 3n
    const wire = Number(key & 7n)
    if (fieldNo === 0n) throw new Error('leasepb: field number 0')
    if (wire === 0) {
      // Last occurrence wins, as protobuf parsers do for repeated scalar fields.
      const v = BigInt.asIntN(64, varint()).toString()
      if (fieldNo === 1n) r.ID = v
      else if (fieldNo === 2n) r.TTL = v
      else if (fieldNo === 3n) r.RemainingTTL = v
    } else if (fieldNo <= 3n) {
      throw new Error(`leasepb: field ${fieldNo} has wire type ${wire}, want varint`)
    } else if (wire === 1) skip(8)
    else if (wire === 5) skip(4)
    else if (wire === 2) skip(Number(varint()))
    else throw new Error(`leasepb: unsupported wire type ${wire}`)
  }
  return r
}
