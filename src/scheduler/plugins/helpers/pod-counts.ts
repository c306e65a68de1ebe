// How many of a node's pods match a label selector in a namespace (upstream's
// countPodsMatchSelector: terminating pods do not count; an empty selector counts
// nothing). Topology spreading asks this for every node on every cycle, and between
// two cycles almost every node is unchanged, so the answer is memoized per NodeInfo
// until its pods change (NodeInfo.generation).
import type { Selector } from '../../../api/labels.js'
import { rec } from '../../../api/json.js'
import type { NodeInfo, PodInfo } from '../../framework/node-info.js'

interface Memo {
  pods: ReadonlyMap<string, PodInfo>
  generation: number
  counts: Map<string, number>
}

const memo = new WeakMap<NodeInfo, Memo>()

/** `memoKey` identifies the namespace and selector: equal keys must mean equal (namespace, selector). */
export function countPodsMatchSelector(node: NodeInfo, selector: Selector, namespace: string, memoKey: string): number {
  if (node.pods.size === 0 || selector.nothing || selector.empty()) return 0
  let m = memo.get(node)
  if (m === undefined || m.generation !== node.generation || m.pods !== node.pods) {
    m = { pods: node.pods, generation: node.generation, counts: new Map() }
    memo.set(node, m)
  }
  let c = m.counts.get(memoKey)
  if (c === undefined) {
    c = 0
    for (const p of node.pods.values()) {
      if (p.namespace !== namespace || isTerminating(p)) continue
      if (selector.matches(p.labels)) c++
    }
    m.counts.set(memoKey, c)
  }
  return c
}

export function isTerminating(p: PodInfo): boolean {
  const ts = rec(p.pod.metadata).deletionTimestamp
  return ts !== undefined && ts !== null
}
