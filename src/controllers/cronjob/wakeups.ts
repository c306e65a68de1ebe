// Timers that put a CronJob's key back on the work queue at its next scheduled time.
// They run on the controller's Clock rather than inside the queue, so a test can move
// schedule time by hand while failed syncs still back off in real time. Like the
// DelayingQueue's addAfter, a key keeps the earlier of two wake-up times.
import type { Clock, Timer } from '../../client/index.js'

/** setTimeout's limit (about 24.8 days); a longer wait wakes early and is simply computed again. */
const MAX_TIMER_MS = 2 ** 31 - 1

export class Wakeups {
  private readonly pending = new Map<string, { at: number; timer: Timer }>()
  private stopped = false

  constructor(
    private readonly clock: Clock,
    private readonly wake: (key: string) => void,
  ) {}

  /** Wakes `key` after `ms` (at once when not positive), unless it is already due to wake sooner. */
  after(key: string, ms: number): void {
    if (this.stopped) return
    if (ms <= 0) {
      this.wake(key)
      return
    }
    const wait = Math.min(ms, MAX_TIMER_MS)
    const at = this.clock.now() + wait
    const existing = this.pending.get(key)
    if (existing !== undefined && existing.at <= at) return
    existing?.timer.cancel()
    const timer = this.clock.setTimeout(() => {
      this.pending.delete(key)
      this.wake(key)
    }, wait)
    this.pending.set(key, { at, timer })
  }

  /** Drops `key`'s wake-up (its CronJob is gone). */
  forget(key: string): void {
    this.pending.get(key)?.timer.cancel()
    this.pending.delete(key)
  }

  stop(): void {
    this.stopped = true
    for (const { timer } of this.pending.values()) timer.cancel()
    this.pending.clear()
  }
}
