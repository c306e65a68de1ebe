// The crash-loop back-off of container restarts, as the kubelet paces them (its
// flowcontrol.Backoff keyed per container): the first restart after an exit is
// immediate, each later one waits 10 s, 20 s, 40 s … up to 5 min, measured from when
// the last instance finished. A container that stayed up for twice the maximum since
// the last restart starts over at the initial delay. Times are plain milliseconds so
// that tests need no clock.

export interface CrashBackoffOptions {
  /** Default 10 s. */
  initialMs?: number
  /** Default 5 min. */
  maxMs?: number
}

interface Entry {
  backoffMs: number
  /** When the last restart was let through. */
  lastUpdateMs: number
}

export const DEFAULT_BACKOFF_INITIAL_MS = 10_000
export const DEFAULT_BACKOFF_MAX_MS = 300_000

export class CrashBackoff {
  readonly initialMs: number
  readonly maxMs: number
  private readonly entries = new Map<string, Entry>()

  constructor(o: CrashBackoffOptions = {}) {
    this.initialMs = o.initialMs ?? DEFAULT_BACKOFF_INITIAL_MS
    this.maxMs = o.maxMs ?? DEFAULT_BACKOFF_MAX_MS
  }

  private expired(e: Entry, eventMs: number): boolean {
    return eventMs - e.lastUpdateMs > 2 * this.maxMs
  }

  /**
   * How long a restart of `key`, whose last instance finished at `finishedMs`, must
   * still wait at `nowMs` (0: it may restart now).
   */
  remaining(key: string, finishedMs: number, nowMs: number): number {
    const e = this.entries.get(key)
    if (e === undefined || this.expired(e, finishedMs)) return 0
    return Math.max(0, finishedMs + e.backoffMs - nowMs)
  }

  /** Records a restart let through at `nowMs` for an instance that finished at `finishedMs`. */
  next(key: string, finishedMs: number, nowMs: number): void {
    const e = this.entries.get(key)
    if (e === undefined || this.expired(e, finishedMs)) this.entries.set(key, { backoffMs: this.initialMs, lastUpdateMs: nowMs })
    else this.entries.set(key, { backoffMs: Math.min(this.maxMs, e.backoffMs * 2), lastUpdateMs: nowMs })
  }

  /** The current delay of `key` (what the CrashLoopBackOff message names). */
  delay(key: string): number {
    return this.entries.get(key)?.backoffMs ?? this.initialMs
  }

  /** Forgets every key starting with `prefix` (a pod's containers). */
  forget(prefix: string): void {
    for (const k of this.entries.keys()) if (k.startsWith(prefix)) this.entries.delete(k)
  }

  get size(): number {
    return this.entries.size
  }
}

/** The back-off key of a pod's container. */
export function backoffKey(podUid: string, container: string): string {
  return `${podUid}/${container}`
}

/** Go's time.Duration String() for whole milliseconds: `10s`, `1m20s`, `5m0s`, `500ms`. */
export function goDuration(ms: number): string {
  if (ms === 0) return '0s'
  if (ms < 1000) return `${ms}ms`
  const totalSeconds = ms / 1000
  const h = Math.floor(totalSeconds / 3600)
  const m = Math.floor((totalSeconds - h * 3600) / 60)
  const s = +(totalSeconds - h * 3600 - m * 60).toFixed(3)
  if (h > 0) return `${h}h${m}m${s}s`
  if (m > 0) return `${m}m${s}s`
  return `${s}s`
}
