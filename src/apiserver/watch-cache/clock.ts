// The timers the watch cache uses (bookmarks, freshness deadlines, retry back-off),
// behind an interface so tests can move time by hand.

export type TimerHandle = unknown

export interface Clock {
  setTimeout(fn: () => void, ms: number): TimerHandle
  clearTimeout(handle: TimerHandle): void
}

/** Node's timers, unref'd: a cache's housekeeping never keeps a process alive. */
export const systemClock: Clock = {
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms)
    t.unref()
    return t
  },
  clearTimeout(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>)
  },
}
