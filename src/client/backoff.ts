// Exponential backoff with jitter that forgets past failures after a quiet spell,
// as apimachinery's exponential backoff manager paces a reflector's retries.
import type { Clock } from './clock.js'

export interface BackoffOptions {
  initialMs?: number
  maxMs?: number
  factor?: number
  /** Up to this fraction of the delay is added at random. */
  jitter?: number
  /** After this long without a call to next(), the delay starts from initialMs again. */
  resetAfterMs?: number
}

export class Backoff {
  private readonly initialMs: number
  private readonly maxMs: number
  private readonly factor: number
  private readonly jitter: number
  private readonly resetAfterMs: number
  private delay = 0
  private lastAt = -Infinity

  constructor(
    private readonly clock: Clock,
    o: BackoffOptions = {},
  ) {
    this.initialMs = o.initialMs ?? 800
    this.maxMs = o.maxMs ?? 30_000
    this.factor = o.factor ?? 2
    this.jitter = o.jitter ?? 1
    this.resetAfterMs = o.resetAfterMs ?? 120_000
  }

  /** The delay to wait now; each call without a reset grows the next one. */
  next(): number {
    const now = this.clock.now()
    if (now - this.lastAt > this.resetAfterMs) this.delay = 0
    this.lastAt = now
    this.delay = this.delay === 0 ? this.initialMs : Math.min(this.maxMs, this.delay * this.factor)
    return this.delay * (1 + Math.random() * this.jitter)
  }

  reset(): void {
    this.delay = 0
  }
}
