// The workload behind the linearizability tests: `clients` clients, each sending one
// operation at a time — a linearizable read (Range), a write (Put) or a
// compare-and-set (a Txn comparing the value, its failure branch reading the key) —
// on a few keys, to a member picked at random for every operation, and recording each
// call and answer on one monotonic clock as a history for ./checker/. Every value is
// written once. An operation that fails (timeout, lost connection, no leader) has an
// unknown outcome: a read is left out, a write or compare-and-set is recorded as never
// answered. Bounded by count and time.
import * as grpc from '@grpc/grpc-js'
import { loadEtcdProto } from '../../src/kv/etcd-proto.js'
import type { RegisterInput, RegisterOperation, RegisterOutput } from './checker/register.js'

type Wire = Record<string, unknown>
type Rpc = (req: object, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Wire) => void) => void
type KvClient = grpc.Client & Record<string, Rpc>

const OPTIONS: grpc.ChannelOptions = {
  'grpc.use_local_subchannel_pool': 1,
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 500,
}

export interface RegisterLoadOptions {
  endpoints: readonly string[]
  keys: readonly string[]
  clients: number
  /** Per operation; past it the outcome is unknown. */
  timeoutMs?: number
  /** Stop after this many operations in all. */
  maxOperations?: number
  /** Reads are served without consensus (etcd's serializable reads): not linearizable. */
  serializable?: boolean
  /** Which member client c sends to (default: one at random per operation). */
  pick?: (client: number) => number
  /** The last `readers` clients only read. */
  readers?: number
}

/** An operation of the history, with the member it was sent to. */
export type LoadOperation = RegisterOperation & { member: number }

export class RegisterLoad {
  readonly history: LoadOperation[] = []
  readonly errors = new Map<string, number>()
  /** The revision at which each acknowledged write (or successful compare-and-set) took effect, by value. */
  readonly acked = new Map<string, number>()
  private readonly kv: KvClient[]
  private running = false
  private loops: Promise<void>[] = []
  private next = 0

  constructor(private readonly o: RegisterLoadOptions) {
    const KV = (grpc.loadPackageDefinition(loadEtcdProto()) as unknown as { etcdserverpb: { KV: new (a: string, c: grpc.ChannelCredentials, o: grpc.ChannelOptions) => KvClient } }).etcdserverpb.KV
    this.kv = o.endpoints.map((e) => new KV(e, grpc.credentials.createInsecure(), OPTIONS))
  }

  start(): this {
    this.running = true
    this.loops = Array.from({ length: this.o.clients }, (_, c) => this.loop(c))
    return this
  }

  async stop(): Promise<void> {
    this.running = false
    await Promise.all(this.loops)
  }

  close(): void {
    this.running = false
    for (const c of this.kv) c.close()
  }

  /** Answered operations by kind, and unknown outcomes. */
  counts(): Record<string, number> {
    const c: Record<string, number> = { read: 0, write: 0, cas: 0, unknown: 0 }
    for (const o of this.history) c[Number.isFinite(o.ret) ? o.input.f : 'unknown']!++
    return c
  }

  private async loop(client: number): Promise<void> {
    const max = this.o.maxOperations ?? 100_000
    while (this.running && this.history.length < max) {
      const key = this.o.keys[Math.floor(Math.random() * this.o.keys.length)]!
      const r = client >= this.o.clients - (this.o.readers ?? 0) ? 0 : Math.random()
      const value = `c${client}-${this.next++}`
      const input: RegisterInput = r < 0.5 ? { f: 'read' } : r < 0.75 ? { f: 'write', value } : { f: 'cas', expected: this.lastSeen.get(key) ?? value, value }
      const member = this.o.pick?.(client) ?? Math.floor(Math.random() * this.kv.length)
      const call = performance.now()
      try {
        const output = await this.send(this.kv[member]!, key, input)
        this.history.push({ object: key, client, input, output, call, ret: performance.now(), member })
      } catch (err) {
        // Short: "No connection established. Last error: …" differs only by port.
        const what = ((err as grpc.ServiceError).details ?? (err as Error).message).replace(/(\. Last error| after \d).*$/s, '').slice(0, 60)
        this.errors.set(what, (this.errors.get(what) ?? 0) + 1)
        if (input.f !== 'read') this.history.push({ object: key, client, input, call, ret: Infinity, member })
        // A member that is down: do not spin on it.
        await new Promise((r) => setTimeout(r, 20))
      }
    }
  }

  /** The newest value any client read, so compare-and-sets have a fair chance. */
  private readonly lastSeen = new Map<string, string>()

  private async send(kv: KvClient, key: string, input: RegisterInput): Promise<RegisterOutput> {
    const k = Buffer.from(key)
    if (input.f === 'read') {
      const res = await this.call(kv, 'Range', { key: k, serializable: this.o.serializable === true })
      return { value: this.valueOf(key, res.kvs as Wire[]) }
    }
    if (input.f === 'write') {
      const res = await this.call(kv, 'Put', { key: k, value: Buffer.from(input.value) })
      this.acked.set(input.value, Number((res.header as Wire).revision))
      return {}
    }
    const res = await this.call(kv, 'Txn', {
      compare: [{ result: 'EQUAL', target: 'VALUE', key: k, value: Buffer.from(input.expected) }],
      success: [{ request_put: { key: k, value: Buffer.from(input.value) } }],
      failure: [{ request_range: { key: k } }],
    })
    if (res.succeeded === true) {
      this.acked.set(input.value, Number((res.header as Wire).revision))
      return { succeeded: true }
    }
    const range = ((res.responses as Wire[])[0]?.response_range ?? {}) as Wire
    return { succeeded: false, value: this.valueOf(key, (range.kvs as Wire[] | undefined) ?? []) }
  }

  private valueOf(key: string, kvs: Wire[]): string | null {
    const kv = kvs[0]
    if (kv === undefined) return null
    const v = (kv.value as Buffer).toString()
    this.lastSeen.set(key, v)
    return v
  }

  private call(kv: KvClient, method: string, req: object): Promise<Wire> {
    return new Promise((resolve, reject) => kv[method]!.call(kv, req, { deadline: Date.now() + (this.o.timeoutMs ?? 3000) }, (err, res) => (err ? reject(err) : resolve(res!))))
  }
}
