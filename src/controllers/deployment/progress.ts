// A Deployment's status as its ReplicaSets report it, and the judgement of its
// rollout: complete (every desired pod updated and available, nothing old left),
// progressing (more pods updated, ready or available, or fewer old ones than last
// time), or stuck for longer than spec.progressDeadlineSeconds. Pure: the caller
// writes the status and requeues the Deployment for the next deadline check.
import { rec, type Json } from '../../api/json.js'
import type { KubeObject } from '../../client/index.js'
import {
  AVAILABLE,
  getCondition,
  MINIMUM_REPLICAS_AVAILABLE,
  MINIMUM_REPLICAS_UNAVAILABLE,
  newCondition,
  NEW_RS_AVAILABLE,
  PROGRESSING,
  removeCondition,
  REPLICA_FAILURE,
  REPLICA_SET_UPDATED,
  setCondition,
  TIMED_OUT,
  type DeploymentCondition,
} from './conditions.js'
import { collisionCount, generation, nameOf, progressDeadlineSeconds, replicas, statusOf } from './fields.js'
import { maxUnavailable } from './fenceposts.js'
import { actualReplicaCount, availableReplicaCount, readyReplicaCount, specReplicaCount } from './replica-sets.js'

/** The status counts as numbers (absent ones 0), for comparisons. */
export function counts(status: unknown): { observedGeneration: number; replicas: number; updatedReplicas: number; readyReplicas: number; availableReplicas: number } {
  const s = rec(status)
  const n = (k: string): number => (typeof s[k] === 'number' ? s[k] : 0)
  return { observedGeneration: n('observedGeneration'), replicas: n('replicas'), updatedReplicas: n('updatedReplicas'), readyReplicas: n('readyReplicas'), availableReplicas: n('availableReplicas') }
}

/**
 * Status from the ReplicaSets, conditions carried over, Available recomputed: true
 * while at least spec.replicas - maxUnavailable pods are available.
 */
export function calculateStatus(allRSs: readonly (KubeObject | undefined)[], newRS: KubeObject | undefined, d: KubeObject, now: Date): Json {
  const available = availableReplicaCount(allRSs)
  const status: Json = {
    observedGeneration: generation(d),
    replicas: actualReplicaCount(allRSs),
    updatedReplicas: actualReplicaCount([newRS]),
    readyReplicas: readyReplicaCount(allRSs),
    availableReplicas: available,
    // Pods still needed for full capacity; more available than desired (a scale-down) is not negative.
    unavailableReplicas: Math.max(0, specReplicaCount(allRSs) - available),
  }
  const conditions = statusOf(d).conditions
  if (Array.isArray(conditions) && conditions.length > 0) status.conditions = structuredClone(conditions)
  const collisions = collisionCount(d)
  if (collisions !== undefined) status.collisionCount = collisions
  if (available >= replicas(d) - maxUnavailable(d)) {
    setCondition(status, newCondition(AVAILABLE, 'True', MINIMUM_REPLICAS_AVAILABLE, 'Deployment has minimum availability.', now))
  } else {
    setCondition(status, newCondition(AVAILABLE, 'False', MINIMUM_REPLICAS_UNAVAILABLE, 'Deployment does not have minimum availability.', now))
  }
  return status
}

/** Every desired pod updated and available, no old pod left, and this generation observed. */
export function deploymentComplete(d: KubeObject, status: unknown): boolean {
  const s = counts(status)
  const want = replicas(d)
  return s.updatedReplicas === want && s.replicas === want && s.availableReplicas === want && s.observedGeneration >= generation(d)
}

/** Something moved since the stored status: more pods updated, ready or available, or fewer old ones. */
export function deploymentProgressing(d: KubeObject, newStatus: unknown): boolean {
  const o = counts(d.status)
  const n = counts(newStatus)
  return n.updatedReplicas > o.updatedReplicas || n.replicas - n.updatedReplicas < o.replicas - o.updatedReplicas || n.readyReplicas > o.readyReplicas || n.availableReplicas > o.availableReplicas
}

/** No progress reported for progressDeadlineSeconds since the Progressing condition was last updated. */
export function deploymentTimedOut(d: KubeObject, newStatus: Json, now: Date): boolean {
  const deadline = progressDeadlineSeconds(d)
  if (deadline === undefined) return false
  const cond = getCondition(newStatus, PROGRESSING)
  if (cond === undefined) return false
  // A finished rollout is not judged again until a new one reports its own progress.
  if (cond.reason === NEW_RS_AVAILABLE) return false
  if (cond.reason === TIMED_OUT) return true
  const from = Date.parse(cond.lastUpdateTime ?? '')
  return Number.isFinite(from) && from + deadline * 1000 < now.getTime()
}

/** ReplicaFailure conditions of the new ReplicaSet, else of any ReplicaSet, as Deployment conditions. */
export function replicaFailures(allRSs: readonly (KubeObject | undefined)[], newRS: KubeObject | undefined): DeploymentCondition[] {
  const failures = (rs: KubeObject | undefined): DeploymentCondition[] =>
    rs === undefined
      ? []
      : (statusOf(rs).conditions as DeploymentCondition[] | undefined ?? [])
          .filter((c) => c.type === REPLICA_FAILURE)
          .map((c) => ({ type: c.type, status: c.status, lastUpdateTime: c.lastTransitionTime, lastTransitionTime: c.lastTransitionTime, reason: c.reason, message: c.message }))
  const fromNew = failures(newRS)
  return fromNew.length > 0 ? fromNew : allRSs.flatMap(failures)
}

/** The status after a rollout step: counts, Available, Progressing judged against the deadline, ReplicaFailure. */
export function rolloutStatus(allRSs: readonly (KubeObject | undefined)[], newRS: KubeObject | undefined, d: KubeObject, now: Date): Json {
  const status = calculateStatus(allRSs, newRS, d, now)
  const deadline = progressDeadlineSeconds(d)
  if (deadline === undefined) removeCondition(status, PROGRESSING)
  const current = getCondition(d.status, PROGRESSING)
  const s = counts(status)
  // A completed rollout being resynced: there is nothing to judge.
  const alreadyComplete = s.replicas === s.updatedReplicas && current?.reason === NEW_RS_AVAILABLE
  if (deadline !== undefined && !alreadyComplete) {
    const subject = newRS === undefined ? `Deployment "${nameOf(d)}"` : `ReplicaSet "${nameOf(newRS)}"`
    if (deploymentComplete(d, status)) {
      setCondition(status, newCondition(PROGRESSING, 'True', NEW_RS_AVAILABLE, `${subject} has successfully progressed.`, now))
    } else if (deploymentProgressing(d, status)) {
      // Progress moves lastUpdateTime even with an unchanged reason; the transition time stays while it was True.
      const cond = newCondition(PROGRESSING, 'True', REPLICA_SET_UPDATED, `${subject} is progressing.`, now)
      if (current !== undefined) {
        if (current.status === 'True') cond.lastTransitionTime = current.lastTransitionTime
        removeCondition(status, PROGRESSING)
      }
      setCondition(status, cond)
    } else if (deploymentTimedOut(d, status, now)) {
      setCondition(status, newCondition(PROGRESSING, 'False', TIMED_OUT, `${subject} has timed out progressing.`, now))
    }
  }
  const failures = replicaFailures(allRSs, newRS)
  if (failures.length > 0) setCondition(status, failures[0]!)
  else removeCondition(status, REPLICA_FAILURE)
  return status
}

/**
 * When to look at an unchanged, unfinished rollout again to see whether it has timed
 * out: undefined when there is nothing to watch, 0 for at once (the deadline is less
 * than a second away), else milliseconds until a second past the deadline.
 */
export function progressCheckDelay(d: KubeObject, newStatus: Json, now: Date): number | undefined {
  const deadline = progressDeadlineSeconds(d)
  const current = getCondition(d.status, PROGRESSING)
  if (deadline === undefined || current === undefined) return undefined
  if (deploymentComplete(d, newStatus) || current.reason === TIMED_OUT) return undefined
  const from = Date.parse(current.lastUpdateTime ?? '')
  if (!Number.isFinite(from)) return undefined
  const after = from + deadline * 1000 - now.getTime()
  if (after < 1000) return 0
  return after + 1000
}

/** The status as Go writes it: zero counts and empty conditions left out (omitempty; collisionCount is a pointer, kept at 0). */
export function compactStatus(status: Json): Json {
  const out: Json = {}
  for (const [k, v] of Object.entries(status)) {
    if (v === undefined || v === null || (v === 0 && k !== 'collisionCount')) continue
    if (Array.isArray(v) && v.length === 0) continue
    out[k] = v
  }
  return out
}
