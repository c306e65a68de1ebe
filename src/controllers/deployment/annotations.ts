// The annotations the Deployment controller keeps on ReplicaSets: the Deployment's own
// annotations copied over (kubernetes.io/change-cause is what `kubectl rollout
// history` shows), and desired-replicas / max-replicas, the Deployment's size and
// size plus surge when the ReplicaSet was last scaled, which tell a scaling event from
// a rollout and give each ReplicaSet its share when a Deployment is resized mid-rollout.
import type { KubeObject } from '../../client/index.js'

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision'
export const REVISION_HISTORY_ANNOTATION = 'deployment.kubernetes.io/revision-history'
export const DESIRED_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/desired-replicas'
export const MAX_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/max-replicas'
/** extensions/v1beta1's spec.rollbackTo, carried as an annotation by later API versions. */
export const DEPRECATED_ROLLBACK_TO_ANNOTATION = 'deprecated.deployment.rollback.to'
export const LAST_APPLIED_CONFIG_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration'

/** Annotations that belong to one object and are never copied between a Deployment and its ReplicaSets. */
const SKIPPED = new Set([
  LAST_APPLIED_CONFIG_ANNOTATION,
  REVISION_ANNOTATION,
  REVISION_HISTORY_ANNOTATION,
  DESIRED_REPLICAS_ANNOTATION,
  MAX_REPLICAS_ANNOTATION,
  DEPRECATED_ROLLBACK_TO_ANNOTATION,
])

export function skipCopyAnnotation(key: string): boolean {
  return SKIPPED.has(key)
}

/** Writable annotations of an object being edited (created when missing). */
export function annotationsOf(o: KubeObject): Record<string, string> {
  o.metadata ??= {}
  o.metadata.annotations ??= {}
  return o.metadata.annotations
}

/**
 * Copies the Deployment's annotations onto `rs` (in place), except the skipped ones;
 * annotations the ReplicaSet has and the Deployment lacks stay. Returns whether any changed.
 */
export function copyDeploymentAnnotations(d: KubeObject, rs: KubeObject): boolean {
  const target = annotationsOf(rs)
  let changed = false
  for (const [k, v] of Object.entries(d.metadata?.annotations ?? {})) {
    if (skipCopyAnnotation(k) || target[k] === v) continue
    target[k] = v
    changed = true
  }
  return changed
}

/**
 * The Deployment annotations after rolling back to `rs`: its own skipped annotations
 * kept, every other one taken from the ReplicaSet (upstream SetDeploymentAnnotationsTo).
 */
export function annotationsForRollback(d: KubeObject, rs: KubeObject): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(d.metadata?.annotations ?? {})) if (skipCopyAnnotation(k)) out[k] = v
  for (const [k, v] of Object.entries(rs.metadata?.annotations ?? {})) if (!skipCopyAnnotation(k)) out[k] = v
  return out
}

/** Sets desired-replicas and max-replicas on `rs` (in place); returns whether either changed. */
export function setReplicasAnnotations(rs: KubeObject, desired: number, max: number): boolean {
  const a = annotationsOf(rs)
  let changed = false
  if (a[DESIRED_REPLICAS_ANNOTATION] !== String(desired)) {
    a[DESIRED_REPLICAS_ANNOTATION] = String(desired)
    changed = true
  }
  if (a[MAX_REPLICAS_ANNOTATION] !== String(max)) {
    a[MAX_REPLICAS_ANNOTATION] = String(max)
    changed = true
  }
  return changed
}

export function replicasAnnotationsNeedUpdate(rs: KubeObject, desired: number, max: number): boolean {
  const a = rs.metadata?.annotations ?? {}
  return a[DESIRED_REPLICAS_ANNOTATION] !== String(desired) || a[MAX_REPLICAS_ANNOTATION] !== String(max)
}

/** An integer annotation as Go's strconv.Atoi reads it; undefined when absent or not a number. */
function intAnnotation(rs: KubeObject, key: string): number | undefined {
  const v = rs.metadata?.annotations?.[key]
  if (v === undefined || !/^[+-]?\d+$/.test(v)) return undefined
  return Number(v)
}

export const desiredReplicasAnnotation = (rs: KubeObject): number | undefined => intAnnotation(rs, DESIRED_REPLICAS_ANNOTATION)
export const maxReplicasAnnotation = (rs: KubeObject): number | undefined => intAnnotation(rs, MAX_REPLICAS_ANNOTATION)
