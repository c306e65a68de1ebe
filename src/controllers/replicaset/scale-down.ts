// Which pods a replica controller deletes when it has too many (upstream
// getPodsToDelete): the least valuable first, in the order of compareForDeletion —
// unscheduled, pending, not ready first — and among otherwise equal pods, those on a
// node crowded with related pods. Related pods are the controller's own plus, for a
// ReplicaSet owned by a Deployment, those of its sibling ReplicaSets, so that a
// rollout's old and new pods together end up spread across nodes.
import type { KubeObject } from '../../client/index.js'
import { compareForDeletion, isPodActive, podNodeName } from '../util/pods.js'

/** The `diff` pods of `active` to delete. `related`: every pod of the owner and its siblings. */
export function podsToDelete(active: readonly KubeObject[], related: readonly KubeObject[], diff: number): KubeObject[] {
  if (diff >= active.length) return [...active]
  const onNode = new Map<string, number>()
  for (const p of related) {
    if (!isPodActive(p)) continue
    const node = podNodeName(p)
    onNode.set(node, (onNode.get(node) ?? 0) + 1)
  }
  const rank = (p: KubeObject): number => onNode.get(podNodeName(p)) ?? 0
  return [...active].sort((a, b) => compareForDeletion(a, b, rank)).slice(0, diff)
}
