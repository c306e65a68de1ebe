// The pods a Job runs: its template with the tracking finalizer and, in Indexed mode,
// the completion index as annotation and label, in the pod's hostname and name, and as
// JOB_COMPLETION_INDEX in every container's environment (from the annotation, through
// the downward API, as upstream adds it).
import type { KubeObject, OwnerReference } from '../../client/index.js'
import { podFromTemplate } from '../util/pod-control.js'
import { COMPLETION_INDEX_ANNOTATION } from './indexes.js'

type Json = Record<string, unknown>

export const JOB_TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking'
const INDEX_ENV = 'JOB_COMPLETION_INDEX'

export function hasTrackingFinalizer(pod: KubeObject): boolean {
  return pod.metadata?.finalizers?.includes(JOB_TRACKING_FINALIZER) ?? false
}

export function jobPod(template: Json, jobName: string, ref: OwnerReference, index: number | undefined): KubeObject {
  const pod = podFromTemplate(template, jobName, ref)
  const meta = pod.metadata!
  meta.finalizers = [...(meta.finalizers ?? []), JOB_TRACKING_FINALIZER]
  if (index === undefined) return pod
  meta.generateName = `${jobName}-${index}-`
  meta.annotations = { ...meta.annotations, [COMPLETION_INDEX_ANNOTATION]: String(index) }
  meta.labels = { ...meta.labels, [COMPLETION_INDEX_ANNOTATION]: String(index) }
  const spec = pod.spec as Json
  if (spec.hostname === undefined) spec.hostname = `${jobName}-${index}`
  for (const list of ['initContainers', 'containers'] as const) {
    const containers = Array.isArray(spec[list]) ? (spec[list] as Json[]) : []
    for (const c of containers) {
      const env = Array.isArray(c.env) ? (c.env as Json[]) : []
      if (env.some((e) => e.name === INDEX_ENV)) continue
      c.env = [...env, { name: INDEX_ENV, valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${COMPLETION_INDEX_ANNOTATION}']` } } }]
    }
  }
  return pod
}
