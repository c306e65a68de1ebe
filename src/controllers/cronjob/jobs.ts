// The Jobs of a CronJob as its controller sees them: the Job made for one scheduled
// time, whether a Job finished and how, the order finished Jobs are pruned in, and
// the object references kept in status.active.
import { formatRFC3339, type TimeZone } from '../../api/cron-schedule.js'
import type { KubeObject } from '../../client/index.js'
import { controllerRef } from '../util/controller-ref.js'
import { jobNameFor } from './schedule-times.js'

type Json = Record<string, unknown>

/** batch/v1 CronJobScheduledTimestampAnnotation: when the Job was due, in the CronJob's time zone. */
export const SCHEDULED_TIMESTAMP_ANNOTATION = 'batch.kubernetes.io/cronjob-scheduled-timestamp'

/** corev1.ObjectReference, as status.active lists a CronJob's running Jobs. */
export interface ObjectReference {
  kind?: string
  namespace?: string
  name?: string
  uid?: string
  apiVersion?: string
  resourceVersion?: string
}

interface JobCondition {
  type?: string
  status?: string
}

/** The Job a CronJob creates for `scheduledTime`: its template's labels, annotations and spec, owned by the CronJob. */
export function jobFromTemplate(cronJob: KubeObject, scheduledTime: number, annotationZone: TimeZone): KubeObject {
  const template = ((cronJob.spec as Json | undefined)?.jobTemplate ?? {}) as { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: Json }
  const labels = { ...template.metadata?.labels }
  const annotations = { ...template.metadata?.annotations, [SCHEDULED_TIMESTAMP_ANNOTATION]: formatRFC3339(scheduledTime, annotationZone) }
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: jobNameFor(cronJob.metadata?.name ?? '', scheduledTime),
      namespace: cronJob.metadata?.namespace,
      ...(Object.keys(labels).length > 0 ? { labels } : {}),
      annotations,
      ownerReferences: [controllerRef(cronJob, 'batch/v1', 'CronJob')],
    },
    spec: structuredClone(template.spec ?? {}),
  }
}

/** `Complete` or `Failed` when the Job has that condition True (the first one listed wins, as upstream). */
export function finishedCondition(job: KubeObject): 'Complete' | 'Failed' | undefined {
  const conditions = ((job.status as Json | undefined)?.conditions ?? []) as JobCondition[]
  const c = conditions.find((x) => (x.type === 'Complete' || x.type === 'Failed') && x.status === 'True')
  return c?.type as 'Complete' | 'Failed' | undefined
}

export function jobSucceeded(job: KubeObject): boolean {
  const conditions = ((job.status as Json | undefined)?.conditions ?? []) as JobCondition[]
  return conditions.some((c) => c.type === 'Complete' && c.status === 'True')
}

/** status.completionTime in ms, if set. */
export function completionTime(job: KubeObject): number | undefined {
  return parseTime((job.status as Json | undefined)?.completionTime)
}

export function parseTime(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined
  const ms = Date.parse(v)
  return Number.isFinite(ms) ? ms : undefined
}

/** Oldest first by status.startTime, Jobs never started last, names breaking ties (upstream byJobStartTime). */
export function byStartTime(a: KubeObject, b: KubeObject): number {
  const sa = parseTime((a.status as Json | undefined)?.startTime)
  const sb = parseTime((b.status as Json | undefined)?.startTime)
  if (sa === undefined && sb !== undefined) return 1
  if (sa !== undefined && sb === undefined) return -1
  if (sa === sb) {
    const na = a.metadata?.name ?? ''
    const nb = b.metadata?.name ?? ''
    return na < nb ? -1 : na > nb ? 1 : 0
  }
  return (sa as number) - (sb as number)
}

export function referenceTo(job: KubeObject): ObjectReference {
  return {
    kind: job.kind ?? 'Job',
    namespace: job.metadata?.namespace,
    name: job.metadata?.name,
    uid: job.metadata?.uid,
    apiVersion: job.apiVersion ?? 'batch/v1',
    resourceVersion: job.metadata?.resourceVersion,
  }
}
