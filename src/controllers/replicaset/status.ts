// The status a replica controller reports (upstream calculateStatus and
// updateReplicaSetStatus), computed from the active pods it owns: how many there are,
// how many carry every label of the template, are Ready, and have been Ready for
// minReadySeconds; and the ReplicaFailure condition, set while creating or deleting
// pods fails and removed once a sync gets through. Pure: the controller writes it.
import { errorMessage, type KubeObject } from '../../client/index.js'
import { metaTime } from '../../api/time.js'
import { selectorFromSet } from '../../api/labels.js'
import { canonicalJson } from '../util/hash.js'
import { isPodAvailable, isPodReady, podAvailableAt } from '../util/pods.js'
import { desiredReplicas, minReadySeconds, templateLabels } from './shape.js'

type Json = Record<string, unknown>

export const REPLICA_FAILURE = 'ReplicaFailure'

/** Fields that are omitempty in the API types (`replicas` is not): zero is left out, as the apiserver would print it. */
const OMIT_WHEN_ZERO = ['fullyLabeledReplicas', 'readyReplicas', 'availableReplicas'] as const

export interface ReplicaCounts {
  replicas: number
  fullyLabeledReplicas: number
  readyReplicas: number
  availableReplicas: number
  /**
   * The earliest moment (ms since epoch) a pod that is Ready but not yet available
   * becomes available: the controller looks again then, as nothing else would tell it.
   */
  nextAvailableAt?: number
}

export function countReplicas(owner: KubeObject, active: readonly KubeObject[], now: Date): ReplicaCounts {
  const template = selectorFromSet(templateLabels(owner))
  const minReady = minReadySeconds(owner)
  const counts: ReplicaCounts = { replicas: active.length, fullyLabeledReplicas: 0, readyReplicas: 0, availableReplicas: 0 }
  for (const pod of active) {
    if (template.matches(pod.metadata?.labels ?? {})) counts.fullyLabeledReplicas++
    if (!isPodReady(pod)) continue
    counts.readyReplicas++
    if (isPodAvailable(pod, minReady, now)) {
      counts.availableReplicas++
      continue
    }
    const at = podAvailableAt(pod, minReady)
    if (at !== undefined) counts.nextAvailableAt = Math.min(counts.nextAvailableAt ?? Infinity, at)
  }
  return counts
}

function conditionsOf(status: Json): Json[] {
  return Array.isArray(status.conditions) ? (status.conditions as Json[]) : []
}

/**
 * The owner's next status. `manageError`: why creating or deleting pods failed in this
 * sync (undefined when it did not fail, or was not attempted).
 */
export function nextStatus(owner: KubeObject, active: readonly KubeObject[], counts: ReplicaCounts, manageError: unknown, now: Date): Json {
  const current = (owner.status ?? {}) as Json
  const status: Json = { ...current }
  let conditions = conditionsOf(current)
  const failure = conditions.find((c) => c.type === REPLICA_FAILURE)
  if (manageError !== undefined && failure === undefined) {
    // Which way the controller was going when it failed.
    const diff = active.length - desiredReplicas(owner)
    const reason = diff < 0 ? 'FailedCreate' : diff > 0 ? 'FailedDelete' : ''
    const cond: Json = { type: REPLICA_FAILURE, status: 'True', lastTransitionTime: metaTime(now) }
    if (reason !== '') cond.reason = reason
    cond.message = errorMessage(manageError)
    conditions = [...conditions, cond]
  } else if (manageError === undefined && failure !== undefined) {
    conditions = conditions.filter((c) => c !== failure)
  }
  if (conditions.length > 0) status.conditions = conditions
  else delete status.conditions
  status.replicas = counts.replicas
  for (const f of OMIT_WHEN_ZERO) {
    if (counts[f] === 0) delete status[f]
    else status[f] = counts[f]
  }
  if (owner.metadata?.generation !== undefined) status.observedGeneration = owner.metadata.generation
  return status
}

const num = (s: Json, f: string): number => (typeof s[f] === 'number' ? s[f] : 0)

/**
 * Nothing to write: the counts and conditions are what the owner shows and it has
 * observed its generation (upstream's steady state, which skips the update).
 */
export function statusUpToDate(owner: KubeObject, next: Json): boolean {
  const current = (owner.status ?? {}) as Json
  for (const f of ['replicas', ...OMIT_WHEN_ZERO]) if (num(current, f) !== num(next, f)) return false
  if ((owner.metadata?.generation ?? 0) !== num(current, 'observedGeneration')) return false
  return canonicalJson(conditionsOf(current)) === canonicalJson(conditionsOf(next))
}
