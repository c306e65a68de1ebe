// When a pod on a node with NoExecute taints must go (upstream taint eviction's
// processPodOnNode): at once if one taint is not tolerated, never if every taint is
// tolerated without tolerationSeconds, otherwise when the shortest toleration runs out.
//
// A toleration's seconds count from when its taint was added to the node (the taint's
// timeAdded) or from when the pod was bound there, whichever is later. Upstream counts
// from the moment its in-memory timer is set, so a controller-manager restart restarts
// every countdown; counting from what is stored keeps the deadline when the leader
// changes, which here is meant to happen whenever a master dies.
import { type Taint, type Toleration, toleratesTaint } from '../../api/taints.js'

export type EvictionDecision =
  /** Nothing to do (no NoExecute taint, or all tolerated forever). */
  | { kind: 'keep' }
  /** Delete now. */
  | { kind: 'evict'; reason: 'untolerated' | 'expired'; taint: Taint }
  /** Delete at `at` (ms), unless things change. */
  | { kind: 'at'; at: number; taint: Taint }

/**
 * `startOf(taint)`: when the pod started tolerating the taint (ms). Only NoExecute
 * taints count; others are ignored.
 */
export function evictionDecision(taints: readonly Taint[], tolerations: readonly Toleration[], startOf: (taint: Taint) => number, nowMs: number): EvictionDecision {
  let earliest: { at: number; taint: Taint } | undefined
  for (const taint of taints) {
    if (taint.effect !== 'NoExecute') continue
    // The first toleration that tolerates the taint is the one used, as upstream's GetMatchingTolerations.
    const used = tolerations.find((t) => toleratesTaint(t, taint))
    if (used === undefined) return { kind: 'evict', reason: 'untolerated', taint }
    if (used.tolerationSeconds === undefined) continue
    const at = used.tolerationSeconds <= 0 ? nowMs : startOf(taint) + used.tolerationSeconds * 1000
    if (earliest === undefined || at < earliest.at) earliest = { at, taint }
  }
  if (earliest === undefined) return { kind: 'keep' }
  if (earliest.at <= nowMs) return { kind: 'evict', reason: 'expired', taint: earliest.taint }
  return { kind: 'at', at: earliest.at, taint: earliest.taint }
}
