// A Snapshot over a plain list of NodeInfos, for tests, benchmarks and simulations
// that place pods themselves (the scheduler proper uses the cache's snapshot). Place
// pods through addPod/removePod here, not on the NodeInfo directly, so the lists of
// nodes with (anti-)affinity pods stay right.
import type { NodeInfo, PodInfo } from './node-info.js'
import type { Snapshot, VolumeListers } from './types.js'

export class ListSnapshot implements Snapshot {
  private readonly byName = new Map<string, NodeInfo>()
  private withAffinity: NodeInfo[] | undefined
  private withRequiredAntiAffinity: NodeInfo[] | undefined

  constructor(
    readonly nodes: readonly NodeInfo[],
    readonly volumes?: VolumeListers,
  ) {
    for (const n of nodes) this.byName.set(n.name, n)
  }

  get(nodeName: string): NodeInfo | undefined {
    return this.byName.get(nodeName)
  }

  get havePodsWithAffinity(): readonly NodeInfo[] {
    return (this.withAffinity ??= this.nodes.filter((n) => n.podsWithAffinity.size > 0))
  }

  get havePodsWithRequiredAntiAffinity(): readonly NodeInfo[] {
    return (this.withRequiredAntiAffinity ??= this.nodes.filter((n) => n.podsWithRequiredAntiAffinity.size > 0))
  }

  addPod(nodeName: string, pod: PodInfo): void {
    const node = this.byName.get(nodeName)
    if (node === undefined) throw new Error(`no node ${nodeName} in the snapshot`)
    node.addPod(pod)
    this.touched(pod)
  }

  removePod(nodeName: string, pod: PodInfo): boolean {
    const removed = this.byName.get(nodeName)?.removePod(pod.key) ?? false
    if (removed) this.touched(pod)
    return removed
  }

  private touched(pod: PodInfo): void {
    if (pod.hasAffinity) this.withAffinity = undefined
    if (pod.hasRequiredAntiAffinity) this.withRequiredAntiAffinity = undefined
  }
}
