// The scheduler cache (upstream's internal/cache): every node and every pod bound or
// about to be bound, summed up per node as NodeInfos. Informers feed it nodes and bound
// pods; the scheduler adds "assumed" pods the moment it picks a node, so the next
// decision already counts them without waiting for the binding to round-trip through
// the API. An assumed pod is confirmed when the informer reports it bound (on the node
// the informer says), or forgotten when its binding fails. As upstream today, assumed
// pods do not expire unless a TTL is configured.
//
// A pod may arrive before its node (informers run independently): it is kept on a
// "ghost" NodeInfo that has no node object and is never offered for scheduling, until
// the node arrives; a removed node that still has pods becomes a ghost again.
//
// Snapshots are refreshed incrementally: the cache keeps its NodeInfos in a list
// ordered by last change, each stamped with a cache-wide counter, so updateSnapshot
// visits only what changed since the snapshot's stamp.
import { rec, str } from '../../api/json.js'
import { type Clock, realClock } from '../../client/clock.js'
import type { KubeObject } from '../../client/types.js'
import { NodeInfo, PodInfo } from '../framework/node-info.js'
import { NodeTree } from './node-tree.js'
import { Snapshot } from './snapshot.js'

export interface SchedulerCacheOptions {
  clock?: Clock
  /** Seconds an assumed pod lives after finishBinding without being confirmed; 0 (default): until confirmed or forgotten. */
  assumedPodTTLSeconds?: number
}

/** For debugging and tests: pod keys per node (sorted), and which pods are assumed. */
export interface CacheDump {
  nodes: Record<string, string[]>
  /** Nodes the cache has pods for but no node object. */
  ghosts: Record<string, string[]>
  assumed: string[]
}

export interface CachedPod {
  readonly podInfo: PodInfo
  readonly nodeName: string
  readonly assumed: boolean
}

interface NodeEntry {
  info: NodeInfo
  /** false: a ghost (pods without their node). */
  hasNode: boolean
  /** The cache's change counter at this entry's last change. */
  stamp: number
  /** Towards the most recently changed entry. */
  prev: NodeEntry | undefined
  next: NodeEntry | undefined
}

interface PodState {
  podInfo: PodInfo
  nodeName: string
  assumed: boolean
  bindingFinished: boolean
  /** When an assumed pod expires (only with a TTL, after finishBinding). */
  deadline: number | undefined
}

let nextCacheId = 1

function keyOf(pod: KubeObject): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`
}

function nodeNameOf(pod: KubeObject): string {
  return str(rec(pod.spec).nodeName)
}

function ghostNode(name: string): KubeObject {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name } }
}

export class SchedulerCache {
  private readonly id = nextCacheId++
  private readonly clock: Clock
  private readonly ttlMs: number
  private readonly nodes = new Map<string, NodeEntry>()
  private readonly pods = new Map<string, PodState>()
  private readonly assumed = new Set<string>()
  private readonly tree = new NodeTree()
  /** The most recently changed entry. */
  private head: NodeEntry | undefined
  private stamp = 0

  constructor(opts: SchedulerCacheOptions = {}) {
    this.clock = opts.clock ?? realClock
    this.ttlMs = (opts.assumedPodTTLSeconds ?? 0) * 1000
  }

  // ---- nodes ----

  addNode(node: KubeObject): void {
    const name = str(node.metadata?.name)
    if (name === '') return
    const e = this.nodes.get(name)
    if (e === undefined) {
      this.link({ info: new NodeInfo(node), hasNode: true, stamp: 0, prev: undefined, next: undefined })
    } else {
      e.info.setNode(node)
      e.hasNode = true
      this.touch(e)
    }
    this.tree.set(name, node)
  }

  updateNode(_oldNode: KubeObject, newNode: KubeObject): void {
    // The cache's own copy is the reference; the old object only matters to the queue.
    this.addNode(newNode)
  }

  /** The node is gone; its pods stay (on a ghost) until the informer removes them. */
  removeNode(node: KubeObject | string): void {
    const name = typeof node === 'string' ? node : str(node.metadata?.name)
    const e = this.nodes.get(name)
    if (e === undefined || !e.hasNode) return
    this.tree.remove(name)
    if (e.info.pods.size === 0) {
      this.unlink(e)
      return
    }
    e.hasNode = false
    e.info.setNode(ghostNode(name))
    this.touch(e)
  }

  // ---- pods ----

  /** A bound pod the informer reports; confirms it when it was assumed (on the node the informer says). */
  addPod(pod: KubeObject): void {
    const nodeName = nodeNameOf(pod)
    if (nodeName === '') return
    const key = keyOf(pod)
    const state = this.pods.get(key)
    if (state !== undefined) this.removeFromNode(state.nodeName, key)
    const podInfo = new PodInfo(pod)
    this.addToNode(nodeName, podInfo)
    this.pods.set(key, { podInfo, nodeName, assumed: false, bindingFinished: false, deadline: undefined })
    this.assumed.delete(key)
  }

  updatePod(_oldPod: KubeObject, newPod: KubeObject): void {
    const state = this.pods.get(keyOf(newPod))
    // A bound pod does not move; keep the node we know if the new version lacks one.
    if (state !== undefined && nodeNameOf(newPod) === '') newPod = { ...newPod, spec: { ...rec(newPod.spec), nodeName: state.nodeName } }
    this.addPod(newPod)
  }

  /** The pod was deleted or finished; returns false when the cache did not have it. */
  removePod(pod: KubeObject | string): boolean {
    const key = typeof pod === 'string' ? pod : keyOf(pod)
    const state = this.pods.get(key)
    if (state === undefined) return false
    this.removeFromNode(state.nodeName, key)
    this.pods.delete(key)
    this.assumed.delete(key)
    return true
  }

  /** Counts the pod on `nodeName` at once, before its binding lands. False when the cache already has the pod. */
  assumePod(podInfo: PodInfo, nodeName: string): boolean {
    if (this.pods.has(podInfo.key)) return false
    this.addToNode(nodeName, podInfo)
    this.pods.set(podInfo.key, { podInfo, nodeName, assumed: true, bindingFinished: false, deadline: undefined })
    this.assumed.add(podInfo.key)
    return true
  }

  /** The binding was written; with a TTL, the assumed pod now expires unless confirmed in time. */
  finishBinding(key: string): void {
    const state = this.pods.get(key)
    if (state === undefined || !state.assumed) return
    state.bindingFinished = true
    if (this.ttlMs > 0) state.deadline = this.clock.now() + this.ttlMs
  }

  /** The binding failed: the assumed pod leaves its node. False when the pod is not assumed (confirmed ones stay). */
  forgetPod(key: string): boolean {
    if (!this.assumed.has(key)) return false
    return this.removePod(key)
  }

  isAssumed(key: string): boolean {
    return this.assumed.has(key)
  }

  /** The pod as the cache has it. */
  getPod(key: string): CachedPod | undefined {
    const s = this.pods.get(key)
    return s === undefined ? undefined : { podInfo: s.podInfo, nodeName: s.nodeName, assumed: s.assumed }
  }

  /** Nodes with a node object (ghosts not counted). */
  get nodeCount(): number {
    return this.tree.size
  }

  /** Pods, assumed ones included. */
  get podCount(): number {
    return this.pods.size
  }

  /** Forgets assumed pods whose TTL ran out after their binding finished; returns how many. */
  cleanupExpiredAssumedPods(): number {
    if (this.ttlMs <= 0 || this.assumed.size === 0) return 0
    const now = this.clock.now()
    let expired = 0
    for (const key of [...this.assumed]) {
      const s = this.pods.get(key)!
      if (s.bindingFinished && s.deadline !== undefined && s.deadline <= now) {
        this.removePod(key)
        expired++
      }
    }
    return expired
  }

  // ---- snapshots ----

  /**
   * Brings `snapshot` up to date: nodes changed since its last update are copied in
   * afresh (O(changed nodes × their pods)); the node list is rebuilt only when nodes
   * were added, removed or reordered.
   */
  updateSnapshot(snapshot: Snapshot): void {
    this.cleanupExpiredAssumedPods()
    if (snapshot.source?.cacheId !== this.id) snapshot.clear()
    const since = snapshot.source?.stamp ?? 0
    for (let e = this.head; e !== undefined && e.stamp > since; e = e.next) {
      if (e.hasNode) snapshot.put(e.info.clone())
      else snapshot.drop(e.info.name)
    }
    // Entries removed from the cache altogether leave no trace in the change list;
    // after the walk the snapshot has every live node, so any surplus is theirs.
    if (snapshot.size > this.tree.size) {
      for (const name of [...snapshot.names()]) if (!this.tree.has(name)) snapshot.drop(name)
    }
    if (snapshot.stale || snapshot.source?.treeVersion !== this.tree.version) snapshot.rebuild(this.tree.list())
    snapshot.source = { cacheId: this.id, stamp: this.stamp, treeVersion: this.tree.version }
  }

  dump(): CacheDump {
    const out: CacheDump = { nodes: {}, ghosts: {}, assumed: [...this.assumed].sort() }
    for (const [name, e] of this.nodes) (e.hasNode ? out.nodes : out.ghosts)[name] = [...e.info.pods.keys()].sort()
    return out
  }

  // ---- internals ----

  private addToNode(nodeName: string, podInfo: PodInfo): void {
    let e = this.nodes.get(nodeName)
    if (e === undefined) {
      e = { info: new NodeInfo(ghostNode(nodeName)), hasNode: false, stamp: 0, prev: undefined, next: undefined }
      this.link(e)
    }
    e.info.addPod(podInfo)
    this.touch(e)
  }

  private removeFromNode(nodeName: string, key: string): void {
    const e = this.nodes.get(nodeName)
    if (e === undefined) return
    e.info.removePod(key)
    if (!e.hasNode && e.info.pods.size === 0) this.unlink(e)
    else this.touch(e)
  }

  /** A new entry, at the head as the latest change. */
  private link(e: NodeEntry): void {
    this.nodes.set(e.info.name, e)
    e.stamp = ++this.stamp
    e.next = this.head
    if (this.head !== undefined) this.head.prev = e
    this.head = e
  }

  private unlink(e: NodeEntry): void {
    this.nodes.delete(e.info.name)
    if (e.prev !== undefined) e.prev.next = e.next
    else this.head = e.next
    if (e.next !== undefined) e.next.prev = e.prev
    e.prev = e.next = undefined
    // The stamp moves so snapshots taken before notice that something went.
    this.stamp++
  }

  /** Marks the entry changed: the newest stamp, moved to the head. */
  private touch(e: NodeEntry): void {
    e.stamp = ++this.stamp
    if (this.head === e) return
    if (e.prev !== undefined) e.prev.next = e.next
    if (e.next !== undefined) e.next.prev = e.prev
    e.prev = undefined
    e.next = this.head
    if (this.head !== undefined) this.head.prev = e
    this.head = e
  }
}
