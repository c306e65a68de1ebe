// Endpoint choice for one service port and traffic scope (upstream userspace
// LoadBalancerRR): round-robin over the usable endpoints, and with sessionAffinity
// ClientIP every new connection from a client goes to the endpoint that client used
// last, until it has been idle for the affinity timeout (measured from its last new
// connection, as the iptables `recent` match does) or that endpoint is gone. Time is
// injected so the affinity rules are tested without waiting.
import { type Endpoint, endpointKey } from './endpoints.js'

interface Affinity {
  endpoint: string
  lastUsed: number
}

export interface PickOptions {
  /** Endpoints that just failed for this connection: skip them. */
  exclude?: ReadonlySet<string>
  /** Forget the client's affinity first (its endpoint failed). */
  resetAffinity?: boolean
}

/** How often expired affinities are swept out (they are also ignored when found expired). */
const SWEEP_INTERVAL_MS = 60_000

export class LoadBalancer {
  private endpoints: Endpoint[] = []
  private keys = new Set<string>()
  private next = 0
  private affinitySeconds = 0
  private readonly affinity = new Map<string, Affinity>()
  private lastSweep: number

  constructor(private readonly now: () => number = () => performance.now()) {
    this.lastSweep = now()
  }

  get size(): number {
    return this.endpoints.length
  }

  get current(): readonly Endpoint[] {
    return this.endpoints
  }

  has(key: string): boolean {
    return this.keys.has(key)
  }

  /** Replaces the usable endpoints; clients pinned to one that is gone are re-balanced on their next connection. */
  update(endpoints: readonly Endpoint[], affinitySeconds: number): void {
    this.endpoints = [...endpoints]
    this.keys = new Set(endpoints.map(endpointKey))
    if (this.next >= this.endpoints.length) this.next = 0
    if (affinitySeconds !== this.affinitySeconds) this.affinity.clear()
    this.affinitySeconds = affinitySeconds
    for (const [client, a] of this.affinity) if (!this.keys.has(a.endpoint)) this.affinity.delete(client)
  }

  pick(clientIP: string, opts: PickOptions = {}): Endpoint | undefined {
    const candidates = opts.exclude === undefined || opts.exclude.size === 0 ? this.endpoints : this.endpoints.filter((ep) => !opts.exclude!.has(endpointKey(ep)))
    if (candidates.length === 0) return undefined
    const now = this.now()
    if (this.affinitySeconds > 0) {
      this.sweep(now)
      if (opts.resetAffinity === true) this.affinity.delete(clientIP)
      const a = this.affinity.get(clientIP)
      if (a !== undefined && now - a.lastUsed < this.affinitySeconds * 1000) {
        const pinned = candidates.find((ep) => endpointKey(ep) === a.endpoint)
        if (pinned !== undefined) {
          a.lastUsed = now
          return pinned
        }
      }
    }
    const ep = this.roundRobin(candidates)
    if (this.affinitySeconds > 0) this.affinity.set(clientIP, { endpoint: endpointKey(ep), lastUsed: now })
    return ep
  }

  private roundRobin(candidates: readonly Endpoint[]): Endpoint {
    if (candidates === this.endpoints) {
      const ep = this.endpoints[this.next % this.endpoints.length]!
      this.next = (this.next + 1) % this.endpoints.length
      return ep
    }
    // Some endpoints are excluded: take the next one in order that is not.
    for (let i = 0; i < this.endpoints.length; i++) {
      const ep = this.endpoints[(this.next + i) % this.endpoints.length]!
      if (candidates.includes(ep)) {
        this.next = (this.next + i + 1) % this.endpoints.length
        return ep
      }
    }
    return candidates[0]!
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < SWEEP_INTERVAL_MS) return
    this.lastSweep = now
    const ttl = this.affinitySeconds * 1000
    for (const [client, a] of this.affinity) if (now - a.lastUsed >= ttl) this.affinity.delete(client)
  }
}
