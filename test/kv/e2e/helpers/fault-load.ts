// Continuous write load for the fault tests: N writers, each putting distinct keys
// (`<prefix>w07/000123`) one at a time over raw http2 gRPC (bench/kv/client.ts).
// Every put is recorded: acknowledged (key, value, revision from the response header)
// or failed. A failure is "refused" only when the connection could not be opened, so
// the request never reached a member; any other failure (a timeout, a reset stream,
// an etcd error) is an unknown outcome: the put may or may not have been applied.
// After a failure the writer moves on to the next member (a dead member's clients
// reconnect elsewhere, as clientv3's balancer does) and backs off a little.
import { randomBytes } from 'node:crypto'
import { Http2Channel, METHOD } from '../../../../bench/kv/client.js'
import { headerRevision, putRequest } from '../../../../bench/kv/wire.js'

export interface Ack {
  key: string
  value: string
  revision: number
  writer: number
  /** Date.now() when the request was sent and when its answer arrived. */
  sentAt: number
  ackAt: number
}

export interface Unknown {
  key: string
  value: string
  error: string
  sentAt: number
  endAt: number
}

export interface WriteLoadOptions {
  writers?: number
  /** Key prefix; keys are `${prefix}w<writer>/<seq>`. */
  prefix: string
  /** Client-side deadline of one put (default 3 s): past it the outcome is unknown. */
  deadlineMs?: number
  /** Bytes of random payload per value (default 32). */
  valueBytes?: number
  /** Pause after a failed put (default 50 ms). */
  backoffMs?: number
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export class WriteLoad {
  readonly acked = new Map<string, Ack>()
  readonly unknown = new Map<string, Unknown>()
  /** Puts that never reached a member (connection refused). */
  refused = 0
  /** Failure messages seen, with counts. */
  readonly errors = new Map<string, number>()
  startedAt = 0
  stoppedAt = 0
  private readonly channels: Http2Channel[]
  private stopping = false
  private loops: Promise<void>[] = []
  private readonly tag = randomBytes(4).toString('hex')

  constructor(
    readonly endpoints: string[],
    readonly opts: WriteLoadOptions,
  ) {
    this.channels = endpoints.map((e) => new Http2Channel(e))
  }

  start(): this {
    this.startedAt = Date.now()
    const n = this.opts.writers ?? 16
    for (let w = 0; w < n; w++) this.loops.push(this.writer(w))
    return this
  }

  /** Stop sending and wait for every put in flight to settle. */
  async stop(): Promise<void> {
    this.stopping = true
    await Promise.all(this.loops)
    this.loops = []
    this.stoppedAt ||= Date.now()
  }

  close(): void {
    this.stopping = true
    for (const c of this.channels) c.close()
  }

  private put(e: number, key: string, value: string, deadlineMs: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      let done = false
      const timer = setTimeout(() => {
        done = true
        reject(new Error(`client deadline ${deadlineMs} ms exceeded`))
      }, deadlineMs)
      this.channels[e]!.call(
        METHOD.put,
        putRequest(key, Buffer.from(value)),
        (err, res) => {
          if (done) return
          done = true
          clearTimeout(timer)
          if (err) reject(Object.assign(new Error(`${err.code} ${err.details}`), { grpcCode: err.code }))
          else resolve(res!)
        },
        deadlineMs,
      )
    })
  }

  private async writer(w: number): Promise<void> {
    const deadlineMs = this.opts.deadlineMs ?? 3000
    const backoff = this.opts.backoffMs ?? 50
    let e = w % this.endpoints.length
    for (let seq = 0; !this.stopping; seq++) {
      const key = `${this.opts.prefix}w${String(w).padStart(2, '0')}/${String(seq).padStart(6, '0')}`
      const value = `${key}@${this.tag}:${randomBytes(this.opts.valueBytes ?? 32).toString('base64')}`
      const sentAt = Date.now()
      try {
        const res = await this.put(e, key, value, deadlineMs)
        this.acked.set(key, { key, value, revision: headerRevision(res), writer: w, sentAt, ackAt: Date.now() })
      } catch (err) {
        const msg = (err as Error).message
        const kind = msg.replace(/\d+\.\d+\.\d+\.\d+:\d+/g, 'ADDR')
        this.errors.set(kind, (this.errors.get(kind) ?? 0) + 1)
        if (/ECONNREFUSED/.test(msg)) this.refused++
        else this.unknown.set(key, { key, value, error: msg, sentAt, endAt: Date.now() })
        e = (e + 1) % this.endpoints.length
        await sleep(backoff)
      }
    }
  }

  /** ms from `t` to the first acknowledgement of a put sent at or after `t` (undefined: none yet). */
  firstAckAfter(t: number): number | undefined {
    let first: number | undefined
    for (const a of this.acked.values()) if (a.sentAt >= t && (first === undefined || a.ackAt < first)) first = a.ackAt
    return first === undefined ? undefined : first - t
  }

  /** Wait until a put sent at or after `t` is acknowledged; returns the ms it took from t. */
  async waitAckAfter(t: number, timeoutMs: number): Promise<number | undefined> {
    const until = Date.now() + timeoutMs
    for (;;) {
      const d = this.firstAckAfter(t)
      if (d !== undefined || Date.now() > until) return d
      await sleep(50)
    }
  }

  /** Longest stretch (ms) between consecutive acknowledgements within [from, to]. */
  maxAckGap(from: number, to = Date.now()): number {
    const times = [...this.acked.values()].map((a) => a.ackAt).filter((x) => x >= from && x <= to).sort((a, b) => a - b)
    let gap = 0
    let prev = from
    for (const x of times) {
      gap = Math.max(gap, x - prev)
      prev = x
    }
    return Math.max(gap, to - prev)
  }

  get maxAckedRevision(): number {
    let m = 0
    for (const a of this.acked.values()) m = Math.max(m, a.revision)
    return m
  }

  /** Acks per second over the whole run so far. */
  rate(): number {
    return this.acked.size / Math.max(0.001, ((this.stoppedAt || Date.now()) - this.startedAt) / 1000)
  }

  errorSummary(limit = 5): string {
    return [...this.errors.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([k, n]) => `${n}× ${k}`)
      .join('; ')
  }
}
