// The periodic half of a watch's progress notifications: every interval in which the
// watch delivered nothing (and has nothing in flight), it reports progress, so an
// idle watch cache still learns that the store moved on (its bookmarks). etcd's
// progress_notify does the same on its own schedule (10 minutes by default).

export class IdleProgress {
  private active = false
  private readonly timer: NodeJS.Timeout | undefined

  /** `intervalMs` 0 turns it off; `idle()` says nothing is in flight; `fire()` asks for progress. */
  constructor(intervalMs: number, idle: () => boolean, fire: () => void) {
    if (intervalMs <= 0) return
    this.timer = setInterval(() => {
      if (!this.active && idle()) fire()
      this.active = false
    }, intervalMs)
    this.timer.unref()
  }

  /** Events were delivered: no progress due this interval. */
  busy(): void {
    this.active = true
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer)
  }
}
