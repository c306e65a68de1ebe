// Which scheduled time a CronJob owes a Job for, and when to look at it again: the
// v2 controller's mostRecentScheduleTime / nextScheduleTime / nextScheduleTimeDuration.
// Pure: a CronJob's times in, milliseconds out, so every case is tested without a server.
//
// Only the most recent missed time is run. Missed times are counted from the gap
// between the first two due times, not listed one by one, so a CronJob whose
// controller was away for years costs two lookups, not millions; more than 100 of
// them is reported (TooManyMissedTimes) and still runs the latest.
import type { Schedule } from '../../api/cron-schedule.js'

/** What of a CronJob the times depend on (milliseconds since the epoch). */
export interface ScheduleState {
  creationTimestamp: number
  lastScheduleTime?: number
  startingDeadlineSeconds?: number
}

export type MissedSchedules = 'none' | 'few' | 'many'

export interface MostRecent {
  /** Where the search started: lastScheduleTime, else the creation time (moved up to the starting deadline when asked). */
  earliest: number
  /** The latest due time not after now, if any. */
  mostRecent?: number
  missed: MissedSchedules
  /** A schedule that parses but never fires twice (Feb 30th), in upstream's words. */
  error?: string
}

/** Requeues land this long after the due time, so a clock slightly behind the apiserver's still finds the time due. */
export const NEXT_SCHEDULE_DELTA_MS = 100

const TOO_MANY = 100

export function mostRecentScheduleTime(state: ScheduleState, now: number, schedule: Schedule, includeStartingDeadline: boolean): MostRecent {
  let earliest = state.lastScheduleTime ?? state.creationTimestamp
  if (includeStartingDeadline && state.startingDeadlineSeconds !== undefined) {
    // Nothing older than the deadline will be started anyway.
    earliest = Math.max(earliest, now - state.startingDeadlineSeconds * 1000)
  }
  const t1 = schedule.next(earliest)
  if (t1 !== undefined && now < t1) return { earliest, missed: 'none' }
  const t2 = t1 === undefined ? undefined : schedule.next(t1)
  if (t1 !== undefined && t2 !== undefined && now < t2) return { earliest, mostRecent: t1, missed: 'none' }
  const between = t1 === undefined || t2 === undefined ? 0 : Math.round((t2 - t1) / 1000)
  if (t1 === undefined || between < 1) return { earliest, missed: 'none', error: 'time difference between two schedules is less than 1 second' }

  // Estimate how many were missed from the first gap, jump to just before the last
  // of them, and let the schedule find the exact latest one from there (irregular
  // schedules such as "30 6-16/4 * * 1-5" need that last step).
  const elapsed = Math.trunc((now - t1) / 1000)
  const missedCount = Math.floor(elapsed / between) + 1
  let mostRecent: number | undefined
  for (let t = schedule.next(t1 + (missedCount - 2) * between * 1000); t !== undefined && t <= now; t = schedule.next(t)) mostRecent = t
  const missed: MissedSchedules = missedCount > TOO_MANY ? 'many' : 'few'
  return mostRecent === undefined ? { earliest, missed } : { earliest, mostRecent, missed }
}

export interface DueTime {
  /** The scheduled time to create a Job for, if one is due. */
  scheduledTime?: number
  /** More than 100 times were missed (the latest is still due). */
  tooManyMissed: boolean
  error?: string
}

/** The time a Job is owed for now, honouring startingDeadlineSeconds. */
export function nextScheduleTime(state: ScheduleState, now: number, schedule: Schedule): DueTime {
  const r = mostRecentScheduleTime(state, now, schedule, true)
  if (r.mostRecent === undefined || r.mostRecent > now) return { tooManyMissed: false, ...(r.error === undefined ? {} : { error: r.error }) }
  return { scheduledTime: r.mostRecent, tooManyMissed: r.missed === 'many' }
}

/**
 * How long until the CronJob should be synced again: just past the first due time
 * after the last one handled (or after now when times were missed or the schedule
 * is broken). Undefined when the schedule never fires again.
 */
export function nextScheduleDelay(state: ScheduleState, now: number, schedule: Schedule): number | undefined {
  const r = mostRecentScheduleTime(state, now, schedule, false)
  let from: number
  if (r.error !== undefined) from = now
  else if (r.mostRecent !== undefined) from = r.mostRecent
  else from = r.missed === 'none' ? r.earliest : now
  const next = schedule.next(from)
  return next === undefined ? undefined : next + NEXT_SCHEDULE_DELTA_MS - now
}

/** The Job for a scheduled time is named after it in minutes since the epoch, so a retry can never create it twice. */
export function jobNameFor(cronJobName: string, scheduledTime: number): string {
  return `${cronJobName}-${Math.floor(scheduledTime / 60_000)}`
}
