// Deployment conditions: Available (minimum availability reached) and Progressing
// (the rollout moves, is complete, paused, or stuck past its deadline), with the
// reasons kubectl and users match on. A condition set again with the same status and
// reason is left alone; one whose status is unchanged keeps its lastTransitionTime.
import { metaTime } from '../../api/time.js'
import { rec, recs, type Json } from '../../api/json.js'

export type ConditionStatus = 'True' | 'False' | 'Unknown'

export interface DeploymentCondition {
  type: string
  status: ConditionStatus | string
  lastUpdateTime?: string
  lastTransitionTime?: string
  reason?: string
  message?: string
}

export const AVAILABLE = 'Available'
export const PROGRESSING = 'Progressing'
export const REPLICA_FAILURE = 'ReplicaFailure'

// Progressing reasons.
export const REPLICA_SET_UPDATED = 'ReplicaSetUpdated'
export const FAILED_RS_CREATE = 'ReplicaSetCreateError'
export const NEW_REPLICA_SET = 'NewReplicaSetCreated'
export const FOUND_NEW_RS = 'FoundNewReplicaSet'
export const NEW_RS_AVAILABLE = 'NewReplicaSetAvailable'
export const TIMED_OUT = 'ProgressDeadlineExceeded'
export const PAUSED = 'DeploymentPaused'
export const RESUMED = 'DeploymentResumed'
// Available reasons.
export const MINIMUM_REPLICAS_AVAILABLE = 'MinimumReplicasAvailable'
export const MINIMUM_REPLICAS_UNAVAILABLE = 'MinimumReplicasUnavailable'

export function newCondition(type: string, status: ConditionStatus, reason: string, message: string, now: Date): DeploymentCondition {
  const t = metaTime(now)
  return { type, status, lastUpdateTime: t, lastTransitionTime: t, reason, message }
}

export function conditionsOf(status: Json): DeploymentCondition[] {
  return recs(status.conditions) as unknown as DeploymentCondition[]
}

export function getCondition(status: unknown, type: string): DeploymentCondition | undefined {
  return conditionsOf(rec(status)).find((c) => c.type === type)
}

/** Adds or replaces the condition of its type in `status` (in place), as SetDeploymentCondition. */
export function setCondition(status: Json, condition: DeploymentCondition): void {
  const current = getCondition(status, condition.type)
  if (current !== undefined && current.status === condition.status && current.reason === condition.reason) return
  const next = { ...condition }
  if (current !== undefined && current.status === condition.status) next.lastTransitionTime = current.lastTransitionTime
  status.conditions = [...conditionsOf(status).filter((c) => c.type !== condition.type), next]
}

export function removeCondition(status: Json, type: string): void {
  const kept = conditionsOf(status).filter((c) => c.type !== type)
  if (kept.length === 0) delete status.conditions
  else status.conditions = kept
}
