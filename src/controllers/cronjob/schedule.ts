// A CronJob's schedule as the controller reads it: spec.schedule in spec.timeZone, or
// in the controller's own zone when none is set (kube-controller-manager's time.Local).
// A `TZ=`/`CRON_TZ=` prefix, which validation no longer accepts on new CronJobs but
// older ones may still carry, is honoured and reported as unsupported, as upstream does.
import { parseSchedule, type Schedule, TimeZone } from '../../api/cron-schedule.js'
import type { KubeObject } from '../../client/index.js'

export interface CronJobSpec {
  schedule?: string
  timeZone?: string | null
  startingDeadlineSeconds?: number | null
  concurrencyPolicy?: string
  suspend?: boolean | null
  successfulJobsHistoryLimit?: number | null
  failedJobsHistoryLimit?: number | null
  jobTemplate?: Record<string, unknown>
}

export const specOf = (cronJob: KubeObject): CronJobSpec => (cronJob.spec ?? {}) as CronJobSpec

/** True when the schedule carries its own zone prefix (upstream checks for "TZ" anywhere). */
export function scheduleNamesZone(cronJob: KubeObject): boolean {
  return (specOf(cronJob).schedule ?? '').includes('TZ')
}

/** The zone in spec.timeZone (UTC when unset, as for the scheduled-timestamp annotation); throws Go's LoadLocation error. */
export function specTimeZone(cronJob: KubeObject): TimeZone {
  return TimeZone.load(specOf(cronJob).timeZone ?? '')
}

/** The parsed schedule; throws with robfig's error text. */
export function cronJobSchedule(cronJob: KubeObject, localZone: TimeZone): Schedule {
  const spec = specOf(cronJob)
  const text = spec.schedule ?? ''
  if (scheduleNamesZone(cronJob) || spec.timeZone == null) return parseSchedule(text, localZone)
  let zone: TimeZone
  try {
    zone = TimeZone.load(spec.timeZone)
  } catch {
    // An unknown zone is reported by the sync (UnknownTimeZone); the bare schedule still parses.
    return parseSchedule(text, localZone)
  }
  return parseSchedule(text, zone)
}
