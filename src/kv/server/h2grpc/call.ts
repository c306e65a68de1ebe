// One gRPC call on one HTTP/2 stream, shaped like grpc-js's server call objects so
// handlers written for grpc-js run unchanged: `request`, `cancelled`, 'cancelled';
// for responses `write(msg[, cb])` (false when the Http2Stream's buffer is full, then
// 'drain'), `end()`, `writableEnded`, `destroy(err)`, `emit('error', status)` (ends
// the call with that status, as grpc-js does); for requests 'data' / 'end' events
// with pause()/resume(). It is a small EventEmitter rather than a Node stream: writes
// go straight to the Http2Stream (which batches them) and there is no objectMode
// buffer in between.
import { EventEmitter } from 'node:events'
import { constants as h2c, type IncomingHttpHeaders, type OutgoingHttpHeaders, type ServerHttp2Stream } from 'node:http2'
import { Metadata } from '@grpc/grpc-js'
import { encodeMessage, frame, Status, type DecoderSink } from './wire.js'

export type CallKind = 'unary' | 'clientStream' | 'serverStream' | 'bidi'

/** What the server keeps per method (from a proto-loader / grpc-js method definition). */
export interface MethodEntry {
  path: string
  kind: CallKind
  deserialize: (buf: Buffer) => unknown
  serialize: (value: unknown) => Buffer
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  handler: Function
}

/** The subset of the server a call reports to. */
export interface CallOwner {
  readonly calls: Set<H2Call>
}

interface StatusLike {
  code?: unknown
  details?: unknown
  message?: unknown
  metadata?: unknown
}

const ERR_WRITE_AFTER_END = (): Error => Object.assign(new Error('write after end'), { code: 'ERR_STREAM_WRITE_AFTER_END' })
const noop = (): void => undefined
/** Queued requests before the HTTP/2 stream is paused (HTTP/2 flow control then holds the client). */
const READ_HIGH_WATER = 16

/** grpc-js's serverErrorToStatus: an integer `code` (else UNKNOWN), `details` else `message`. */
export function toStatus(err: unknown): { code: number; details: string; metadata?: unknown } {
  const e = (typeof err === 'object' && err !== null ? err : { message: String(err) }) as StatusLike
  let code: number = Status.UNKNOWN
  let details = typeof e.message === 'string' ? e.message : 'Unknown Error'
  if (typeof e.code === 'number' && Number.isInteger(e.code) && e.code >= 0 && e.code <= 16) {
    code = e.code
    if (typeof e.details === 'string') details = e.details
  }
  return { code, details, metadata: e.metadata }
}

/** Custom metadata (a grpc-js Metadata) as HTTP/2 header fields. */
function addMetadata(into: OutgoingHttpHeaders, md: unknown): void {
  if (!(md instanceof Metadata)) return
  for (const [k, v] of Object.entries(md.toHttp2Headers())) {
    if (k.startsWith(':') || k === 'content-type' || k === 'grpc-status' || k === 'grpc-message') continue
    into[k] = v
  }
}

export class H2Call extends EventEmitter implements DecoderSink {
  request: unknown = undefined
  cancelled = false
  destroyed = false
  writableEnded = false

  /** The status is sent, or the stream is gone: nothing more goes out. */
  private done = false
  private headersSent = false
  private endedByEnd = false
  private gotRequest = false
  private timer: NodeJS.Timeout | undefined
  private readonly deadline: number
  private md: Metadata | undefined
  // Request side of streaming calls.
  private queue: unknown[] = []
  private flowing: boolean | null = null
  private readEnded = false
  private endEmitted = false
  private inputPaused = false

  constructor(
    private readonly owner: CallOwner,
    readonly stream: ServerHttp2Stream,
    private readonly headers: IncomingHttpHeaders,
    private readonly method: MethodEntry,
    timeoutMs: number | undefined,
  ) {
    super()
    owner.calls.add(this)
    if (timeoutMs !== undefined) {
      this.deadline = Date.now() + timeoutMs
      this.timer = setTimeout(() => this.expire(), timeoutMs)
    } else {
      this.deadline = Infinity
    }
    const kind = method.kind
    if (kind !== 'unary') {
      // As grpc-js: an 'error' (destroy(err), or emitted by the handler) ends the call with its status.
      this.on('error', (err: unknown) => {
        const st = toStatus(err)
        this.sendStatus(st.code, st.details, st.metadata)
      })
      if (kind !== 'clientStream') stream.on('drain', () => this.emit('drain'))
      if (kind !== 'serverStream') {
        this.on('newListener', (event: string) => {
          if (event === 'data' && this.flowing === null) this.resume()
        })
      }
    }
  }

  // --- grpc-js call API ---------------------------------------------------------

  get metadata(): Metadata {
    this.md ??= Metadata.fromHttp2Headers(this.headers)
    return this.md
  }

  getPath(): string {
    return this.method.path
  }

  getDeadline(): number {
    return this.deadline
  }

  getPeer(): string {
    const s = this.stream.session?.socket
    return s ? `${s.remoteAddress}:${s.remotePort}` : 'unknown'
  }

  getHost(): string {
    return String(this.headers[':authority'] ?? '')
  }

  sendMetadata(md: Metadata): void {
    this.sendHeaders(md)
  }

  write(msg: unknown, encOrCb?: unknown, cb?: (err?: Error | null) => void): boolean {
    const done = typeof encOrCb === 'function' ? (encOrCb as (err?: Error | null) => void) : cb
    if (this.done || this.destroyed || this.writableEnded) {
      if (done) process.nextTick(done, ERR_WRITE_AFTER_END())
      return false
    }
    let payload: Buffer
    try {
      payload = this.method.serialize(msg)
    } catch (err) {
      this.sendStatus(Status.INTERNAL, `grpc: error while marshaling: ${(err as Error).message}`)
      if (done) process.nextTick(done, err as Error)
      return false
    }
    this.sendHeaders()
    return this.stream.write(frame(payload), done)
  }

  /**
   * Several already-serialized messages in one HTTP/2 write (a watch stream's flush
   * sends one response per watcher): one frame header each, one write for all.
   */
  writeMany(payloads: Uint8Array[], cb?: (err?: Error | null) => void): boolean {
    if (this.done || this.destroyed || this.writableEnded) {
      if (cb) process.nextTick(cb, ERR_WRITE_AFTER_END())
      return false
    }
    let size = 0
    for (const p of payloads) size += 5 + p.length
    const out = Buffer.allocUnsafe(size)
    let at = 0
    for (const p of payloads) {
      out[at] = 0
      out.writeUInt32BE(p.length, at + 1)
      out.set(p, at + 5)
      at += 5 + p.length
    }
    this.sendHeaders()
    return this.stream.write(out, cb)
  }

  /** Ends the call with OK (or a status set by an 'error'), trailing metadata optional. */
  end(md?: unknown): this {
    if (this.done) return this
    this.endedByEnd = true
    this.sendStatus(Status.OK, '', md instanceof Metadata ? md : undefined)
    return this
  }

  destroy(err?: unknown): this {
    if (this.destroyed) return this
    if (err !== undefined && err !== null) {
      this.emit('error', err)
      this.destroyed = true
      return this
    }
    this.destroyed = true
    this.queue.length = 0
    if (!this.done) {
      this.done = true
      this.writableEnded = true
      this.clearTimer()
      if (!this.stream.destroyed) this.stream.close(h2c.NGHTTP2_CANCEL)
    }
    return this
  }

  pause(): this {
    this.flowing = false
    return this
  }

  resume(): this {
    if (this.flowing === true) return this
    this.flowing = true
    process.nextTick(() => this.flush())
    return this
  }

  isPaused(): boolean {
    return this.flowing === false
  }

  // --- driven by the server -----------------------------------------------------

  /** Runs the handler once the request (or, for request streams, the headers) arrived. */
  start(): void {
    const h = this.method.handler
    try {
      switch (this.method.kind) {
        case 'unary':
        case 'clientStream':
          h(this, (err: unknown, value?: unknown, trailer?: unknown) => this.answer(err, value, trailer))
          break
        default:
          h(this)
      }
    } catch (err) {
      this.sendStatus(Status.UNKNOWN, `Server method handler threw error ${(err as Error)?.message ?? String(err)}`)
    }
  }

  /** A whole request message from the decoder. */
  message(buf: Buffer): void {
    if (this.done) return
    let msg: unknown
    try {
      msg = this.method.deserialize(buf)
    } catch (err) {
      this.fail(Status.INTERNAL, `grpc: error unmarshalling request: ${(err as Error)?.message ?? String(err)}`)
      return
    }
    const kind = this.method.kind
    if (kind === 'unary' || kind === 'serverStream') {
      if (this.gotRequest) {
        this.fail(Status.INTERNAL, 'grpc: client streaming protocol violation: get <nil>, want <EOF>')
        return
      }
      this.gotRequest = true
      this.request = msg
      return
    }
    if (this.flowing === true && this.queue.length === 0) {
      this.emit('data', msg)
      return
    }
    this.queue.push(msg)
    if (this.queue.length >= READ_HIGH_WATER && !this.inputPaused) {
      this.inputPaused = true
      this.stream.pause()
    }
  }

  /** The decoder refused a message: the call ends with that status. */
  fail(code: number, details: string): void {
    if (this.done) return
    this.sendStatus(code, details)
    this.markCancelled()
  }

  /** The client half-closed. `partial`: a message was cut short. */
  inputEnded(partial: boolean): void {
    if (this.done) return
    if (partial) {
      this.fail(Status.INTERNAL, 'grpc: error reading request: unexpected EOF')
      return
    }
    const kind = this.method.kind
    if (kind === 'unary' || kind === 'serverStream') {
      if (!this.gotRequest) {
        this.fail(Status.INTERNAL, 'grpc: error reading request: EOF')
        return
      }
      this.start()
      return
    }
    this.readEnded = true
    if (this.flowing === true && this.queue.length === 0) this.emitEnd()
  }

  /** The Http2Stream closed: if no status went out, the client went away (cancel). */
  streamClosed(): void {
    if (!this.owner.calls.delete(this)) return
    this.clearTimer()
    if (!this.done) {
      this.done = true
      this.markCancelled()
    }
    if (this.method.kind === 'unary') return
    this.queue.length = 0
    if (this.endedByEnd) this.emit('finish')
    this.destroyed = true
    this.emit('close')
  }

  /** Ends the call with a status (the server closing). */
  abort(code: number, details: string): void {
    this.sendStatus(code, details)
    this.markCancelled()
  }

  // --- internals ----------------------------------------------------------------

  private answer(err: unknown, value: unknown, trailer: unknown): void {
    if (this.done) return
    if (err !== null && err !== undefined) {
      const st = toStatus(err)
      this.sendStatus(st.code, st.details, st.metadata ?? trailer)
      return
    }
    let payload: Buffer
    try {
      payload = this.method.serialize(value)
    } catch (e) {
      this.sendStatus(Status.INTERNAL, `grpc: error while marshaling: ${(e as Error)?.message ?? String(e)}`)
      return
    }
    const s = this.stream
    this.done = true
    this.writableEnded = true
    this.clearTimer()
    if (s.destroyed || s.closed) return
    try {
      if (!this.headersSent) {
        this.headersSent = true
        s.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true })
      }
      const trailers: OutgoingHttpHeaders = { 'grpc-status': '0' }
      addMetadata(trailers, trailer)
      s.once('wantTrailers', () => sendTrailers(s, trailers))
      s.end(frame(payload))
    } catch {
      if (!s.destroyed) s.close(h2c.NGHTTP2_INTERNAL_ERROR)
    }
  }

  private sendHeaders(md?: unknown): void {
    if (this.headersSent || this.done) return
    this.headersSent = true
    const h: OutgoingHttpHeaders = { ':status': 200, 'content-type': 'application/grpc' }
    if (md !== undefined) addMetadata(h, md)
    try {
      this.stream.respond(h, { waitForTrailers: true })
    } catch {
      // The stream is gone; its 'close' ends the call.
    }
  }

  private sendStatus(code: number, details: string, md?: unknown): void {
    if (this.done) return
    this.done = true
    this.writableEnded = true
    this.clearTimer()
    const s = this.stream
    if (s.destroyed || s.closed) return
    const fields: OutgoingHttpHeaders = { 'grpc-status': String(code) }
    if (details !== '') fields['grpc-message'] = encodeMessage(details)
    if (md !== undefined && md !== null) addMetadata(fields, md)
    try {
      if (!this.headersSent) {
        // Trailers-only.
        this.headersSent = true
        s.respond({ ':status': 200, 'content-type': 'application/grpc', ...fields }, { endStream: true })
      } else {
        s.once('wantTrailers', () => sendTrailers(s, fields))
        s.end()
      }
    } catch {
      if (!s.destroyed) s.close(h2c.NGHTTP2_INTERNAL_ERROR)
    }
    // Whatever the client still sends is read and dropped.
    if (this.inputPaused) {
      this.inputPaused = false
      s.resume()
    }
  }

  private expire(): void {
    this.timer = undefined
    this.sendStatus(Status.DEADLINE_EXCEEDED, 'context deadline exceeded')
    this.markCancelled()
  }

  private markCancelled(): void {
    if (this.cancelled) return
    this.cancelled = true
    this.emit('cancelled', 'cancelled')
  }

  private clearTimer(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer)
      this.timer = undefined
    }
  }

  private flush(): void {
    while (this.flowing === true && this.queue.length > 0 && !this.destroyed) this.emit('data', this.queue.shift())
    if (this.flowing !== true || this.queue.length > 0) return
    if (this.inputPaused) {
      this.inputPaused = false
      this.stream.resume()
    }
    if (this.readEnded) this.emitEnd()
  }

  private emitEnd(): void {
    if (this.endEmitted || this.destroyed) return
    this.endEmitted = true
    this.emit('end')
  }
}

function sendTrailers(s: ServerHttp2Stream, fields: OutgoingHttpHeaders): void {
  try {
    s.sendTrailers(fields)
  } catch {
    noop()
  }
}
