// Resizing a Deployment whose pods are spread over several ReplicaSets (a rollout in
// flight, or a paused one): every active ReplicaSet grows or shrinks in proportion to
// its share of the size it was last scaled for (its max-replicas annotation), so a
// resize neither hastens nor undoes the rollout; rounding leftovers go to the largest.
// Pure: returns the scaling steps for the caller to write.
import type { KubeObject } from '../../client/index.js'
import { desiredReplicasAnnotation, maxReplicasAnnotation } from './annotations.js'
import { isRollingUpdate, replicas, statusReplicas } from './fields.js'
import { maxSurge } from './fenceposts.js'
import { byCreation, bySizeNewer, bySizeOlder, filterActive, findActiveOrLatest, isSaturated, specReplicaCount } from './replica-sets.js'

export type ScalingOperation = 'up' | 'down' | ''

export interface ScaleStep {
  rs: KubeObject
  to: number
  /**
   * Set for proportional steps, which also refresh the replica annotations of a
   * ReplicaSet whose size stays (upstream scaleReplicaSet); unset, a step to the
   * current size does nothing (scaleReplicaSetAndRecordEvent).
   */
  operation?: ScalingOperation
}

/** k8s.io/utils/integer.RoundToInt32: halves away from zero. */
function roundToInt(a: number): number {
  return a < 0 ? Math.trunc(a - 0.5) : Math.trunc(a + 0.5)
}

/** How many replicas `rs` gains (or loses, negative) when the Deployment moves to its current size. */
export function replicaSetFraction(rs: KubeObject, d: KubeObject): number {
  // Scaling to zero: every ReplicaSet loses all it has.
  if (replicas(d) === 0) return -replicas(rs)
  const deploymentReplicas = replicas(d) + maxSurge(d)
  // Without the annotation, the Deployment's current size is the best guess of what it was sized for.
  const annotated = maxReplicasAnnotation(rs) ?? statusReplicas(d)
  if (annotated <= 0) return 0
  return roundToInt((replicas(rs) * deploymentReplicas) / annotated) - replicas(rs)
}

/** The share of `toAdd` for `rs`, never past what is left to add (or remove) after `added`. */
export function proportion(rs: KubeObject, d: KubeObject, toAdd: number, added: number): number {
  if (replicas(rs) === 0 || toAdd === 0 || toAdd === added) return 0
  const fraction = replicaSetFraction(rs, d)
  const allowed = toAdd - added
  return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed)
}

/**
 * The steps that bring the ReplicaSets to the Deployment's size (upstream scale()):
 * a lone active (or latest) ReplicaSet takes the whole size; a saturated new one
 * lets the old ones go to 0; otherwise, for RollingUpdate, the difference between
 * replicas + maxSurge and what runs is shared out proportionally.
 */
export function scaleSteps(d: KubeObject, newRS: KubeObject | undefined, oldRSs: readonly KubeObject[]): ScaleStep[] {
  const lone = findActiveOrLatest(newRS, oldRSs)
  if (lone !== undefined) return replicas(lone) === replicas(d) ? [] : [{ rs: lone, to: replicas(d) }]
  const newestFirst = [...oldRSs].sort((a, b) => byCreation(b, a))
  if (isSaturated(d, newRS)) return filterActive(newestFirst).map((rs) => ({ rs, to: 0 }))
  if (!isRollingUpdate(d)) return []

  const active = filterActive([...newestFirst, newRS])
  const allowedSize = replicas(d) > 0 ? replicas(d) + maxSurge(d) : 0
  const toAdd = allowedSize - specReplicaCount(active)
  let operation: ScalingOperation = ''
  // Equal sizes: newer ReplicaSets grow first, older ones shrink first.
  if (toAdd > 0) {
    active.sort(bySizeNewer)
    operation = 'up'
  } else if (toAdd < 0) {
    active.sort(bySizeOlder)
    operation = 'down'
  }
  let added = 0
  const sizes = active.map((rs) => {
    if (toAdd === 0) return replicas(rs)
    const p = proportion(rs, d, toAdd, added)
    added += p
    return replicas(rs) + p
  })
  // What rounding left over goes to the largest.
  if (toAdd !== 0 && sizes.length > 0) sizes[0] = Math.max(0, sizes[0]! + toAdd - added)
  return active.map((rs, i) => ({ rs, to: sizes[i]!, operation }))
}

/** The Deployment was resized: an active ReplicaSet was last sized for a different spec.replicas. */
export function isScalingEvent(d: KubeObject, allRSs: readonly (KubeObject | undefined)[]): boolean {
  return filterActive(allRSs).some((rs) => {
    const desired = desiredReplicasAnnotation(rs)
    return desired !== undefined && desired !== replicas(d)
  })
}
