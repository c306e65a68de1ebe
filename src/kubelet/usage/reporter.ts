// The kubelet's usage reports: a snapshot of the node's counters at start, then every
// interval another one, the usage over the window between the two (./rates.ts) sent
// to the masters (the node API's ReportResourceUsage), one call per interval. A report
// still in flight when the next is due makes that one skip; a failed one is logged and
// not retried (the next window's report replaces it anyway).
import { errorMessage, type Logger, silentLogger } from '../../client/index.js'
import type { ResourceUsageReport } from '../../client/node-grpc.js'
import { usageReport } from './rates.js'
import type { PodContainers, UsageSnapshot, UsageSource } from './types.js'

export const DEFAULT_USAGE_INTERVAL_MS = 15_000

/** The part of the node API client the reporter uses. */
export interface UsageReportClient {
  reportResourceUsage(report: ResourceUsageReport): Promise<void>
}

export interface UsageReporterOptions {
  client: UsageReportClient
  nodeName: string
  source: UsageSource
  /** The pods the kubelet runs now, with their containers. */
  pods: () => readonly PodContainers[]
  /** Default 15 s. */
  intervalMs?: number
  /** A container must have run this long to have usage from its start alone. Default: min(1 s, interval). */
  minWindowMs?: number
  logger?: Logger
}

export class UsageReporter {
  readonly intervalMs: number
  private readonly log: Logger
  private readonly minWindowMs: number
  private timer: NodeJS.Timeout | undefined
  private last: UsageSnapshot | undefined
  private busy: Promise<void> | undefined
  private stopped = false
  /** Reports sent successfully (tests, metrics). */
  sent = 0

  constructor(private readonly o: UsageReporterOptions) {
    this.intervalMs = o.intervalMs ?? DEFAULT_USAGE_INTERVAL_MS
    if (!(this.intervalMs > 0)) throw new Error(`usage reporter: interval must be > 0 ms, got ${this.intervalMs}`)
    this.minWindowMs = o.minWindowMs ?? Math.min(1000, this.intervalMs)
    this.log = o.logger ?? silentLogger
  }

  /** Takes the first snapshot now and reports every interval from then on. */
  start(): void {
    if (this.timer !== undefined || this.stopped) return
    void this.tick(false)
    this.timer = setInterval(() => void this.tick(true), this.intervalMs)
    this.timer.unref()
  }

  /** Takes a snapshot and sends the report of the window since the last one (tests; the timer does it otherwise). */
  reportNow(): Promise<void> {
    return this.tick(true)
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
    await this.busy
  }

  private tick(send: boolean): Promise<void> {
    if (this.stopped) return Promise.resolve()
    if (this.busy !== undefined) return this.busy
    this.busy = this.run(send).finally(() => (this.busy = undefined))
    return this.busy
  }

  private async run(send: boolean): Promise<void> {
    let report: ResourceUsageReport | undefined
    try {
      const cur = await this.o.source.snapshot(this.o.pods())
      const prev = this.last
      this.last = cur
      if (!send) return
      report = usageReport(this.o.nodeName, this.intervalMs, prev, cur, { minWindowMs: this.minWindowMs, maxWindowMs: 2 * this.intervalMs + this.minWindowMs })
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'resource usage not measured')
      return
    }
    if (report === undefined || this.stopped) return
    try {
      await this.o.client.reportResourceUsage(report)
      this.sent++
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'resource usage report failed')
    }
  }
}
