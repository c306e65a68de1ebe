// Work queues with client-go's semantics (util/workqueue). A key added many times
// before a worker takes it is processed once; a key added while a worker holds it
// is processed again after that worker calls done(key), never by two workers at
// once. DelayingQueue adds addAfter; RateLimitingQueue adds addRateLimited, forget
// and numRequeues on top of a RateLimiter.
import { type Clock, realClock, type Timer } from './clock.js'
import { defaultControllerRateLimiter, type RateLimiter } from './rate-limiters.js'

export type GetResult<T> = { key: T; shutdown: false } | { key: undefined; shutdown: true }

/**
 * What a named queue tells its metrics (client-go's workqueue metrics provider): a
 * key became dirty (add), was handed to a worker (get), was finished (done), was
 * requeued rate-limited (retry).
 */
export interface QueueMetrics<T> {
  add(key: T): void
  get(key: T): void
  done(key: T): void
  retry(): void
}

export interface QueueMetricsProvider {
  forQueue<T>(name: string): QueueMetrics<T>
}

let metricsProvider: QueueMetricsProvider | undefined

/**
 * Where queues made from now on report (as client-go's workqueue.SetProvider): one
 * per process, set by whoever owns the process's metrics registry. Unnamed queues
 * report nothing, as upstream.
 */
export function setQueueMetricsProvider(p: QueueMetricsProvider | undefined): void {
  metricsProvider = p
}

export interface QueueOptions {
  /** For logs and metrics. */
  name?: string
  clock?: Clock
}

export class WorkQueue<T = string> {
  readonly name: string
  protected readonly clock: Clock
  private items: T[] = []
  private head = 0
  /** Keys waiting to be processed (queued, or re-added while processing). */
  private readonly dirty = new Set<T>()
  private readonly processing = new Set<T>()
  private readonly getters: ((r: GetResult<T>) => void)[] = []
  private readonly drainWaiters: (() => void)[] = []
  private closing = false
  private readonly metrics: QueueMetrics<T> | undefined

  constructor(opts: QueueOptions = {}) {
    this.name = opts.name ?? ''
    this.clock = opts.clock ?? realClock
    this.metrics = this.name === '' ? undefined : metricsProvider?.forQueue<T>(this.name)
  }

  /** Queues `key` unless it is queued already; ignored once shutting down. */
  add(key: T): void {
    if (this.closing || this.dirty.has(key)) return
    this.dirty.add(key)
    this.metrics?.add(key)
    if (this.processing.has(key)) return
    this.items.push(key)
    this.dispatch()
  }

  /** Keys queued and not yet handed to a worker. */
  len(): number {
    return this.items.length - this.head
  }

  /**
   * The next key to process, once there is one. After shutDown the keys still queued
   * are handed out, then every get() resolves with `shutdown: true`.
   */
  get(): Promise<GetResult<T>> {
    if (this.len() > 0) return Promise.resolve({ key: this.take(), shutdown: false })
    if (this.closing) return Promise.resolve({ key: undefined, shutdown: true })
    return new Promise((resolve) => this.getters.push(resolve))
  }

  /** Marks `key` processed; if it was added meanwhile, it is queued again. */
  done(key: T): void {
    this.metrics?.done(key)
    this.processing.delete(key)
    if (this.dirty.has(key)) {
      this.items.push(key)
      this.dispatch()
    }
    if (this.processing.size === 0) for (const w of this.drainWaiters.splice(0)) w()
  }

  /** Stops accepting keys; idle workers' get() resolve with `shutdown: true`. */
  shutDown(): void {
    if (this.closing) return
    this.closing = true
    this.onShutDown()
    for (const g of this.getters.splice(0)) g({ key: undefined, shutdown: true })
  }

  /** As shutDown, and resolves once every key handed out has been marked done. */
  shutDownWithDrain(): Promise<void> {
    this.shutDown()
    if (this.processing.size === 0) return Promise.resolve()
    return new Promise((resolve) => this.drainWaiters.push(resolve))
  }

  shuttingDown(): boolean {
    return this.closing
  }

  /** Hook for subclasses that hold keys outside the queue (delayed ones). */
  protected onShutDown(): void {}

  /** For subclasses: a key was added again later (workqueue_retries_total). */
  protected countRetry(): void {
    this.metrics?.retry()
  }

  private take(): T {
    const key = this.items[this.head++]
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
    this.processing.add(key)
    this.dirty.delete(key)
    this.metrics?.get(key)
    return key
  }

  private dispatch(): void {
    while (this.getters.length > 0 && this.len() > 0) {
      const g = this.getters.shift() as (r: GetResult<T>) => void
      g({ key: this.take(), shutdown: false })
    }
  }
}

interface Waiting<T> {
  at: number
  seq: number
  key: T
}

export class DelayingQueue<T = string> extends WorkQueue<T> {
  private readonly heap: Waiting<T>[] = []
  /** The entry that counts for each waiting key; older heap entries for it are stale. */
  private readonly waiting = new Map<T, Waiting<T>>()
  private seq = 0
  private timer: Timer | undefined
  private timerAt = Infinity

  /** Queues `key` after `ms`; a key already waiting keeps the earlier of its two times. */
  addAfter(key: T, ms: number): void {
    if (this.shuttingDown()) return
    // client-go counts every delayed add as a retry.
    this.countRetry()
    if (ms <= 0) {
      this.add(key)
      return
    }
    const at = this.clock.now() + ms
    const existing = this.waiting.get(key)
    if (existing !== undefined && existing.at <= at) return
    const entry = { at, seq: this.seq++, key }
    this.waiting.set(key, entry)
    heapPush(this.heap, entry)
    this.arm()
  }

  /** Keys waiting for their time (not yet queued). */
  waitingLen(): number {
    return this.waiting.size
  }

  protected override onShutDown(): void {
    this.timer?.cancel()
    this.timer = undefined
    this.heap.length = 0
    this.waiting.clear()
  }

  private arm(): void {
    this.dropStale()
    const next = this.heap[0]
    if (next === undefined) {
      this.timer?.cancel()
      this.timer = undefined
      this.timerAt = Infinity
      return
    }
    if (this.timer !== undefined && this.timerAt <= next.at) return
    this.timer?.cancel()
    this.timerAt = next.at
    this.timer = this.clock.setTimeout(() => this.fire(), next.at - this.clock.now())
  }

  private fire(): void {
    this.timer = undefined
    this.timerAt = Infinity
    const now = this.clock.now()
    for (;;) {
      this.dropStale()
      const next = this.heap[0]
      if (next === undefined || next.at > now) break
      heapPop(this.heap)
      this.waiting.delete(next.key)
      this.add(next.key)
    }
    this.arm()
  }

  private dropStale(): void {
    while (this.heap.length > 0 && this.waiting.get(this.heap[0].key) !== this.heap[0]) heapPop(this.heap)
  }
}

export class RateLimitingQueue<T = string> extends DelayingQueue<T> {
  readonly rateLimiter: RateLimiter<T>

  constructor(rateLimiter?: RateLimiter<T>, opts: QueueOptions = {}) {
    super(opts)
    this.rateLimiter = rateLimiter ?? defaultControllerRateLimiter<T>(this.clock)
  }

  /** Queues `key` after the rate limiter's delay for it (one more failure). */
  addRateLimited(key: T): void {
    this.addAfter(key, this.rateLimiter.when(key))
  }

  /** Forgets `key`'s failures; call after it was processed successfully. */
  forget(key: T): void {
    this.rateLimiter.forget(key)
  }

  numRequeues(key: T): number {
    return this.rateLimiter.numRequeues(key)
  }
}

export interface WorkerOptions<T> {
  /** Give up on a key after this many requeues (client-go controllers use 5–15); undefined: never. */
  maxRetries?: number
  onError?: (key: T, err: unknown, requeued: boolean) => void
}

/**
 * The controller loop: `workers` concurrent workers take keys and sync them; a
 * failure requeues the key rate-limited, a success forgets its failures. Resolves
 * when the queue shuts down and every worker has finished its key.
 */
export async function runWorkers<T>(
  queue: RateLimitingQueue<T>,
  workers: number,
  sync: (key: T) => Promise<void> | void,
  opts: WorkerOptions<T> = {},
): Promise<void> {
  const worker = async (): Promise<void> => {
    for (;;) {
      const next = await queue.get()
      if (next.shutdown) return
      const key = next.key
      try {
        await sync(key)
        queue.forget(key)
      } catch (err) {
        const requeue = opts.maxRetries === undefined || queue.numRequeues(key) < opts.maxRetries
        if (requeue) queue.addRateLimited(key)
        else queue.forget(key)
        opts.onError?.(key, err, requeue)
      } finally {
        queue.done(key)
      }
    }
  }
  await Promise.all(Array.from({ length: workers }, worker))
}

function before<T>(a: Waiting<T>, b: Waiting<T>): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq)
}

function heapPush<T>(h: Waiting<T>[], e: Waiting<T>): void {
  h.push(e)
  let i = h.length - 1
  while (i > 0) {
    const p = (i - 1) >> 1
    if (!before(h[i], h[p])) break
    ;[h[i], h[p]] = [h[p], h[i]]
    i = p
  }
}

function heapPop<T>(h: Waiting<T>[]): void {
  const last = h.pop()
  if (last === undefined || h.length === 0) return
  h[0] = last
  let i = 0
  for (;;) {
    const l = 2 * i + 1
    const r = l + 1
    let m = i
    if (l < h.length && before(h[l], h[m])) m = l
    if (r < h.length && before(h[r], h[m])) m = r
    if (m === i) break
    ;[h[i], h[m]] = [h[m], h[i]]
    i = m
  }
}
