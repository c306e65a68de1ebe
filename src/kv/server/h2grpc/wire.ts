// gRPC over HTTP/2 wire details: the 5-byte message prefix, grpc-timeout, the
// percent-encoding of grpc-message, and status codes (the numbers grpc-js's `status`
// enum uses, repeated here so the hot path needs no grpc-js import).

export const Status = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const

/** A message framed for the wire: flag 0 (uncompressed), 4-byte big-endian length, bytes. */
export function frame(msg: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(5 + msg.length)
  out[0] = 0
  out.writeUInt32BE(msg.length, 1)
  out.set(msg, 5)
  return out
}

const TIMEOUT_UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 }

/** grpc-timeout (1-8 digits and a unit) in milliseconds; undefined if malformed. */
export function parseTimeout(v: string): number | undefined {
  const n = v.length
  if (n < 2 || n > 9) return undefined
  const unit = TIMEOUT_UNIT_MS[v[n - 1]!]
  if (unit === undefined) return undefined
  let value = 0
  for (let i = 0; i < n - 1; i++) {
    const c = v.charCodeAt(i) - 48
    if (c < 0 || c > 9) return undefined
    value = value * 10 + c
  }
  return value * unit
}

const HEX = '0123456789ABCDEF'

/**
 * grpc-message as the gRPC spec encodes it: UTF-8, then every byte outside printable
 * ASCII (0x20-0x7E) and '%' itself as %XX.
 */
export function encodeMessage(s: string): string {
  let plain = true
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x20 || c > 0x7e || c === 0x25) {
      plain = false
      break
    }
  }
  if (plain) return s
  let out = ''
  for (const b of Buffer.from(s, 'utf8')) {
    out += b >= 0x20 && b <= 0x7e && b !== 0x25 ? String.fromCharCode(b) : `%${HEX[b >> 4]}${HEX[b & 15]}`
  }
  return out
}

/** What the decoder reports: one whole message, or a refusal that ends the call. */
export interface DecoderSink {
  message(buf: Buffer): void
  fail(code: number, details: string): void
}

/**
 * Splits a request body into gRPC messages as DATA chunks arrive: a message may span
 * chunks and a chunk may hold several. A message wholly inside one chunk that is its
 * own allocation is passed as a view; otherwise it is copied into a buffer of its own
 * size, so decoded byte fields never pin a larger chunk.
 */
export class MessageDecoder {
  private readonly head = Buffer.allocUnsafe(5)
  private headLen = 0
  private body: Buffer | undefined
  private bodyLen = 0
  private failed = false

  constructor(
    private readonly maxLength: number,
    private readonly encoding: string | undefined,
    private readonly sink: DecoderSink,
  ) {}

  /** True when no partial message is pending. */
  get idle(): boolean {
    return this.headLen === 0 && this.body === undefined
  }

  push(chunk: Buffer): void {
    let at = 0
    const n = chunk.length
    while (at < n && !this.failed) {
      if (this.body !== undefined) {
        const take = Math.min(n - at, this.body.length - this.bodyLen)
        chunk.copy(this.body, this.bodyLen, at, at + take)
        this.bodyLen += take
        at += take
        if (this.bodyLen === this.body.length) {
          const msg = this.body
          this.body = undefined
          this.sink.message(msg)
        }
        continue
      }
      let flag: number
      let len: number
      if (this.headLen === 0 && n - at >= 5) {
        flag = chunk[at]!
        len = chunk.readUInt32BE(at + 1)
        at += 5
      } else {
        const take = Math.min(n - at, 5 - this.headLen)
        chunk.copy(this.head, this.headLen, at, at + take)
        this.headLen += take
        at += take
        if (this.headLen < 5) return
        this.headLen = 0
        flag = this.head[0]!
        len = this.head.readUInt32BE(1)
      }
      if (!this.check(flag, len)) return
      if (n - at >= len && at === 5 && len === n - 5 && chunk.byteOffset === 0 && chunk.buffer.byteLength === n) {
        // The chunk is exactly this one message, in a buffer of its own.
        at += len
        this.sink.message(chunk.subarray(5))
        continue
      }
      if (n - at >= len) {
        const msg = Buffer.allocUnsafe(len)
        chunk.copy(msg, 0, at, at + len)
        at += len
        this.sink.message(msg)
        continue
      }
      this.body = Buffer.allocUnsafe(len)
      this.bodyLen = 0
    }
  }

  private check(flag: number, len: number): boolean {
    let code = 0
    let details = ''
    if (flag === 1) {
      if (this.encoding === undefined || this.encoding === 'identity') {
        code = Status.INTERNAL
        details = 'grpc: compressed flag set with identity or empty encoding'
      } else {
        code = Status.UNIMPLEMENTED
        details = `grpc: Decompressor is not installed for grpc-encoding "${this.encoding}"`
      }
    } else if (flag !== 0) {
      code = Status.INTERNAL
      details = `grpc: received unexpected payload format ${flag}`
    } else if (len > this.maxLength) {
      code = Status.RESOURCE_EXHAUSTED
      details = `grpc: received message larger than max (${len} vs. ${this.maxLength})`
    }
    if (code === 0) return true
    this.failed = true
    this.sink.fail(code, details)
    return false
  }
}
