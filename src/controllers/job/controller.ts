// The Job controller (kube-controller-manager's "job"): runs a Job's pods until
// enough of them succeed, or until it fails (backoffLimit, activeDeadlineSeconds, a
// FailJob rule of its podFailurePolicy), in NonIndexed or Indexed completion mode.
//
// Every pod it creates carries the batch.kubernetes.io/job-tracking finalizer, so a
// finished pod cannot vanish before it is counted: a finished pod's uid is first
// written to status.uncountedTerminatedPods, then its finalizer is removed, then it
// moves into status.succeeded/failed. A master that fails over between two of those
// steps leaves a status the next one completes, never a pod counted twice or lost.
//
// As Kubernetes 1.32 does, a Job that met its success or failure criteria first gets
// the SuccessCriteriaMet or FailureTarget condition; Complete or Failed follows once
// none of its pods is still running.
import type { Clock } from '../../client/index.js'
import {
  DeletedFinalStateUnknown,
  deletionHandlingKey,
  errorMessage,
  isNotFound,
  type KubeObject,
  metaNamespaceKey,
  RateLimitingQueue,
  realClock,
  runWorkers,
  splitMetaNamespaceKey,
} from '../../client/index.js'
import { selectorFromLabelSelector } from '../../api/labels.js'
import { metaTime } from '../../api/time.js'
import type { Controller, ControllerContext, ControllerFactory } from '../types.js'
import { claimObjects, CONTROLLER_UID_INDEX, CONTROLLER_UID_INDEXERS, controllerOf, controllerRef, ownerKeyOf } from '../util/controller-ref.js'
import { Expectations } from '../util/expectations.js'
import { canonicalJson } from '../util/hash.js'
import { PodControl, slowStartBatch } from '../util/pod-control.js'
import { compareForDeletion, isPodActive, isPodReady, isPodTerminating, podPhase } from '../util/pods.js'
import { JOBS, PODS } from '../util/resources.js'
import { formatIndexes, parseIndexes, pendingIndexes, podIndex } from './indexes.js'
import { judgeFailure } from './pod-failure-policy.js'
import { hasTrackingFinalizer, JOB_TRACKING_FINALIZER, jobPod } from './pods.js'
import { conditionTrue, type JobStatus, setCondition } from './status.js'

type Json = Record<string, unknown>

export interface JobControllerOptions {
  /** For expectations and back-off timers. */
  clock?: Clock
  /** Wall-clock time for startTime, deadlines and conditions. */
  now?: () => Date
  /** Delay before replacing a failed pod, doubled per consecutive failure (upstream 10 s, at most 6 min). */
  backoffBaseMs?: number
  backoffMaxMs?: number
  workers?: number
}

/** Upstream's burstReplicas: at most this many pods created or deleted per sync. */
const BURST = 500

interface BackoffRecord {
  failuresSinceSuccess: number
  lastFailure: number
}

export function jobControllerWith(opts: JobControllerOptions = {}): ControllerFactory {
  return (ctx) => newJobController(ctx, opts)
}

export const jobController: ControllerFactory = jobControllerWith()

function newJobController(ctx: ControllerContext, opts: JobControllerOptions): Controller {
  const clock = opts.clock ?? realClock
  const now = opts.now ?? (() => new Date())
  const backoffBase = opts.backoffBaseMs ?? 10_000
  const backoffMax = opts.backoffMaxMs ?? 360_000
  const jobs = ctx.informers.forResource(JOBS)
  const pods = ctx.informers.forResource(PODS, { indexers: CONTROLLER_UID_INDEXERS })
  const queue = new RateLimitingQueue<string>(undefined, { name: 'job' })
  const expectations = new Expectations(clock)
  const events = ctx.events('job-controller')
  const podControl = new PodControl(ctx.writer, events)
  const backoff = new Map<string, BackoffRecord>()
  // Pods whose finalizer we removed and whose update the informer has not shown yet:
  // until it does, the cached copy must not be counted again.
  const stripped = new Set<string>()

  const jobOf = (pod: KubeObject): string | undefined => ownerKeyOf(pod, 'Job', jobs.indexer)
  const observe = (pod: KubeObject): void => {
    if (!hasTrackingFinalizer(pod) && pod.metadata?.uid !== undefined) stripped.delete(pod.metadata.uid)
  }

  jobs.addEventHandler({
    onAdd: (j) => queue.add(metaNamespaceKey(j)),
    onUpdate: (_, j) => queue.add(metaNamespaceKey(j)),
    onDelete: (j) => {
      const key = deletionHandlingKey(j)
      expectations.delete(key)
      backoff.delete(key)
      // Its pods' finalizers must still come off, or they would never go away.
      queue.add(key)
    },
  })
  pods.addEventHandler({
    onAdd: (p) => {
      observe(p)
      const key = jobOf(p)
      if (key !== undefined) {
        if (isPodTerminating(p)) expectations.deletionObserved(key, metaNamespaceKey(p))
        else expectations.creationObserved(key)
        queue.add(key)
      } else if (controllerOf(p) === undefined) {
        enqueueMatching(p)
      } else if (hasTrackingFinalizer(p)) {
        queue.add(`${p.metadata?.namespace ?? ''}/${controllerOf(p)!.name}`)
      }
    },
    onUpdate: (old, p) => {
      observe(p)
      const key = jobOf(p)
      if (key !== undefined) {
        if (isPodTerminating(p) && !isPodTerminating(old)) expectations.deletionObserved(key, metaNamespaceKey(p))
        queue.add(key)
      }
      const oldKey = jobOf(old)
      if (oldKey !== undefined && oldKey !== key) queue.add(oldKey)
      if (controllerOf(p) === undefined) enqueueMatching(p)
      else if (key === undefined && hasTrackingFinalizer(p)) queue.add(`${p.metadata?.namespace ?? ''}/${controllerOf(p)!.name}`)
    },
    onDelete: (p) => {
      const pod = p instanceof DeletedFinalStateUnknown ? p.obj : p
      if (pod.metadata?.uid !== undefined) stripped.delete(pod.metadata.uid)
      const key = jobOf(pod)
      if (key === undefined) return
      expectations.deletionObserved(key, metaNamespaceKey(pod))
      queue.add(key)
    },
  })

  function enqueueMatching(pod: KubeObject): void {
    for (const j of jobs.indexer.byIndex('namespace', pod.metadata?.namespace ?? '')) {
      if (selectorFromLabelSelector((j.spec as Json | undefined)?.selector).matches(pod.metadata?.labels ?? {})) queue.add(metaNamespaceKey(j))
    }
  }

  async function removeFinalizer(pod: KubeObject): Promise<void> {
    const i = pod.metadata?.finalizers?.indexOf(JOB_TRACKING_FINALIZER) ?? -1
    if (i < 0) return
    try {
      await ctx.writer.resource(PODS, pod.metadata?.namespace).patch(pod.metadata?.name ?? '', 'json', [
        { op: 'test', path: `/metadata/uid`, value: pod.metadata?.uid },
        { op: 'test', path: `/metadata/finalizers/${i}`, value: JOB_TRACKING_FINALIZER },
        { op: 'remove', path: `/metadata/finalizers/${i}` },
      ])
    } catch (err) {
      if (isNotFound(err)) return
      throw err
    }
    if (pod.metadata?.uid !== undefined) stripped.add(pod.metadata.uid)
  }

  /** A job that is gone, finished or being deleted keeps no finalizer on its pods. */
  async function releasePods(candidates: readonly KubeObject[]): Promise<void> {
    await Promise.all(candidates.filter((p) => hasTrackingFinalizer(p) && !stripped.has(p.metadata?.uid ?? '')).map((p) => removeFinalizer(p)))
  }

  async function sync(key: string): Promise<void> {
    const { namespace, name } = splitMetaNamespaceKey(key)
    const cached = jobs.indexer.getByKey(key)
    if (cached === undefined) {
      // Deleted: free the pods still tracked (found by their controllerRef's name; the uid is gone with the job).
      await releasePods(pods.indexer.byIndex('namespace', namespace).filter((p) => controllerOf(p)?.kind === 'Job' && controllerOf(p)?.name === name))
      return
    }
    const uid = cached.metadata?.uid ?? ''
    const owned = pods.indexer.byIndex(CONTROLLER_UID_INDEX, uid)
    const status = (cached.status ?? {}) as JobStatus
    if (cached.metadata?.deletionTimestamp !== undefined || conditionTrue(status, 'Complete') || conditionTrue(status, 'Failed')) {
      await releasePods(owned.filter((p) => !isPodActive(p) || cached.metadata?.deletionTimestamp !== undefined))
      return
    }
    await syncJob(key, cached, owned)
  }

  async function syncJob(key: string, job: KubeObject, ownedPods: KubeObject[]): Promise<void> {
    const namespace = job.metadata?.namespace ?? ''
    const spec = (job.spec ?? {}) as Json
    const selector = selectorFromLabelSelector(spec.selector)
    const indexed = spec.completionMode === 'Indexed'
    const completions = typeof spec.completions === 'number' ? spec.completions : undefined
    const parallelism = typeof spec.parallelism === 'number' ? spec.parallelism : 1
    const backoffLimit = typeof spec.backoffLimit === 'number' ? spec.backoffLimit : 6
    const onlyReplaceFailed = spec.podReplacementPolicy === 'Failed'
    const satisfied = expectations.satisfied(key)
    const t = now()

    const orphans = pods.indexer.byIndex('namespace', namespace).filter((p) => controllerOf(p) === undefined && selector.matches(p.metadata?.labels ?? {}))
    const podList = await claimObjects(
      { owner: job, apiVersion: 'batch/v1', kind: 'Job', selector, objects: ctx.writer.resource(PODS, namespace), fetchOwner: () => ctx.client.resource(JOBS, namespace).get(job.metadata?.name ?? '') },
      [...ownedPods, ...orphans],
    )

    const old = (job.status ?? {}) as JobStatus
    const status: JobStatus = structuredClone(old)
    let succeeded = status.succeeded ?? 0
    let failed = status.failed ?? 0
    const completed = indexed ? parseIndexes(status.completedIndexes, completions ?? 0) : new Set<number>()
    const uncounted = {
      succeeded: new Set(status.uncountedTerminatedPods?.succeeded ?? []),
      failed: new Set(status.uncountedTerminatedPods?.failed ?? []),
    }
    let failJob: { reason: string; message: string } | undefined

    // 1. Finished pods not yet counted: record their uids before their finalizers come off.
    const byUid = new Map(podList.map((p) => [p.metadata?.uid ?? '', p]))
    const isFailed = (p: KubeObject): boolean => podPhase(p) === 'Failed' || (!onlyReplaceFailed && isPodTerminating(p) && podPhase(p) !== 'Succeeded')
    let newlyFinished = false
    const rec = backoff.get(key) ?? { failuresSinceSuccess: 0, lastFailure: 0 }
    for (const p of podList) {
      const puid = p.metadata?.uid ?? ''
      if (!hasTrackingFinalizer(p) || stripped.has(puid) || uncounted.succeeded.has(puid) || uncounted.failed.has(puid)) continue
      if (podPhase(p) === 'Succeeded') {
        uncounted.succeeded.add(puid)
        rec.failuresSinceSuccess = 0
        newlyFinished = true
      } else if (isFailed(p)) {
        const verdict = judgeFailure(spec.podFailurePolicy, p)
        if (verdict.action === 'FailJob') failJob ??= { reason: 'PodFailurePolicy', message: verdict.message ?? '' }
        if (verdict.action !== 'Ignore') {
          uncounted.failed.add(puid)
          rec.failuresSinceSuccess++
          rec.lastFailure = clock.now()
        } else {
          // Ignored failures are not counted, but the finalizer still has to come off.
          await removeFinalizer(p)
        }
        newlyFinished = true
      }
    }
    backoff.set(key, rec)
    const jobs_ = ctx.writer.resource(JOBS, namespace)
    let current = job
    const writeUncounted = (): void => {
      status.uncountedTerminatedPods = {
        ...(uncounted.succeeded.size > 0 ? { succeeded: [...uncounted.succeeded] } : {}),
        ...(uncounted.failed.size > 0 ? { failed: [...uncounted.failed] } : {}),
      }
    }
    if (newlyFinished) {
      writeUncounted()
      current = await jobs_.updateStatus({ ...current, status })
    }

    // 2. Their finalizers come off; 3. they are counted.
    for (const [set, kind] of [
      [uncounted.succeeded, 'succeeded'],
      [uncounted.failed, 'failed'],
    ] as const) {
      for (const puid of [...set]) {
        const p = byUid.get(puid)
        if (p !== undefined && hasTrackingFinalizer(p) && !stripped.has(puid)) await removeFinalizer(p)
        set.delete(puid)
        if (kind === 'failed') {
          failed++
          continue
        }
        if (!indexed) {
          succeeded++
          continue
        }
        const i = p === undefined ? undefined : podIndex(p, completions ?? 0)
        if (i !== undefined) completed.add(i)
      }
    }
    if (indexed) succeeded = completed.size
    writeUncounted()
    status.succeeded = succeeded
    status.failed = failed
    if (indexed) status.completedIndexes = formatIndexes(completed)

    const active = podList.filter((p) => isPodActive(p))
    const terminating = podList.filter((p) => isPodTerminating(p) && podPhase(p) !== 'Succeeded' && podPhase(p) !== 'Failed')
    const suspended = spec.suspend === true

    // Start time and suspension.
    if (suspended) {
      if (!conditionTrue(status, 'Suspended')) {
        setCondition(status, { type: 'Suspended', status: 'True', reason: 'JobSuspended', message: 'Job suspended' }, t)
        events.event(current, 'Normal', 'Suspended', 'Job suspended')
      }
    } else {
      if (conditionTrue(status, 'Suspended')) {
        setCondition(status, { type: 'Suspended', status: 'False', reason: 'JobResumed', message: 'Job resumed' }, t)
        events.event(current, 'Normal', 'Resumed', 'Job resumed')
        // The active deadline counts from the resume.
        status.startTime = metaTime(t)
      }
      status.startTime ??= metaTime(t)
    }

    // Success or failure criteria.
    const failureTarget = status.conditions?.find((c) => c.type === 'FailureTarget' && c.status === 'True')
    let failure: { reason: string; message: string } | undefined = failureTarget === undefined ? failJob : { reason: failureTarget.reason ?? '', message: failureTarget.message ?? '' }
    if (failure === undefined && failed > backoffLimit) failure = { reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }
    const deadline = typeof spec.activeDeadlineSeconds === 'number' && status.startTime !== undefined && !suspended ? Date.parse(status.startTime) + spec.activeDeadlineSeconds * 1000 : undefined
    if (failure === undefined && deadline !== undefined && t.getTime() >= deadline) failure = { reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' }
    let success = conditionTrue(status, 'SuccessCriteriaMet')
    if (!success && failure === undefined) {
      if (indexed) success = completions !== undefined && completed.size >= completions
      else if (completions !== undefined) success = succeeded >= completions
      else success = succeeded > 0 && active.length === 0
    }

    let deleteList: KubeObject[] = []
    let createCount = 0
    let createIndexes: number[] = []
    if (failure !== undefined || success) {
      if (failure !== undefined && failureTarget === undefined) setCondition(status, { type: 'FailureTarget', status: 'True', ...failure }, t)
      if (success && !conditionTrue(status, 'SuccessCriteriaMet')) setCondition(status, { type: 'SuccessCriteriaMet', status: 'True', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' }, t)
      deleteList = active
    } else if (suspended) {
      deleteList = active
    } else if (satisfied) {
      const counted = active.length + (onlyReplaceFailed ? terminating.length : 0)
      if (!indexed) {
        const want = completions === undefined ? (succeeded > 0 ? active.length : parallelism) : Math.min(parallelism, Math.max(0, completions - succeeded))
        if (counted > want) deleteList = [...active].sort((a, b) => compareForDeletion(a, b)).slice(0, counted - want)
        else createCount = want - counted
      } else {
        const total = completions ?? 0
        const taken = new Set<number>()
        const extra: KubeObject[] = []
        // Newest first is kept last: a duplicate index loses its least valuable pod.
        for (const p of [...active].sort((a, b) => compareForDeletion(b, a))) {
          const i = podIndex(p, total)
          if (i === undefined || completed.has(i) || taken.has(i)) extra.push(p)
          else taken.add(i)
        }
        if (onlyReplaceFailed) for (const p of terminating) {
          const i = podIndex(p, total)
          if (i !== undefined) taken.add(i)
        }
        const want = Math.min(parallelism, total - completed.size)
        const surplus = taken.size - want
        deleteList = extra
        if (surplus > 0) {
          const keep = [...active].filter((p) => !extra.includes(p)).sort((a, b) => compareForDeletion(a, b))
          deleteList = [...extra, ...keep.slice(0, surplus)]
        } else {
          createIndexes = pendingIndexes(total, completed, taken, want - taken.size)
          createCount = createIndexes.length
        }
      }
    }

    // Back-off before replacing failed pods.
    let retryAfter: number | undefined
    if (createCount > 0 && rec.failuresSinceSuccess > 0) {
      const delay = Math.min(backoffMax, backoffBase * 2 ** (rec.failuresSinceSuccess - 1))
      const wait = rec.lastFailure + delay - clock.now()
      if (wait > 0) {
        retryAfter = wait
        createCount = 0
        createIndexes = []
      }
    }

    let manageError: unknown
    deleteList = deleteList.filter((p) => !isPodTerminating(p)).slice(0, BURST)
    if (deleteList.length > 0) {
      expectations.expect(key, 0, deleteList.map((p) => metaNamespaceKey(p)))
      const results = await Promise.allSettled(deleteList.map((p) => podControl.delete(p, current)))
      results.forEach((r, i) => {
        if (r.status === 'rejected') {
          expectations.deletionObserved(key, metaNamespaceKey(deleteList[i]!))
          manageError ??= r.reason
        }
      })
    }
    createCount = Math.min(createCount, BURST)
    if (createCount > 0) {
      expectations.expect(key, createCount)
      const ref = controllerRef(current, 'batch/v1', 'Job')
      const template = (spec.template ?? {}) as Json
      let attempted = 0
      const res = await slowStartBatch(createCount, async () => {
        const index = indexed ? createIndexes[attempted] : undefined
        attempted++
        try {
          await podControl.create(namespace, jobPod(template, current.metadata?.name ?? '', ref, index), current)
        } catch (err) {
          expectations.creationObserved(key)
          throw err
        }
      })
      // Pods of batches never attempted will not be observed either.
      for (let i = attempted; i < createCount; i++) expectations.creationObserved(key)
      manageError ??= res.error
    }

    const activeAfter = active.length - deleteList.length + (manageError === undefined ? createCount : 0)
    const stillRunning = activeAfter > 0 || terminating.length > 0 || deleteList.length > 0
    status.active = Math.max(0, active.length + createCount - deleteList.length)
    status.ready = active.filter((p) => isPodReady(p) && !deleteList.includes(p)).length
    status.terminating = terminating.length + deleteList.length

    if (!stillRunning && failure !== undefined) {
      setCondition(status, { type: 'Failed', status: 'True', ...failure }, t)
      events.event(current, 'Warning', failure.reason, failure.message)
    } else if (!stillRunning && success) {
      setCondition(status, { type: 'Complete', status: 'True', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' }, t)
      status.completionTime = metaTime(t)
      events.event(current, 'Normal', 'Completed', 'Job completed')
    }

    if (canonicalJson(status) !== canonicalJson(current.status ?? {})) {
      await jobs_.updateStatus({ ...current, status })
    }
    if (manageError !== undefined) throw manageError
    if (retryAfter !== undefined) queue.addAfter(key, retryAfter)
    else if (deadline !== undefined && failure === undefined && !success) queue.addAfter(key, Math.max(0, deadline - t.getTime()) + 10)
  }

  return {
    name: 'job',
    async run(signal) {
      signal.addEventListener('abort', () => queue.shutDown(), { once: true })
      await runWorkers(queue, opts.workers ?? 5, sync, { onError: (key, err) => ctx.logger.warn({ job: key, err: errorMessage(err) }, 'job sync failed') })
    },
  }
}

