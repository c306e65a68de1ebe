// The `endpoints.kubernetes.io/last-change-trigger-time` annotation (upstream
// TriggerTimeTracker): when the change that an Endpoints or EndpointSlice write
// publishes happened, so that latency from a pod turning ready to its endpoint
// appearing can be measured. A pod's trigger time is its Ready condition's
// lastTransitionTime, a Service's its creationTimestamp; a sync reports the earliest
// of those that moved since the previous sync of the same Service (a Service seen for
// the first time reports its creation), and none when nothing moved.

import type { KubeObject } from '../../client/index.js'
import { podCondition } from '../util/pods.js'

export const TRIGGER_TIME_ANNOTATION = 'endpoints.kubernetes.io/last-change-trigger-time'

interface ServiceState {
  serviceTime: number
  podTimes: Map<string, number>
}

function parseTime(s: unknown): number {
  const t = typeof s === 'string' ? Date.parse(s) : NaN
  return Number.isFinite(t) ? t : 0
}

/** A time as Go's RFC3339Nano prints it in UTC (no fraction for whole seconds). */
export function formatTriggerTime(ms: number): string {
  const iso = new Date(ms).toISOString()
  return iso.replace(/\.(\d{3})Z$/, (_, frac: string) => (frac === '000' ? 'Z' : `.${frac.replace(/0+$/, '')}Z`))
}

export class TriggerTimeTracker {
  private readonly states = new Map<string, ServiceState>()

  /**
   * The trigger time to publish for this sync of `service` (ms since the epoch), or
   * undefined for none; remembers what it saw for the next sync. Call once per sync,
   * even when the sync then writes nothing.
   */
  compute(key: string, service: KubeObject, pods: readonly KubeObject[]): number | undefined {
    const prev = this.states.get(key)
    let min: number | undefined
    const podTimes = new Map<string, number>()
    for (const pod of pods) {
      const t = parseTime(podCondition(pod, 'Ready')?.lastTransitionTime)
      if (t === 0) continue
      const name = pod.metadata?.name ?? ''
      podTimes.set(name, t)
      if (t > (prev?.podTimes.get(name) ?? 0)) min = Math.min(min ?? t, t)
    }
    const serviceTime = parseTime(service.metadata?.creationTimestamp)
    if (serviceTime > (prev?.serviceTime ?? 0)) min = Math.min(min ?? serviceTime, serviceTime)
    this.states.set(key, { serviceTime, podTimes })
    if (prev === undefined) return serviceTime === 0 ? undefined : serviceTime
    return min
  }

  deleteService(key: string): void {
    this.states.delete(key)
  }
}
