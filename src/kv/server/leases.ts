// What the server needs of the lessor beyond the state machine's LeaseTable: the
// leader-side half (expiry, keep-alive, time-to-live) and ID generation.
import type { LeaseTable } from './state-machine.js'

export interface TimeToLive {
  /** Seconds left, -1 when the lease is gone (etcd answers TTL -1 for an expired or unknown lease). */
  ttl: number
  grantedTTL: number
  keys: string[]
}

export interface LeaseManager extends LeaseTable {
  /** This member became the leader: start the clocks, extended by `extendMs` (etcd: the election timeout). */
  promote(extendMs: number): void
  demote(): void
  isPrimary(): boolean
  /** A renewal must first clear a checkpointed remaining TTL through raft (etcd does). */
  renewNeedsCheckpointClear(id: string): boolean
  /** KeepAlive on the leader: the TTL granted again, in seconds. Throws leaseNotFound. */
  renew(id: string): number
  /** Up to `limit` leases whose time is up (leader only). */
  expired(limit: number): string[]
  /** Leases whose remaining TTL should be checkpointed through raft (leader only). */
  checkpointsDue(): { id: string; remainingTTL: number }[]
  timeToLive(id: string, withKeys: boolean): TimeToLive | undefined
  list(): string[]
  /** A fresh lease ID (decimal int64) no live lease uses. */
  nextId(): string
}
