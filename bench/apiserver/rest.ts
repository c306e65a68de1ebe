// The bench's REST client: raw node:http with keep-alive, bodies as Buffers, no
// object conversion, so the client spends as little of the shared 2 cores as it can.
// Also the closed-loop and paced drivers every request row uses.
import { Agent, request } from 'node:http'
import { Histogram, wallMs } from '../kv/wire.js'

export interface RestResponse {
  status: number
  body: Buffer
}

export class RestClient {
  private readonly agent: Agent

  constructor(
    readonly baseUrl: string,
    maxSockets = 256,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets })
  }

  request(method: string, path: string, body?: Buffer | string, contentType = 'application/json', timeoutMs = 60_000): Promise<RestResponse> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = { Accept: 'application/json' }
      const payload = body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body) : body
      if (payload !== undefined) {
        headers['Content-Type'] = contentType
        headers['Content-Length'] = payload.length
      }
      const req = request(`${this.baseUrl}${path}`, { method, agent: this.agent, headers, timeout: timeoutMs }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks) }))
        res.on('error', reject)
      })
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)))
      req.on('error', reject)
      req.end(payload)
    })
  }

  /** A request that must answer 2xx; returns the parsed JSON body. */
  async json(method: string, path: string, body?: unknown, contentType?: string): Promise<Record<string, unknown>> {
    const res = await this.request(method, path, body === undefined ? undefined : JSON.stringify(body), contentType)
    if (res.status < 200 || res.status > 299) throw new Error(`${method} ${path}: HTTP ${res.status}: ${res.body.toString('utf8').slice(0, 300)}`)
    return JSON.parse(res.body.toString('utf8')) as Record<string, unknown>
  }

  close(): void {
    this.agent.destroy()
  }
}

export interface LoopResult {
  ops: number
  errors: number
  seconds: number
  hist: Histogram
  firstError?: string
}

/** What one request of a driver does: resolves to an error message, or undefined for success. */
export type Operation = (seq: number) => Promise<string | undefined>

async function timed(op: Operation, seq: number, r: LoopResult): Promise<void> {
  const t0 = performance.now()
  let err: string | undefined
  try {
    err = await op(seq)
  } catch (e) {
    err = (e as Error).message
  }
  if (err === undefined) {
    r.ops++
    r.hist.record(performance.now() - t0)
  } else {
    r.errors++
    r.firstError ??= err
  }
}

/** `concurrency` loops issuing op back to back until maxOps were started or `seconds` passed. */
export async function closedLoop(o: { concurrency: number; seconds: number; maxOps?: number; op: Operation }): Promise<LoopResult> {
  const r: LoopResult = { ops: 0, errors: 0, seconds: 0, hist: new Histogram() }
  const start = performance.now()
  const until = start + o.seconds * 1000
  let next = 0
  const loop = async () => {
    while (performance.now() < until && (o.maxOps === undefined || next < o.maxOps)) await timed(o.op, next++, r)
  }
  await Promise.all(Array.from({ length: o.concurrency }, loop))
  r.seconds = (performance.now() - start) / 1000
  return r
}

/**
 * Open loop: op started `rate` times a second for `seconds`, whether or not earlier
 * ones have answered (up to maxInFlight; later starts wait), so a slow server shows
 * as latency rather than as a lower offered rate.
 */
export async function pacedLoop(o: { rate: number; seconds: number; maxInFlight?: number; op: Operation }): Promise<LoopResult & { startedAtMs: number }> {
  const r: LoopResult = { ops: 0, errors: 0, seconds: 0, hist: new Histogram() }
  const total = Math.max(1, Math.round(o.rate * o.seconds))
  const maxInFlight = o.maxInFlight ?? 256
  const startedAtMs = wallMs()
  const start = performance.now()
  const inFlight = new Set<Promise<void>>()
  for (let seq = 0; seq < total; seq++) {
    const due = start + (seq * 1000) / o.rate
    const wait = due - performance.now()
    if (wait > 1) await new Promise((res) => setTimeout(res, wait))
    while (inFlight.size >= maxInFlight) await Promise.race(inFlight)
    const p = timed(o.op, seq, r).finally(() => inFlight.delete(p))
    inFlight.add(p)
  }
  await Promise.all(inFlight)
  r.seconds = (performance.now() - start) / 1000
  return { ...r, startedAtMs }
}
