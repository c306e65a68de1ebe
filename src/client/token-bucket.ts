// A token bucket with reservations, as golang.org/x/time/rate's Limiter.Reserve: a
// caller takes a token at once, going into debt if none is left, and learns how long
// to wait. Used for the REST client's QPS/burst and the work queue's overall limit.
import { type Clock, realClock, sleep } from './clock.js'

export class TokenBucket {
  private tokens: number
  private last: number

  /** `qps` <= 0 disables the limit. */
  constructor(
    readonly qps: number,
    readonly burst: number,
    private readonly clock: Clock = realClock,
  ) {
    this.tokens = burst
    this.last = clock.now()
  }

  /** Takes one token; returns the milliseconds to wait before using it (0: now). */
  reserve(): number {
    if (this.qps <= 0) return 0
    const now = this.clock.now()
    const elapsed = Math.max(0, now - this.last)
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.qps) / 1000)
    this.last = now
    this.tokens -= 1
    return this.tokens >= 0 ? 0 : (-this.tokens / this.qps) * 1000
  }

  /** Waits for a token; false if `signal` aborted first (the token is spent either way). */
  async wait(signal?: AbortSignal): Promise<boolean> {
    const delay = this.reserve()
    if (delay <= 0) return !(signal?.aborted ?? false)
    return sleep(this.clock, delay, signal)
  }
}
