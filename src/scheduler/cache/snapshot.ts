// What one scheduling cycle sees of the cluster: copies of the cache's NodeInfos that
// nothing changes while the cycle runs, however the informers keep the cache moving.
// The cache refreshes a snapshot between cycles (SchedulerCache.updateSnapshot): a
// NodeInfo that changed is replaced by a fresh copy, never edited, so a NodeInfo taken
// from a snapshot stays as it was. The node list and the lists of nodes with
// (anti-)affinity pods are patched in place when only some nodes changed, and built
// again only when nodes came, went or moved in the order.
import type { NodeInfo } from '../framework/node-info.js'
import type { Snapshot as FrameworkSnapshot, VolumeListers } from '../framework/types.js'

export class Snapshot implements FrameworkSnapshot {
  private nodeList: NodeInfo[] = []
  private affinityList: NodeInfo[] = []
  private antiAffinityList: NodeInfo[] = []
  private readonly byName = new Map<string, NodeInfo>()
  /** Index of each node in nodeList. */
  private readonly position = new Map<string, number>()
  /** Set when a node was added or removed: the lists are rebuilt before use. */
  private listsStale = false

  /** The scheduler's claims, volumes and classes (not copied per cycle: see VolumeListers); kept by clear(). */
  volumes: VolumeListers | undefined

  /** @internal The cache this snapshot follows, and how far (see SchedulerCache.updateSnapshot). */
  source: { cacheId: number; stamp: number; treeVersion: number } | undefined

  /** A snapshot of the given nodes, in that order (for tests and tools; the scheduler uses the cache's). */
  static of(nodes: readonly NodeInfo[]): Snapshot {
    const s = new Snapshot()
    for (const n of nodes) s.byName.set(n.name, n)
    s.rebuild(nodes.map((n) => n.name))
    return s
  }

  get nodes(): readonly NodeInfo[] {
    return this.nodeList
  }

  get havePodsWithAffinity(): readonly NodeInfo[] {
    return this.affinityList
  }

  get havePodsWithRequiredAntiAffinity(): readonly NodeInfo[] {
    return this.antiAffinityList
  }

  get(nodeName: string): NodeInfo | undefined {
    return this.byName.get(nodeName)
  }

  get size(): number {
    return this.byName.size
  }

  /** @internal Every node name in the snapshot. */
  names(): IterableIterator<string> {
    return this.byName.keys()
  }

  /** @internal Puts a fresh copy of a node in, replacing the old one in every list. */
  put(info: NodeInfo): void {
    const old = this.byName.get(info.name)
    this.byName.set(info.name, info)
    if (old === undefined || this.listsStale) {
      this.listsStale = true
      return
    }
    const pos = this.position.get(info.name)!
    this.nodeList[pos] = info
    this.patch(this.affinityList, pos, old.podsWithAffinity.size > 0, info.podsWithAffinity.size > 0, info)
    this.patch(this.antiAffinityList, pos, old.podsWithRequiredAntiAffinity.size > 0, info.podsWithRequiredAntiAffinity.size > 0, info)
  }

  /** @internal */
  drop(name: string): void {
    if (this.byName.delete(name)) this.listsStale = true
  }

  /** @internal Whether the lists must be rebuilt (nodes were added or removed). */
  get stale(): boolean {
    return this.listsStale
  }

  /** @internal Rebuilds the lists in `order` (every name must be in the snapshot). */
  rebuild(order: readonly string[]): void {
    const nodes: NodeInfo[] = []
    const affinity: NodeInfo[] = []
    const anti: NodeInfo[] = []
    this.position.clear()
    for (const name of order) {
      const info = this.byName.get(name)!
      this.position.set(name, nodes.length)
      nodes.push(info)
      if (info.podsWithAffinity.size > 0) affinity.push(info)
      if (info.podsWithRequiredAntiAffinity.size > 0) anti.push(info)
    }
    this.nodeList = nodes
    this.affinityList = affinity
    this.antiAffinityList = anti
    this.listsStale = false
  }

  /** @internal Forgets everything (before following another cache). */
  clear(): void {
    this.byName.clear()
    this.position.clear()
    this.nodeList = []
    this.affinityList = []
    this.antiAffinityList = []
    this.listsStale = false
    this.source = undefined
  }

  /** Keeps `list` (a sub-list of nodeList, in its order) right for the node at `pos`. */
  private patch(list: NodeInfo[], pos: number, had: boolean, has: boolean, info: NodeInfo): void {
    if (!had && !has) return
    let lo = 0
    let hi = list.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (this.position.get(list[mid]!.name)! < pos) lo = mid + 1
      else hi = mid
    }
    const present = lo < list.length && list[lo]!.name === info.name
    if (has && present) list[lo] = info
    else if (has) list.splice(lo, 0, info)
    else if (present) list.splice(lo, 1)
  }
}
