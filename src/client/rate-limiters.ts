// How long a work-queue item waits before it is retried (client-go's
// workqueue rate limiters). A controller's default combines a per-item
// exponential backoff with an overall token bucket and takes the longer wait.
import { type Clock, realClock } from './clock.js'
import { TokenBucket } from './token-bucket.js'

export interface RateLimiter<T> {
  /** The delay before `item` may be processed again; counts as one more failure. */
  when(item: T): number
  /** Clears `item`'s failure history (after it succeeded, or was given up on). */
  forget(item: T): void
  numRequeues(item: T): number
}

/** baseMs * 2^failures, capped at maxMs, per item. */
export class ItemExponentialFailureRateLimiter<T> implements RateLimiter<T> {
  private readonly failures = new Map<T, number>()

  constructor(
    private readonly baseMs: number,
    private readonly maxMs: number,
  ) {}

  when(item: T): number {
    const exp = this.failures.get(item) ?? 0
    this.failures.set(item, exp + 1)
    const backoff = this.baseMs * 2 ** exp
    return backoff > this.maxMs || !Number.isFinite(backoff) ? this.maxMs : backoff
  }

  forget(item: T): void {
    this.failures.delete(item)
  }

  numRequeues(item: T): number {
    return this.failures.get(item) ?? 0
  }
}

/** fastMs for the first maxFastAttempts failures of an item, slowMs after. */
export class ItemFastSlowRateLimiter<T> implements RateLimiter<T> {
  private readonly failures = new Map<T, number>()

  constructor(
    private readonly fastMs: number,
    private readonly slowMs: number,
    private readonly maxFastAttempts: number,
  ) {}

  when(item: T): number {
    const n = (this.failures.get(item) ?? 0) + 1
    this.failures.set(item, n)
    return n <= this.maxFastAttempts ? this.fastMs : this.slowMs
  }

  forget(item: T): void {
    this.failures.delete(item)
  }

  numRequeues(item: T): number {
    return this.failures.get(item) ?? 0
  }
}

/** An overall limit across all items: qps with a burst; keeps no per-item history. */
export class BucketRateLimiter<T> implements RateLimiter<T> {
  private readonly bucket: TokenBucket

  constructor(qps: number, burst: number, clock: Clock = realClock) {
    this.bucket = new TokenBucket(qps, burst, clock)
  }

  when(_item: T): number {
    return this.bucket.reserve()
  }

  forget(_item: T): void {}

  numRequeues(_item: T): number {
    return 0
  }
}

/** The longest wait of several limiters (every one of them counts the failure). */
export class MaxOfRateLimiter<T> implements RateLimiter<T> {
  private readonly limiters: readonly RateLimiter<T>[]

  constructor(...limiters: RateLimiter<T>[]) {
    this.limiters = limiters
  }

  when(item: T): number {
    let max = 0
    for (const l of this.limiters) max = Math.max(max, l.when(item))
    return max
  }

  forget(item: T): void {
    for (const l of this.limiters) l.forget(item)
  }

  numRequeues(item: T): number {
    let max = 0
    for (const l of this.limiters) max = Math.max(max, l.numRequeues(item))
    return max
  }
}

/** client-go's DefaultControllerRateLimiter: per item 5 ms doubling to 1000 s, overall 10 qps with a burst of 100. */
export function defaultControllerRateLimiter<T>(clock: Clock = realClock): RateLimiter<T> {
  return new MaxOfRateLimiter<T>(new ItemExponentialFailureRateLimiter<T>(5, 1000 * 1000), new BucketRateLimiter<T>(10, 100, clock))
}
