// Lease-based leader election with client-go's semantics: every candidate tries to
// acquire the Lease every retryPeriod (jittered); the holder renews it every
// retryPeriod; others take it over only once it has not changed for
// leaseDurationSeconds by their own clock. Unlike kube-scheduler, which exits when it
// loses the lease, the process stays up: the leader-only loop is stopped and the
// elector campaigns again.
//
// The safety argument: a renewal that starts at local time t lands after t, so every
// other candidate sees the change at t or later and will not take over before
// t + leaseDuration. The leader stops acting at t + renewDeadline < t + leaseDuration,
// measured on its monotonic clock by a timer, and again checked by every wake-up and
// by every fence() call — so a process paused by SIGSTOP (or a stalled event loop)
// notices it is stale before it does anything else. Writes that still race past are
// refused by the apiserver's fence (fencing.ts).
import type { Gauge } from 'prom-client'
import { type Clock, realClock, sleep, type Timer } from '../client/clock.js'
import { isConflict, isNotFound } from '../client/errors.js'
import { EventRecorder } from '../client/events.js'
import { errorMessage, type Logger, silentLogger } from '../client/logger.js'
import type { RestClient, RestClientOptions } from '../client/rest.js'
import { type Fence, fencedClient, type FenceSource } from './fencing.js'
import { LeaseLock } from './lease-lock.js'
import { masterStatusGauge } from './metrics.js'
import { JITTER_FACTOR, type LeaderElectorOptions, type Timings, timings, validateOptions } from './options.js'
import { decide, type LeaderElectionRecord, leaseDurationSeconds, microTime, ObservedRecord, wallClockMs } from './record.js'

/** One uninterrupted period of leadership. */
interface Term {
  id: number
  /** Aborted the moment the term ends; handed to onStartedLeading. */
  abort: AbortController
  /** Local time at which the last successful write of the Lease (acquire or renew) was started. */
  renewedAt: number
  deadline: Timer | undefined
  /** Fenced clients made for this term, closed when it ends. */
  clients: RestClient[]
}

export class LeaderElector implements FenceSource {
  /** `<namespace>/<name>` of the Lease. */
  readonly lease: string
  readonly identity: string
  readonly name: string
  readonly namespace: string
  private readonly timings: Timings
  private readonly durationSeconds: number
  private readonly releaseOnCancel: boolean
  private readonly clock: Clock
  private readonly log: Logger
  private readonly lock: LeaseLock
  private readonly observed = new ObservedRecord()
  private readonly gauge: Gauge<'name'> | undefined
  private readonly events: EventRecorder
  private term: Term | undefined
  private terms = 0
  private reportedLeader = ''
  private running = false

  constructor(private readonly opts: LeaderElectorOptions) {
    validateOptions(opts)
    this.namespace = opts.namespace ?? 'kube-system'
    this.name = opts.name
    this.identity = opts.identity
    this.lease = `${this.namespace}/${this.name}`
    this.timings = timings(opts)
    this.durationSeconds = leaseDurationSeconds(this.timings.leaseDurationMs)
    this.releaseOnCancel = opts.releaseOnCancel ?? true
    this.clock = opts.clock ?? realClock
    this.log = opts.logger ?? silentLogger
    this.lock = new LeaseLock(opts.client, this.namespace, this.name)
    this.events = new EventRecorder({ client: opts.client, component: this.name, clock: this.clock, logger: this.log })
    this.gauge = opts.metrics === undefined ? undefined : masterStatusGauge(opts.metrics)
    this.gauge?.set({ name: this.name }, 0)
  }

  /**
   * Campaigns until `signal` aborts: acquire, lead while renewals succeed, campaign
   * again after a loss. On abort, leadership ends at once and, with releaseOnCancel,
   * the Lease is released before this resolves.
   */
  async run(signal: AbortSignal): Promise<void> {
    if (this.running) throw new Error(`leader election for ${this.lease} is already running`)
    this.running = true
    const onAbort = (): void => this.stopLeading('leader election was stopped', 'info')
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      while (!signal.aborted) {
        if (!(await this.acquire(signal))) break
        await this.renewWhileLeading()
      }
    } finally {
      signal.removeEventListener('abort', onAbort)
      this.stopLeading('leader election was stopped', 'info')
      if (this.releaseOnCancel) await this.release()
      this.running = false
    }
  }

  /** Whether we lead right now: false as soon as the renew deadline has passed, even before any timer ran. */
  isLeader(): boolean {
    const term = this.term
    return term !== undefined && !this.expired(term)
  }

  /** The holder last observed in the Lease (ours included); undefined when none or released. */
  getLeader(): string | undefined {
    const h = this.observed.holder
    return h === '' ? undefined : h
  }

  /** What a write must be conditioned on now; undefined when not leading. */
  fence(): Fence | undefined {
    return this.isLeader() ? { lease: this.lease, holder: this.identity } : undefined
  }

  /**
   * A client for the leader-only loop whose requests carry fence() and are refused
   * locally when it is undefined. Made while leading (as in onStartedLeading), it
   * serves that term only: should this elector lead again later, the old loop's
   * client stays refused rather than act beside the new loop under the same identity,
   * and it is closed when its term ends (requests in flight are cut off). Made while not
   * leading, it follows whichever term is current; close() that one yourself.
   */
  fencedClient(base: RestClient | RestClientOptions): RestClient {
    const term = this.term
    const bound = term?.id
    const c = fencedClient(base, {
      lease: this.lease,
      identity: this.identity,
      fence: () => {
        const f = this.fence()
        return f !== undefined && (bound === undefined || this.term?.id === bound) ? f : undefined
      },
    })
    term?.clients.push(c)
    return c
  }

  private async acquire(signal: AbortSignal): Promise<boolean> {
    this.log.info({ lease: this.lease, identity: this.identity }, `attempting to acquire leader lease ${this.lease}...`)
    for (;;) {
      if (signal.aborted) return false
      const start = this.clock.now()
      const ok = await this.tryAcquireOrRenew(signal)
      this.maybeReportTransition()
      if (ok && !signal.aborted) {
        // Others count from when they saw our write, which was after `start`.
        if (this.clock.now() - start < this.timings.renewDeadlineMs) {
          this.startLeading(start)
          return true
        }
        this.log.warn({ lease: this.lease }, 'acquired the lease too slowly to lead on it; trying again')
      }
      const wait = this.timings.retryPeriodMs * (1 + Math.random() * JITTER_FACTOR)
      if (!(await sleep(this.clock, wait, signal))) return false
    }
  }

  private async renewWhileLeading(): Promise<void> {
    const term = this.term
    if (term === undefined) return
    const signal = term.abort.signal
    while (this.term === term) {
      if (!(await sleep(this.clock, this.timings.retryPeriodMs, signal))) return
      // A wake-up after a pause (SIGSTOP, a blocked event loop) may already be too late.
      if (this.expired(term)) return
      const start = this.clock.now()
      const ok = await this.tryAcquireOrRenew(signal)
      this.maybeReportTransition()
      // The previous deadline may have passed while the request was out.
      if (this.expired(term)) return
      if (ok) {
        term.renewedAt = start
        this.armDeadline(term)
        this.log.debug({ lease: this.lease }, `successfully renewed lease ${this.lease}`)
        continue
      }
      const holder = this.observed.holder
      if (holder !== this.identity) {
        this.stopLeading(holder === '' ? `lease ${this.lease} was released` : `lease ${this.lease} is held by ${holder}`, 'warn')
        return
      }
      // A failed attempt: try again next period; the deadline timer ends the term if none succeeds.
    }
  }

  /**
   * One attempt (client-go's tryAcquireOrRenew): true when the Lease now names us with
   * a fresh renewTime. Never throws; failures are logged.
   */
  private async tryAcquireOrRenew(signal: AbortSignal): Promise<boolean> {
    const now = microTime(wallClockMs())
    const desired: LeaderElectionRecord = {
      holderIdentity: this.identity,
      leaseDurationSeconds: this.durationSeconds,
      acquireTime: now,
      renewTime: now,
      leaseTransitions: 0,
    }
    // Fast path: we hold it by what we last wrote; write over that version without reading.
    const last = this.observed.record
    if (last !== undefined && last.holderIdentity === this.identity && this.observed.isValid(this.clock.now()) && this.lock.initialized) {
      const renewal = { ...desired, acquireTime: last.acquireTime, leaseTransitions: last.leaseTransitions }
      try {
        await this.lock.update(renewal, signal)
        this.observed.wrote(renewal, this.clock.now())
        return true
      } catch (err) {
        if (signal.aborted) return false
        this.log.debug({ lease: this.lease, err: errorMessage(err) }, 'failed to update lock optimistically, falling back to slow path')
      }
    }

    let current: LeaderElectionRecord
    try {
      current = await this.lock.get(signal)
    } catch (err) {
      if (signal.aborted) return false
      if (!isNotFound(err)) {
        this.log.error({ lease: this.lease, err: errorMessage(err) }, `error retrieving resource lock ${this.lease}`)
        return false
      }
      try {
        await this.lock.create(desired, signal)
      } catch (createErr) {
        if (!signal.aborted) this.log.error({ lease: this.lease, err: errorMessage(createErr) }, 'error initially creating leader election record')
        return false
      }
      this.observed.wrote(desired, this.clock.now())
      return true
    }

    this.observed.observe(current, this.clock.now())
    const decision = decide(this.observed, this.identity, this.clock.now())
    if (decision.kind === 'held') {
      this.log.debug({ lease: this.lease, holder: decision.holder }, `lock is held by ${decision.holder} and has not yet expired`)
      return false
    }
    const next: LeaderElectionRecord =
      decision.kind === 'renew'
        ? { ...desired, acquireTime: current.acquireTime, leaseTransitions: current.leaseTransitions }
        : { ...desired, leaseTransitions: current.leaseTransitions + 1 }
    try {
      await this.lock.update(next, signal)
    } catch (err) {
      // 409: another candidate wrote first; the next read shows who.
      if (!signal.aborted) this.log.error({ lease: this.lease, err: errorMessage(err) }, 'Failed to update lock')
      return false
    }
    this.observed.wrote(next, this.clock.now())
    return true
  }

  private startLeading(renewedAt: number): void {
    const term: Term = { id: ++this.terms, abort: new AbortController(), renewedAt, deadline: undefined, clients: [] }
    this.term = term
    this.armDeadline(term)
    this.gauge?.set({ name: this.name }, 1)
    this.log.info({ lease: this.lease, identity: this.identity }, `successfully acquired lease ${this.lease}`)
    this.recordEvent('became leader')
    try {
      const started = this.opts.onStartedLeading(term.abort.signal)
      if (started instanceof Promise) started.catch((err: unknown) => this.log.error({ lease: this.lease, err: errorMessage(err) }, 'OnStartedLeading failed'))
    } catch (err) {
      this.log.error({ lease: this.lease, err: errorMessage(err) }, 'OnStartedLeading failed')
    }
  }

  /** Ends the current term, if any: signal first, then metric, Event and onStoppedLeading. Idempotent. */
  private stopLeading(reason: string, level: 'info' | 'warn'): void {
    const term = this.term
    if (term === undefined) return
    this.term = undefined
    term.deadline?.cancel()
    term.abort.abort(new Error(`leadership of lease ${this.lease} ended: ${reason}`))
    for (const c of term.clients) c.close()
    this.gauge?.set({ name: this.name }, 0)
    this.log[level]({ lease: this.lease, identity: this.identity, reason }, 'stopped leading')
    this.recordEvent('stopped leading')
    try {
      this.opts.onStoppedLeading()
    } catch (err) {
      this.log.error({ lease: this.lease, err: errorMessage(err) }, 'OnStoppedLeading failed')
    }
  }

  /** Whether `term` is over, ending it here if its renew deadline has passed. */
  private expired(term: Term): boolean {
    if (this.term !== term) return true
    if (this.clock.now() - term.renewedAt < this.timings.renewDeadlineMs) return false
    this.stopLeading(`failed to renew lease ${this.lease}: timed out waiting for the condition`, 'warn')
    return true
  }

  private armDeadline(term: Term): void {
    term.deadline?.cancel()
    const due = term.renewedAt + this.timings.renewDeadlineMs - this.clock.now()
    term.deadline = this.clock.setTimeout(() => {
      if (!this.expired(term)) this.armDeadline(term)
    }, due)
  }

  /**
   * Gives the Lease up (client-go's release): no holder and a 1 s duration, so the next
   * candidate takes it at its next attempt. Only if the Lease still names us.
   */
  private async release(): Promise<void> {
    const mine = this.observed.record
    if (mine === undefined || mine.holderIdentity !== this.identity || !this.lock.initialized) return
    const now = microTime(wallClockMs())
    const released: LeaderElectionRecord = { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: now, renewTime: now, leaseTransitions: mine.leaseTransitions }
    const ctl = new AbortController()
    const timer = this.clock.setTimeout(() => ctl.abort(), this.timings.renewDeadlineMs)
    try {
      try {
        await this.lock.update(released, ctl.signal)
      } catch (err) {
        if (!isConflict(err)) throw err
        // A renewal we gave up on may have landed after all: release that version if it is still ours.
        const current = await this.lock.get(ctl.signal)
        if (current.holderIdentity !== this.identity) {
          this.observed.observe(current, this.clock.now())
          return
        }
        await this.lock.update(released, ctl.signal)
      }
      this.observed.wrote(released, this.clock.now())
      this.log.info({ lease: this.lease, identity: this.identity }, `successfully released lease ${this.lease}`)
    } catch (err) {
      this.log.error({ lease: this.lease, err: errorMessage(err) }, `failed to release lease ${this.lease}`)
    } finally {
      timer.cancel()
    }
  }

  private maybeReportTransition(): void {
    const holder = this.observed.holder
    if (holder === '' || holder === this.reportedLeader) return
    this.reportedLeader = holder
    try {
      this.opts.onNewLeader?.(holder)
    } catch (err) {
      this.log.error({ lease: this.lease, err: errorMessage(err) }, 'OnNewLeader failed')
    }
  }

  /** An Event about the Lease, as client-go's LeaseLock.RecordEvent; best-effort. */
  private recordEvent(what: string): void {
    const lease = this.lock.object
    if (lease === undefined) return
    this.events.event({ ...lease, apiVersion: 'coordination.k8s.io/v1', kind: 'Lease' }, 'Normal', 'LeaderElection', `${this.identity} ${what}`)
  }
}
