// What a Lease says about leadership, and how old that news is. The expiry decision is
// client-go's: a lease counts as expired only after leaseDurationSeconds have passed
// on OUR monotonic clock since we first saw its current contents. Remote timestamps
// (renewTime) are never compared with our clock, so clock skew between masters cannot
// make a live leader look dead; a holder that stops renewing is seen as gone one
// lease duration after its last change reached us.
import type { KubeObject } from '../client/types.js'

/** client-go's LeaderElectionRecord, as it maps onto a coordination.k8s.io/v1 LeaseSpec. */
export interface LeaderElectionRecord {
  /** '' when nobody holds the lease (released). */
  holderIdentity: string
  leaseDurationSeconds: number
  /** MicroTime strings, RFC 3339 with microseconds. */
  acquireTime: string
  renewTime: string
  leaseTransitions: number
}

export interface Lease extends KubeObject {
  spec?: {
    holderIdentity?: string | null
    leaseDurationSeconds?: number | null
    acquireTime?: string | null
    renewTime?: string | null
    leaseTransitions?: number | null
    [field: string]: unknown
  }
}

export function recordFromLease(lease: Lease): LeaderElectionRecord {
  const s = lease.spec ?? {}
  return {
    holderIdentity: s.holderIdentity ?? '',
    leaseDurationSeconds: s.leaseDurationSeconds ?? 0,
    acquireTime: s.acquireTime ?? '',
    renewTime: s.renewTime ?? '',
    leaseTransitions: s.leaseTransitions ?? 0,
  }
}

/** The LeaseSpec for a record; empty times are left out rather than written as ''. */
export function leaseSpec(r: LeaderElectionRecord): NonNullable<Lease['spec']> {
  const spec: NonNullable<Lease['spec']> = { holderIdentity: r.holderIdentity, leaseDurationSeconds: r.leaseDurationSeconds }
  if (r.acquireTime !== '') spec.acquireTime = r.acquireTime
  if (r.renewTime !== '') spec.renewTime = r.renewTime
  spec.leaseTransitions = r.leaseTransitions
  return spec
}

/**
 * metav1.MicroTime as the API writes it: `2026-11-22T06:40:17.123456Z`. `epochMs` may
 * carry a fraction of a millisecond, which becomes the last three digits.
 */
export function microTime(epochMs: number): string {
  const whole = Math.floor(epochMs)
  const micros = Math.min(999, Math.floor((epochMs - whole) * 1000))
  return new Date(whole).toISOString().replace(/Z$/, `${String(micros).padStart(3, '0')}Z`)
}

/** Wall-clock time with sub-millisecond resolution (Date.now() alone stops at ms). */
export function wallClockMs(): number {
  return performance.timeOrigin + performance.now()
}

/** Lease durations are whole seconds on the wire; round up, so others never wait less than we mean. */
export function leaseDurationSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000))
}

function sameRecord(a: LeaderElectionRecord, b: LeaderElectionRecord): boolean {
  return (
    a.holderIdentity === b.holderIdentity &&
    a.leaseDurationSeconds === b.leaseDurationSeconds &&
    a.acquireTime === b.acquireTime &&
    a.renewTime === b.renewTime &&
    a.leaseTransitions === b.leaseTransitions
  )
}

/**
 * The last record we saw and when (local monotonic ms) it last changed: client-go's
 * observedRecord / observedTime pair.
 */
export class ObservedRecord {
  private current: LeaderElectionRecord | undefined
  private at = 0

  get record(): LeaderElectionRecord | undefined {
    return this.current
  }

  /** Local time at which the current record was first seen (or written by us). */
  get observedAt(): number {
    return this.at
  }

  get holder(): string {
    return this.current?.holderIdentity ?? ''
  }

  /** A record read from the server: the clock restarts only if it differs from the last one. */
  observe(r: LeaderElectionRecord, now: number): boolean {
    if (this.current !== undefined && sameRecord(this.current, r)) return false
    this.current = r
    this.at = now
    return true
  }

  /** A record we just wrote ourselves: always fresh. */
  wrote(r: LeaderElectionRecord, now: number): void {
    this.current = r
    this.at = now
  }

  /** Whether the holder's lease still runs at local time `now`, by our own observation. */
  isValid(now: number): boolean {
    if (this.current === undefined) return false
    return this.at + this.current.leaseDurationSeconds * 1000 > now
  }
}

export type Decision =
  /** Nobody may take it: the record names another holder and has not expired for us. */
  | { kind: 'held'; holder: string }
  /** Ours already: write a renewal keeping acquireTime and leaseTransitions. */
  | { kind: 'renew' }
  /** Free, released or expired: take it over, one more transition. */
  | { kind: 'takeover' }

/** What `identity` may do with the lease as last observed, at local time `now`. */
export function decide(observed: ObservedRecord, identity: string, now: number): Decision {
  const holder = observed.holder
  if (holder === identity) return { kind: 'renew' }
  if (holder !== '' && observed.isValid(now)) return { kind: 'held', holder }
  return { kind: 'takeover' }
}
