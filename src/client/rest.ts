// JSON over HTTP(S) to the apiservers of every master. Requests stick to the master
// that last answered; one that refuses, breaks, times out or answers 503 hands the
// request to the next. What may be sent again follows what the server can have seen:
// a request that never left (refused connection, a keep-alive socket the server had
// already closed) or was turned away (429, 503) is retried for any verb; one that may
// have been processed (timeout or reset after sending, other 5xx) only for GET.
import http from 'node:http'
import https from 'node:https'
import type { ResourceType } from '../api/resources.js'
import { type Clock, realClock, sleep } from './clock.js'
import { ConnectionError, errorFromResponse } from './errors.js'
import { type Logger, silentLogger } from './logger.js'
import { ResourceClient } from './resource.js'
import { TokenBucket } from './token-bucket.js'
import type { KubeObject } from './types.js'

export interface TlsOptions {
  ca?: string | Buffer | (string | Buffer)[]
  cert?: string | Buffer
  key?: string | Buffer
  /** Accept any server certificate (tests only, as kubeconfig's insecure-skip-tls-verify). */
  insecureSkipVerify?: boolean
  /** The name to verify the server's certificate against, when it differs from the URL's host. */
  serverName?: string
}

export interface RestClientOptions {
  /** Base URLs of the apiservers, e.g. `https://127.0.0.1:6443`. */
  urls: string | readonly string[]
  token?: string
  tls?: TlsOptions
  userAgent?: string
  /** Client-side rate limit (client-go's defaults of 5/10 are too low for our controllers). <= 0: unlimited. */
  qps?: number
  burst?: number
  /** Per attempt, until the whole response (or a stream's headers) arrived. 0: none. */
  timeoutMs?: number
  /** Retries paced by backoff or Retry-After (moving to another master after a failure is free). */
  maxRetries?: number
  backoff?: { initialMs?: number; maxMs?: number }
  clock?: Clock
  logger?: Logger
  /**
   * Headers added to every request (over the defaults above, under a request's own
   * Accept/Content-Type). A function is called again for every attempt, so a retry
   * carries what holds at that moment; one that throws refuses the request with its
   * error before anything is sent (fenced clients use this, see src/leader-election).
   */
  headers?: Record<string, string> | (() => Record<string, string> | undefined)
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

export type QueryValue = string | number | boolean | undefined

export interface RequestOptions {
  method: HttpMethod
  /** Absolute path below the base URL: `/api/v1/namespaces/default/pods`. */
  path: string
  query?: Record<string, QueryValue>
  /** Sent as JSON, unless already a string or Buffer. */
  body?: unknown
  contentType?: string
  accept?: string
  signal?: AbortSignal
  /** Overrides the client's per-attempt timeout. */
  timeoutMs?: number
  /** Overrides the client's maxRetries (0: fail on the first 429/5xx; failover still happens). */
  maxRetries?: number
}

export interface RawResponse {
  statusCode: number
  headers: http.IncomingHttpHeaders
  body: Buffer
}

export interface StreamResponse {
  statusCode: number
  headers: http.IncomingHttpHeaders
  /** The response body, unread. */
  stream: http.IncomingMessage
  /** Destroy it to end the stream. */
  request: http.ClientRequest
  /** The master that is streaming. */
  url: string
}

type Attempt = { kind: 'buffered'; res: RawResponse } | { kind: 'stream'; res: StreamResponse }

const DEFAULT_QPS = 50
const DEFAULT_BURST = 100
const DEFAULT_TIMEOUT_MS = 30_000
const DEFAULT_MAX_RETRIES = 5
const MAX_RETRY_AFTER_MS = 60_000

// Errors that happen before a single byte reaches the server.
const CONNECT_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL', 'ECONNABORTED'])

export class RestClient {
  readonly urls: readonly URL[]
  private current = 0
  private readonly limiter: TokenBucket
  private readonly httpAgent: http.Agent
  private readonly httpsAgent: https.Agent
  private readonly clock: Clock
  private readonly log: Logger
  private readonly timeoutMs: number
  private readonly maxRetries: number
  private readonly backoffInitialMs: number
  private readonly backoffMaxMs: number
  private readonly headers: Record<string, string>
  private readonly extraHeaders: RestClientOptions['headers']
  /** What this client was made with, so a variant can be made from it (withOptions). */
  readonly options: Readonly<RestClientOptions>

  constructor(opts: RestClientOptions) {
    this.options = { ...opts }
    const list = typeof opts.urls === 'string' ? [opts.urls] : [...opts.urls]
    if (list.length === 0) throw new Error('RestClient needs at least one apiserver URL')
    this.urls = list.map((u) => new URL(u))
    this.clock = opts.clock ?? realClock
    this.log = opts.logger ?? silentLogger
    this.limiter = new TokenBucket(opts.qps ?? DEFAULT_QPS, opts.burst ?? DEFAULT_BURST, this.clock)
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS
    this.maxRetries = opts.maxRetries ?? DEFAULT_MAX_RETRIES
    this.backoffInitialMs = opts.backoff?.initialMs ?? 250
    this.backoffMaxMs = opts.backoff?.maxMs ?? 4_000
    this.httpAgent = new http.Agent({ keepAlive: true })
    const tls = opts.tls ?? {}
    this.httpsAgent = new https.Agent({
      keepAlive: true,
      ca: tls.ca,
      cert: tls.cert,
      key: tls.key,
      rejectUnauthorized: tls.insecureSkipVerify !== true,
      servername: tls.serverName,
    })
    this.headers = {
      'User-Agent': opts.userAgent ?? `raftplane-client/0.1.0 (${process.platform}/${process.arch})`,
      Accept: 'application/json',
    }
    if (opts.token !== undefined) this.headers.Authorization = `Bearer ${opts.token}`
    this.extraHeaders = opts.headers
  }

  /**
   * A new client with this one's options, `changes` replacing the fields they name
   * (a `headers` given here replaces this client's, it does not add to them). It has
   * its own connections, rate limit and current master; close() it on its own.
   */
  withOptions(changes: Partial<RestClientOptions>): RestClient {
    return new RestClient({ ...this.options, ...changes })
  }

  /** Typed access to one resource, in one namespace (or all, for lists and watches). */
  resource<T extends KubeObject = KubeObject>(type: ResourceType, namespace?: string): ResourceClient<T> {
    return new ResourceClient<T>(this, type, namespace)
  }

  /** The master requests go to now. */
  get currentUrl(): string {
    return this.urls[this.current].toString()
  }

  /** Sends a request and reads the whole response; non-2xx answers throw ApiError. */
  async request(opts: RequestOptions): Promise<RawResponse> {
    const a = await this.execute(opts, false)
    if (a.kind !== 'buffered') throw new Error('unreachable: buffered request answered with a stream')
    return a.res
  }

  async requestJson<R>(opts: RequestOptions): Promise<R> {
    const res = await this.request(opts)
    return JSON.parse(res.body.toString('utf8')) as R
  }

  /** Sends a request and hands back the response body unread once a 2xx status arrived. */
  async stream(opts: RequestOptions): Promise<StreamResponse> {
    const a = await this.execute(opts, true)
    if (a.kind !== 'stream') throw new Error('unreachable: stream request answered with a buffer')
    return a.res
  }

  /** Closes idle keep-alive connections. Streams in flight are left to their owners. */
  close(): void {
    this.httpAgent.destroy()
    this.httpsAgent.destroy()
  }

  private async execute(opts: RequestOptions, stream: boolean): Promise<Attempt> {
    const maxRetries = opts.maxRetries ?? this.maxRetries
    const idempotent = opts.method === 'GET'
    let triedInRound = 0
    let retries = 0
    const nextRound = async (err: Error, minDelayMs = 0): Promise<void> => {
      triedInRound = 0
      if (retries >= maxRetries) throw err
      retries++
      const delay = Math.max(minDelayMs, this.backoffDelay(retries))
      if (!(await sleep(this.clock, delay, opts.signal))) throw abortError(opts.signal)
    }

    for (;;) {
      if (!(await this.limiter.wait(opts.signal))) throw abortError(opts.signal)
      const idx = this.current
      let attempt: Attempt
      try {
        attempt = await this.sendOnce(this.urls[idx], opts, stream)
      } catch (err) {
        if (!(err instanceof ConnectionError)) throw err
        this.failover(idx, err.message)
        if (!err.notSent && !idempotent) throw err
        if (++triedInRound < this.urls.length) continue
        await nextRound(err)
        continue
      }
      const statusCode = attempt.res.statusCode
      if (statusCode < 300 || attempt.kind === 'stream') return attempt

      const error = errorFromResponse(statusCode, attempt.res.body, headerValue(attempt.res.headers['retry-after']))
      const retryAfterMs = Math.min(MAX_RETRY_AFTER_MS, (error.retryAfterSeconds ?? 0) * 1000)
      if (statusCode === 429) {
        triedInRound = 0
        if (retries >= maxRetries) throw error
        retries++
        // Without a Retry-After the server gave no hint: wait a second, as client-go does.
        const wait = error.retryAfterSeconds === undefined ? 1000 : retryAfterMs
        this.log.debug({ url: this.urls[idx].origin, path: opts.path, wait }, 'throttled by the apiserver; retrying')
        if (!(await sleep(this.clock, wait, opts.signal))) throw abortError(opts.signal)
        continue
      }
      if (statusCode === 503) {
        this.failover(idx, error.message)
        if (++triedInRound < this.urls.length) continue
        await nextRound(error, retryAfterMs)
        continue
      }
      if (statusCode >= 500 && idempotent) {
        await nextRound(error, retryAfterMs)
        continue
      }
      throw error
    }
  }

  private failover(idx: number, why: string): void {
    if (this.urls.length === 1 || this.current !== idx) return
    this.current = (idx + 1) % this.urls.length
    this.log.warn({ from: this.urls[idx].origin, to: this.urls[this.current].origin, reason: why }, 'apiserver failed; switching to the next master')
  }

  private backoffDelay(retry: number): number {
    const base = Math.min(this.backoffMaxMs, this.backoffInitialMs * 2 ** (retry - 1))
    return base * (0.5 + Math.random() / 2)
  }

  private sendOnce(base: URL, opts: RequestOptions, stream: boolean): Promise<Attempt> {
    const url = joinUrl(base, opts.path, opts.query)
    const origin = url.origin
    const secure = url.protocol === 'https:'
    const extra = typeof this.extraHeaders === 'function' ? this.extraHeaders() : this.extraHeaders
    const headers: Record<string, string> = { ...this.headers, ...extra }
    if (opts.accept !== undefined) headers.Accept = opts.accept
    let payload: Buffer | undefined
    if (opts.body !== undefined) {
      payload = Buffer.isBuffer(opts.body) ? opts.body : Buffer.from(typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body))
      headers['Content-Type'] = opts.contentType ?? 'application/json'
      headers['Content-Length'] = String(payload.length)
    }
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs

    return new Promise<Attempt>((resolve, reject) => {
      const signal = opts.signal
      if (signal?.aborted) return reject(abortError(signal))
      const req = (secure ? https : http).request(url, { method: opts.method, headers, agent: secure ? this.httpsAgent : this.httpAgent })
      let connected = false
      let responded = false
      let settled = false

      const cleanup = (): void => {
        timer?.cancel()
        signal?.removeEventListener('abort', onAbort)
      }
      const fail = (err: Error): void => {
        if (settled) return
        settled = true
        cleanup()
        req.destroy()
        reject(err)
      }
      const onAbort = (): void => fail(abortError(signal))
      const timer =
        timeoutMs > 0
          ? this.clock.setTimeout(
              () => fail(new ConnectionError(`request to ${origin} timed out after ${timeoutMs}ms`, 'ETIMEDOUT', origin, !connected)),
              timeoutMs,
            )
          : undefined
      signal?.addEventListener('abort', onAbort, { once: true })

      req.on('socket', (socket) => {
        if (!socket.connecting) connected = true
        else socket.once(secure ? 'secureConnect' : 'connect', () => (connected = true))
      })
      req.on('error', (err: NodeJS.ErrnoException) => {
        const code = err.code ?? 'ECONNRESET'
        // A keep-alive socket the server closed while idle: the request never got in.
        const staleSocket = req.reusedSocket && !responded && (code === 'ECONNRESET' || code === 'EPIPE')
        const notSent = CONNECT_CODES.has(code) || !connected || staleSocket
        fail(new ConnectionError(`${opts.method} ${origin}${opts.path}: ${err.message}`, code, origin, notSent, { cause: err }))
      })
      req.on('response', (res) => {
        responded = true
        const statusCode = res.statusCode ?? 0
        if (stream && statusCode >= 200 && statusCode < 300) {
          settled = true
          timer?.cancel()
          // The caller's signal keeps governing the stream until it closes.
          signal?.removeEventListener('abort', onAbort)
          if (signal !== undefined) {
            const stopStream = (): void => void req.destroy()
            signal.addEventListener('abort', stopStream, { once: true })
            res.once('close', () => signal.removeEventListener('abort', stopStream))
          }
          resolve({ kind: 'stream', res: { statusCode, headers: res.headers, stream: res, request: req, url: origin } })
          return
        }
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('error', (err) => fail(new ConnectionError(`${opts.method} ${origin}${opts.path}: ${err.message}`, 'ECONNRESET', origin, false, { cause: err })))
        res.on('end', () => {
          if (settled) return
          settled = true
          cleanup()
          resolve({ kind: 'buffered', res: { statusCode, headers: res.headers, body: Buffer.concat(chunks) } })
        })
      })
      req.end(payload)
    })
  }
}

function headerValue(h: string | string[] | undefined): string | undefined {
  return Array.isArray(h) ? h[0] : h
}

function joinUrl(base: URL, path: string, query: Record<string, QueryValue> | undefined): URL {
  const url = new URL(base.toString())
  url.pathname = base.pathname.replace(/\/+$/, '') + path
  if (query !== undefined) {
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v))
  }
  return url
}

export function abortError(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason
  if (reason instanceof Error) return reason
  const err = new Error('the request was aborted')
  err.name = 'AbortError'
  return err
}
