// The elector's settings, their defaults (kube-scheduler's and kube-controller-manager's
// --leader-elect-* flags) and the checks client-go's NewLeaderElector makes, so a
// configuration that could let two leaders overlap is refused before anything runs.
import type { Registry } from 'prom-client'
import type { Clock } from '../client/clock.js'
import type { Logger } from '../client/logger.js'
import type { RestClient } from '../client/rest.js'

export interface LeaderElectorOptions {
  /** Writes the Lease (unfenced: the Lease is what fences everything else). */
  client: RestClient
  /** Default `kube-system`. */
  namespace?: string
  /** The Lease's name, e.g. `kube-scheduler`; also the metric's `name` label and the Events' source. */
  name: string
  /** holderIdentity: unique per process, e.g. newIdentity('master-2'). */
  identity: string
  /** How long others wait, after the last change they saw, before taking over. Default 15 s. */
  leaseDurationMs?: number
  /** How long a leader keeps acting without a successful renewal. Default 10 s. */
  renewDeadlineMs?: number
  /** Between attempts to acquire (with jitter) or renew. Default 2 s. */
  retryPeriodMs?: number
  /** Give the Lease up when run()'s signal aborts, so another candidate need not wait for expiry. Default true. */
  releaseOnCancel?: boolean
  /** Monotonic time for every deadline and expiry; tests pass a FakeClock. */
  clock?: Clock
  logger?: Logger
  /** Where leader_election_master_status goes. */
  metrics?: Registry
  /** Leadership began; `signal` aborts the moment it ends. A returned promise's rejection is logged. */
  onStartedLeading: (signal: AbortSignal) => void | Promise<void>
  /** Leadership ended (lost, or run() stopped); called right after the signal aborted. */
  onStoppedLeading: () => void
  /** Another holder was observed (or we became it). Not called for a released, holderless lease. */
  onNewLeader?: (identity: string) => void
}

/** client-go's JitterFactor: acquire attempts wait retryPeriod × [1, 2.2). */
export const JITTER_FACTOR = 1.2

export const DEFAULT_LEASE_DURATION_MS = 15_000
export const DEFAULT_RENEW_DEADLINE_MS = 10_000
export const DEFAULT_RETRY_PERIOD_MS = 2_000

export interface Timings {
  leaseDurationMs: number
  renewDeadlineMs: number
  retryPeriodMs: number
}

export function timings(o: LeaderElectorOptions): Timings {
  return {
    leaseDurationMs: o.leaseDurationMs ?? DEFAULT_LEASE_DURATION_MS,
    renewDeadlineMs: o.renewDeadlineMs ?? DEFAULT_RENEW_DEADLINE_MS,
    retryPeriodMs: o.retryPeriodMs ?? DEFAULT_RETRY_PERIOD_MS,
  }
}

/** Throws the first problem, in client-go's order and words (with our values appended). */
export function validateOptions(o: LeaderElectorOptions): void {
  const { leaseDurationMs: lease, renewDeadlineMs: renew, retryPeriodMs: retry } = timings(o)
  const values = `leaseDurationMs ${lease}, renewDeadlineMs ${renew}, retryPeriodMs ${retry}`
  for (const [field, v] of [['leaseDuration', lease], ['renewDeadline', renew], ['retryPeriod', retry]] as const) {
    if (!Number.isFinite(v)) throw new Error(`leader election: ${field} must be a finite number (${values})`)
  }
  if (lease <= renew) throw new Error(`leader election: leaseDuration must be greater than renewDeadline (${values})`)
  if (renew <= JITTER_FACTOR * retry) throw new Error(`leader election: renewDeadline must be greater than retryPeriod*JitterFactor (${values}, JitterFactor ${JITTER_FACTOR})`)
  if (lease < 1) throw new Error(`leader election: leaseDuration must be greater than zero (${values})`)
  if (renew < 1) throw new Error(`leader election: renewDeadline must be greater than zero (${values})`)
  if (retry < 1) throw new Error(`leader election: retryPeriod must be greater than zero (${values})`)
  if (typeof o.onStartedLeading !== 'function') throw new Error('leader election: OnStartedLeading callback must not be nil')
  if (typeof o.onStoppedLeading !== 'function') throw new Error('leader election: OnStoppedLeading callback must not be nil')
  if (o.client === undefined || o.client === null) throw new Error('leader election: client must not be nil')
  if (typeof o.name !== 'string' || o.name === '') throw new Error('leader election: the lease name must not be empty')
  if ((o.namespace ?? 'kube-system') === '') throw new Error('leader election: the lease namespace must not be empty')
  if (typeof o.identity !== 'string' || o.identity === '') throw new Error('leader election: Lock identity is empty')
}
