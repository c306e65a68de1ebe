// mvccpb.KeyValue, encoded byte for byte as etcd stores it in its backend (gogoproto
// Marshal): fields in number order, proto3 zero values omitted, int64 as plain varints.
// Hand-written because every put encodes one and every read decodes one: a direct
// loop over a known message is several times faster than protobufjs reflection and
// allocates only the result. Identical bytes also mean our hashKV input matches etcd's.

/** A key's value as of one revision (etcd's mvccpb.KeyValue). */
export interface KeyValue {
  key: Uint8Array
  /** Main revision of the put that created the key in its current generation; 0 on a tombstone. */
  createRevision: number
  /** Main revision of this change. */
  modRevision: number
  /** Puts in the key's current generation, this one included; 0 on a tombstone. */
  version: number
  value: Uint8Array
  /**
   * Attached lease ID as a decimal string, "0" for none. Lease IDs are int64 and
   * practically always above 2^53 (etcd sets bits 48..62 from the member ID), so a
   * number would round them; a decimal string is what the gRPC edge already uses
   * (proto-loader `longs: String`, see src/kv/etcd-proto.ts), so no conversion there.
   */
  lease: string
}

const EMPTY = new Uint8Array(0)
const NO_LEASE = '0'
const TWO_53 = 2 ** 53

// Tags: field number << 3 | wire type (0 varint, 2 length-delimited).
const TAG_KEY = 0x0a
const TAG_CREATE = 0x10
const TAG_MOD = 0x18
const TAG_VERSION = 0x20
const TAG_VALUE = 0x2a
const TAG_LEASE = 0x30

/** A deleted key as etcd writes it under a tombstone revision: only the key is set. */
export function tombstoneValue(key: Uint8Array): KeyValue {
  return { key, createRevision: 0, modRevision: 0, version: 0, value: EMPTY, lease: NO_LEASE }
}

export function encodeKeyValue(kv: KeyValue): Uint8Array {
  checkInt('create_revision', kv.createRevision)
  checkInt('mod_revision', kv.modRevision)
  checkInt('version', kv.version)
  const lease = kv.lease === NO_LEASE ? 0n : BigInt.asUintN(64, BigInt(kv.lease))
  let size = 0
  if (kv.key.length > 0) size += 1 + varintSize(kv.key.length) + kv.key.length
  if (kv.createRevision !== 0) size += 1 + varintSize(kv.createRevision)
  if (kv.modRevision !== 0) size += 1 + varintSize(kv.modRevision)
  if (kv.version !== 0) size += 1 + varintSize(kv.version)
  if (kv.value.length > 0) size += 1 + varintSize(kv.value.length) + kv.value.length
  if (lease !== 0n) size += 1 + bigVarintSize(lease)

  const out = new Uint8Array(size)
  let pos = 0
  if (kv.key.length > 0) {
    out[pos++] = TAG_KEY
    pos = writeVarint(out, pos, kv.key.length)
    out.set(kv.key, pos)
    pos += kv.key.length
  }
  if (kv.createRevision !== 0) {
    out[pos++] = TAG_CREATE
    pos = writeVarint(out, pos, kv.createRevision)
  }
  if (kv.modRevision !== 0) {
    out[pos++] = TAG_MOD
    pos = writeVarint(out, pos, kv.modRevision)
  }
  if (kv.version !== 0) {
    out[pos++] = TAG_VERSION
    pos = writeVarint(out, pos, kv.version)
  }
  if (kv.value.length > 0) {
    out[pos++] = TAG_VALUE
    pos = writeVarint(out, pos, kv.value.length)
    out.set(kv.value, pos)
    pos += kv.value.length
  }
  if (lease !== 0n) {
    out[pos++] = TAG_LEASE
    writeBigVarint(out, pos, lease)
  }
  return out
}

/**
 * Decodes stored KeyValue bytes. `key` and `value` are views into `bytes` (no copy):
 * the caller must not reuse the buffer while the result is alive. Unknown fields are
 * skipped, as protobuf requires, so values written by a newer etcd still decode.
 */
export function decodeKeyValue(bytes: Uint8Array): KeyValue {
  const kv: KeyValue = { key: EMPTY, createRevision: 0, modRevision: 0, version: 0, value: EMPTY, lease: NO_LEASE }
  const r = new Reader(bytes)
  while (r.pos < bytes.length) {
    const tag = r.varint()
    switch (tag) {
      case TAG_KEY:
        kv.key = r.bytes()
        break
      case TAG_CREATE:
        kv.createRevision = r.varint()
        break
      case TAG_MOD:
        kv.modRevision = r.varint()
        break
      case TAG_VERSION:
        kv.version = r.varint()
        break
      case TAG_VALUE:
        kv.value = r.bytes()
        break
      case TAG_LEASE:
        kv.lease = BigInt.asIntN(64, r.bigVarint()).toString()
        break
      default:
        r.skip(tag & 7)
    }
  }
  return kv
}

function checkInt(name: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`mvcc: KeyValue ${name} ${n} is not a non-negative safe integer`)
}

function varintSize(n: number): number {
  let size = 1
  while (n >= 0x80) {
    n = Math.floor(n / 0x80)
    size++
  }
  return size
}

function bigVarintSize(n: bigint): number {
  let size = 1
  while (n >= 0x80n) {
    n >>= 7n
    size++
  }
  return size
}

// Division rather than shifts: JavaScript bit operators truncate to 32 bits, and
// revisions may exceed 2^32.
function writeVarint(out: Uint8Array, pos: number, n: number): number {
  while (n >= 0x80) {
    out[pos++] = (n % 0x80) | 0x80
    n = Math.floor(n / 0x80)
  }
  out[pos++] = n
  return pos
}

function writeBigVarint(out: Uint8Array, pos: number, n: bigint): number {
  while (n >= 0x80n) {
    out[pos++] = Number(n & 0x7fn) | 0x80
    n >>= 7n
  }
  out[pos++] = Number(n)
  return pos
}

class Reader {
  pos = 0
  constructor(private readonly buf: Uint8Array) {}

  /** A varint that must fit a safe integer (revisions, versions, lengths, tags). */
  varint(): number {
    let n = 0
    let scale = 1
    for (;;) {
      const b = this.byte()
      n += (b & 0x7f) * scale
      if (b < 0x80) break
      scale *= 0x80
      if (scale >= TWO_53) throw new RangeError('mvcc: KeyValue varint beyond 2^53')
    }
    if (n >= TWO_53) throw new RangeError('mvcc: KeyValue varint beyond 2^53')
    return n
  }

  bigVarint(): bigint {
    let n = 0n
    let shift = 0n
    for (;;) {
      const b = this.byte()
      n |= BigInt(b & 0x7f) << shift
      if (b < 0x80) return n
      shift += 7n
      if (shift > 63n) throw new RangeError('mvcc: KeyValue varint longer than 10 bytes')
    }
  }

  bytes(): Uint8Array {
    const len = this.varint()
    const end = this.pos + len
    if (end > this.buf.length) throw new RangeError('mvcc: KeyValue field runs past the end')
    const out = this.buf.subarray(this.pos, end)
    this.pos = end
    return out
  }

  skip(wireType: number): void {
    if (wireType === 0) this.bigVarint()
    else if (wireType === 2) this.bytes()
    else if (wireType === 1) this.advance(8)
    else if (wireType === 5) this.advance(4)
    else throw new RangeError(`mvcc: KeyValue has unsupported wire type ${wireType}`)
  }

  private advance(n: number): void {
    if (this.pos + n > this.buf.length) throw new RangeError('mvcc: KeyValue field runs past the end')
    this.pos += n
  }

  private byte(): number {
    if (this.pos >= this.buf.length) throw new RangeError('mvcc: KeyValue truncated')
    return this.buf[this.pos++]
  }
}
