// The client port serves gRPC and plain HTTP on one socket, as etcd does (cmux):
// etcdctl and other clients speak HTTP/2 gRPC, Prometheus and curl speak HTTP/1.1
// (/metrics, /health, /version). The first bytes of a connection tell which: every
// HTTP/2 connection opens with the "PRI * HTTP/2.0" preface.
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer, type Server, type Socket } from 'node:net'
import { AuthorityFixingSocket, EMPTY_SETTINGS, fixAuthority, sniffH2 } from './authority-fix.js'
import type { H2GrpcServer } from './h2grpc/index.js'

const PREFACE = Buffer.from('PRI * HTTP/2.0')
/**
 * Bytes a client may send before acknowledging our SETTINGS (its flow-control window
 * allows 64 KiB of DATA, plus headers); a quarter of it without a first request, and
 * the connection is served as it is.
 */
const SNIFF_LIMIT = 1024 * 1024
/** How long a connection may stay without a request before it is served as it is. */
const SNIFF_WAIT_MS = 1000

export interface ClientListenerOptions {
  host: string
  port: number
  grpcServer: H2GrpcServer
  http: (req: IncomingMessage, res: ServerResponse) => void
}

export class ClientListener {
  private readonly net: Server
  private readonly sockets = new Set<Socket>()
  private readonly httpServer
  private readonly grpc: H2GrpcServer

  private constructor(opts: ClientListenerOptions) {
    this.grpc = opts.grpcServer
    this.httpServer = createHttpServer(opts.http)
    this.net = createServer((socket) => this.route(socket))
  }

  static async listen(opts: ClientListenerOptions): Promise<ClientListener> {
    const l = new ClientListener(opts)
    await new Promise<void>((resolve, reject) => {
      l.net.once('error', reject)
      l.net.listen(opts.port, opts.host, () => {
        l.net.off('error', reject)
        resolve()
      })
    })
    return l
  }

  get port(): number {
    const a = this.net.address()
    return typeof a === 'object' && a !== null ? a.port : 0
  }

  private route(socket: Socket): void {
    this.sockets.add(socket)
    socket.once('close', () => this.sockets.delete(socket))
    socket.on('error', () => socket.destroy())
    let seen = Buffer.alloc(0)
    let settingsSent = false
    let waitedLong = false
    let timer: NodeJS.Timeout | undefined
    const decide = () => {
      const n = Math.min(seen.length, PREFACE.length)
      const isH2 = seen.subarray(0, n).equals(PREFACE.subarray(0, n))
      // Undecided until enough bytes arrived to tell the preface from an HTTP/1 method.
      if (isH2 && n < PREFACE.length) return
      if (!isH2) {
        finish()
        socket.unshift(seen)
        this.httpServer.emit('connection', socket)
        socket.resume()
        return
      }
      // HTTP/2: see the first request's :authority before nghttp2 takes over (authority-fix.ts).
      if (!settingsSent) {
        settingsSent = true
        socket.write(EMPTY_SETTINGS)
        timer = setTimeout(() => {
          waitedLong = true
          decide()
        }, SNIFF_WAIT_MS)
      }
      const sniffed = sniffH2(seen)
      // Our SETTINGS must be acknowledged before nghttp2 takes over (it would take a
      // stray ACK as a protocol error). Flow control bounds what a client can send
      // before it acknowledges (64 KiB of DATA plus headers), so the wait is bounded.
      if (sniffed.ack === undefined) {
        if (waitedLong || seen.length > SNIFF_LIMIT) socket.destroy() // not a working HTTP/2 client
        return
      }
      const enough = seen.length > SNIFF_LIMIT / 4
      if (sniffed.authority === undefined && !waitedLong && !enough) return
      finish()
      const [from, to] = sniffed.ack ?? [seen.length, seen.length]
      const bytes = Buffer.concat([seen.subarray(0, from), seen.subarray(to)])
      const authority = sniffed.authority
      if (typeof authority === 'string' && authority !== fixAuthority(authority)) {
        this.grpc.handleConnection(new AuthorityFixingSocket(socket, bytes))
      } else {
        // HTTP/2 takes bytes already in the socket's buffer (readableLength) when it
        // takes the socket over, and reads the rest itself.
        socket.unshift(bytes)
        this.grpc.handleConnection(socket)
      }
    }
    const finish = () => {
      clearTimeout(timer)
      socket.off('data', onData)
      socket.pause()
    }
    const onData = (chunk: Buffer) => {
      seen = Buffer.concat([seen, chunk])
      decide()
    }
    socket.on('data', onData)
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy()
    this.httpServer.close()
    await new Promise<void>((resolve) => this.net.close(() => resolve()))
  }
}
