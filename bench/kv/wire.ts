// Hand-rolled protobuf encoding for the few etcd v3 messages the kv benchmark sends,
// and partial decoders for the fields it reads back. The client shares 2 cores with
// the 3 members it measures, so requests are built as bytes (a template copied and
// patched, or encoded once and reused) and responses are scanned for the one or two
// fields needed, instead of going through proto-loader's object conversion.
// Field numbers: proto/etcd/etcdserverpb/rpc.proto and proto/etcd/mvccpb/kv.proto.

const enc = new TextEncoder()

export function varintLength(n: number): number {
  let len = 1
  while (n >= 128) {
    n = Math.floor(n / 128)
    len++
  }
  return len
}

/** Accumulates protobuf fields; `bytes()` returns the message. */
export class Writer {
  private parts: number[] = []
  private chunks: Uint8Array[] = []

  private flush(): void {
    if (this.parts.length) {
      this.chunks.push(Uint8Array.from(this.parts))
      this.parts = []
    }
  }

  private varint(n: number): void {
    while (n >= 128) {
      this.parts.push((n % 128) | 128)
      n = Math.floor(n / 128)
    }
    this.parts.push(n)
  }

  /** A varint field (int64, uint64, bool, enum); written even when 0 (oneof members need that). */
  uint(field: number, n: number): this {
    this.varint(field * 8)
    this.varint(n)
    return this
  }

  /** A length-delimited field: bytes, string or an embedded message. */
  bytes(field: number, data: Uint8Array | string): this {
    const b = typeof data === 'string' ? enc.encode(data) : data
    this.varint(field * 8 + 2)
    this.varint(b.length)
    this.flush()
    this.chunks.push(b)
    return this
  }

  finish(): Buffer {
    this.flush()
    return Buffer.concat(this.chunks)
  }
}

/** `prefix` + 1 in the last byte: the range_end that selects every key under prefix. */
export function prefixEnd(prefix: string): Buffer {
  const b = Buffer.from(prefix)
  for (let i = b.length - 1; i >= 0; i--) {
    if (b[i]! < 0xff) {
      b[i]!++
      return b.subarray(0, i + 1)
    }
  }
  return Buffer.from([0])
}

export function putRequest(key: Uint8Array | string, value: Uint8Array): Buffer {
  const k = typeof key === 'string' ? Buffer.from(key) : key
  const out = Buffer.allocUnsafe(2 + varintLength(k.length) + k.length + varintLength(value.length) + value.length)
  let at = 0
  out[at++] = 0x0a
  at = writeVarint(out, at, k.length)
  out.set(k, at)
  at += k.length
  out[at++] = 0x12
  at = writeVarint(out, at, value.length)
  out.set(value, at)
  return out
}

function writeVarint(buf: Uint8Array, at: number, n: number): number {
  while (n >= 128) {
    buf[at++] = (n % 128) | 128
    n = Math.floor(n / 128)
  }
  buf[at++] = n
  return at
}

export function rangeRequest(key: Uint8Array | string, opts: { rangeEnd?: Uint8Array; serializable?: boolean; countOnly?: boolean } = {}): Buffer {
  const w = new Writer().bytes(1, key)
  if (opts.rangeEnd) w.bytes(2, opts.rangeEnd)
  if (opts.serializable) w.uint(7, 1)
  if (opts.countOnly) w.uint(9, 1)
  return w.finish()
}

/** Txn: if mod_revision(key) == modRevision then put(key, value) else get(key). */
export function casPutTxn(key: Uint8Array | string, modRevision: number, value: Uint8Array): Buffer {
  // Compare{result: EQUAL (0, omitted), target: MOD (2), key, mod_revision}
  const compare = new Writer().uint(2, 2).bytes(3, key).uint(6, modRevision).finish()
  const put = new Writer().bytes(2, putRequest(key, value)).finish()
  const get = new Writer().bytes(1, rangeRequest(key)).finish()
  return new Writer().bytes(1, compare).bytes(2, put).bytes(3, get).finish()
}

/** Txn with no compares: put every (key, value) in one revision (bulk load). */
export function multiPutTxn(puts: [Uint8Array | string, Uint8Array][]): Buffer {
  const w = new Writer()
  for (const [k, v] of puts) w.bytes(2, new Writer().bytes(2, putRequest(k, v)).finish())
  return w.finish()
}

export function watchCreateRequest(key: Uint8Array | string, rangeEnd?: Uint8Array): Buffer {
  const create = new Writer().bytes(1, key)
  if (rangeEnd) create.bytes(2, rangeEnd)
  return new Writer().bytes(1, create.finish()).finish()
}

/**
 * A value of `size` bytes whose first 8 hold a float64 wall-clock time in ms
 * (performance.timeOrigin + performance.now()), for put→event latency.
 */
export function stampedValue(size: number, now = wallMs()): Buffer {
  const v = Buffer.alloc(Math.max(size, 8), 0x61)
  v.writeDoubleLE(now, 0)
  return v
}

export function wallMs(): number {
  return performance.timeOrigin + performance.now()
}

// ---------------------------------------------------------------------------
// Decoding: a cursor over one message. Varints are read as JS numbers, which is
// exact for revisions and counts (< 2^53); uint64 IDs are not read here.

export class Reader {
  pos: number
  constructor(
    readonly buf: Uint8Array,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start
  }

  varint(): number {
    const buf = this.buf
    let result = 0
    let mul = 1
    for (;;) {
      const b = buf[this.pos++]!
      result += (b & 0x7f) * mul
      if (b < 0x80) return result
      mul *= 128
      if (this.pos > this.end) throw new Error('protobuf: truncated varint')
    }
  }

  /** Next tag, or -1 at the end. */
  tag(): number {
    return this.pos < this.end ? this.varint() : -1
  }

  /** Length of a length-delimited field; pos is left at its first byte. */
  len(): number {
    const n = this.varint()
    if (this.pos + n > this.end) throw new Error('protobuf: truncated field')
    return n
  }

  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.varint()
        return
      case 1:
        this.pos += 8
        return
      case 2: {
        const n = this.len()
        this.pos += n
        return
      }
      case 5:
        this.pos += 4
        return
      default:
        throw new Error(`protobuf: wire type ${wireType}`)
    }
  }
}

/** ResponseHeader.revision of a message whose field 1 is the header (Put, Range, Txn, Watch responses). */
export function headerRevision(buf: Uint8Array): number {
  const r = new Reader(buf)
  for (let tag = r.tag(); tag >= 0; tag = r.tag()) {
    if (tag === (1 << 3) + 2) {
      const n = r.len()
      const h = new Reader(buf, r.pos, r.pos + n)
      for (let t = h.tag(); t >= 0; t = h.tag()) {
        if (t === (3 << 3) + 0) return h.varint()
        h.skip(t & 7)
      }
      return 0
    }
    r.skip(tag & 7)
  }
  return 0
}

/**
 * TxnResponse: { revision, succeeded, rangeModRevision }: the last is the
 * mod_revision of the first key returned by the first response_range among the
 * responses (0 if none), which casPutTxn's failure branch yields.
 */
export function decodeTxnResponse(buf: Uint8Array): { revision: number; succeeded: boolean; rangeModRevision: number } {
  const r = new Reader(buf)
  let succeeded = false
  let rangeModRevision = 0
  let ranges = 0
  for (let tag = r.tag(); tag >= 0; tag = r.tag()) {
    if (tag === (2 << 3) + 0) succeeded = r.varint() !== 0
    else if (tag === (3 << 3) + 2 && ranges === 0) {
      const n = r.len()
      const op = new Reader(buf, r.pos, r.pos + n)
      for (let t = op.tag(); t >= 0; t = op.tag()) {
        if (t === (1 << 3) + 2) {
          const rn = op.len()
          ranges++
          rangeModRevision = decodeRangeResponse(buf.subarray(op.pos, op.pos + rn)).modRevision
          op.pos += rn
        } else op.skip(t & 7)
      }
      r.pos += n
    } else r.skip(tag & 7)
  }
  return { revision: headerRevision(buf), succeeded, rangeModRevision }
}

/** RangeResponse: number of kvs returned and the first one's mod_revision (0 if none). */
export function decodeRangeResponse(buf: Uint8Array): { kvs: number; modRevision: number } {
  const r = new Reader(buf)
  let kvs = 0
  let modRevision = 0
  for (let tag = r.tag(); tag >= 0; tag = r.tag()) {
    if (tag === (2 << 3) + 2) {
      const n = r.len()
      if (kvs++ === 0) {
        const kv = new Reader(buf, r.pos, r.pos + n)
        for (let t = kv.tag(); t >= 0; t = kv.tag()) {
          if (t === (3 << 3) + 0) modRevision = kv.varint()
          else kv.skip(t & 7)
        }
      }
      r.pos += n
    } else r.skip(tag & 7)
  }
  return { kvs, modRevision }
}

export interface WatchResponseInfo {
  watchId: number
  created: boolean
  canceled: boolean
  compactRevision: number
}

/**
 * Scans a WatchResponse; calls onEvent(watchId, modRevision, valueStart, valueEnd) per
 * event in order, with the value's byte range in `buf` (no copies). watch_id (field 2)
 * precedes events (field 11) on the wire, as every protobuf encoder writes fields in
 * field-number order.
 */
export function scanWatchResponse(buf: Uint8Array, onEvent: (watchId: number, modRevision: number, valueStart: number, valueEnd: number) => void): WatchResponseInfo {
  const r = new Reader(buf)
  const info: WatchResponseInfo = { watchId: 0, created: false, canceled: false, compactRevision: 0 }
  for (let tag = r.tag(); tag >= 0; tag = r.tag()) {
    switch (tag) {
      case (2 << 3) + 0:
        info.watchId = r.varint()
        break
      case (3 << 3) + 0:
        info.created = r.varint() !== 0
        break
      case (4 << 3) + 0:
        info.canceled = r.varint() !== 0
        break
      case (5 << 3) + 0:
        info.compactRevision = r.varint()
        break
      case (11 << 3) + 2: {
        const n = r.len()
        const evEnd = r.pos + n
        const ev = new Reader(buf, r.pos, evEnd)
        let modRevision = 0
        let vs = 0
        let ve = 0
        for (let t = ev.tag(); t >= 0; t = ev.tag()) {
          if (t === (2 << 3) + 2) {
            const kn = ev.len()
            const kv = new Reader(buf, ev.pos, ev.pos + kn)
            for (let k = kv.tag(); k >= 0; k = kv.tag()) {
              if (k === (3 << 3) + 0) modRevision = kv.varint()
              else if (k === (5 << 3) + 2) {
                const vn = kv.len()
                vs = kv.pos
                ve = vs + vn
                kv.pos = ve
              } else kv.skip(k & 7)
            }
            ev.pos += kn
          } else ev.skip(t & 7)
        }
        onEvent(info.watchId, modRevision, vs, ve)
        r.pos = evEnd
        break
      }
      default:
        r.skip(tag & 7)
    }
  }
  return info
}

// ---------------------------------------------------------------------------
// Latency histogram: log buckets 1% wide from 1 µs to ~100 s, mergeable across
// processes (plain number arrays), so millions of samples cost no memory.

const LOG_BASE = Math.log(1.01)
const BUCKETS = 1900

export class Histogram {
  counts: Float64Array = new Float64Array(BUCKETS)
  n = 0

  record(ms: number): void {
    const us = ms * 1000
    let i = us <= 1 ? 0 : Math.ceil(Math.log(us) / LOG_BASE)
    if (i >= BUCKETS) i = BUCKETS - 1
    this.counts[i]!++
    this.n++
  }

  merge(other: { counts: ArrayLike<number>; n: number }): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i]! += other.counts[i] ?? 0
    this.n += other.n
  }

  /** Upper edge of the bucket holding quantile q, in ms (0 when empty). */
  quantile(q: number): number {
    if (this.n === 0) return 0
    const want = Math.max(1, Math.ceil(q * this.n))
    let seen = 0
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!
      if (seen >= want) return Math.pow(1.01, i) / 1000
    }
    return Math.pow(1.01, BUCKETS - 1) / 1000
  }

  toJSON(): { counts: number[]; n: number } {
    return { counts: Array.from(this.counts), n: this.n }
  }
}

