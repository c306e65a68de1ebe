// Hand-written protobuf codecs for the hot KV calls (Put, Range, DeleteRange): the
// request bytes decode straight into our request shapes, and responses encode
// straight from the store's KeyValues (headers with the watch hub's HeaderEncoder) (encodeKeyValue writes mvccpb.KeyValue exactly
// as etcd does), skipping proto-loader's object conversion both ways. Field numbers
// are etcd's (proto/etcd/etcdserverpb/rpc.proto). Requests are first checked with
// checkWire, so what reaches these decoders is well-formed.
import type {
  DeleteRangeRequest,
  DeleteRangeResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  SortOrder,
  SortTarget,
} from '../apply/requests.js'
import { encodeKeyValue, type KeyValue } from '../mvcc/key-value.js'
import type { HeaderEncoder } from '../watch/encode.js'

const EMPTY = new Uint8Array(0)
const SORT_ORDERS: SortOrder[] = ['NONE', 'ASCEND', 'DESCEND']
const SORT_TARGETS: SortTarget[] = ['KEY', 'VERSION', 'CREATE', 'MOD', 'VALUE']

class Reader {
  pos = 0
  constructor(readonly buf: Uint8Array) {}

  /** A varint as a number when it fits 2^53 exactly, else as a bigint. */
  varint(): number | bigint {
    let lo = 0
    let shift = 0
    let b: number
    // Fast path: up to 7 bytes (49 bits) as a plain number.
    for (let i = 0; i < 7; i++) {
      b = this.buf[this.pos++]!
      lo += (b & 0x7f) * 2 ** shift
      shift += 7
      if (b < 0x80) return lo
    }
    let big = BigInt(lo)
    for (let i = 7; i < 10; i++) {
      b = this.buf[this.pos++]!
      big += BigInt(b & 0x7f) << BigInt(shift)
      shift += 7
      if (b < 0x80) break
    }
    big = BigInt.asUintN(64, big)
    return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big
  }

  /** An int64 field as a number (revisions, limits): two's complement negatives included. */
  int64(): number {
    const v = this.varint()
    return typeof v === 'number' ? v : Number(BigInt.asIntN(64, v))
  }

  /** An int64 ID as its decimal string. */
  id(): string {
    const v = this.varint()
    return typeof v === 'number' ? String(v) : BigInt.asIntN(64, v).toString()
  }

  bytes(): Uint8Array {
    const len = Number(this.varint())
    const out = this.buf.subarray(this.pos, this.pos + len)
    this.pos += len
    return out
  }

  skip(wire: number): void {
    if (wire === 0) this.varint()
    else if (wire === 1) this.pos += 8
    else if (wire === 5) this.pos += 4
    else if (wire === 2) {
      // Not `this.pos += this.varint()`: that reads pos before varint() moves it.
      const len = Number(this.varint())
      this.pos += len
    }
    else throw new Error(`proto: illegal wireType ${wire}`)
  }
}

export function decodePutRequest(buf: Uint8Array): PutRequest {
  const r = new Reader(buf)
  const req: PutRequest = { key: EMPTY, value: EMPTY, lease: '0', prev_kv: false, ignore_value: false, ignore_lease: false }
  while (r.pos < buf.length) {
    const tag = Number(r.varint())
    switch (tag) {
      case 0x0a: req.key = r.bytes(); break
      case 0x12: req.value = r.bytes(); break
      case 0x18: req.lease = r.id(); break
      case 0x20: req.prev_kv = r.varint() !== 0; break
      case 0x28: req.ignore_value = r.varint() !== 0; break
      case 0x30: req.ignore_lease = r.varint() !== 0; break
      default: r.skip(tag & 7)
    }
  }
  return req
}

export function decodeRangeRequest(buf: Uint8Array): RangeRequest {
  const r = new Reader(buf)
  const req: RangeRequest = { key: EMPTY }
  while (r.pos < buf.length) {
    const tag = Number(r.varint())
    switch (tag) {
      case 0x0a: req.key = r.bytes(); break
      case 0x12: { const e = r.bytes(); if (e.length > 0) req.range_end = e; break }
      case 0x18: req.limit = r.int64(); break
      case 0x20: req.revision = r.int64(); break
      case 0x28: req.sort_order = SORT_ORDERS[r.int64()] ?? 'NONE'; break
      case 0x30: req.sort_target = SORT_TARGETS[r.int64()] ?? 'KEY'; break
      case 0x38: req.serializable = r.varint() !== 0; break
      case 0x40: req.keys_only = r.varint() !== 0; break
      case 0x48: req.count_only = r.varint() !== 0; break
      case 0x50: req.min_mod_revision = r.int64(); break
      case 0x58: req.max_mod_revision = r.int64(); break
      case 0x60: req.min_create_revision = r.int64(); break
      case 0x68: req.max_create_revision = r.int64(); break
      default: r.skip(tag & 7)
    }
  }
  return req
}

export function decodeDeleteRangeRequest(buf: Uint8Array): DeleteRangeRequest {
  const r = new Reader(buf)
  const req: DeleteRangeRequest = { key: EMPTY }
  while (r.pos < buf.length) {
    const tag = Number(r.varint())
    switch (tag) {
      case 0x0a: req.key = r.bytes(); break
      case 0x12: { const e = r.bytes(); if (e.length > 0) req.range_end = e; break }
      case 0x18: req.prev_kv = r.varint() !== 0; break
      default: r.skip(tag & 7)
    }
  }
  return req
}

/** Collects encoded fields; sizes are computed as parts are added, one copy at the end. */
class Writer {
  private parts: Uint8Array[] = []
  private scratch = Buffer.allocUnsafe(64)
  private at = 0
  length = 0

  private flushScratch(): void {
    if (this.at === 0) return
    this.parts.push(Buffer.from(this.scratch.subarray(0, this.at)))
    this.scratch = Buffer.allocUnsafe(64)
    this.at = 0
  }

  private byte(b: number): void {
    if (this.at === this.scratch.length) this.flushScratch()
    this.scratch[this.at++] = b
    this.length++
  }

  /** Counts and lengths: non-negative safe integers. */
  varint(v: number): void {
    while (v >= 0x80) {
      this.byte((v % 0x80) | 0x80)
      v = Math.floor(v / 0x80)
    }
    this.byte(v)
  }

  /** A varint field, omitted when zero (proto3). */
  uint(tag: number, v: number): void {
    if (v === 0) return
    this.byte(tag)
    this.varint(v)
  }

  bool(tag: number, v: boolean | undefined): void {
    if (v === true) {
      this.byte(tag)
      this.byte(1)
    }
  }

  /** A length-delimited field (always written: callers skip empty optional ones). */
  bytes(tag: number, b: Uint8Array): void {
    this.byte(tag)
    this.varint(b.length)
    this.flushScratch()
    this.parts.push(b)
    this.length += b.length
  }

  finish(): Buffer {
    this.flushScratch()
    return this.parts.length === 1 ? Buffer.from(this.parts[0]!) : Buffer.concat(this.parts, this.length)
  }
}

function kvBytes(kv: KeyValue): Uint8Array {
  return encodeKeyValue(kv)
}

export function encodePutResponse(res: PutResponse, headers: HeaderEncoder): Buffer {
  const w = new Writer()
  w.bytes(0x0a, headers.encode(res.header.revision))
  if (res.prev_kv) w.bytes(0x12, kvBytes(res.prev_kv))
  return w.finish()
}

export function encodeRangeResponse(res: RangeResponse, headers: HeaderEncoder): Buffer {
  const w = new Writer()
  w.bytes(0x0a, headers.encode(res.header.revision))
  for (const kv of res.kvs) w.bytes(0x12, kvBytes(kv))
  w.bool(0x18, res.more)
  w.uint(0x20, res.count)
  return w.finish()
}

export function encodeDeleteRangeResponse(res: DeleteRangeResponse, headers: HeaderEncoder): Buffer {
  const w = new Writer()
  w.bytes(0x0a, headers.encode(res.header.revision))
  w.uint(0x10, res.deleted)
  for (const kv of res.prev_kvs) w.bytes(0x1a, kvBytes(kv))
  return w.finish()
}
