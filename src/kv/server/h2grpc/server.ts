// A lean gRPC server over node:http2 (h2c), in place of grpc-js's Server on the hot
// path: no interceptors, no channelz, no per-call Metadata unless a handler asks.
// Services are added with grpc-js's arguments (a proto-loader ServiceDefinition and
// an UntypedServiceImplementation) and handlers get grpc-js-shaped call objects
// (call.ts). Connections are handed in by whoever owns the listening socket
// (handleConnection), as the client port's protocol sniffer does.
//
// Wire behaviour follows grpc-go, which etcd's clients are written against:
// unknown service/method → UNIMPLEMENTED with grpc-go's words, errors before any
// response message as a trailers-only response, grpc-timeout → DEADLINE_EXCEEDED
// `context deadline exceeded`, no compression (a compressed message is refused as
// grpc-go refuses it), a receive size limit with grpc-go's RESOURCE_EXHAUSTED text.
import type { Duplex } from 'node:stream'
import * as http2 from 'node:http2'
import type { Socket } from 'node:net'
import type * as grpc from '@grpc/grpc-js'
import { H2Call, type CallKind, type CallOwner, type MethodEntry } from './call.js'
import { encodeMessage, MessageDecoder, parseTimeout, Status } from './wire.js'

/** etcd's default --max-request-bytes (1.5 MiB) plus its 512 KiB of gRPC overhead, and a little. */
export const DEFAULT_MAX_RECEIVE_MESSAGE_LENGTH = 2 * 1024 * 1024 + 64 * 1024

export interface H2GrpcServerOptions {
  /** Largest request message accepted (bytes); larger → RESOURCE_EXHAUSTED. */
  maxReceiveMessageLength?: number
  /** SETTINGS_MAX_CONCURRENT_STREAMS advertised to clients (node's default: 2^32-1). */
  maxConcurrentStreams?: number
  /** node:http2 maxSessionMemory in MB (default: unlimited, as grpc-js sets it). */
  maxSessionMemory?: number
  /** How long close() lets sessions flush final statuses before destroying them (default 200 ms). */
  closeGraceMs?: number
  /**
   * A session with no HTTP/2 traffic for this long is pinged (default 2 h, grpc-go's
   * server default), and destroyed if the ping is not answered within
   * keepaliveTimeoutMs (default 20 s). This also reaps connections node:http2 stops
   * reading after it refused a client's bad frame with GOAWAY: it never sees their EOF.
   */
  keepaliveTimeMs?: number
  keepaliveTimeoutMs?: number
  /** Extra node:http2 server options, merged last. */
  http2?: http2.ServerOptions
}

interface LoaderMethod {
  path: string
  requestStream: boolean
  responseStream: boolean
  requestDeserialize: (buf: Buffer) => unknown
  responseSerialize: (value: unknown) => Buffer
}

const noop = (): void => undefined

export class H2GrpcServer implements CallOwner {
  /** Calls in progress (their streams not yet closed). */
  readonly calls = new Set<H2Call>()
  private readonly methods = new Map<string, MethodEntry>()
  private readonly services = new Set<string>()
  private readonly sessionSet = new Set<http2.ServerHttp2Session>()
  private readonly h2: http2.Http2Server
  private readonly maxReceive: number
  private readonly closeGraceMs: number
  private readonly keepaliveTimeMs: number
  private readonly keepaliveTimeoutMs: number
  private closed = false

  constructor(opts: H2GrpcServerOptions = {}) {
    this.maxReceive = opts.maxReceiveMessageLength ?? DEFAULT_MAX_RECEIVE_MESSAGE_LENGTH
    this.closeGraceMs = opts.closeGraceMs ?? 200
    this.keepaliveTimeMs = opts.keepaliveTimeMs ?? 2 * 60 * 60 * 1000
    this.keepaliveTimeoutMs = opts.keepaliveTimeoutMs ?? 20_000
    const settings: http2.Settings = {}
    if (opts.maxConcurrentStreams !== undefined) settings.maxConcurrentStreams = opts.maxConcurrentStreams
    this.h2 = http2.createServer({
      maxSessionMemory: opts.maxSessionMemory ?? Number.MAX_SAFE_INTEGER,
      maxSendHeaderBlockLength: Number.MAX_SAFE_INTEGER,
      settings,
      ...opts.http2,
    })
    this.h2.setTimeout(0)
    this.h2.on('stream', (stream, headers) => this.onStream(stream, headers))
    this.h2.on('session', (session) => {
      this.sessionSet.add(session)
      session.on('error', noop)
      session.once('close', () => this.sessionSet.delete(session))
      session.setTimeout(this.keepaliveTimeMs, () => this.ping(session))
      if (this.closed) session.destroy()
    })
    this.h2.on('sessionError', noop)
  }

  /** Registers a service, exactly as grpc-js's `server.addService(definition, implementation)`. */
  addService(def: grpc.ServiceDefinition, impl: grpc.UntypedServiceImplementation): void {
    const entries = Object.entries(def as unknown as Record<string, LoaderMethod>)
    if (entries.length === 0) throw new Error('Cannot add an empty service to a server')
    for (const [name, m] of entries) {
      const originalName = (m as { originalName?: string }).originalName
      const fn = impl[name] ?? (originalName !== undefined ? impl[originalName] : undefined)
      if (typeof fn !== 'function') continue // grpc-js answers these UNIMPLEMENTED as well
      if (this.methods.has(m.path)) throw new Error(`Method handler for ${m.path} already provided.`)
      const kind: CallKind = m.requestStream ? (m.responseStream ? 'bidi' : 'clientStream') : m.responseStream ? 'serverStream' : 'unary'
      this.methods.set(m.path, { path: m.path, kind, deserialize: m.requestDeserialize, serialize: m.responseSerialize, handler: fn })
      const slash = m.path.lastIndexOf('/')
      this.services.add(m.path.slice(1, slash))
    }
  }

  /** Serves one HTTP/2 connection (bytes already read into the socket's buffer are kept). */
  handleConnection(socket: Socket | Duplex): void {
    if (this.closed) {
      socket.destroy()
      return
    }
    this.h2.emit('connection', socket)
  }

  /** Open HTTP/2 sessions. */
  get sessions(): ReadonlySet<http2.ServerHttp2Session> {
    return this.sessionSet
  }

  get sessionCount(): number {
    return this.sessionSet.size
  }

  /**
   * Ends every call with UNAVAILABLE, sends GOAWAY, and destroys the sessions once
   * they closed or closeGraceMs passed. Later connections are refused.
   */
  async close(): Promise<void> {
    this.closed = true
    for (const call of [...this.calls]) call.abort(Status.UNAVAILABLE, 'grpc: the server has been stopped')
    const sessions = [...this.sessionSet]
    await Promise.all(
      sessions.map(
        (s) =>
          new Promise<void>((resolve) => {
            if (s.destroyed) return resolve()
            const timer = setTimeout(() => s.destroy(), this.closeGraceMs)
            s.once('close', () => {
              clearTimeout(timer)
              resolve()
            })
            try {
              s.close()
            } catch {
              s.destroy()
            }
          }),
      ),
    )
  }

  private ping(session: http2.ServerHttp2Session): void {
    if (session.destroyed) return
    const timer = setTimeout(() => session.destroy(), this.keepaliveTimeoutMs)
    timer.unref()
    try {
      const sent = session.ping((err) => {
        clearTimeout(timer)
        if (err) session.destroy()
      })
      if (!sent) {
        clearTimeout(timer)
        session.destroy()
      }
    } catch {
      clearTimeout(timer)
      session.destroy()
    }
  }

  private onStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
    stream.on('error', noop)
    const path = headers[':path'] ?? ''
    const method = this.methods.get(path)
    if (method === undefined) {
      this.reject(stream, 200, Status.UNIMPLEMENTED, this.unknown(path))
      return
    }
    if (headers[':method'] !== 'POST') {
      this.reject(stream, 405, Status.INTERNAL, `invalid gRPC request method "${headers[':method'] ?? ''}"`)
      return
    }
    const ct = headers['content-type'] ?? ''
    if (!ct.startsWith('application/grpc') || (ct.length > 16 && ct[16] !== '+' && ct[16] !== ';')) {
      this.reject(stream, 415, Status.INVALID_ARGUMENT, `invalid gRPC request content-type "${ct}"`)
      return
    }
    let timeoutMs: number | undefined
    const timeout = headers['grpc-timeout']
    if (timeout !== undefined) {
      timeoutMs = parseTimeout(timeout as string)
      if (timeoutMs === undefined) {
        this.reject(stream, 200, Status.INTERNAL, `malformed grpc-timeout: ${timeout}`)
        return
      }
    }
    const call = new H2Call(this, stream, headers, method, timeoutMs)
    const encoding = headers['grpc-encoding'] as string | undefined
    const decoder = new MessageDecoder(this.maxReceive, encoding, call)
    stream.on('data', (chunk: Buffer) => decoder.push(chunk))
    stream.once('end', () => call.inputEnded(!decoder.idle))
    stream.once('close', () => call.streamClosed())
    if (method.kind === 'bidi' || method.kind === 'clientStream') call.start()
  }

  /** grpc-go's words for a path no handler serves. */
  private unknown(path: string): string {
    const sm = path.startsWith('/') ? path.slice(1) : path
    const pos = sm.lastIndexOf('/')
    if (pos === -1) return `malformed method name: "${path}"`
    const service = sm.slice(0, pos)
    if (!this.services.has(service)) return `unknown service ${service}`
    return `unknown method ${sm.slice(pos + 1)} for service ${service}`
  }

  /** A trailers-only answer before any call exists; the request body is read and dropped. */
  private reject(stream: http2.ServerHttp2Stream, httpStatus: number, code: number, details: string): void {
    try {
      stream.respond(
        { ':status': httpStatus, 'content-type': 'application/grpc', 'grpc-status': String(code), 'grpc-message': encodeMessage(details) },
        { endStream: true },
      )
    } catch {
      if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR)
    }
    stream.resume()
  }
}
