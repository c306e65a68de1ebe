// A node's taints and a pod's tolerations as the scheduler's filters read them
// (TaintToleration, NodeUnschedulable, PodTopologySpread's nodeTaintsPolicy): parsed
// once per Node object and once per PodInfo, because Filter runs for hundreds of nodes
// per pod and neither object changes once the informer handed it out. The matching
// rules themselves are core/v1's, in src/api/taints.ts.
import { parseTaints, parseTolerations, type Taint, type Toleration } from '../../../api/taints.js'
import type { NodeInfo, PodInfo } from '../../framework/node-info.js'
import type { Node } from '../../framework/types.js'

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
  const parsed = parseTaints(node)
  const all = parsed.length === 0 ? EMPTY : parsed
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
    const parsed = parseTolerations(pod.pod)
    t = parsed.length === 0 ? NO_TOLERATIONS : parsed
    podCache.set(pod, t)
  }
  return t
}
