// Revision history: each ReplicaSet carries the revision of the Deployment template it
// runs (`kubectl rollout history` lists them, `rollout undo` picks one). A template
// that comes back (an undo, a revert) reuses its ReplicaSet, which takes the next
// revision and remembers its earlier ones in revision-history. Old ReplicaSets beyond
// spec.revisionHistoryLimit are deleted once they run nothing, oldest revision first.
import type { KubeObject } from '../../client/index.js'
import { annotationsOf, copyDeploymentAnnotations, REVISION_ANNOTATION, REVISION_HISTORY_ANNOTATION, setReplicasAnnotations } from './annotations.js'
import { generation, observedGeneration, replicas, revisionHistoryLimit, statusReplicas } from './fields.js'
import { maxSurge } from './fenceposts.js'
import { byCreation } from './replica-sets.js'

/** Upstream caps revision-history at 2000 characters (about 100 revisions). */
export const MAX_REVISION_HISTORY_CHARS = 2000

/** The revision annotation as a number: 0 when absent, undefined when it is not a number. */
export function revisionOf(o: KubeObject): number | undefined {
  const v = o.metadata?.annotations?.[REVISION_ANNOTATION]
  if (v === undefined) return 0
  return /^[+-]?\d+$/.test(v) ? Number(v) : undefined
}

/** The highest revision among `rss` (0 when none has one); unreadable revisions are skipped. */
export function maxRevision(rss: readonly KubeObject[]): number {
  let max = 0
  for (const rs of rss) {
    const v = revisionOf(rs)
    if (v !== undefined && v > max) max = v
  }
  return max
}

/** The second highest revision among `rss`: the one `rollout undo` without --to-revision goes back to. */
export function lastRevision(rss: readonly KubeObject[]): number {
  let max = 0
  let second = 0
  for (const rs of rss) {
    const v = revisionOf(rs)
    if (v === undefined) continue
    if (v >= max) {
      second = max
      max = v
    } else if (v > second) {
      second = v
    }
  }
  return second
}

/** Oldest revision first; unreadable or equal revisions by creation (upstream ReplicaSetsByRevision). */
export function byRevision(a: KubeObject, b: KubeObject): number {
  const ra = revisionOf(a)
  const rb = revisionOf(b)
  if (ra === undefined || rb === undefined || ra === rb) return byCreation(a, b)
  return ra - rb
}

/**
 * Brings the new ReplicaSet's annotations up to date (in place): the Deployment's
 * annotations copied, its revision raised to `newRevision` when lower (remembering the
 * old one in revision-history), and, for a ReplicaSet about to be created, the replica
 * annotations. Returns whether anything changed (upstream SetNewReplicaSetAnnotations,
 * including its refusal to touch a ReplicaSet whose revision is not a number).
 */
export function setNewReplicaSetAnnotations(d: KubeObject, rs: KubeObject, newRevision: number, exists: boolean, maxHistoryChars = MAX_REVISION_HISTORY_CHARS): boolean {
  let changed = copyDeploymentAnnotations(d, rs)
  const a = annotationsOf(rs)
  const had = Object.prototype.hasOwnProperty.call(a, REVISION_ANNOTATION)
  const oldRevision = a[REVISION_ANNOTATION] ?? ''
  let oldRevisionNumber = 0
  if (oldRevision !== '') {
    if (!/^[+-]?\d+$/.test(oldRevision)) return false
    oldRevisionNumber = Number(oldRevision)
  }
  if (oldRevisionNumber < newRevision) {
    a[REVISION_ANNOTATION] = String(newRevision)
    changed = true
    // A ReplicaSet that had a revision and takes a newer one is being rolled back to.
    if (had) appendRevisionHistory(a, oldRevision, maxHistoryChars)
  }
  if (!exists && setReplicasAnnotations(rs, replicas(d), replicas(d) + maxSurge(d))) changed = true
  return changed
}

function appendRevisionHistory(a: Record<string, string>, oldRevision: string, maxChars: number): void {
  const history = a[REVISION_HISTORY_ANNOTATION] ?? ''
  const old = history.split(',')
  if (old[0]!.length === 0) {
    a[REVISION_HISTORY_ANNOTATION] = oldRevision
    return
  }
  // Drop the oldest entries until the new one fits.
  let total = history.length + oldRevision.length + 1
  let start = 0
  while (total > maxChars && start < old.length) {
    total -= old[start]!.length + 1
    start++
  }
  if (total <= maxChars) a[REVISION_HISTORY_ANNOTATION] = [...old.slice(start), oldRevision].join(',')
}

/**
 * The old ReplicaSets to delete to keep spec.revisionHistoryLimit of them: the oldest
 * revisions beyond the limit, and only those scaled to 0 whose pods are all gone (as
 * their ReplicaSet controller has observed), so history is never lost while it still runs.
 */
export function replicaSetsToCleanUp(d: KubeObject, oldRSs: readonly KubeObject[]): KubeObject[] {
  const limit = revisionHistoryLimit(d)
  if (limit === undefined) return []
  const cleanable = oldRSs.filter((rs) => rs.metadata?.deletionTimestamp == null)
  const diff = cleanable.length - limit
  if (diff <= 0) return []
  return [...cleanable]
    .sort(byRevision)
    .slice(0, diff)
    .filter((rs) => statusReplicas(rs) === 0 && replicas(rs) === 0 && generation(rs) <= observedGeneration(rs))
}
