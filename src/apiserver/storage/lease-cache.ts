// Leases for writes with a TTL (Events), reused as kube-apiserver's lease manager
// does: one lease per TTL serves every write for a short while, so a burst of events
// costs one LeaseGrant rather than one each. The lease is granted a little longer
// than asked (by the reuse window), so every key attached during the window still
// lives at least its TTL; a lease also stops being reused after `maxKeys` writes, so
// that its expiry never has to delete an unbounded number of keys at once.

export interface LeaseCacheOptions {
  /** Longest reuse window (ms); kube-apiserver: 60 s. */
  maxReuseMs?: number
  /** Reuse window as a fraction of the TTL, when shorter; kube-apiserver: 5%. */
  reuseFraction?: number
  /** Writes per lease before a new one is granted; kube-apiserver: 1000. */
  maxKeys?: number
  now?: () => number
}

interface Cached {
  id: Promise<string>
  grantedAt: number
  reuseMs: number
  keys: number
}

export class LeaseCache {
  private readonly byTTL = new Map<number, Cached>()
  private readonly maxReuseMs: number
  private readonly reuseFraction: number
  private readonly maxKeys: number
  private readonly now: () => number

  /** `grant(ttlSeconds)` asks the store for a lease and resolves with its decimal ID. */
  constructor(
    private readonly grant: (ttlSeconds: number) => Promise<string>,
    opts: LeaseCacheOptions = {},
  ) {
    this.maxReuseMs = opts.maxReuseMs ?? 60_000
    this.reuseFraction = opts.reuseFraction ?? 0.05
    this.maxKeys = opts.maxKeys ?? 1000
    this.now = opts.now ?? Date.now
  }

  /** A lease under which a key lives at least `ttlSeconds`. */
  leaseFor(ttlSeconds: number): Promise<string> {
    const ttl = Math.max(1, Math.ceil(ttlSeconds))
    const now = this.now()
    const c = this.byTTL.get(ttl)
    if (c !== undefined && now - c.grantedAt < c.reuseMs && c.keys < this.maxKeys) {
      c.keys++
      return c.id
    }
    const reuseSeconds = Math.floor(Math.min(this.maxReuseMs / 1000, ttl * this.reuseFraction))
    const id = this.grant(ttl + reuseSeconds)
    const entry: Cached = { id, grantedAt: now, reuseMs: reuseSeconds * 1000, keys: 1 }
    this.byTTL.set(ttl, entry)
    // A failed grant must not be handed to the next writer.
    id.catch(() => {
      if (this.byTTL.get(ttl) === entry) this.byTTL.delete(ttl)
    })
    return id
  }

  /** The store no longer knows `id` (revoked, or the store was restored): stop reusing it. */
  async forget(id: string): Promise<void> {
    for (const [ttl, c] of this.byTTL) {
      const cachedId = await c.id.catch(() => undefined)
      if (cachedId === id && this.byTTL.get(ttl) === c) this.byTTL.delete(ttl)
    }
  }

  clear(): void {
    this.byTTL.clear()
  }
}
