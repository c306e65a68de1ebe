// Message <-> bytes for the peer transport, through protobufjs reflection of
// proto/raft.proto. This sits on the replication hot path (hundreds of entries per
// batch, tens of thousands per second), so:
//  - our Message objects are encoded as they are: proto field names, once camel-cased,
//    are exactly the names in types.ts, so no intermediate object is built;
//  - uint64 fields are written and read as plain numbers by a Writer/Reader subclass,
//    instead of allocating a Long per field. Changing protobufjs' global `util.Long`
//    would do the same but also change how every other protobufjs user in the process
//    (proto-loader for the etcd API) decodes 64-bit fields;
//  - bytes fields decode as views into the received buffer, not copies.

import protobuf from 'protobufjs'
import type { ConfState, Entry, Message, Snapshot } from '../types.js'
import { MessageBatchType, SnapshotChunkType } from './proto.js'

const EMPTY = new Uint8Array(0)

// What protobufjs hands back for the types in raft.proto. Fields absent from the wire
// read the prototype defaults: a Long zero for uint64, an empty array for bytes,
// null for messages.
type WireU64 = number | protobuf.Long
type WireBytes = Uint8Array | readonly number[]

interface WireEntry {
  term: WireU64
  index: WireU64
  type: number
  data: WireBytes
}

interface WireConfState {
  voters: WireU64[]
  learners: WireU64[]
}

interface WireSnapshot {
  metadata: { index: WireU64; term: WireU64; confState: WireConfState | null } | null
  data: WireBytes
}

interface WireMessage {
  type: number
  to: WireU64
  from: WireU64
  term: WireU64
  logTerm: WireU64
  index: WireU64
  entries: WireEntry[]
  commit: WireU64
  snapshot: WireSnapshot | null
  reject: boolean
  rejectHint: WireU64
  context: WireBytes
}

interface WireBatch {
  messages: WireMessage[]
}

interface WireChunk {
  header: WireMessage | null
  data: WireBytes
  last: boolean
}

export interface SnapshotChunk {
  /** Only on the first chunk: the MsgSnap, its snapshot carrying metadata but no data. */
  header?: Message
  data: Uint8Array
  last: boolean
}

const TWO_32 = 2 ** 32

function readUint64AsNumber(this: protobuf.Reader): number {
  const buf = this.buf
  const end = this.len
  let pos = this.pos
  let value = 0
  let scale = 1
  for (;;) {
    if (pos >= end) throw new RangeError(`raft codec: varint runs past offset ${end}`)
    const b = buf[pos++]
    value += (b & 0x7f) * scale
    if (b < 0x80) break
    scale *= 128
    if (scale > 2 ** 63) throw new RangeError('raft codec: varint longer than 10 bytes')
  }
  this.pos = pos
  return value
}

/** Decodes uint64 fields as numbers (exact below 2^53, which is all raft ever uses). */
class NumberReader extends protobuf.BufferReader {}
// protobufjs declares uint64() as returning a Long; the generated decoders only store
// the result, and toNumber() below accepts both.
Object.defineProperty(NumberReader.prototype, 'uint64', { value: readUint64AsNumber })

/** Encodes numbers below 2^32 (nearly every id, term and index) without a LongBits. */
class NumberWriter extends protobuf.BufferWriter {
  override uint64(value: number | protobuf.Long | string): protobuf.Writer {
    if (typeof value === 'number' && value >= 0 && value < TWO_32) return this.uint32(value)
    return super.uint64(value)
  }
}

function toNumber(v: WireU64): number {
  return typeof v === 'number' ? v : v.high * TWO_32 + (v.low >>> 0)
}

function toBytes(v: WireBytes): Uint8Array {
  return v instanceof Uint8Array ? v : EMPTY
}

function toConfState(c: WireConfState | null): ConfState {
  return c === null
    ? { voters: [], learners: [] }
    : { voters: c.voters.map(toNumber), learners: c.learners.map(toNumber) }
}

function toSnapshot(s: WireSnapshot): Snapshot {
  const md = s.metadata
  return {
    metadata: {
      index: md === null ? 0 : toNumber(md.index),
      term: md === null ? 0 : toNumber(md.term),
      confState: toConfState(md === null ? null : md.confState),
    },
    data: toBytes(s.data),
  }
}

function toEntry(e: WireEntry): Entry {
  return { term: toNumber(e.term), index: toNumber(e.index), type: e.type, data: toBytes(e.data) }
}

function toMessage(w: WireMessage): Message {
  const m: Message = {
    type: w.type,
    to: toNumber(w.to),
    from: toNumber(w.from),
    term: toNumber(w.term),
    logTerm: toNumber(w.logTerm),
    index: toNumber(w.index),
    entries: w.entries.map(toEntry),
    commit: toNumber(w.commit),
    reject: w.reject,
    rejectHint: toNumber(w.rejectHint),
  }
  if (w.snapshot !== null) m.snapshot = toSnapshot(w.snapshot)
  if (w.context.length > 0) m.context = toBytes(w.context)
  return m
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

function encode(type: protobuf.Type, value: object): Buffer {
  // A writer per call, so its buffer can be handed out without the copy finish() makes.
  return asBuffer(type.encode(value, new NumberWriter()).finish(true))
}

export function encodeBatch(messages: readonly Message[]): Buffer {
  return encode(MessageBatchType, { messages })
}

/** Entry data, snapshot data and contexts in the result are views into `bytes`. */
export function decodeBatch(bytes: Uint8Array): Message[] {
  // The reflected type was loaded from raft.proto; WireBatch mirrors it.
  const batch = MessageBatchType.decode(new NumberReader(asBuffer(bytes))) as unknown as WireBatch
  return batch.messages.map(toMessage)
}

export function encodeChunk(chunk: SnapshotChunk): Buffer {
  return encode(SnapshotChunkType, chunk)
}

export function decodeChunk(bytes: Uint8Array): SnapshotChunk {
  const w = SnapshotChunkType.decode(new NumberReader(asBuffer(bytes))) as unknown as WireChunk
  const chunk: SnapshotChunk = { data: toBytes(w.data), last: w.last }
  if (w.header !== null) chunk.header = toMessage(w.header)
  return chunk
}
