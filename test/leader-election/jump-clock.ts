// A hand-driven clock that can also jump: time moves on without any timer running,
// as a process sees it after SIGCONT (or after a long stall of its event loop), where
// I/O callbacks and overdue timers then run in whatever order. FakeClock (src/client)
// always fires timers as it passes them, so it cannot show that.
import type { Clock, Timer } from '../../src/client/clock.js'

interface Pending {
  at: number
  seq: number
  fn: () => void
  cancelled: boolean
}

export class JumpClock implements Clock {
  private current = 0
  private seq = 0
  private timers: Pending[] = []

  now(): number {
    return this.current
  }

  setTimeout(fn: () => void, ms: number): Timer {
    const p: Pending = { at: this.current + Math.max(0, ms), seq: this.seq++, fn, cancelled: false }
    this.timers.push(p)
    return { cancel: () => (p.cancelled = true) }
  }

  /** Time passes, no timer runs (a stopped process). */
  jump(ms: number): void {
    this.current += ms
  }

  /** Runs the earliest timer that is due now, if any; true if one ran. */
  fireNext(): boolean {
    const due = this.live().filter((p) => p.at <= this.current)[0]
    if (due === undefined) return false
    this.timers.splice(this.timers.indexOf(due), 1)
    due.fn()
    return true
  }

  /** Moves forward by `ms`, running timers in time order as their times come. */
  step(ms: number): void {
    const end = this.current + ms
    for (;;) {
      const due = this.live().filter((p) => p.at <= end)[0]
      if (due === undefined) break
      this.timers.splice(this.timers.indexOf(due), 1)
      this.current = Math.max(this.current, due.at)
      due.fn()
    }
    this.current = end
  }

  pending(): number {
    return this.live().length
  }

  private live(): Pending[] {
    this.timers = this.timers.filter((p) => !p.cancelled)
    return [...this.timers].sort((a, b) => a.at - b.at || a.seq - b.seq)
  }
}
