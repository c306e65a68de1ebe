// One zone's queue of nodes waiting for their NoExecute taint (upstream
// RateLimitedTimedQueue): a taint evicts every pod that does not tolerate it, so
// nodes are tainted no faster than the zone's rate allows (burst 1). A node stays a
// member after it was tainted, so it is not queued again until it is removed (it
// recovered, or its taint went missing and must be put back).
import type { Clock } from '../../client/index.js'

/** A token bucket that refuses rather than waits (flowcontrol's TryAccept); qps <= 0 never accepts. */
export class TryLimiter {
  private tokens: number
  private last: number

  constructor(
    readonly qps: number,
    private readonly burst: number,
    private readonly clock: Clock,
  ) {
    this.tokens = qps > 0 ? burst : 0
    this.last = clock.now()
  }

  tryAccept(): boolean {
    if (this.qps <= 0) return false
    this.refill()
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }

  /** True when no token is left. */
  saturated(): boolean {
    if (this.qps <= 0) return true
    this.refill()
    return this.tokens < 1
  }

  /** Takes the token there is, if any (a replacement limiter starts as drained as the one it replaces). */
  drain(): void {
    this.refill()
    this.tokens = Math.min(this.tokens, 0)
  }

  private refill(): void {
    const now = this.clock.now()
    this.tokens = Math.min(this.burst, this.tokens + (Math.max(0, now - this.last) * this.qps) / 1000)
    this.last = now
  }
}

/** The outcome of one attempt: done, or try this node again after `retryMs`. */
export type TaintAttempt = { done: true } | { done: false; retryMs: number }

interface Entry {
  node: string
  processAt: number
}

const BURST = 1

export class TaintingQueue {
  private entries: Entry[] = []
  private readonly members = new Set<string>()
  private limiter: TryLimiter

  constructor(
    qps: number,
    private readonly clock: Clock,
  ) {
    this.limiter = new TryLimiter(qps, BURST, clock)
  }

  get qps(): number {
    return this.limiter.qps
  }

  /** Queues `node` unless it is a member already; true if queued. */
  add(node: string): boolean {
    if (this.members.has(node)) return false
    this.members.add(node)
    this.entries.push({ node, processAt: this.clock.now() })
    this.sort()
    return true
  }

  /** Forgets `node` (queued or already tainted); true if it was a member. */
  remove(node: string): boolean {
    this.entries = this.entries.filter((e) => e.node !== node)
    return this.members.delete(node)
  }

  has(node: string): boolean {
    return this.members.has(node)
  }

  /** Nodes waiting for an attempt. */
  pending(): string[] {
    return this.entries.map((e) => e.node)
  }

  /** A new rate; a drained limiter stays drained, so a swap does not grant a fresh burst. */
  swapLimiter(qps: number): void {
    if (qps === this.limiter.qps) return
    const next = new TryLimiter(qps, BURST, this.clock)
    if (this.limiter.saturated()) next.drain()
    this.limiter = next
  }

  /** Attempts the nodes that are due, one per token. */
  async work(attempt: (node: string) => Promise<TaintAttempt>): Promise<void> {
    for (;;) {
      const head = this.entries[0]
      if (head === undefined) return
      if (!this.limiter.tryAccept()) return
      if (this.clock.now() < head.processAt) return
      const r = await attempt(head.node)
      // The node may have been removed (it recovered) while the attempt ran.
      if (!this.entries.includes(head)) continue
      if (r.done) {
        this.entries = this.entries.filter((e) => e !== head)
      } else {
        head.processAt = this.clock.now() + r.retryMs + 1
        this.sort()
      }
    }
  }

  private sort(): void {
    this.entries.sort((a, b) => a.processAt - b.processAt)
  }
}
