// etcd's lessor (server/lease/lessor.go) as pure logic: no timers, no I/O, time from an
// injected monotonic clock. The server owns the loops and the raft proposals; this
// class owns the rules.
//
// Two kinds of methods, and the split is what keeps members consistent:
// - apply-side (grant, revoke, checkpoint, attach/detach, onPut/onDelete, restore):
//   run on every member for committed raft entries, in log order. What they change in
//   persisted state (ID, TTL, remaining TTL, attached keys) never depends on the clock.
// - leader-side (promote, demote, renew, expired, timeToLive, checkpointsDue): only the
//   primary (raft leader) tracks expiries; followers hold every lease "forever" and a
//   new leader restarts the clocks from the TTLs (promote). Expiry is therefore a
//   local, volatile thing, and so can use the clock.

import type { ByteString } from '../mvcc/byte-string.js'
import { LeaseErrors } from './errors.js'
import { assertCanonicalInt64 } from './int64.js'
import { LeaseQueue } from './lease-queue.js'
import type { LeaseRecord } from './lease-record.js'

/** The "no lease" ID of a key's lease field. */
export const NO_LEASE = '0'

/** etcd's MaxLeaseTTL, in seconds (about 285 years). */
export const MAX_LEASE_TTL = 9_000_000_000

/** An expiry that never comes: how non-primary lessors hold every lease. */
const FOREVER = Number.POSITIVE_INFINITY

/**
 * etcd's minimum lease TTL for a raft configuration: ceil(((3 × electionTicks) / 2) ×
 * heartbeat), with etcd's integer division; a lease must outlive a leader election.
 * etcd's defaults (10 ticks of 100 ms) give 2 s.
 */
export function minLeaseTTLSeconds(electionTicks: number, heartbeatMs: number): number {
  return Math.ceil((Math.floor((3 * electionTicks) / 2) * heartbeatMs) / 1000)
}

export interface LessorOptions {
  /** Monotonic clock in ms (performance.now in production, a fake in tests). */
  now: () => number
  /** Shorter requested TTLs are raised to this, in seconds. Default 2 (etcd's default config). */
  minTTL?: number
  /** etcd's leaseRevokeRate: leases revoked per second at most. Default 1000. */
  revokeRate?: number
  /**
   * Lease checkpointing (etcd's --experimental-enable-lease-checkpoint, default off in
   * etcd; on here): the leader periodically commits each long lease's remaining TTL, so
   * a new leader does not restart it from its full TTL. Default true.
   */
  checkpointing?: boolean
  /** How often a lease is checkpointed, in ms. Default 5 minutes (etcd's). */
  checkpointIntervalMs?: number
  /** How long expired() waits before offering a lease again whose revoke has not been applied. Default 3 s (etcd's). */
  expiredRetryMs?: number
}

/** A read-only view of one lease. */
export interface Lease {
  readonly id: string
  /** Granted TTL in seconds (after the minimum TTL was applied). */
  readonly ttl: number
  /** Checkpointed remaining TTL in seconds; 0 = none, the full TTL applies. */
  readonly remainingTTL: number
  /** Local monotonic time (ms) the lease expires at; Infinity when not primary. */
  readonly expiry: number
  /** Attached keys, sorted bytewise. */
  keys(): ByteString[]
}

/** etcd's LeaseTimeToLiveResponse fields. */
export interface TimeToLive {
  ID: string
  /** Remaining seconds, truncated toward zero as etcd computes it. */
  TTL: number
  grantedTTL: number
  /** Attached keys, sorted; empty unless asked for. */
  keys: ByteString[]
}

/** One entry of an etcd LeaseCheckpointRequest. */
export interface LeaseCheckpoint {
  ID: string
  remaining_TTL: number
}

class LeaseEntry implements Lease {
  remainingTTL = 0
  expiry = FOREVER
  readonly items = new Set<ByteString>()

  constructor(
    readonly id: string,
    readonly ttl: number,
  ) {}

  /** etcd's Lease.RemainingTTL(): the checkpointed remainder if any, else the full TTL. */
  get effectiveTTL(): number {
    return this.remainingTTL > 0 ? this.remainingTTL : this.ttl
  }

  keys(): ByteString[] {
    return [...this.items].sort(byteOrder)
  }
}

// Byte strings hold one code unit per byte, so code-unit order is bytewise order.
const byteOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

export class Lessor {
  private readonly now: () => number
  private readonly minTTL: number
  private readonly revokeRate: number
  private readonly checkpointing: boolean
  private readonly checkpointIntervalMs: number
  private readonly expiredRetryMs: number

  private readonly byId = new Map<string, LeaseEntry>()
  /** Key → the lease it is attached to (etcd's itemMap). */
  private readonly byKey = new Map<ByteString, string>()
  /** Leader only: leases by expiry (etcd's leaseExpiredNotifier). */
  private readonly expiries = new LeaseQueue()
  /** Leader only: leases by next checkpoint time (etcd's leaseCheckpointHeap). */
  private readonly checkpoints = new LeaseQueue()
  private primary = false

  constructor(opts: LessorOptions) {
    this.now = opts.now
    this.minTTL = opts.minTTL ?? 2
    this.revokeRate = opts.revokeRate ?? 1000
    // Spreading needs 3/4 of the rate to be at least one lease per second.
    if (!Number.isSafeInteger(this.revokeRate) || this.revokeRate < 2) {
      throw new RangeError(`lease: revokeRate ${this.revokeRate} must be an integer >= 2`)
    }
    this.checkpointing = opts.checkpointing ?? true
    this.checkpointIntervalMs = opts.checkpointIntervalMs ?? 5 * 60 * 1000
    this.expiredRetryMs = opts.expiredRetryMs ?? 3000
  }

  /** Whether this lessor is the primary (the member is the raft leader and has promoted it). */
  get isPrimary(): boolean {
    return this.primary
  }

  get size(): number {
    return this.byId.size
  }

  // ── apply-side ───────────────────────────────────────────────────────────────

  /**
   * Applies LeaseGrant. The ID is chosen before proposing (LeaseIdGenerator) and must
   * not be "0". Returns the lease; its `ttl` (clamped to the minimum) is what the grant
   * response reports, and `record(id)` is what to persist in the same backend write.
   */
  grant(id: string, ttlSeconds: number): Lease {
    assertCanonicalInt64(id, 'lease ID')
    if (!Number.isSafeInteger(ttlSeconds)) throw new TypeError(`lease: TTL ${ttlSeconds} is not an integer`)
    // etcd's order of checks: no ID, too large, exists; then the minimum is applied.
    if (id === NO_LEASE) throw LeaseErrors.notFound()
    if (ttlSeconds > MAX_LEASE_TTL) throw LeaseErrors.ttlTooLarge()
    if (this.byId.has(id)) throw LeaseErrors.exists()
    const l = new LeaseEntry(id, Math.max(ttlSeconds, this.minTTL))
    this.byId.set(id, l)
    if (this.primary) {
      const now = this.now()
      this.refresh(l, now, 0)
      this.scheduleCheckpoint(l, now)
    }
    return l
  }

  /**
   * Applies LeaseRevoke (whether a client asked or the leader found it expired).
   * Returns the attached keys, sorted bytewise (etcd sorts so every member deletes in
   * the same order); the caller deletes them and the lease record in the same write.
   * The keys are detached here, so the caller's deletes need not call onDelete.
   */
  revoke(id: string): ByteString[] {
    const l = this.byId.get(id)
    if (l === undefined) throw LeaseErrors.notFound()
    const keys = l.keys()
    for (const k of keys) if (this.byKey.get(k) === id) this.byKey.delete(k)
    this.byId.delete(id)
    this.expiries.delete(id)
    this.checkpoints.delete(id)
    return keys
  }

  /**
   * Applies one entry of a LeaseCheckpoint request: records the remaining TTL the
   * leader measured (0 clears it, as a renewal does). Unknown leases are ignored, as
   * etcd does (the lease may have been revoked since). Returns whether the lease
   * exists; if so, persist `record(id)` (etcd ≥ 3.6 always persists checkpoints, so
   * a restarted cluster keeps them too).
   */
  checkpoint(id: string, remainingTTLSeconds: number): boolean {
    const l = this.byId.get(id)
    if (l === undefined) return false
    l.remainingTTL = remainingTTLSeconds
    if (this.primary) this.scheduleCheckpoint(l, this.now())
    return true
  }

  /**
   * Attaches `key` to lease `id` (a put with that lease; or, on restart, rebuilding
   * from each key's lease field). A key belongs to one lease at most: it leaves its
   * previous one. Throws NOT_FOUND for an unknown lease (the apply code checks
   * `has(id)` before it writes, so this indicates a bug).
   */
  attach(id: string, key: ByteString): void {
    const l = this.byId.get(id)
    if (l === undefined) throw LeaseErrors.notFound()
    const old = this.byKey.get(key)
    if (old !== undefined && old !== id) this.byId.get(old)?.items.delete(key)
    l.items.add(key)
    this.byKey.set(key, id)
  }

  /**
   * Detaches `key` from lease `id`. Returns false when the lease is unknown or the key
   * was not attached to it (etcd only logs that case; it happens when keys are deleted
   * after their lease was revoked).
   */
  detach(id: string, key: ByteString): boolean {
    const l = this.byId.get(id)
    if (l === undefined || !l.items.delete(key)) return false
    if (this.byKey.get(key) === id) this.byKey.delete(key)
    return true
  }

  /**
   * Call for every put the store applied (including puts inside a txn), with the
   * lease the new value carries ("0" for none). Like etcd's mvcc put, it detaches the
   * key from the lease it had (looked up here, etcd's GetLease) and attaches it to the
   * new one; so no old-lease argument is needed.
   */
  onPut(key: ByteString, lease: string): void {
    const old = this.byKey.get(key)
    if (old !== undefined && old !== lease) this.detach(old, key)
    if (lease !== NO_LEASE) this.attach(lease, key)
  }

  /** Call for every key a delete (DeleteRange, in a txn or not) removed. */
  onDelete(key: ByteString): void {
    const old = this.byKey.get(key)
    if (old !== undefined) this.detach(old, key)
  }

  /** The lease `key` is attached to, "0" for none (etcd's GetLease). */
  leaseOf(key: ByteString): string {
    return this.byKey.get(key) ?? NO_LEASE
  }

  /** Whether the lease exists; the apply code's `leaseExists` callback. */
  has(id: string): boolean {
    return this.byId.has(id)
  }

  lookup(id: string): Lease | undefined {
    return this.byId.get(id)
  }

  /** All leases, soonest expiry first (as etcd's Leases()), ties in grant order. */
  leases(): Lease[] {
    return [...this.byId.values()].sort((a, b) => (a.expiry === b.expiry ? 0 : a.expiry < b.expiry ? -1 : 1))
  }

  /** What to persist for lease `id` (leasepb.Lease; encode with encodeLeaseRecord). */
  record(id: string): LeaseRecord | undefined {
    const l = this.byId.get(id)
    if (l === undefined) return undefined
    return { ID: l.id, TTL: String(l.ttl), RemainingTTL: String(l.remainingTTL) }
  }

  /**
   * Replaces every lease with the persisted records (start-up, or a raft snapshot
   * installed), as etcd's Recover. TTLs below the minimum are raised, as etcd does.
   * Keys must then be re-attached from the store (attach(lease, key) for each key
   * with a lease). Expiries are "forever" until promote(); on a primary lessor this
   * re-runs promote(0) so the leases keep expiring.
   */
  restore(records: Iterable<LeaseRecord>): void {
    this.byId.clear()
    this.byKey.clear()
    this.expiries.clear()
    this.checkpoints.clear()
    for (const r of records) {
      assertCanonicalInt64(r.ID, 'lease ID')
      const l = new LeaseEntry(r.ID, Math.max(Number(r.TTL), this.minTTL))
      l.remainingTTL = Number(r.RemainingTTL)
      this.byId.set(r.ID, l)
    }
    if (this.primary) this.promote(0)
  }

  // ── leader-side ──────────────────────────────────────────────────────────────

  /**
   * This member became leader and has applied its term's first (empty) entry: start
   * expiring leases. Each lease gets `now + extendMs + remaining TTL` (the checkpointed
   * remainder if there is one, else the full TTL); etcd passes the election timeout
   * as `extendMs`, giving clients time to find the new leader and renew.
   * With at least `revokeRate` leases, expiries are then spread as etcd does, so that
   * no second has more than 3/4 of the revoke rate expiring (leases that would pile
   * up are pushed later, by less the later they already were).
   */
  promote(extendMs: number): void {
    this.primary = true
    const now = this.now()
    for (const l of this.byId.values()) {
      this.refresh(l, now, extendMs)
      this.scheduleCheckpoint(l, now)
    }
    if (this.byId.size < this.revokeRate) return

    const sorted = [...this.byId.values()].sort((a, b) => a.expiry - b.expiry)
    let baseWindow = sorted[0]!.expiry - now
    let nextWindow = baseWindow + 1000
    let expires = 0
    const targetPerSecond = Math.floor((3 * this.revokeRate) / 4)
    for (const l of sorted) {
      const remaining = l.expiry - now
      if (remaining > nextWindow) {
        // Past the current crowded window: this lease opens a new one.
        baseWindow = remaining
        nextWindow = baseWindow + 1000
        expires = 1
        continue
      }
      expires++
      if (expires <= targetPerSecond) continue
      // The lease that would exceed the rate goes to where the rate allows it, minus
      // how far behind the window's start it already was.
      const delay = Math.trunc(1000 * (expires / targetPerSecond) - (remaining - baseWindow))
      nextWindow = baseWindow + delay
      this.refresh(l, now, delay + extendMs)
      this.scheduleCheckpoint(l, now)
    }
  }

  /** This member is no longer leader: stop expiring (every expiry becomes forever). */
  demote(): void {
    this.primary = false
    for (const l of this.byId.values()) l.expiry = FOREVER
    this.expiries.clear()
    this.checkpoints.clear()
  }

  /**
   * Whether a KeepAlive for `id` must first commit a checkpoint {ID: id,
   * remaining_TTL: 0} (and wait for it to apply) before calling renew(): etcd clears a
   * checkpointed remainder through raft on renewal, so a later leader restarts the
   * lease from its full TTL rather than from the stale remainder.
   */
  renewNeedsCheckpointClear(id: string): boolean {
    const l = this.byId.get(id)
    return this.checkpointing && l !== undefined && l.remainingTTL > 0
  }

  /**
   * KeepAlive: restarts the lease's full TTL; returns that TTL in seconds. Throws
   * NotPrimaryError on a non-leader (forward to the leader) and NOT_FOUND for an
   * unknown lease or one already expired (its revoke is on its way; etcd waits for
   * it and then answers not found; its KeepAlive stream sends TTL 0 for that).
   */
  renew(id: string): number {
    if (!this.primary) throw LeaseErrors.notPrimary()
    const l = this.byId.get(id)
    const now = this.now()
    if (l === undefined || l.expiry <= now) throw LeaseErrors.notFound()
    this.setExpiry(l, now + l.ttl * 1000)
    return l.ttl
  }

  /**
   * Leases whose expiry has passed, soonest first, at most `limit` (default half the
   * revoke rate: etcd checks every 500 ms, so call this every 500 ms and propose a
   * LeaseRevoke for each ID). An ID returned is offered again after `expiredRetryMs`
   * if its revoke has not been applied by then (a lost proposal); none on a follower.
   */
  expired(limit: number = Math.floor(this.revokeRate / 2)): string[] {
    const out: string[] = []
    if (!this.primary) return out
    const now = this.now()
    while (out.length < limit) {
      const id = this.expiries.peekId()
      if (id === undefined || this.expiries.peekTime()! > now) break
      const l = this.byId.get(id)!
      this.expiries.set(id, now + this.expiredRetryMs)
      if (l.expiry <= now) out.push(id)
    }
    return out
  }

  /**
   * Remaining TTL in whole seconds, truncated toward zero as etcd's TimeToLive reports
   * it (int64(Remaining().Seconds())): just after a grant of 10 s it says 9.
   */
  remainingTTL(id: string): number {
    if (!this.primary) throw LeaseErrors.notPrimary()
    const l = this.byId.get(id)
    if (l === undefined) throw LeaseErrors.notFound()
    return Math.trunc((l.expiry - this.now()) / 1000) + 0 // + 0 turns -0 into 0
  }

  /**
   * LeaseTimeToLive, answered by the leader (followers forward: NotPrimaryError).
   * NOT_FOUND for an unknown lease; etcd's gRPC layer turns that into a response with
   * TTL -1 rather than an error.
   */
  timeToLive(id: string, withKeys: boolean): TimeToLive {
    const TTL = this.remainingTTL(id)
    const l = this.byId.get(id)!
    return { ID: id, TTL, grantedTTL: l.ttl, keys: withKeys ? l.keys() : [] }
  }

  /**
   * Checkpoints due now, at most `limit` (etcd batches up to 1000 per LeaseCheckpoint
   * request); call every 500 ms and propose them as one LeaseCheckpointRequest.
   * A lease is checkpointed every `checkpointIntervalMs` while its remaining TTL is
   * longer than the interval; a lease already expired, or at its full TTL, is skipped.
   * The remaining TTL is rounded up to whole seconds, as etcd does.
   */
  checkpointsDue(limit = 1000): LeaseCheckpoint[] {
    const out: LeaseCheckpoint[] = []
    if (!this.primary || !this.checkpointing) return out
    const now = this.now()
    while (out.length < limit) {
      const t = this.checkpoints.peekTime()
      if (t === undefined || t > now) break
      const l = this.byId.get(this.checkpoints.pop()!)!
      if (l.expiry <= now) continue
      const remaining = Math.ceil((l.expiry - now) / 1000)
      if (remaining >= l.ttl) continue
      out.push({ ID: l.id, remaining_TTL: remaining })
    }
    return out
  }

  // ── internals ────────────────────────────────────────────────────────────────

  /** etcd's Lease.refresh: expiry = now + extend + (checkpointed remainder or TTL). */
  private refresh(l: LeaseEntry, now: number, extendMs: number): void {
    this.setExpiry(l, now + extendMs + l.effectiveTTL * 1000)
  }

  private setExpiry(l: LeaseEntry, expiry: number): void {
    l.expiry = expiry
    this.expiries.set(l.id, expiry)
  }

  /** etcd's scheduleCheckpointIfNeeded: only leases longer than the interval need one. */
  private scheduleCheckpoint(l: LeaseEntry, now: number): void {
    if (!this.checkpointing) return
    if (l.effectiveTTL > Math.trunc(this.checkpointIntervalMs / 1000)) {
      this.checkpoints.set(l.id, now + this.checkpointIntervalMs)
    }
  }
}
