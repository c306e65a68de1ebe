// Go gRPC clients dialled with a URL endpoint (etcdctl --endpoints=http://host:port,
// and every `--cluster` command, which dials the members' advertised client URLs)
// send the whole URL as the HTTP/2 :authority. grpc-go accepts that; Node's nghttp2
// resets every such stream with PROTOCOL_ERROR, and no Node option turns that check
// off. So a connection whose first request carries a URL authority is passed through
// this rewriter, which re-encodes each request's header block with the scheme taken
// off the authority. Other frames pass unchanged; connections with a plain host:port
// authority (the usual case) never come here and cost nothing.
//
// To see the first request before nghttp2 takes the connection, the listener answers
// the client's preface with an empty SETTINGS frame of its own (grpc-go sends no
// request until the server's SETTINGS arrive), waits for the client's ACK of it and
// its first HEADERS, and hands over what it read minus that ACK (nghttp2 would take
// an ACK for SETTINGS it never sent as a protocol error). nghttp2 then sends its own
// SETTINGS; a second SETTINGS frame is ordinary HTTP/2.

/** An empty SETTINGS frame: changes nothing, asks the client for an ACK. */
export const EMPTY_SETTINGS = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])
const TYPE_SETTINGS = 0x4
const FLAG_ACK = 0x1

export interface Sniffed {
  /** Byte range of the client's first SETTINGS ACK (ours), if it arrived. */
  ack?: [number, number]
  /** The first request's :authority; null if it had none; undefined until its headers are complete. */
  authority?: string | null
}

/** What the bytes a connection sent so far (preface included) tell about it. */
export function sniffH2(buf: Buffer): Sniffed {
  const out: Sniffed = {}
  let at = PREFACE_BYTES
  let block: Buffer[] | undefined
  while (at + FRAME_HEADER <= buf.length) {
    const len = buf.readUIntBE(at, 3)
    const type = buf[at + 3]!
    const flags = buf[at + 4]!
    if (at + FRAME_HEADER + len > buf.length) break
    const payload = buf.subarray(at + FRAME_HEADER, at + FRAME_HEADER + len)
    const start = at
    at += FRAME_HEADER + len
    if (type === TYPE_SETTINGS && (flags & FLAG_ACK) !== 0 && out.ack === undefined) out.ack = [start, at]
    if (out.authority !== undefined) continue
    if (type === TYPE_HEADERS) block = [fragment(payload, flags)]
    else if (type === TYPE_CONTINUATION && block) block.push(payload)
    else continue
    if ((flags & FLAG_END_HEADERS) === 0) continue
    const fields = decode(hpack.decompressor.create({ table: { size: TABLE_SIZE } }), Buffer.concat(block))
    out.authority = fields.find((f) => f.name === ':authority')?.value ?? null
  }
  return out
}
import { Duplex } from 'node:stream'
import type { Socket } from 'node:net'
import hpack, { type Decompressor } from 'hpack.js'

const PREFACE_BYTES = 24
const FRAME_HEADER = 9
const TYPE_HEADERS = 0x1
const TYPE_CONTINUATION = 0x9
const FLAG_END_STREAM = 0x1
const FLAG_END_HEADERS = 0x4
const FLAG_PADDED = 0x8
const FLAG_PRIORITY = 0x20
/** The peer's SETTINGS_MAX_FRAME_SIZE is at least this; re-encoded blocks are split to fit. */
const MAX_FRAME = 16384
/** nghttp2's default SETTINGS_HEADER_TABLE_SIZE, which bounds the client's HPACK table. */
const TABLE_SIZE = 4096

interface HeaderField {
  name: string
  value: string
}

/** A URL authority ("http://host:port") as the host:port Node accepts; anything else unchanged. */
export function fixAuthority(value: string): string {
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/]*)\/*$/i.exec(value)
  return m ? m[1]! : value
}

function fragment(payload: Buffer, flags: number): Buffer {
  let start = 0
  let end = payload.length
  if (flags & FLAG_PADDED) {
    end -= payload[0]!
    start = 1
  }
  if (flags & FLAG_PRIORITY) start += 5
  return payload.subarray(start, end)
}

function decode(d: Decompressor, block: Buffer): HeaderField[] {
  d.write(block)
  d.execute()
  const out: HeaderField[] = []
  for (let f = d.read(); f; f = d.read()) out.push({ name: f.name, value: f.value })
  return out
}

function frame(type: number, flags: number, stream: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(FRAME_HEADER)
  head.writeUIntBE(payload.length, 0, 3)
  head[3] = type
  head[4] = flags
  head.writeUInt32BE(stream, 5)
  return Buffer.concat([head, payload])
}

/** The client's side of one connection, with request header blocks rewritten; hand it to the HTTP/2 server. */
export class AuthorityFixingSocket extends Duplex {
  private pending: Buffer = Buffer.alloc(0)
  private prefaceLeft = PREFACE_BYTES
  private block: { stream: number; flags: number; parts: Buffer[] } | undefined
  private readonly decoder = hpack.decompressor.create({ table: { size: TABLE_SIZE } })
  private readonly encoder = hpack.compressor.create({ table: { size: TABLE_SIZE } })

  constructor(
    private readonly socket: Socket,
    already: Buffer,
  ) {
    super()
    socket.on('data', (chunk: Buffer) => this.feed(chunk))
    socket.on('end', () => this.push(null))
    socket.on('close', () => this.destroy())
    socket.on('error', (err) => this.destroy(err))
    this.feed(already)
  }

  // http2 reads these for its session (logging, peer address).
  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress
  }

  get remotePort(): number | undefined {
    return this.socket.remotePort
  }

  override _read(): void {
    this.socket.resume()
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.socket.write(chunk, cb)
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.socket.end(cb)
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.socket.destroy(err ?? undefined)
    cb(err)
  }

  private feed(chunk: Buffer): void {
    try {
      this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk])
      const out: Buffer[] = []
      if (this.prefaceLeft > 0) {
        const n = Math.min(this.prefaceLeft, this.pending.length)
        out.push(this.pending.subarray(0, n))
        this.pending = this.pending.subarray(n)
        this.prefaceLeft -= n
      }
      while (this.prefaceLeft === 0 && this.pending.length >= FRAME_HEADER) {
        const len = this.pending.readUIntBE(0, 3)
        if (this.pending.length < FRAME_HEADER + len) break
        const type = this.pending[3]!
        const flags = this.pending[4]!
        const stream = this.pending.readUInt32BE(5) & 0x7fffffff
        const whole = this.pending.subarray(0, FRAME_HEADER + len)
        const payload = whole.subarray(FRAME_HEADER)
        this.pending = this.pending.subarray(FRAME_HEADER + len)
        if (type === TYPE_HEADERS) {
          this.block = { stream, flags, parts: [fragment(payload, flags)] }
        } else if (type === TYPE_CONTINUATION && this.block) {
          this.block.parts.push(payload)
        } else {
          out.push(whole)
          continue
        }
        if ((flags & FLAG_END_HEADERS) !== 0) out.push(...this.rewrite(this.block!))
      }
      for (const b of out) if (b.length > 0 && !this.push(b)) this.socket.pause()
    } catch (err) {
      this.destroy(err as Error)
    }
  }

  private rewrite(block: { stream: number; flags: number; parts: Buffer[] }): Buffer[] {
    this.block = undefined
    const fields = decode(this.decoder, Buffer.concat(block.parts)).map((f) =>
      f.name === ':authority' ? { name: f.name, value: fixAuthority(f.value) } : f,
    )
    // Never indexed: nothing enters the server's dynamic table, so no state to keep in step.
    this.encoder.write(fields.map((f) => ({ ...f, neverIndex: true })))
    const encoded = this.encoder.read() as Buffer
    const frames: Buffer[] = []
    for (let at = 0, first = true; first || at < encoded.length; first = false) {
      const part = encoded.subarray(at, at + MAX_FRAME)
      at += part.length
      const last = at >= encoded.length
      const flags = (first ? block.flags & FLAG_END_STREAM : 0) | (last ? FLAG_END_HEADERS : 0)
      frames.push(frame(first ? TYPE_HEADERS : TYPE_CONTINUATION, flags, block.stream, part))
    }
    return frames
  }
}
