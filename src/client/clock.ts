// Time as the client library sees it. Everything that waits (work queues, rate
// limiters, backoff, resync) takes a Clock so tests can drive time by hand.

export interface Timer {
  cancel(): void
}

export interface Clock {
  /** Milliseconds, monotonic for the real clock. */
  now(): number
  setTimeout(fn: () => void, ms: number): Timer
}

/** Node fires a setTimeout longer than this after 1 ms; longer waits are chained. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1

export const realClock: Clock = {
  now: () => performance.now(),
  setTimeout(fn, ms) {
    const due = performance.now() + Math.max(0, ms)
    let h: NodeJS.Timeout
    const arm = (): void => {
      const left = due - performance.now()
      h = setTimeout(left > MAX_TIMEOUT_MS ? arm : fn, Math.min(Math.max(0, left), MAX_TIMEOUT_MS))
    }
    arm()
    return { cancel: () => clearTimeout(h) }
  },
}

/**
 * Resolves true after `ms`, or false as soon as `signal` aborts (never rejects), so
 * loops can write `if (!(await sleep(...))) return`.
 */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false)
  return new Promise((resolve) => {
    const onAbort = (): void => {
      timer.cancel()
      resolve(false)
    }
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve(true)
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

interface FakeTimer {
  at: number
  seq: number
  fn: () => void
  cancelled: boolean
}

/** A clock that only moves when told to; timers fire in time order during `step`. */
export class FakeClock implements Clock {
  private current: number
  private seq = 0
  private timers: FakeTimer[] = []

  constructor(start = 0) {
    this.current = start
  }

  now(): number {
    return this.current
  }

  setTimeout(fn: () => void, ms: number): Timer {
    const t: FakeTimer = { at: this.current + Math.max(0, ms), seq: this.seq++, fn, cancelled: false }
    this.timers.push(t)
    return { cancel: () => (t.cancelled = true) }
  }

  /** Moves time forward by `ms`, firing every timer that falls due, including ones set while stepping. */
  step(ms: number): void {
    const end = this.current + ms
    for (;;) {
      this.timers = this.timers.filter((t) => !t.cancelled)
      const due = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0]
      if (due === undefined) break
      this.timers.splice(this.timers.indexOf(due), 1)
      this.current = Math.max(this.current, due.at)
      due.fn()
    }
    this.current = end
  }

  /** Timers set and not yet fired or cancelled. */
  pending(): number {
    return this.timers.filter((t) => !t.cancelled).length
  }
}
