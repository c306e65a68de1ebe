// The node's side of the kubelet's conversation with the masters: registration, the
// Lease heartbeat and node status reports, all over the node API (which fails over
// between masters by itself).
// - Registration is retried until it succeeds, every 100 ms doubling to 7 s, as the
//   kubelet's registerWithAPIServer.
// - The Lease in kube-node-lease is renewed every `leaseRenewIntervalMs` (10 s, a
//   quarter of its 40 s duration, with 4% jitter); a failed renewal is retried from
//   200 ms doubling to 7 s.
// - The status is computed every `statusUpdateFrequencyMs` (10 s) and sent when it
//   changed, or when `statusReportFrequencyMs` (5 min) passed since the last report.
//   The node API cannot read the Node back, so the kubelet cannot see conditions the
//   node lifecycle controller set while it was away; a renewal that succeeds after a
//   failed one therefore forces a report (a kubelet back from a partition or a master
//   loss puts Ready=True back at once rather than up to 5 min later).
import { errorMessage, type KubeObject, type Logger, silentLogger } from '../client/index.js'
import type { NodeApiClient } from '../client/node-grpc.js'
import { nodeStatusChanged } from './node-status.js'
import type { Json } from './runtime/types.js'

export interface NodeSyncOptions {
  client: NodeApiClient
  nodeName: string
  /** The Node to register, with a fresh status. */
  registration(): KubeObject
  /** The status to report now, given the conditions last reported. */
  status(previousConditions: readonly Json[]): Json
  /** The Node as stored, whenever a call returns it. */
  onNode(node: KubeObject): void
  /** A report was sent: `before` is the status last reported (undefined for the registration's). */
  onReported?(before: Json | undefined, after: Json): void
  leaseRenewIntervalMs?: number
  statusUpdateFrequencyMs?: number
  statusReportFrequencyMs?: number
  logger?: Logger
}

const REGISTER_BACKOFF = { min: 100, max: 7_000 }
const LEASE_BACKOFF = { min: 200, max: 7_000 }

export class NodeSync {
  private stopped = false
  private readonly timers = new Set<NodeJS.Timeout>()
  private reported: Json | undefined
  private lastReportAt = 0
  private forceReport = false
  private leaseFailures = 0
  private statusRunning = false
  /** Calls in flight: stop() waits for them, so nothing lands after it returns. */
  private readonly calls = new Set<Promise<unknown>>()
  private readonly log: Logger
  private readonly leaseMs: number
  private readonly updateMs: number
  private readonly reportMs: number
  private registeredResolve!: () => void
  /** Resolves once the node is registered. */
  readonly registered: Promise<void>

  constructor(private readonly o: NodeSyncOptions) {
    this.log = o.logger ?? silentLogger
    this.leaseMs = o.leaseRenewIntervalMs ?? 10_000
    this.updateMs = o.statusUpdateFrequencyMs ?? 10_000
    this.reportMs = o.statusReportFrequencyMs ?? 300_000
    this.registered = new Promise((resolve) => (this.registeredResolve = resolve))
  }

  start(): void {
    void this.register(REGISTER_BACKOFF.min)
  }

  /** Ends the loops; resolves once no call of theirs is still on its way. */
  async stop(): Promise<void> {
    this.stopped = true
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
    await Promise.allSettled([...this.calls])
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.calls.add(p)
    void p.then(
      () => this.calls.delete(p),
      () => this.calls.delete(p),
    )
    return p
  }

  /** Computes the status now and reports it if it changed (or `force`). */
  async syncStatus(force = false): Promise<void> {
    if (force) this.forceReport = true
    if (this.stopped || this.statusRunning || this.reported === undefined) return
    this.statusRunning = true
    try {
      const status = this.o.status(conditionsOf(this.reported))
      const due = Date.now() - this.lastReportAt >= this.reportMs
      if (!this.forceReport && !due && !nodeStatusChanged(this.reported, status)) return
      const node = await this.track(this.o.client.updateNodeStatus(this.o.nodeName, status))
      if (this.stopped) return
      const before = this.reported
      this.reported = status
      this.lastReportAt = Date.now()
      this.forceReport = false
      this.o.onNode(node)
      this.o.onReported?.(before, status)
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'node status update failed; retrying')
      this.forceReport = true
    } finally {
      this.statusRunning = false
    }
  }

  private later(ms: number, fn: () => void): void {
    if (this.stopped) return
    const t = setTimeout(() => {
      this.timers.delete(t)
      if (!this.stopped) fn()
    }, ms)
    this.timers.add(t)
  }

  private async register(delayMs: number): Promise<void> {
    if (this.stopped) return
    const node = this.o.registration()
    try {
      const res = await this.track(this.o.client.registerNode(node))
      if (this.stopped) return
      this.reported = (node.status ?? {}) as Json
      this.lastReportAt = Date.now()
      this.log.info({ created: res.created }, res.created ? 'node registered' : 'node was registered before')
      this.o.onNode(res.node)
      this.o.onReported?.(undefined, this.reported)
      this.registeredResolve()
      this.later(0, () => void this.renewLease())
      // Spread the status checks of many nodes started together over one period.
      this.later(Math.random() * this.updateMs, () => this.statusLoop())
    } catch (err) {
      this.log.warn({ err: errorMessage(err), retryInMs: delayMs }, 'unable to register node; retrying')
      this.later(delayMs, () => void this.register(Math.min(REGISTER_BACKOFF.max, delayMs * 2)))
    }
  }

  private async renewLease(): Promise<void> {
    try {
      await this.track(this.o.client.renewNodeLease(this.o.nodeName))
      if (this.stopped) return
      if (this.leaseFailures > 0) {
        this.leaseFailures = 0
        void this.syncStatus(true)
      }
      this.later(this.leaseMs * (1 + Math.random() * 0.04), () => void this.renewLease())
    } catch (err) {
      if (this.stopped) return
      const delay = Math.min(LEASE_BACKOFF.max, LEASE_BACKOFF.min * 2 ** this.leaseFailures)
      this.leaseFailures++
      this.log.warn({ err: errorMessage(err), retryInMs: delay }, 'failed to renew the node lease; retrying')
      this.later(delay, () => void this.renewLease())
    }
  }

  private statusLoop(): void {
    void this.syncStatus().finally(() => this.later(this.updateMs, () => this.statusLoop()))
  }
}

function conditionsOf(status: Json | undefined): Json[] {
  const c = status?.conditions
  return Array.isArray(c) ? (c as Json[]) : []
}
