// Taints and tolerations as core/v1's helpers define them (Toleration.ToleratesTaint,
// FindMatchingUntoleratedTaint): read by the scheduler's filters, the node lifecycle
// controller's evictions and DefaultTolerationSeconds admission.
import { rec, recs, str } from './json.js'

export interface Taint {
  readonly key: string
  readonly value: string
  readonly effect: string
  /** RFC 3339; NoExecute taints carry it. */
  readonly timeAdded?: string
}

export interface Toleration {
  readonly key: string
  /** '' reads as Equal, as upstream. */
  readonly operator: string
  readonly value: string
  readonly effect: string
  /** Only for NoExecute: how long the pod may stay after the taint appears; undefined: forever. */
  readonly tolerationSeconds?: number
}

export const TAINT_NODE_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable'
export const TAINT_NODE_NOT_READY = 'node.kubernetes.io/not-ready'
export const TAINT_NODE_UNREACHABLE = 'node.kubernetes.io/unreachable'

/** spec.taints of a Node. */
export function parseTaints(node: unknown): Taint[] {
  return recs(rec(rec(node).spec).taints).map((x) => {
    const t: { key: string; value: string; effect: string; timeAdded?: string } = { key: str(x.key), value: str(x.value), effect: str(x.effect) }
    if (typeof x.timeAdded === 'string') t.timeAdded = x.timeAdded
    return t
  })
}

/** spec.tolerations of a Pod. */
export function parseTolerations(pod: unknown): Toleration[] {
  return recs(rec(rec(pod).spec).tolerations).map((x) => {
    const t: { key: string; operator: string; value: string; effect: string; tolerationSeconds?: number } = {
      key: str(x.key),
      operator: str(x.operator),
      value: str(x.value),
      effect: str(x.effect),
    }
    if (typeof x.tolerationSeconds === 'number') t.tolerationSeconds = x.tolerationSeconds
    return t
  })
}

export function toleratesTaint(t: Toleration, taint: Taint): boolean {
  if (t.effect !== '' && t.effect !== taint.effect) return false
  if (t.key !== '' && t.key !== taint.key) return false
  switch (t.operator) {
    case '':
    case 'Equal':
      return t.value === taint.value
    case 'Exists':
      return true
    default:
      return false
  }
}

export function tolerationsTolerateTaint(tolerations: readonly Toleration[], taint: Taint): boolean {
  for (const t of tolerations) if (toleratesTaint(t, taint)) return true
  return false
}

/** The first taint (in the node's order) that no toleration tolerates. */
export function findUntoleratedTaint(taints: readonly Taint[], tolerations: readonly Toleration[]): Taint | undefined {
  for (const taint of taints) if (!tolerationsTolerateTaint(tolerations, taint)) return taint
  return undefined
}
