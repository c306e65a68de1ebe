// How many replicas one resource metric asks for (upstream's ReplicaCalculator for
// Resource and ContainerResource metrics), as pure functions of the pods the scale
// target selects and the usage metrics.k8s.io reported for them.
//
// The usage ratio is usage / target; within the tolerance (10%) of 1 nothing changes.
// Pods that are being deleted or failed are ignored. Pending pods, and for CPU pods
// that are not ready yet or whose sample may predate readiness, count as unready:
// their samples are dropped, and on a scale-up they are assumed to use nothing. Pods
// without a sample are assumed to use nothing on a scale-up and their whole request
// (or the target, when that is higher) on a scale-down, so a missing sample never
// pushes the scale further in the direction it is already going; if those
// assumptions would flip the direction, the current count stands.
import { type Json, rec, recs } from '../../api/json.js'
import type { KubeObject } from '../../client/index.js'
import { tryParseQuantity } from '../../api/quantity.js'

/** One pod's usage: milli-units (millicores, milli-bytes), and when and over what window it was measured. */
export interface PodMetric {
  value: number
  timestampMs: number
  windowMs: number
}

/** By pod name, as metrics.k8s.io names them in one namespace. */
export type PodMetricsInfo = Map<string, PodMetric>

export interface CalculatorSettings {
  /** --horizontal-pod-autoscaler-tolerance: 0.1. */
  tolerance: number
  /** --horizontal-pod-autoscaler-cpu-initialization-period: 5 min. */
  cpuInitializationPeriodMs: number
  /** --horizontal-pod-autoscaler-initial-readiness-delay: 30 s. */
  initialReadinessDelayMs: number
}

export const DEFAULT_CALCULATOR_SETTINGS: CalculatorSettings = {
  tolerance: 0.1,
  cpuInitializationPeriodMs: 5 * 60_000,
  initialReadinessDelayMs: 30_000,
}


const timeMs = (v: unknown): number | undefined => {
  if (typeof v !== 'string' || v === '') return undefined
  const t = Date.parse(v)
  return Number.isNaN(t) ? undefined : t
}

export interface PodGroups {
  readyPodCount: number
  unready: Set<string>
  missing: Set<string>
  ignored: Set<string>
}

/** Sorts the pods into ready (counted), unready, missing a sample, and ignored. */
export function groupPods(pods: readonly KubeObject[], metrics: PodMetricsInfo, resource: string, s: CalculatorSettings, now: number): PodGroups {
  const g: PodGroups = { readyPodCount: 0, unready: new Set(), missing: new Set(), ignored: new Set() }
  for (const pod of pods) {
    const name = pod.metadata?.name ?? ''
    const status = rec(pod.status)
    if (pod.metadata?.deletionTimestamp != null || status.phase === 'Failed') {
      g.ignored.add(name)
      continue
    }
    if (status.phase === 'Pending') {
      g.unready.add(name)
      continue
    }
    const metric = metrics.get(name)
    if (metric === undefined) {
      g.missing.add(name)
      continue
    }
    if (resource === 'cpu' && cpuSampleUnready(status, metric, s, now)) {
      g.unready.add(name)
      continue
    }
    g.readyPodCount++
  }
  return g
}

/** Whether a pod's CPU sample should not count: CPU bursts while a pod starts, and that must not scale it up. */
function cpuSampleUnready(status: Json, metric: PodMetric, s: CalculatorSettings, now: number): boolean {
  const ready = recs(status.conditions).find((c) => c.type === 'Ready')
  const startMs = timeMs(status.startTime)
  if (ready === undefined || startMs === undefined) return true
  const transitionMs = timeMs(ready.lastTransitionTime) ?? 0
  if (startMs + s.cpuInitializationPeriodMs > now) {
    // Still starting: only a ready pod with a whole window sampled since it became ready counts.
    return ready.status === 'False' || metric.timestampMs < transitionMs + metric.windowMs
  }
  // Started long ago: only a pod that never became ready is left out.
  return ready.status === 'False' && startMs + s.initialReadinessDelayMs > transitionMs
}

/** The request for `resource` of each pod, summed over its containers (or only `container`), in milli-units. */
export function podRequests(pods: readonly KubeObject[], container: string, resource: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const pod of pods) {
    const spec = rec(pod.spec)
    // Sidecars (init containers that keep running) use resources like the others.
    const containers = [...recs(spec.containers), ...recs(spec.initContainers).filter((c) => c.restartPolicy === 'Always')]
    let sum = 0
    for (const c of containers) {
      if (container !== '' && c.name !== container) continue
      const q = tryParseQuantity(rec(rec(c.resources).requests)[resource])
      if (q === undefined) throw new Error(`missing request for ${resource} in container ${String(c.name)} of Pod ${pod.metadata?.name ?? ''}`)
      sum += q.milliValue()
    }
    out.set(pod.metadata?.name ?? '', sum)
  }
  return out
}

/** Usage over requests of the pods that have both: the ratio to the target, the utilization in percent, the average raw usage. */
export function resourceUtilizationRatio(metrics: PodMetricsInfo, requests: Map<string, number>, targetUtilization: number): { ratio: number; utilization: number; rawAverage: number } {
  let metricsTotal = 0
  let requestsTotal = 0
  let entries = 0
  for (const [name, m] of metrics) {
    const request = requests.get(name)
    // A sample of a pod the selector no longer lists: not ours to count.
    if (request === undefined) continue
    metricsTotal += m.value
    requestsTotal += request
    entries++
  }
  if (requestsTotal === 0) throw new Error('no metrics returned matched known pods')
  const utilization = Math.trunc((metricsTotal * 100) / requestsTotal)
  return { ratio: utilization / targetUtilization, utilization, rawAverage: Math.trunc(metricsTotal / entries) }
}

/** The average usage against an average target. */
export function metricUsageRatio(metrics: PodMetricsInfo, targetUsage: number): { ratio: number; usage: number } {
  let total = 0
  for (const m of metrics.values()) total += m.value
  const usage = Math.trunc(total / metrics.size)
  return { ratio: usage / targetUsage, usage }
}

export interface ReplicaInput {
  currentReplicas: number
  resource: string
  /** '' for the whole pod (Resource), a container's name for ContainerResource. */
  container: string
  /** The pods the scale target's selector selects. */
  pods: readonly KubeObject[]
  /** Their samples (not modified). */
  metrics: PodMetricsInfo
  settings: CalculatorSettings
  now: number
}

/** Replicas for an averageUtilization target (percent of the pods' requests). */
export function utilizationReplicas(input: ReplicaInput, targetUtilization: number): { replicas: number; utilization: number; rawAverage: number } {
  const { currentReplicas, settings } = input
  if (input.pods.length === 0) throw new Error('no pods returned by selector while calculating replica count')
  const metrics = new Map(input.metrics)
  const groups = groupPods(input.pods, metrics, input.resource, settings, input.now)
  for (const name of [...groups.ignored, ...groups.unready]) metrics.delete(name)
  if (metrics.size === 0) throw new Error('did not receive metrics for targeted pods (pods might be unready)')
  const requests = podRequests(input.pods, input.container, input.resource)
  const first = resourceUtilizationRatio(metrics, requests, targetUtilization)
  const result = (replicas: number) => ({ replicas, utilization: first.utilization, rawAverage: first.rawAverage })

  const scaleUpWithUnready = groups.unready.size > 0 && first.ratio > 1
  if (!scaleUpWithUnready && groups.missing.size === 0) {
    if (Math.abs(1 - first.ratio) <= settings.tolerance) return result(currentReplicas)
    return result(Math.ceil(first.ratio * groups.readyPodCount))
  }
  if (first.ratio < 1) {
    const fallback = Math.max(100, targetUtilization)
    for (const name of groups.missing) metrics.set(name, { value: Math.trunc(((requests.get(name) ?? 0) * fallback) / 100), timestampMs: 0, windowMs: 0 })
  } else if (first.ratio > 1) {
    for (const name of groups.missing) metrics.set(name, { value: 0, timestampMs: 0, windowMs: 0 })
  }
  if (scaleUpWithUnready) for (const name of groups.unready) metrics.set(name, { value: 0, timestampMs: 0, windowMs: 0 })
  const next = resourceUtilizationRatio(metrics, requests, targetUtilization)
  return result(settled(currentReplicas, first.ratio, next.ratio, metrics.size, settings.tolerance))
}

/** Replicas for an averageValue target (raw usage per pod, milli-units). */
export function averageValueReplicas(input: ReplicaInput, targetUsage: number): { replicas: number; usage: number } {
  const { currentReplicas, settings } = input
  if (input.pods.length === 0) throw new Error('no pods returned by selector while calculating replica count')
  const metrics = new Map(input.metrics)
  const groups = groupPods(input.pods, metrics, input.resource, settings, input.now)
  for (const name of [...groups.ignored, ...groups.unready]) metrics.delete(name)
  if (metrics.size === 0) throw new Error('did not receive metrics for targeted pods (pods might be unready)')
  const first = metricUsageRatio(metrics, targetUsage)
  const result = (replicas: number) => ({ replicas, usage: first.usage })

  const scaleUpWithUnready = groups.unready.size > 0 && first.ratio > 1
  if (!scaleUpWithUnready && groups.missing.size === 0) {
    if (Math.abs(1 - first.ratio) <= settings.tolerance) return result(currentReplicas)
    return result(Math.ceil(first.ratio * groups.readyPodCount))
  }
  // A missing sample counts as exactly the target on a scale-down, nothing on a scale-up.
  for (const name of groups.missing) metrics.set(name, { value: first.ratio < 1 ? targetUsage : 0, timestampMs: 0, windowMs: 0 })
  if (scaleUpWithUnready) for (const name of groups.unready) metrics.set(name, { value: 0, timestampMs: 0, windowMs: 0 })
  const next = metricUsageRatio(metrics, targetUsage)
  return result(settled(currentReplicas, first.ratio, next.ratio, metrics.size, settings.tolerance))
}

/** The count after filling in assumed samples, unless that is too small a change or turns the direction around. */
function settled(currentReplicas: number, firstRatio: number, nextRatio: number, counted: number, tolerance: number): number {
  if (Math.abs(1 - nextRatio) <= tolerance || (firstRatio < 1 && nextRatio > 1) || (firstRatio > 1 && nextRatio < 1)) return currentReplicas
  const replicas = Math.ceil(nextRatio * counted)
  if ((nextRatio < 1 && replicas > currentReplicas) || (nextRatio > 1 && replicas < currentReplicas)) return currentReplicas
  return replicas
}
