// When a cron schedule next fires: robfig/cron v3's Schedule.Next, which the CronJob
// controller calls, reproduced over the parsed form of src/api/validation/cron.ts so
// that a schedule means the same to validation and to the controller.
//
// Times are milliseconds since the epoch; a schedule reads its fields in one IANA
// time zone, looked up through Intl (Node's ICU data), with Go's rules for wall-clock
// times a DST change skips or repeats: time.Date resolves such a time with the offset
// in force just before or after it, and Next's day loop steps over a skipped midnight.
import { type CronField, parseCron } from './validation/cron.js'

export interface Schedule {
  /**
   * The first activation strictly after `afterMs`, on a whole second; undefined when
   * the fields match no time within five years (robfig's zero time).
   */
  next(afterMs: number): number | undefined
}

export interface WallClock {
  year: number
  /** 1–12 */
  month: number
  day: number
  hour: number
  minute: number
  second: number
  /** 0 (Sunday) – 6 */
  weekday: number
}

const SECOND = 1000
const MINUTE = 60 * SECOND
const HOUR = 60 * MINUTE

const mod = (a: number, b: number): number => ((a % b) + b) % b

/** Offsets are looked up per six hours of UTC, and at most this many windows are kept per zone. */
const WINDOW = 6 * HOUR
const MAX_WINDOWS = 4096

interface OffsetWindow {
  before: number
  after: number
  /** First millisecond with the `after` offset (the window's start when it has no change). */
  changeAt: number
}

/** A time zone's offsets from UTC, as Go's *time.Location gives them. */
export class TimeZone {
  private readonly format: Intl.DateTimeFormat | undefined

  private constructor(readonly name: string) {
    this.format =
      name === 'UTC'
        ? undefined
        : new Intl.DateTimeFormat('en-US', { timeZone: name, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' })
  }

  static readonly UTC = new TimeZone('UTC')

  /**
   * time.LoadLocation: "" and "UTC" are UTC, "Local" is this process's zone, anything
   * else an IANA name; the error texts are Go's.
   */
  static load(name: string): TimeZone {
    if (name === '' || name === 'UTC') return TimeZone.UTC
    if (name === 'Local') return TimeZone.local()
    if (name.includes('..') || name.startsWith('/') || name.startsWith('\\')) throw new Error('time: invalid location name')
    let resolved: string
    try {
      resolved = new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone
    } catch {
      throw new Error(`unknown time zone ${name}`)
    }
    // Intl also takes offsets ("+05:30") and any letter case; Go's zoneinfo lookup takes neither.
    if (/^[+-]/.test(name) || (resolved !== name && resolved.toLowerCase() === name.toLowerCase())) throw new Error(`unknown time zone ${name}`)
    return new TimeZone(name)
  }

  /** The zone this process runs in (kube-controller-manager's time.Local). */
  static local(): TimeZone {
    const name = new Intl.DateTimeFormat().resolvedOptions().timeZone
    return name === 'UTC' || name === 'Etc/UTC' ? TimeZone.UTC : new TimeZone(name)
  }

  /** Milliseconds to add to UTC to read the wall clock at `ms`. */
  offsetAt(ms: number): number {
    if (this.format === undefined) return 0
    // Asking Intl costs tens of microseconds and a schedule's search asks hundreds
    // of times, so offsets are kept per window. A window holds at most one change
    // (zones change offset months apart), found to the second when it has one.
    const index = Math.floor(ms / WINDOW)
    let w = this.windows.get(index)
    if (w === undefined) {
      if (this.windows.size >= MAX_WINDOWS) this.windows.clear()
      w = this.window(index * WINDOW)
      this.windows.set(index, w)
    }
    return ms < w.changeAt ? w.before : w.after
  }

  private readonly windows = new Map<number, OffsetWindow>()

  private window(start: number): OffsetWindow {
    const before = this.intlOffset(start)
    const after = this.intlOffset(start + WINDOW - SECOND)
    if (before === after) return { before, after, changeAt: start }
    let lo = start
    let hi = start + WINDOW - SECOND
    while (hi - lo > SECOND) {
      const mid = lo + Math.floor((hi - lo) / 2 / SECOND) * SECOND
      if (this.intlOffset(mid) === before) lo = mid
      else hi = mid
    }
    return { before, after, changeAt: hi }
  }

  private intlOffset(ms: number): number {
    const p: Record<string, number> = {}
    for (const part of this.format!.formatToParts(ms)) if (part.type !== 'literal') p[part.type] = Number(part.value)
    return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - (ms - mod(ms, SECOND))
  }

  wall(ms: number): WallClock {
    const d = new Date(ms + this.offsetAt(ms))
    return {
      year: d.getUTCFullYear(),
      month: d.getUTCMonth() + 1,
      day: d.getUTCDate(),
      hour: d.getUTCHours(),
      minute: d.getUTCMinutes(),
      second: d.getUTCSeconds(),
      weekday: d.getUTCDay(),
    }
  }

  /**
   * time.Date: the instant the wall clock reads these fields (out-of-range values
   * carry over, as in Go). A skipped or repeated wall time takes the offset in force
   * at (wall time − the offset found for the wall time read as UTC), as Go does.
   */
  at(year: number, month: number, day: number, hour = 0, minute = 0, second = 0): number {
    const asUtc = Date.UTC(year, month - 1, day, hour, minute, second)
    const guess = this.offsetAt(asUtc)
    if (guess === 0) return asUtc
    return asUtc - this.offsetAt(asUtc - guess)
  }
}

/** Go's time.RFC3339 of `ms` in `zone` ("Z" whenever the offset is zero). */
export function formatRFC3339(ms: number, zone: TimeZone): string {
  const offset = zone.offsetAt(ms)
  const w = new Date(ms + offset).toISOString().slice(0, 19)
  if (offset === 0) return `${w}Z`
  const minutes = Math.trunc(Math.abs(offset) / MINUTE)
  const pad = (n: number): string => String(n).padStart(2, '0')
  return `${w}${offset < 0 ? '-' : '+'}${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}`
}

/** robfig's SpecSchedule: bit sets per field, read in one zone. */
class FieldSchedule implements Schedule {
  constructor(
    private readonly f: { second: CronField; minute: CronField; hour: CronField; dom: CronField; month: CronField; dow: CronField },
    private readonly zone: TimeZone,
  ) {}

  /** Either day field written as `*` means both must match; otherwise either one does (cron's rule). */
  private dayMatches(w: WallClock): boolean {
    const dom = this.f.dom.values.has(w.day)
    const dow = this.f.dow.values.has(w.weekday)
    return this.f.dom.star || this.f.dow.star ? dom && dow : dom || dow
  }

  next(afterMs: number): number | undefined {
    const z = this.zone
    const f = this.f
    // The upcoming whole second; each field then moves forward until it matches,
    // and a field that wraps around sends the search back to re-check the larger ones.
    let t = afterMs - mod(afterMs, SECOND) + SECOND
    let w = z.wall(t)
    const set = (ms: number): void => {
      t = ms
      w = z.wall(t)
    }
    let added = false
    const yearLimit = w.year + 5
    wrap: for (;;) {
      if (w.year > yearLimit) return undefined
      while (!f.month.values.has(w.month)) {
        if (!added) {
          added = true
          set(z.at(w.year, w.month, 1))
        }
        set(z.at(w.year, w.month + 1, w.day, w.hour, w.minute, w.second))
        if (w.month === 1) continue wrap
      }
      while (!this.dayMatches(w)) {
        if (!added) {
          added = true
          set(z.at(w.year, w.month, w.day))
        }
        set(z.at(w.year, w.month, w.day + 1, w.hour, w.minute, w.second))
        // A DST change at midnight moves the day's start off 00:00: step back onto it.
        if (w.hour !== 0) set(t + (w.hour > 12 ? 24 - w.hour : -w.hour) * HOUR)
        if (w.day === 1) continue wrap
      }
      while (!f.hour.values.has(w.hour)) {
        if (!added) {
          added = true
          set(z.at(w.year, w.month, w.day, w.hour))
        }
        set(t + HOUR)
        if (w.hour === 0) continue wrap
      }
      while (!f.minute.values.has(w.minute)) {
        if (!added) {
          added = true
          set(t - mod(t, MINUTE))
        }
        set(t + MINUTE)
        if (w.minute === 0) continue wrap
      }
      while (!f.second.values.has(w.second)) {
        if (!added) {
          added = true
          set(t - mod(t, SECOND))
        }
        set(t + SECOND)
        if (w.second === 0) continue wrap
      }
      return t
    }
  }
}

/** robfig's ConstantDelaySchedule (@every): whole seconds, at least one. */
class EverySchedule implements Schedule {
  private readonly delay: number

  constructor(nanoseconds: number) {
    this.delay = nanoseconds < 1e9 ? SECOND : Math.floor(nanoseconds / 1e9) * SECOND
  }

  next(afterMs: number): number {
    return afterMs - mod(afterMs, SECOND) + this.delay
  }
}

/**
 * cron.ParseStandard: a schedule read in `zone`, or in the zone of its own
 * `TZ=`/`CRON_TZ=` prefix. Throws with robfig's error text.
 */
export function parseSchedule(spec: string, zone: TimeZone): Schedule {
  const parsed = parseCron(spec)
  let z = zone
  if (parsed.location !== undefined) {
    try {
      z = TimeZone.load(parsed.location)
    } catch (err) {
      throw new Error(`provided bad location ${parsed.location}: ${(err as Error).message}`, { cause: err })
    }
  }
  return parsed.kind === 'every' ? new EverySchedule(parsed.nanoseconds) : new FieldSchedule(parsed, z)
}
