// Hand-written protobuf encoding of what the Watch stream sends: mvccpb.Event and
// etcdserverpb.WatchResponse / ResponseHeader, fields in number order with proto3
// zero values omitted (as gogoproto marshals them). An event is encoded once per
// change and its bytes are spliced into every response that carries it, so a
// fan-out to N watchers costs N memcpy's, not N object conversions.
//
// Field numbers: proto/etcd/mvccpb/kv.proto (Event: type 1, kv 2, prev_kv 3) and
// proto/etcd/etcdserverpb/rpc.proto (WatchResponse: header 1, watch_id 2, created 3,
// canceled 4, compact_revision 5, cancel_reason 6, fragment 7, events 11;
// ResponseHeader: cluster_id 1, member_id 2, revision 3, raft_term 4).

import { encodeKeyValue, type KeyValue } from '../mvcc/key-value.js'

const TAG_EVENT_TYPE = 0x08
const TAG_EVENT_KV = 0x12
const TAG_EVENT_PREV_KV = 0x1a
const EVENT_DELETE = 1

const TAG_HEADER = 0x0a
const TAG_WATCH_ID = 0x10
const TAG_CREATED = 0x18
const TAG_CANCELED = 0x20
const TAG_COMPACT_REVISION = 0x28
const TAG_CANCEL_REASON = 0x32
const TAG_FRAGMENT = 0x38
const TAG_EVENTS = 0x5a

/** The identity part of every response header, from the server's callback. */
export interface HeaderInfo {
  /** uint64 as a decimal string. */
  clusterId: string
  /** uint64 as a decimal string. */
  memberId: string
  raftTerm: number
}

export function varintSize(n: number): number {
  let size = 1
  while (n >= 0x80) {
    n = Math.floor(n / 0x80)
    size++
  }
  return size
}

// Division, not shifts: revisions may exceed 2^32.
function writeVarint(out: Uint8Array, pos: number, n: number): number {
  while (n >= 0x80) {
    out[pos++] = (n % 0x80) | 0x80
    n = Math.floor(n / 0x80)
  }
  out[pos++] = n
  return pos
}

/** A 64-bit varint (int64 as two's complement, so -1 takes ten bytes), as bytes. */
export function int64Varint(value: bigint): Uint8Array {
  let n = BigInt.asUintN(64, value)
  const out: number[] = []
  while (n >= 0x80n) {
    out.push(Number(n & 0x7fn) | 0x80)
    n >>= 7n
  }
  out.push(Number(n))
  return Uint8Array.from(out)
}

/** The bytes of one mvccpb.Event: a PUT or, for a tombstone (version 0), a DELETE. */
export function encodeEvent(kv: KeyValue, deleted: boolean): Uint8Array {
  const kvBytes = encodeKeyValue(kv)
  const typeSize = deleted ? 2 : 0
  const out = new Uint8Array(typeSize + 1 + varintSize(kvBytes.length) + kvBytes.length)
  let pos = 0
  if (deleted) {
    out[pos++] = TAG_EVENT_TYPE
    out[pos++] = EVENT_DELETE
  }
  out[pos++] = TAG_EVENT_KV
  pos = writeVarint(out, pos, kvBytes.length)
  out.set(kvBytes, pos)
  return out
}

/** An encoded Event with prev_kv appended (field 3 follows fields 1 and 2). */
export function withPrevKv(event: Uint8Array, prev: KeyValue): Uint8Array {
  const prevBytes = encodeKeyValue(prev)
  const out = new Uint8Array(event.length + 1 + varintSize(prevBytes.length) + prevBytes.length)
  out.set(event, 0)
  let pos = event.length
  out[pos++] = TAG_EVENT_PREV_KV
  pos = writeVarint(out, pos, prevBytes.length)
  out.set(prevBytes, pos)
  return out
}

/**
 * Encodes ResponseHeaders. The cluster/member/term part is re-encoded only when the
 * callback's answer changes, so a header costs one small allocation per response.
 */
export class HeaderEncoder {
  private lastCluster = ''
  private lastMember = ''
  private lastTerm = -1
  private prefix = new Uint8Array(0)
  private term = new Uint8Array(0)

  constructor(private readonly info: () => HeaderInfo) {}

  encode(revision: number): Uint8Array {
    const { clusterId, memberId, raftTerm } = this.info()
    if (clusterId !== this.lastCluster || memberId !== this.lastMember) {
      this.lastCluster = clusterId
      this.lastMember = memberId
      const parts: number[] = []
      for (const [tag, v] of [[0x08, clusterId], [0x10, memberId]] as const) {
        const n = BigInt(v)
        if (n !== 0n) parts.push(tag, ...int64Varint(n))
      }
      this.prefix = Uint8Array.from(parts)
    }
    if (raftTerm !== this.lastTerm) {
      this.lastTerm = raftTerm
      this.term = raftTerm === 0 ? new Uint8Array(0) : Uint8Array.from([0x20, ...int64Varint(BigInt(raftTerm))])
    }
    const revSize = revision === 0 ? 0 : 1 + varintSize(revision)
    const out = new Uint8Array(this.prefix.length + revSize + this.term.length)
    out.set(this.prefix, 0)
    let pos = this.prefix.length
    if (revision !== 0) {
      out[pos++] = 0x18
      pos = writeVarint(out, pos, revision)
    }
    out.set(this.term, pos)
    return out
  }
}

/** A WatchResponse's parts; events are pre-encoded mvccpb.Event bytes. */
export interface ResponseParts {
  header: Uint8Array
  /** The watch_id field's varint bytes (see int64Varint), or undefined for 0. */
  watchId?: Uint8Array
  created?: boolean
  canceled?: boolean
  compactRevision?: number
  cancelReason?: string
  fragment?: boolean
  events?: readonly Uint8Array[]
}

/** The size a response would have without its events (see eventFieldSize). */
export function responseBaseSize(p: ResponseParts): number {
  let size = 1 + varintSize(p.header.length) + p.header.length
  if (p.watchId !== undefined) size += 1 + p.watchId.length
  if (p.created === true) size += 2
  if (p.canceled === true) size += 2
  if (p.compactRevision !== undefined && p.compactRevision !== 0) size += 1 + varintSize(p.compactRevision)
  if (p.cancelReason !== undefined && p.cancelReason !== '') {
    const len = Buffer.byteLength(p.cancelReason)
    size += 1 + varintSize(len) + len
  }
  if (p.fragment === true) size += 2
  return size
}

/** What one event adds to a response. */
export function eventFieldSize(event: Uint8Array): number {
  return 1 + varintSize(event.length) + event.length
}

export function encodeResponse(p: ResponseParts): Buffer {
  const events = p.events ?? []
  let size = responseBaseSize(p)
  for (const e of events) size += eventFieldSize(e)
  const out = Buffer.allocUnsafe(size)
  let pos = 0
  out[pos++] = TAG_HEADER
  pos = writeVarint(out, pos, p.header.length)
  out.set(p.header, pos)
  pos += p.header.length
  if (p.watchId !== undefined) {
    out[pos++] = TAG_WATCH_ID
    out.set(p.watchId, pos)
    pos += p.watchId.length
  }
  if (p.created === true) {
    out[pos++] = TAG_CREATED
    out[pos++] = 1
  }
  if (p.canceled === true) {
    out[pos++] = TAG_CANCELED
    out[pos++] = 1
  }
  if (p.compactRevision !== undefined && p.compactRevision !== 0) {
    out[pos++] = TAG_COMPACT_REVISION
    pos = writeVarint(out, pos, p.compactRevision)
  }
  if (p.cancelReason !== undefined && p.cancelReason !== '') {
    const reason = Buffer.from(p.cancelReason)
    out[pos++] = TAG_CANCEL_REASON
    pos = writeVarint(out, pos, reason.length)
    out.set(reason, pos)
    pos += reason.length
  }
  if (p.fragment === true) {
    out[pos++] = TAG_FRAGMENT
    out[pos++] = 1
  }
  for (const e of events) {
    out[pos++] = TAG_EVENTS
    pos = writeVarint(out, pos, e.length)
    out.set(e, pos)
    pos += e.length
  }
  return out
}
