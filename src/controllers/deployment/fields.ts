// The numbers the Deployment controller reads from Deployments and ReplicaSets, with
// Go's zero values for whatever the JSON leaves out (an absent status count is 0), so
// the rest of the controller reads `replicas(rs)` where upstream dereferences
// `*rs.Spec.Replicas` and never has to guess at the shape of an object.
import { bool, int, num, rec, str, type Json } from '../../api/json.js'
import type { KubeObject } from '../../client/index.js'

/** Go's math.MaxInt32: progressDeadlineSeconds and revisionHistoryLimit set to it mean "none". */
export const MAX_INT32 = 2147483647

export const specOf = (o: KubeObject): Json => rec(o.spec)
export const statusOf = (o: KubeObject): Json => rec(o.status)

export const nameOf = (o: KubeObject): string => o.metadata?.name ?? ''
export const uidOf = (o: KubeObject): string => o.metadata?.uid ?? ''

/** spec.replicas (the API server defaults it to 1). */
export const replicas = (o: KubeObject): number => int(specOf(o).replicas, 1)

/** status.replicas: pods that exist. */
export const statusReplicas = (o: KubeObject): number => int(statusOf(o).replicas)
export const readyReplicas = (o: KubeObject): number => int(statusOf(o).readyReplicas)
export const availableReplicas = (o: KubeObject): number => int(statusOf(o).availableReplicas)
export const observedGeneration = (o: KubeObject): number => int(statusOf(o).observedGeneration)
export const generation = (o: KubeObject): number => o.metadata?.generation ?? 0

export const minReadySeconds = (d: KubeObject): number => int(specOf(d).minReadySeconds)
export const paused = (d: KubeObject): boolean => bool(specOf(d).paused)

/** spec.strategy.type: RollingUpdate or Recreate (the API server defaults and validates it). */
export const strategyType = (d: KubeObject): string => str(rec(specOf(d).strategy).type)
export const isRollingUpdate = (d: KubeObject): boolean => strategyType(d) === 'RollingUpdate'

/** spec.strategy.rollingUpdate.{maxSurge,maxUnavailable} as written (int or "n%"), undefined when unset. */
export function rollingUpdateParams(d: KubeObject): { maxSurge: unknown; maxUnavailable: unknown } {
  const ru = rec(rec(specOf(d).strategy).rollingUpdate)
  return { maxSurge: ru.maxSurge ?? undefined, maxUnavailable: ru.maxUnavailable ?? undefined }
}

/** spec.progressDeadlineSeconds, undefined when progress is not tracked (unset or MaxInt32: upstream HasProgressDeadline). */
export function progressDeadlineSeconds(d: KubeObject): number | undefined {
  const v = num(specOf(d).progressDeadlineSeconds)
  return v === undefined || v === MAX_INT32 ? undefined : v
}

/** spec.revisionHistoryLimit, undefined when every old ReplicaSet is kept (unset or MaxInt32: HasRevisionHistoryLimit). */
export function revisionHistoryLimit(d: KubeObject): number | undefined {
  const v = num(specOf(d).revisionHistoryLimit)
  return v === undefined || v === MAX_INT32 ? undefined : v
}

/** status.collisionCount, undefined while no collision has happened (a nil pointer upstream). */
export const collisionCount = (d: KubeObject): number | undefined => num(statusOf(d).collisionCount)

/** A ReplicaSet's pod template (spec.template). */
export const templateOf = (o: KubeObject): Json => rec(specOf(o).template)

export function creationTime(o: KubeObject): number {
  const t = Date.parse(o.metadata?.creationTimestamp ?? '')
  return Number.isFinite(t) ? t : 0
}
