// The kubelet's HTTPS server (port 10250 upstream): what the apiserver calls to serve
// `kubectl logs` — GET /containerLogs/{namespace}/{pod}/{container} with the
// PodLogOptions query (follow, previous, timestamps, tailLines, sinceSeconds,
// sinceTime, limitBytes) — /healthz, and /metrics for Prometheus. Where the log comes from is the LogSource's
// business (the kubelet's runtime); this file only speaks HTTP.
//
// Like upstream's kubelet without --tls-cert-file, it serves a self-signed
// certificate made at start. It does not authenticate callers yet (upstream checks
// the apiserver's client certificate and asks for a SubjectAccessReview): that is
// part of the security work, so bind it where only the masters reach it.
import { createServer, type Server } from 'node:https'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import type { Registry } from 'prom-client'
import { issueCert, newCA } from '../certs/pki.js'

export interface ContainerLogOptions {
  follow: boolean
  previous: boolean
  timestamps: boolean
  tailLines?: number
  sinceTime?: Date
  limitBytes?: number
}

/** A refusal the kubelet answers with `code` and `message` as plain text, as upstream does. */
export class LogError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message)
    this.name = 'LogError'
  }
}

export interface LogSource {
  /**
   * The container's log as it should reach the user (timestamps, tail, since and
   * limit applied); with `follow`, the iterable keeps going until the container
   * stops or `signal` aborts. Throws LogError for an unknown pod or container or one
   * that has not started.
   */
  containerLogs(namespace: string, pod: string, container: string, opts: ContainerLogOptions, signal: AbortSignal): Promise<AsyncIterable<Buffer | string>>
}

export interface KubeletServerOptions {
  logs: LogSource
  /** Names the self-signed certificate is good for (the node name, its IPs). */
  hostnames: readonly string[]
  ips: readonly string[]
  /** PEM certificate and key instead of a self-signed pair (the kubelet's --tls-cert-file). */
  tls?: { cert: string | Buffer; key: string | Buffer }
  /** What GET /metrics serves; absent: 404. */
  metrics?: Registry
}

function intParam(q: URLSearchParams, name: string, min: number): number | undefined {
  const v = q.get(name)
  if (v === null) return undefined
  const n = Number(v)
  if (v.trim() === '' || !Number.isInteger(n) || n < min) throw new LogError(400, `invalid ${name}: ${JSON.stringify(v)}`)
  return n
}

function boolParam(q: URLSearchParams, name: string): boolean {
  const v = q.get(name)
  return v === 'true' || v === '1' || v === ''
}

/** The query of /containerLogs as the kubelet reads it (sinceSeconds becomes a sinceTime). */
export function parseLogQuery(q: URLSearchParams, now = Date.now()): ContainerLogOptions {
  const opts: ContainerLogOptions = { follow: boolParam(q, 'follow'), previous: boolParam(q, 'previous'), timestamps: boolParam(q, 'timestamps') }
  const tail = intParam(q, 'tailLines', 0)
  if (tail !== undefined) opts.tailLines = tail
  const limit = intParam(q, 'limitBytes', 1)
  if (limit !== undefined) opts.limitBytes = limit
  const sinceSeconds = intParam(q, 'sinceSeconds', 1)
  const sinceTime = q.get('sinceTime')
  if (sinceSeconds !== undefined) opts.sinceTime = new Date(now - sinceSeconds * 1000)
  else if (sinceTime !== null) {
    const t = Date.parse(sinceTime)
    if (Number.isNaN(t)) throw new LogError(400, `invalid sinceTime: ${JSON.stringify(sinceTime)}`)
    opts.sinceTime = new Date(t)
  }
  return opts
}

export class KubeletServer {
  private server: Server | undefined
  private readonly sockets = new Set<Socket>()
  private readonly aborts = new Set<AbortController>()

  constructor(private readonly o: KubeletServerOptions) {}

  /** Listens; resolves with the bound port (0 picks a free one). */
  async listen(host: string, port: number): Promise<number> {
    const tls = this.o.tls ?? selfSigned(this.o.hostnames, this.o.ips)
    const server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => void this.handle(req, res))
    server.on('connection', (s: Socket) => {
      this.sockets.add(s)
      s.once('close', () => this.sockets.delete(s))
    })
    this.server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, host, () => {
        server.off('error', reject)
        resolve()
      })
    })
    return (server.address() as AddressInfo).port
  }

  async close(): Promise<void> {
    for (const a of this.aborts) a.abort()
    const server = this.server
    if (server === undefined) return
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    for (const s of this.sockets) s.destroy()
    await closed
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://kubelet')
    try {
      if (req.method !== 'GET') throw new LogError(405, 'method not allowed')
      if (url.pathname === '/healthz') return text(res, 200, 'ok')
      if (url.pathname === '/metrics' && this.o.metrics !== undefined) {
        const body = await this.o.metrics.metrics()
        res.writeHead(200, { 'Content-Type': this.o.metrics.contentType }).end(body)
        return
      }
      const m = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname)
      if (m === null) throw new LogError(404, `404 page not found: ${url.pathname}`)
      const [ns, pod, container] = [m[1]!, m[2]!, m[3]!].map(decodeURIComponent) as [string, string, string]
      await this.streamLogs(res, ns, pod, container, parseLogQuery(url.searchParams))
    } catch (err) {
      if (res.headersSent) res.destroy()
      else if (err instanceof LogError) text(res, err.code, err.message)
      else text(res, 500, err instanceof Error ? err.message : String(err))
    }
  }

  private async streamLogs(res: ServerResponse, ns: string, pod: string, container: string, opts: ContainerLogOptions): Promise<void> {
    const abort = new AbortController()
    this.aborts.add(abort)
    res.once('close', () => abort.abort())
    try {
      const chunks = await this.o.logs.containerLogs(ns, pod, container, opts, abort.signal)
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' })
      // Headers now, so `kubectl logs -f` of a quiet container shows it is connected.
      res.flushHeaders()
      for await (const chunk of chunks) {
        if (abort.signal.aborted) break
        if (!res.write(chunk)) await new Promise<void>((r) => res.once('drain', () => r()).once('close', () => r()))
      }
      res.end()
    } finally {
      this.aborts.delete(abort)
    }
  }
}

function text(res: ServerResponse, code: number, body: string): void {
  res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8' })
  res.end(body)
}

function selfSigned(hostnames: readonly string[], ips: readonly string[]): { cert: string; key: string } {
  const ca = newCA(`${hostnames[0] ?? 'kubelet'}-ca@${Math.floor(Date.now() / 1000)}`, 365)
  const pair = issueCert(ca, { commonName: `${hostnames[0] ?? 'kubelet'}@${Math.floor(Date.now() / 1000)}`, dnsNames: [...hostnames], ips: [...ips], usage: 'server' })
  return { cert: pair.certPem, key: pair.keyPem }
}
