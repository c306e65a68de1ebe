// Cluster-wide sums that PreFilter/PreScore would otherwise recompute from every node
// and pod on every cycle (matching pods per topology domain, existing pods'
// anti-affinity terms matching a pod): kept from one cycle to the next and updated
// only for nodes whose NodeInfo changed. Between two cycles almost nothing changes —
// the pod just placed — so a cycle costs one pass of cheap identity checks instead of
// matching thousands of pods.
//
// Change detection: a node is unchanged when the snapshot holds the same NodeInfo
// object at the same position with the same generation (every NodeInfo change bumps
// it; the cache's snapshot replaces a changed NodeInfo by a fresh copy). A different
// node list (nodes added, removed or reordered) recomputes everything.
//
// An aggregate is valid for every pod sharing its key: the key must capture all the
// pod-side inputs of `compute` (selector, namespace, topology key, …).
import type { NodeInfo } from '../../framework/node-info.js'

export interface Aggregate<C> {
  /** The node's contribution, or undefined for none. Must depend only on the node and the aggregate's key. */
  compute(node: NodeInfo): C | undefined
  /** Adds (sign 1) or removes (sign -1) a contribution. */
  apply(c: C, sign: 1 | -1): void
  /** Empties the sums before a full recompute. */
  clear(): void
}

export class IncrementalNodeSum<C> {
  private nodes: readonly NodeInfo[] | undefined
  private refs: (NodeInfo | undefined)[] = []
  private gens: number[] = []
  private contribs: (C | undefined)[] = []

  constructor(private readonly agg: Aggregate<C>) {}

  /** Brings the sums up to date with `nodes`. */
  sync(nodes: readonly NodeInfo[]): void {
    const n = nodes.length
    if (nodes !== this.nodes || n !== this.refs.length) {
      this.nodes = nodes
      this.agg.clear()
      this.refs = new Array<NodeInfo | undefined>(n)
      this.gens = new Array<number>(n).fill(-1)
      this.contribs = new Array<C | undefined>(n)
    }
    const { refs, gens, contribs, agg } = this
    for (let i = 0; i < n; i++) {
      const node = nodes[i]
      if (refs[i] === node && gens[i] === node.generation) continue
      const old = contribs[i]
      if (old !== undefined) agg.apply(old, -1)
      const c = agg.compute(node)
      if (c !== undefined) agg.apply(c, 1)
      refs[i] = node
      gens[i] = node.generation
      contribs[i] = c
    }
  }
}

/** A small least-recently-used map: aggregates for the last few distinct keys (workloads). */
export class LruCache<V> {
  private readonly map = new Map<string, V>()

  constructor(private readonly capacity: number) {}

  getOrCreate(key: string, create: () => V): V {
    let v = this.map.get(key)
    if (v !== undefined) {
      // Re-insert: Map iteration order is insertion order, oldest first.
      this.map.delete(key)
      this.map.set(key, v)
      return v
    }
    v = create()
    this.map.set(key, v)
    if (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value!)
    return v
  }
}
