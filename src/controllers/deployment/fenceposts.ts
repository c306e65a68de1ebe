// maxSurge and maxUnavailable as numbers of pods. Both are an int or a percentage of
// spec.replicas; surge rounds up and unavailability down, and when both come out 0
// (validation forbids writing both as 0, but rounding down can make maxUnavailable 0)
// one pod may be unavailable, on the theory that surging might be blocked by quota
// (upstream ResolveFenceposts).
import type { KubeObject } from '../../client/index.js'
import { isRollingUpdate, replicas, rollingUpdateParams } from './fields.js'

/**
 * An int or "n%" of `total` (intstr.GetScaledValueFromIntOrPercent); unset reads as 0.
 * Throws for anything else, which validation keeps out of stored Deployments.
 */
export function scaledValue(v: unknown, total: number, roundUp: boolean): number {
  if (v === undefined || v === null) return 0
  if (typeof v === 'number' && Number.isInteger(v)) return v
  if (typeof v === 'string') {
    const m = /^(-?\d+)%$/.exec(v)
    if (m === null) throw new Error(`invalid value for IntOrString: invalid value "${v}": is not a percentage`)
    const scaled = (Number(m[1]) * total) / 100
    return roundUp ? Math.ceil(scaled) : Math.floor(scaled)
  }
  throw new Error(`invalid value for IntOrString: invalid type: ${JSON.stringify(v)}`)
}

export function resolveFenceposts(maxSurge: unknown, maxUnavailable: unknown, desired: number): { surge: number; unavailable: number } {
  const surge = scaledValue(maxSurge, desired, true)
  let unavailable = scaledValue(maxUnavailable, desired, false)
  if (surge === 0 && unavailable === 0) unavailable = 1
  return { surge, unavailable }
}

/** How many pods a rolling Deployment may run above spec.replicas (0 for Recreate). */
export function maxSurge(d: KubeObject): number {
  if (!isRollingUpdate(d)) return 0
  const p = rollingUpdateParams(d)
  return resolveFenceposts(p.maxSurge, p.maxUnavailable, replicas(d)).surge
}

/** How many of spec.replicas a rolling Deployment may have unavailable (0 for Recreate or no replicas). */
export function maxUnavailable(d: KubeObject): number {
  const desired = replicas(d)
  if (!isRollingUpdate(d) || desired === 0) return 0
  const p = rollingUpdateParams(d)
  return Math.min(resolveFenceposts(p.maxSurge, p.maxUnavailable, desired).unavailable, desired)
}
