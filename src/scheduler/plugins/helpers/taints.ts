// Taints and tolerations as core/v1 helpers define them (Toleration.ToleratesTaint,
// FindMatchingUntoleratedTaint), shared by TaintToleration, NodeUnschedulable and
// PodTopologySpread's nodeTaintsPolicy. A node's taints are parsed once per Node
// object and a pod's tolerations once per PodInfo: Filter runs for hundreds of
// nodes per pod, and neither object changes once the informer handed it out.
import { rec, recs, str } from '../../../api/json.js'
import type { NodeInfo, PodInfo } from '../../framework/node-info.js'
import type { Node } from '../../framework/types.js'

export interface Taint {
  readonly key: string
  readonly value: string
  readonly effect: string
}

export interface Toleration {
  readonly key: string
  /** '' reads as Equal, as upstream. */
  readonly operator: string
  readonly value: string
  readonly effect: string
}

export const TAINT_NODE_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable'

/** A node's taints by what they affect, derived once per Node object. */
export interface NodeTaints {
  readonly all: readonly Taint[]
  /** NoSchedule and NoExecute taints: the ones Filter must see tolerated. */
  readonly doNotSchedule: readonly Taint[]
  readonly preferNoSchedule: readonly Taint[]
}

const EMPTY: readonly Taint[] = []
const NO_TAINTS: NodeTaints = { all: EMPTY, doNotSchedule: EMPTY, preferNoSchedule: EMPTY }
const nodeCache = new WeakMap<Node, NodeTaints>()

export function nodeTaints(node: NodeInfo): NodeTaints {
  // Most nodes have no taints: answer those without a cache lookup.
  const raw = (node.node.spec as { taints?: unknown } | undefined)?.taints
  if (!Array.isArray(raw) || raw.length === 0) return NO_TAINTS
  let t = nodeCache.get(node.node)
  if (t === undefined) {
    t = parseNodeTaints(node.node)
    nodeCache.set(node.node, t)
  }
  return t
}

function parseNodeTaints(node: Node): NodeTaints {
  const spec = rec(node.spec)
  const raw = recs(spec.taints)
  const all = raw.length === 0 ? EMPTY : raw.map((x) => ({ key: str(x.key), value: str(x.value), effect: str(x.effect) }))
  const doNotSchedule = all.filter((x) => x.effect === 'NoSchedule' || x.effect === 'NoExecute')
  const preferNoSchedule = all.filter((x) => x.effect === 'PreferNoSchedule')
  return {
    all,
    doNotSchedule: doNotSchedule.length === 0 ? EMPTY : doNotSchedule,
    preferNoSchedule: preferNoSchedule.length === 0 ? EMPTY : preferNoSchedule,
  }
}

const podCache = new WeakMap<PodInfo, readonly Toleration[]>()
const NO_TOLERATIONS: readonly Toleration[] = []

export function podTolerations(pod: PodInfo): readonly Toleration[] {
  let t = podCache.get(pod)
  if (t === undefined) {
    const raw = recs(rec(pod.pod.spec).tolerations)
    t = raw.length === 0 ? NO_TOLERATIONS : raw.map((x) => ({ key: str(x.key), operator: str(x.operator), value: str(x.value), effect: str(x.effect) }))
    podCache.set(pod, t)
  }
  return t
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
