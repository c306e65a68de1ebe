// The server's view of the lessor (src/kv/lease): the apply-side table the state
// machine changes, and the leader-side clocks the server drives, over one Lessor.
// Records are persisted as etcd's leasepb.Lease bytes.
import { LeaseIdGenerator } from '../lease/lease-id.js'
import { decodeLeaseRecord, encodeLeaseRecord } from '../lease/lease-record.js'
import { LeaseErrors } from '../lease/errors.js'
import { Lessor, minLeaseTTLSeconds, NO_LEASE } from '../lease/lessor.js'
import type { LeaseManager, TimeToLive } from './leases.js'

export function createLeaseManager(memberId: number, opts: { electionTicks: number; heartbeatMs: number; now?: () => number }): LeaseManager {
  const lessor = new Lessor({
    now: opts.now ?? (() => performance.now()),
    minTTL: minLeaseTTLSeconds(opts.electionTicks, opts.heartbeatMs),
  })
  const ids = new LeaseIdGenerator(memberId, Date.now())
  return {
    has: (id) => lessor.has(id),
    grant: (id, ttl) => lessor.grant(id, ttl).ttl,
    keysOf(id) {
      const l = lessor.lookup(id)
      if (!l) throw LeaseErrors.notFound()
      return l.keys()
    },
    revoke: (id) => void lessor.revoke(id),
    setKeyLease(key, lease) {
      if (lease === NO_LEASE) lessor.onDelete(key)
      else lessor.onPut(key, lease)
    },
    checkpoint: (id, remaining) => void lessor.checkpoint(id, remaining),
    record(id) {
      const r = lessor.record(id)
      if (!r) throw LeaseErrors.notFound()
      return encodeLeaseRecord(r)
    },
    restore(records, leasedKeys) {
      lessor.restore(records.map(decodeLeaseRecord))
      for (const [key, lease] of leasedKeys) if (lessor.has(lease)) lessor.attach(lease, key)
    },
    promote: (extendMs) => lessor.promote(extendMs),
    demote: () => lessor.demote(),
    isPrimary: () => lessor.isPrimary,
    renewNeedsCheckpointClear: (id) => lessor.renewNeedsCheckpointClear(id),
    renew: (id) => lessor.renew(id),
    expired: (limit) => lessor.expired(limit),
    checkpointsDue: () => lessor.checkpointsDue().map((c) => ({ id: c.ID, remainingTTL: c.remaining_TTL })),
    timeToLive(id, withKeys): TimeToLive | undefined {
      if (!lessor.has(id)) return undefined
      const t = lessor.timeToLive(id, withKeys)
      return { ttl: t.TTL, grantedTTL: t.grantedTTL, keys: t.keys }
    },
    list: () => lessor.leases().map((l) => l.id),
    nextId: () => ids.next((id) => lessor.has(id)),
  }
}
