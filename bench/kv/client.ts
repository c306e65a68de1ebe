// The one client the kv benchmark drives every target with (real etcd, ours, or any
// --endpoints). Requests go out as bytes built by wire.ts (pre-encoded or a template
// patched in place) and responses come back as bytes scanned only for the fields a
// workload checks: no proto-loader object conversion on the request path, since the
// client shares the 2 cores with the members it measures.
//
// Transport for unary calls (put, range, txn), the same for every target:
//  - 'http2' (default): gRPC's wire format spoken directly over node:http2 — one
//    POST stream per call, 5-byte length prefix, grpc-status from the trailers.
//    Profiled against etcd at 256 puts in flight, @grpc/grpc-js spent ~0.55 ms of
//    client CPU per put (its call stack, filters, metadata and per-call timers were
//    ~60% of that), more than the 3 etcd members spent together (~0.37 ms); this
//    path avoids those layers. See closedLoop's client-CPU column in the report.
//  - 'grpc-js': @grpc/grpc-js makeUnaryRequest with identity (de)serializers, the
//    reference path (what the figures were taken with).
// Watch streams (watch-worker.ts, in child processes) use the same transport.
//
// Endpoint rule (the same for every target): one connection per member; slot i (the
// i-th in-flight request loop, or watch stream i) uses member (first + i) mod n, where
// `first` is the leader's index at the start of the run. So a single client talks to
// the leader, and 16+ clients spread evenly over the members, as the three apiservers
// of a cluster each use their own local member.
import * as http2 from 'node:http2'
import * as grpc from '@grpc/grpc-js'
import { Histogram } from './wire.js'
export const METHOD = {
  range: '/etcdserverpb.KV/Range',
  put: '/etcdserverpb.KV/Put',
  txn: '/etcdserverpb.KV/Txn',
  watch: '/etcdserverpb.Watch/Watch',
} as const

const identity = (b: Buffer): Buffer => b

export const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.max_receive_message_length': 64 * 2 ** 20,
  'grpc.max_send_message_length': 64 * 2 ** 20,
  // A channel of its own per client, not grpc-js's process-wide shared subchannel.
  'grpc.use_local_subchannel_pool': 1,
}

export type Transport = 'http2' | 'grpc-js'

type UnaryCallback = (err: CallError | null, res?: Buffer) => void

/** A failed call: the gRPC status code and message, as grpc-js reports them. */
export interface CallError {
  code: number
  details: string
}

const { HTTP2_HEADER_METHOD, HTTP2_HEADER_PATH, HTTP2_HEADER_CONTENT_TYPE, HTTP2_HEADER_TE } = http2.constants

/** Minimal gRPC unary client over one node:http2 session. */
export class Http2Channel {
  private session: http2.ClientHttp2Session | undefined

  constructor(readonly endpoint: string) {}

  private connect(): http2.ClientHttp2Session {
    if (this.session && !this.session.closed && !this.session.destroyed) return this.session
    const session = http2.connect(`http://${this.endpoint}`, { settings: { enablePush: false, initialWindowSize: 4 * 2 ** 20 } })
    session.on('error', () => {}) // each stream reports its own failure
    // A connection-level window big enough for watch fan-out (needs the socket: after 'connect').
    session.once('connect', () => session.setLocalWindowSize(64 * 2 ** 20))
    session.on('close', () => {
      if (this.session === session) this.session = undefined
    })
    this.session = session
    return session
  }

  call(method: string, req: Buffer, cb: UnaryCallback, deadlineMs: number): void {
    let stream: http2.ClientHttp2Stream
    try {
      stream = this.connect().request({
        [HTTP2_HEADER_METHOD]: 'POST',
        [HTTP2_HEADER_PATH]: method,
        [HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc',
        [HTTP2_HEADER_TE]: 'trailers',
        'grpc-timeout': `${deadlineMs}m`,
      })
    } catch (err) {
      cb({ code: 14, details: (err as Error).message })
      return
    }
    const frame = Buffer.allocUnsafe(5 + req.length)
    frame[0] = 0
    frame.writeUInt32BE(req.length, 1)
    req.copy(frame, 5)
    stream.end(frame)
    const chunks: Buffer[] = []
    let status: string | undefined
    let message: string | undefined
    let done = false
    const finish = (err: CallError | null, res?: Buffer) => {
      if (done) return
      done = true
      cb(err, res)
    }
    stream.on('response', (headers) => {
      // Trailers-only responses (errors) carry grpc-status in the headers.
      if (headers['grpc-status'] !== undefined) {
        status = String(headers['grpc-status'])
        message = headers['grpc-message'] as string | undefined
      }
    })
    stream.on('trailers', (trailers) => {
      status = String(trailers['grpc-status'])
      message = trailers['grpc-message'] as string | undefined
    })
    stream.on('data', (c: Buffer) => chunks.push(c))
    stream.on('error', (err) => finish({ code: 14, details: err.message }))
    stream.on('close', () => {
      if (status === undefined) return finish({ code: stream.rstCode === http2.constants.NGHTTP2_CANCEL ? 1 : 14, details: `stream closed (rst ${stream.rstCode})` })
      if (status !== '0') return finish({ code: Number(status), details: message ? decodeURIComponent(message) : '' })
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)
      if (body.length < 5) return finish({ code: 13, details: 'no response message' })
      const len = body.readUInt32BE(1)
      finish(null, body.subarray(5, 5 + len))
    })
  }

  /**
   * A bidi gRPC stream (Watch): write() sends one message, onMessage gets each
   * response message (a view into the received chunk, valid during the call).
   */
  stream(method: string, onMessage: (msg: Buffer) => void, onEnd: (err: CallError | null) => void): { write(msg: Buffer): void; cancel(): void } {
    const stream = this.connect().request(
      {
        [HTTP2_HEADER_METHOD]: 'POST',
        [HTTP2_HEADER_PATH]: method,
        [HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc',
        [HTTP2_HEADER_TE]: 'trailers',
      },
      { endStream: false },
    )
    let pending: Buffer | undefined
    let status: string | undefined
    let message: string | undefined
    stream.on('data', (chunk: Buffer) => {
      const buf = pending ? Buffer.concat([pending, chunk]) : chunk
      let at = 0
      while (buf.length - at >= 5) {
        const len = buf.readUInt32BE(at + 1)
        if (buf.length - at - 5 < len) break
        onMessage(buf.subarray(at + 5, at + 5 + len))
        at += 5 + len
      }
      pending = at < buf.length ? buf.subarray(at) : undefined
    })
    const grab = (h: http2.IncomingHttpHeaders) => {
      if (h['grpc-status'] === undefined) return
      status = String(h['grpc-status'])
      message = h['grpc-message'] as string | undefined
    }
    stream.on('response', grab)
    stream.on('trailers', grab)
    let ended = false
    const end = (err: CallError | null) => {
      if (ended) return
      ended = true
      onEnd(err)
    }
    stream.on('error', (err) => end({ code: 14, details: err.message }))
    stream.on('close', () =>
      end(status === '0' ? null : { code: Number(status ?? 14), details: message ? decodeURIComponent(message) : `stream closed (rst ${stream.rstCode})` }),
    )
    return {
      write: (msg: Buffer) => {
        const frame = Buffer.allocUnsafe(5 + msg.length)
        frame[0] = 0
        frame.writeUInt32BE(msg.length, 1)
        msg.copy(frame, 5)
        stream.write(frame)
      },
      cancel: () => {
        ended = true
        stream.close(http2.constants.NGHTTP2_CANCEL)
      },
    }
  }

  close(): void {
    this.session?.close()
    this.session = undefined
  }
}

export class KvClient {
  private readonly h2: Http2Channel[] = []
  private readonly grpcs: grpc.Client[] = []

  constructor(
    readonly endpoints: string[],
    readonly first = 0,
    readonly transport: Transport = 'http2',
  ) {
    for (const e of endpoints) {
      if (transport === 'http2') this.h2.push(new Http2Channel(e))
      else this.grpcs.push(new grpc.Client(e, grpc.credentials.createInsecure(), CHANNEL_OPTIONS))
    }
  }

  private index(slot: number): number {
    return (this.first + slot) % this.endpoints.length
  }

  endpointOf(slot: number): string {
    return this.endpoints[this.index(slot)]!
  }

  call(slot: number, method: string, req: Buffer, cb: UnaryCallback, deadlineMs = 10_000): void {
    const i = this.index(slot)
    if (this.transport === 'http2') this.h2[i]!.call(method, req, cb, deadlineMs)
    else this.grpcs[i]!.makeUnaryRequest(method, identity, identity, req, { deadline: Date.now() + deadlineMs }, cb)
  }

  unary(slot: number, method: string, req: Buffer, deadlineMs?: number): Promise<Buffer> {
    return new Promise((resolve, reject) =>
      this.call(slot, method, req, (err, res) => (err ? reject(new Error(`${method}: ${err.code} ${err.details}`)) : resolve(res!)), deadlineMs),
    )
  }

  close(): void {
    for (const c of this.h2) c.close()
    for (const c of this.grpcs) c.close()
  }
}

export interface LoopResult {
  ops: number
  errors: number
  seconds: number
  hist: Histogram
  firstError?: string
}

/**
 * Closed loop: `concurrency` slots, each sends a request, waits for its answer,
 * sends the next, until `seconds` have passed (or maxOps requests were sent).
 * `check` returns false for an answer that counts as an error (e.g. a failed txn).
 */
export function closedLoop(
  client: KvClient,
  opts: {
    concurrency: number
    seconds: number
    maxOps?: number
    method: string
    request: (slot: number, seq: number) => Buffer
    check?: (slot: number, res: Buffer) => boolean
  },
): Promise<LoopResult> {
  const { concurrency, method, request, check } = opts
  const maxOps = opts.maxOps ?? Number.MAX_SAFE_INTEGER
  const hist = new Histogram()
  const start = performance.now()
  const stopAt = start + opts.seconds * 1000
  let sent = 0
  let ops = 0
  let errors = 0
  let firstError: string | undefined
  let running = concurrency
  return new Promise((resolve) => {
    let resolved = false
    const settle = () => {
      if (resolved) return
      resolved = true
      clearTimeout(watchdog)
      resolve({ ops, errors, seconds: (performance.now() - start) / 1000, hist, firstError })
    }
    // Requests still unanswered 15 s after the end count as errors; the loop ends anyway.
    const watchdog = setTimeout(() => {
      errors += running
      firstError ??= `${running} requests unanswered 15 s after the end of the run`
      settle()
    }, opts.seconds * 1000 + 15_000)
    const finish = () => {
      if (--running > 0) return
      settle()
    }
    const next = (slot: number) => {
      if (resolved) return
      if (sent >= maxOps || performance.now() >= stopAt) return finish()
      const t0 = performance.now()
      const req = request(slot, sent++)
      client.call(slot, method, req, (err, res) => {
        const t1 = performance.now()
        let bad: string | undefined = err ? `${err.code} ${err.details}` : undefined
        if (!bad && check) {
          try {
            if (!check(slot, res!)) bad = `${method}: check failed`
          } catch (e) {
            bad = `${method}: ${(e as Error).message}`
          }
        }
        if (bad) {
          errors++
          firstError ??= bad
          // Do not spin on a dead endpoint.
          setTimeout(() => next(slot), 10)
          return
        }
        ops++
        hist.record(t1 - t0)
        next(slot)
      })
    }
    for (let s = 0; s < concurrency; s++) next(s)
  })
}
