// The CronJob controller (kube-controller-manager's "cronjob", upstream's v2
// controller): at each time a CronJob's schedule names, it creates a Job from the
// CronJob's jobTemplate, honouring suspend, startingDeadlineSeconds and the
// concurrency policy (Allow, Forbid: skip while a Job runs, Replace: delete the
// running Jobs first); it keeps status.active, lastScheduleTime and
// lastSuccessfulTime, and prunes finished Jobs beyond the history limits.
//
// Each CronJob is synced when it or one of its Jobs changes, and again just after its
// next scheduled time. The Job for a scheduled time is named after that time, so a
// master that created it and failed over before recording it in status.active
// finds it (AlreadyExists) instead of creating a second one.
import { Histogram, type Registry } from 'prom-client'
import { type Schedule, TimeZone } from '../../api/cron-schedule.js'
import { metaTime } from '../../api/time.js'
import {
  type Clock,
  DeletedFinalStateUnknown,
  errorMessage,
  isAlreadyExists,
  isNotFound,
  type KubeObject,
  metaNamespaceKey,
  type OwnerReference,
  RateLimitingQueue,
  realClock,
  runWorkers,
  isNamespaceTerminating,
} from '../../client/index.js'
import type { Controller, ControllerContext, ControllerFactory } from '../types.js'
import { controllerOf } from '../util/controller-ref.js'
import { CRONJOBS, JOBS } from '../util/resources.js'
import { byStartTime, completionTime, finishedCondition, jobFromTemplate, jobSucceeded, type ObjectReference, parseTime, referenceTo } from './jobs.js'
import { cronJobSchedule, scheduleNamesZone, specOf, specTimeZone } from './schedule.js'
import { jobNameFor, nextScheduleDelay, nextScheduleTime, type ScheduleState } from './schedule-times.js'
import { Wakeups } from './wakeups.js'

export interface CronJobControllerOptions {
  /** Runs the wake-ups at scheduled times (a FakeClock in tests). */
  clock?: Clock
  /** The wall-clock time schedules are read against. */
  now?: () => Date
  /** The zone of schedules without spec.timeZone; default this process's zone. */
  localZone?: TimeZone
  /** kube-controller-manager's --concurrent-cron-job-syncs (5). */
  workers?: number
}

interface CronJobStatus {
  active?: ObjectReference[]
  lastScheduleTime?: string
  lastSuccessfulTime?: string
  [field: string]: unknown
}

/** What one sync decided: the CronJob as it should be written, and when to look again. */
interface SyncResult {
  requeueAfter?: number
  error?: unknown
}

const SKEW_METRIC = 'cronjob_controller_job_creation_skew_duration_seconds'

export function cronJobControllerWith(opts: CronJobControllerOptions = {}): ControllerFactory {
  return (ctx) => newCronJobController(ctx, opts)
}

export const cronJobController: ControllerFactory = cronJobControllerWith()

const statusOf = (cj: KubeObject): CronJobStatus => {
  cj.status ??= {}
  return cj.status as CronJobStatus
}
const activeOf = (cj: KubeObject): ObjectReference[] => ((cj.status as CronJobStatus | undefined)?.active ?? []) as ObjectReference[]
const inActiveList = (cj: KubeObject, uid: string | undefined): boolean => activeOf(cj).some((r) => r.uid === uid)
function removeFromActiveList(cj: KubeObject, uid: string | undefined): void {
  const status = statusOf(cj)
  const rest = activeOf(cj).filter((r) => r.uid !== uid)
  // An empty list is left out, as Go's omitempty writes it.
  if (rest.length > 0) status.active = rest
  else delete status.active
}


/** time.RFC1123Z in UTC, as the MissSchedule event prints the missed time. */
const rfc1123z = (ms: number): string => new Date(ms).toUTCString().replace(/GMT$/, '+0000')

function creationSkew(registry: Registry | undefined): Histogram | undefined {
  if (registry === undefined) return undefined
  const existing = registry.getSingleMetric(SKEW_METRIC)
  if (existing !== undefined) return existing as Histogram
  return new Histogram({
    name: SKEW_METRIC,
    help: 'Time between when a cronjob is scheduled to be run, and when the corresponding job is created',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
    registers: [registry],
  })
}

function newCronJobController(ctx: ControllerContext, opts: CronJobControllerOptions): Controller {
  const clock = opts.clock ?? realClock
  const now = opts.now ?? (() => new Date())
  const localZone = opts.localZone ?? TimeZone.local()
  const cronJobs = ctx.informers.forResource(CRONJOBS)
  const jobs = ctx.informers.forResource(JOBS)
  const queue = new RateLimitingQueue<string>(undefined, { name: 'cronjob' })
  const wakeups = new Wakeups(clock, (key) => queue.add(key))
  const events = ctx.events('cronjob-controller')
  const skew = creationSkew(ctx.metrics)

  /** The CronJob a Job's controllerRef names, when it is the one in the cache (same uid). */
  const resolve = (namespace: string | undefined, ref: OwnerReference | undefined): string | undefined => {
    if (ref?.kind !== 'CronJob') return undefined
    const key = `${namespace ?? ''}/${ref.name}`
    return cronJobs.indexer.getByKey(key)?.metadata?.uid === ref.uid ? key : undefined
  }
  const enqueueOwner = (job: KubeObject): void => {
    const key = resolve(job.metadata?.namespace, controllerOf(job))
    if (key !== undefined) queue.add(key)
  }

  jobs.addEventHandler({
    onAdd: enqueueOwner,
    onUpdate: (old, cur) => {
      if (old.metadata?.resourceVersion === cur.metadata?.resourceVersion) return
      const oldRef = controllerOf(old)
      const curRef = controllerOf(cur)
      if (oldRef !== undefined && JSON.stringify(oldRef) !== JSON.stringify(curRef)) enqueueOwner(old)
      enqueueOwner(cur)
    },
    onDelete: (j) => enqueueOwner(j instanceof DeletedFinalStateUnknown ? j.obj : j),
  })
  cronJobs.addEventHandler({
    onAdd: (cj) => queue.add(metaNamespaceKey(cj)),
    onUpdate: (old, cur) => {
      const key = metaNamespaceKey(cur)
      const a = specOf(old)
      const b = specOf(cur)
      if (a.schedule === b.schedule && (a.timeZone ?? undefined) === (b.timeZone ?? undefined)) {
        // Anything else changed: look now (within the deadline it may still start a Job).
        queue.add(key)
        return
      }
      // A new schedule: wake at its next time (sooner than the one already waiting, or that one wakes first and finds nothing).
      let delay: number | undefined
      try {
        delay = nextScheduleDelay(scheduleState(cur), now().getTime(), cronJobSchedule(cur, localZone))
      } catch {
        events.event(cur, 'Warning', 'UnParseableCronJobSchedule', `unparseable schedule for cronjob: ${b.schedule ?? ''}`)
        return
      }
      if (delay !== undefined) wakeups.after(key, delay)
    },
    onDelete: (cj) => {
      const key = metaNamespaceKey(cj instanceof DeletedFinalStateUnknown ? cj.obj : cj)
      wakeups.forget(key)
      queue.add(key)
    },
  })

  /** Every Job whose controllerRef names this CronJob (by name: upstream also reconciles Jobs whose labels drifted). */
  const jobsOf = (cj: KubeObject): KubeObject[] =>
    jobs.indexer.byIndex('namespace', cj.metadata?.namespace ?? '').filter((j) => controllerOf(j)?.name === cj.metadata?.name)

  async function deleteJob(cj: KubeObject, job: KubeObject): Promise<boolean> {
    try {
      await ctx.writer.resource(JOBS, job.metadata?.namespace).delete(job.metadata?.name ?? '', { propagationPolicy: 'Background' })
    } catch (err) {
      // Deleted by an earlier sync whose deletion the cache has not shown yet: not a failure.
      if (isNotFound(err)) {
        removeFromActiveList(cj, job.metadata?.uid)
        return true
      }
      events.event(cj, 'Warning', 'FailedDelete', `Deleted job: ${errorMessage(err)}`)
      ctx.logger.warn({ cronjob: metaNamespaceKey(cj), job: job.metadata?.name, err: errorMessage(err) }, 'deleting a job of a cronjob failed')
      return false
    }
    removeFromActiveList(cj, job.metadata?.uid)
    events.event(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${job.metadata?.name ?? ''}`)
    return true
  }

  /** Deletes the oldest finished Jobs beyond each history limit; true when status.active changed. */
  async function cleanupFinishedJobs(cj: KubeObject, owned: KubeObject[]): Promise<boolean> {
    const spec = specOf(cj)
    if (spec.successfulJobsHistoryLimit == null && spec.failedJobsHistoryLimit == null) return false
    const succeeded = owned.filter((j) => finishedCondition(j) === 'Complete')
    const failed = owned.filter((j) => finishedCondition(j) === 'Failed')
    let changed = false
    for (const [list, limit] of [
      [succeeded, spec.successfulJobsHistoryLimit],
      [failed, spec.failedJobsHistoryLimit],
    ] as const) {
      if (limit == null || list.length <= limit) continue
      const oldest = [...list].sort(byStartTime).slice(0, list.length - limit)
      for (const j of oldest) if (await deleteJob(cj, j)) changed = true
    }
    return changed
  }

  async function sync(key: string): Promise<void> {
    const cached = cronJobs.indexer.getByKey(key)
    if (cached === undefined) return
    const owned = jobsOf(cached)
    const work = { cronJob: structuredClone(cached) }
    const cleaned = await cleanupFinishedJobs(work.cronJob, owned)
    const { result, changed } = await syncCronJob(work, owned)
    if (result.error !== undefined) ctx.logger.debug({ cronjob: key, err: errorMessage(result.error) }, 'cronjob sync failed')
    if (cleaned || changed) {
      const cj = work.cronJob
      await ctx.writer.resource(CRONJOBS, cj.metadata?.namespace).updateStatus(cj)
    }
    if (result.requeueAfter !== undefined) {
      wakeups.after(key, result.requeueAfter)
      return
    }
    if (result.error !== undefined) throw result.error
  }

  /**
   * Reconciles status.active with the Jobs, then starts the Job due now, if any.
   * `work.cronJob` is changed in place (or replaced by a fresher copy); `changed`
   * says whether its status must be written.
   */
  async function syncCronJob(work: { cronJob: KubeObject }, owned: KubeObject[]): Promise<{ result: SyncResult; changed: boolean }> {
    const nowMs = now().getTime()
    let changed = false
    const done = (result: SyncResult = {}): { result: SyncResult; changed: boolean } => ({ result, changed })
    const namespace = work.cronJob.metadata?.namespace ?? ''
    const name = work.cronJob.metadata?.name ?? ''

    const children = new Set<string>()
    for (const j of owned) {
      const uid = j.metadata?.uid ?? ''
      children.add(uid)
      const found = inActiveList(work.cronJob, uid)
      const finished = finishedCondition(j)
      if (!found && finished === undefined) {
        // Our status may just be older than our Jobs (we created it and have not seen the status write yet).
        let fresh: KubeObject
        try {
          fresh = await ctx.client.resource(CRONJOBS, namespace).get(name)
        } catch (err) {
          return done({ error: err })
        }
        if (inActiveList(fresh, uid)) {
          work.cronJob = fresh
          continue
        }
        events.event(work.cronJob, 'Warning', 'UnexpectedJob', `Saw a job that the controller did not create or forgot: ${j.metadata?.name ?? ''}`)
      } else if (finished !== undefined) {
        if (found) {
          removeFromActiveList(work.cronJob, uid)
          events.event(work.cronJob, 'Normal', 'SawCompletedJob', `Saw completed job: ${j.metadata?.name ?? ''}, condition: ${finished}`)
          changed = true
        }
        // A successful Job need not be in the active list to count.
        const completed = completionTime(j)
        if (jobSucceeded(j) && completed !== undefined) {
          const status = statusOf(work.cronJob)
          const last = parseTime(status.lastSuccessfulTime)
          if (last === undefined || completed > last) {
            status.lastSuccessfulTime = metaTime(new Date(completed))
            changed = true
          }
        }
      }
    }

    // An active Job that is gone (asked of the API: the cache may just be behind) leaves the list.
    for (const ref of activeOf(work.cronJob)) {
      if (children.has(ref.uid ?? '')) continue
      try {
        await ctx.client.resource(JOBS, ref.namespace ?? namespace).get(ref.name ?? '')
      } catch (err) {
        if (!isNotFound(err)) return done({ error: err })
        events.event(work.cronJob, 'Normal', 'MissingJob', `Active job went missing: ${ref.name ?? ''}`)
        removeFromActiveList(work.cronJob, ref.uid)
        changed = true
      }
    }

    const cj = work.cronJob
    const spec = specOf(cj)
    if (cj.metadata?.deletionTimestamp !== undefined) return done()
    if (spec.timeZone != null) {
      try {
        specTimeZone(cj)
      } catch (err) {
        events.event(cj, 'Warning', 'UnknownTimeZone', `invalid timeZone: ${JSON.stringify(spec.timeZone)}: ${errorMessage(err)}`)
        return done()
      }
    }
    if (spec.suspend === true) return done()

    if (scheduleNamesZone(cj)) {
      events.event(
        cj,
        'Warning',
        'UnsupportedSchedule',
        `CRON_TZ or TZ used in schedule ${JSON.stringify(spec.schedule)} is not officially supported, see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details`,
      )
    }
    let schedule: Schedule
    try {
      schedule = cronJobSchedule(cj, localZone)
    } catch (err) {
      events.event(cj, 'Warning', 'UnparseableSchedule', `unparseable schedule: ${JSON.stringify(spec.schedule ?? '')} : ${errorMessage(err)}`)
      return done()
    }
    const state = scheduleState(cj)
    const requeue = (): { result: SyncResult; changed: boolean } => {
      const after = nextScheduleDelay(scheduleState(cj), nowMs, schedule)
      return done(after === undefined ? {} : { requeueAfter: after })
    }

    const due = nextScheduleTime(state, nowMs, schedule)
    if (due.tooManyMissed) {
      events.event(cj, 'Warning', 'TooManyMissedTimes', 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew')
      ctx.logger.info({ cronjob: `${namespace}/${name}` }, 'too many missed times')
    }
    if (due.error !== undefined) {
      events.event(cj, 'Warning', 'InvalidSchedule', `invalid schedule: ${spec.schedule ?? ''} : ${due.error}`)
      return done()
    }
    const scheduledTime = due.scheduledTime
    // Nothing due: only after a restart, or when woken for another reason.
    if (scheduledTime === undefined) return requeue()

    if (spec.startingDeadlineSeconds != null && scheduledTime + spec.startingDeadlineSeconds * 1000 < nowMs) {
      events.event(cj, 'Warning', 'MissSchedule', `Missed scheduled time to start a job: ${rfc1123z(scheduledTime)}`)
      return requeue()
    }
    const jobName = jobNameFor(name, scheduledTime)
    if (activeOf(cj).some((r) => r.name === jobName && (r.namespace ?? namespace) === namespace) || state.lastScheduleTime === scheduledTime) {
      // Already started this one.
      return requeue()
    }
    if (spec.concurrencyPolicy === 'Forbid' && activeOf(cj).length > 0) {
      events.event(cj, 'Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid')
      return requeue()
    }
    if (spec.concurrencyPolicy === 'Replace') {
      for (const ref of activeOf(cj)) {
        let running: KubeObject
        try {
          running = await ctx.client.resource(JOBS, ref.namespace ?? namespace).get(ref.name ?? '')
        } catch (err) {
          events.event(cj, 'Warning', 'FailedGet', `Get job: ${errorMessage(err)}`)
          return done({ error: err })
        }
        if (!(await deleteJob(cj, running))) return done({ error: new Error(`could not replace job ${ref.namespace ?? namespace}/${ref.name ?? ''}`) })
        changed = true
      }
    }

    const request = jobFromTemplate(cj, scheduledTime, specTimeZone(cj))
    let created: KubeObject
    let existed = false
    try {
      created = await ctx.writer.resource(JOBS, namespace).create(request)
    } catch (err) {
      if (isNamespaceTerminating(err)) return done({ error: err })
      if (!isAlreadyExists(err)) {
        events.event(cj, 'Warning', 'FailedCreate', `Error creating job: ${errorMessage(err)}`)
        return done({ error: err })
      }
      // Made in an earlier sync (perhaps by another master) whose status write was lost:
      // record it, unless someone else made it or it is recorded already.
      existed = true
      try {
        created = await ctx.client.resource(JOBS, namespace).get(jobName)
      } catch (getErr) {
        return done({ error: getErr })
      }
      if (controllerOf(created)?.uid !== cj.metadata?.uid) return done()
      if (inActiveList(cj, created.metadata?.uid)) return done()
    }
    if (existed) {
      ctx.logger.info({ cronjob: `${namespace}/${name}`, job: jobName }, 'job already exists')
    } else {
      const createdAt = parseTime(created.metadata?.creationTimestamp)
      if (createdAt !== undefined) skew?.observe((createdAt - scheduledTime) / 1000)
      events.event(cj, 'Normal', 'SuccessfulCreate', `Created job ${created.metadata?.name ?? ''}`)
    }
    const status = statusOf(cj)
    status.active = [...activeOf(cj), referenceTo(created)]
    status.lastScheduleTime = metaTime(new Date(scheduledTime))
    changed = true
    return requeue()
  }

  return {
    name: 'cronjob',
    async run(signal) {
      signal.addEventListener(
        'abort',
        () => {
          wakeups.stop()
          queue.shutDown()
        },
        { once: true },
      )
      await runWorkers(queue, opts.workers ?? 5, sync, { onError: (key, err) => ctx.logger.warn({ cronjob: key, err: errorMessage(err) }, 'cronjob sync failed') })
    },
  }
}

/** The times a CronJob's schedule is read from. */
function scheduleState(cj: KubeObject): ScheduleState {
  const spec = specOf(cj)
  const status = (cj.status ?? {}) as CronJobStatus
  const last = parseTime(status.lastScheduleTime)
  return {
    creationTimestamp: parseTime(cj.metadata?.creationTimestamp) ?? 0,
    ...(last === undefined ? {} : { lastScheduleTime: last }),
    ...(spec.startingDeadlineSeconds == null ? {} : { startingDeadlineSeconds: spec.startingDeadlineSeconds }),
  }
}
