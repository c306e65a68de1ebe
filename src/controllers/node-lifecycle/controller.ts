// The node lifecycle controller (kube-controller-manager's "nodelifecycle"). Kubelets
// prove they are alive by renewing their Lease in kube-node-lease and by posting the
// Ready condition; this controller watches for the silence:
//   - every --node-monitor-period it checks each node's last heartbeat; after
//     --node-monitor-grace-period without one, the kubelet's conditions become Unknown
//     (status subresource) and the node's pods lose their Ready condition, so
//     Services stop sending them traffic;
//   - a node whose Ready condition is False or Unknown gets the not-ready or
//     unreachable NoExecute taint, added through a per-zone rate-limited queue; the
//     taint eviction controller then removes the pods that do not tolerate it;
//   - every node carries the NoSchedule taints its conditions call for
//     (TaintNodesByCondition), so the scheduler keeps new pods off it, and the beta
//     OS/arch labels matching its stable ones.
// Zones are judged as a whole: when most of a zone is down tainting slows or stops,
// and when every node everywhere is down the controller lifts the NoExecute taints
// rather than evict the whole cluster over what is probably its own partition.
import type { Taint } from '../../api/taints.js'
import {
  type Clock,
  DeletedFinalStateUnknown,
  errorMessage,
  type EventRecorder,
  isNotFound,
  type KubeObject,
  RateLimitingQueue,
  runWorkers,
  type SharedIndexInformer,
  sleep,
} from '../../client/index.js'
import type { Controller, ControllerContext, ControllerFactory } from '../types.js'
import { NODES } from '../util/resources.js'
import { podNodeName } from '../util/pods.js'
import { type NodeCondition, nodeCondition } from './conditions.js'
import { type HealthObservation, type NodeHealth, observeNodeHealth } from './health.js'
import { nodeInformer, nodeLease, nodeLeaseInformer, podInformer, podsOnNode } from './informers.js'
import { labelsToReconcile } from './labels.js'
import { markPodsNotReady, nodeRef, swapNodeTaints, writeNodeConditions } from './node-writes.js'
import { type NodeLifecycleOptions, type ResolvedNodeLifecycleOptions, resolveNodeLifecycleOptions } from './options.js'
import { type TaintAttempt, TaintingQueue } from './tainting-queue.js'
import {
  managedNoScheduleTaints,
  NOT_READY_NO_EXECUTE,
  nodeTaints,
  stamped,
  taintExists,
  taintSetDiff,
  UNREACHABLE_NO_EXECUTE,
  wantedNoScheduleTaints,
} from './taints.js'
import { computeZoneState, evictionRateFor, excludedFromDisruption, zoneKey, type ZoneState } from './zones.js'

/** Nodes whose health is checked at once (upstream: 8 workers; a 2-core master needs fewer). */
const HEALTH_CONCURRENCY = 4
/** Attempts at writing a silent node's conditions per pass, rereading between them. */
const STATUS_ATTEMPTS = 5
const STATUS_RETRY_MS = 20
/** How soon a node with no Ready condition is looked at again by the tainting queue. */
const NO_CONDITION_RETRY_MS = 50

/** A factory for the registry with these settings (tests shrink the durations). */
export function nodeLifecycleControllerFactory(options: NodeLifecycleOptions = {}): ControllerFactory {
  const resolved = resolveNodeLifecycleOptions(options)
  return (ctx) => new NodeLifecycleController(ctx, resolved)
}

/** kube-controller-manager's defaults. */
export const nodeLifecycleController: ControllerFactory = nodeLifecycleControllerFactory()

class NodeLifecycleController implements Controller {
  readonly name = 'nodelifecycle'
  private readonly nodes: SharedIndexInformer
  private readonly leases: SharedIndexInformer
  private readonly pods: SharedIndexInformer
  private readonly recorder: EventRecorder
  private readonly clock: Clock
  /** Nodes seen by the monitor pass, to report additions and removals once. */
  private readonly known = new Map<string, KubeObject>()
  private readonly health = new Map<string, NodeHealth>()
  private readonly zoneStates = new Map<string, ZoneState>()
  private readonly tainters = new Map<string, TaintingQueue>()
  /** Nodes whose pods could not all be marked not ready; tried again next pass. */
  private readonly podsToRetry = new Set<string>()
  /** Nodes whose NoSchedule taints may not match their conditions. */
  private readonly nodeQueue: RateLimitingQueue<string>
  /** Pods just bound to a node, which may need marking not ready. */
  private readonly podQueue: RateLimitingQueue<string>

  constructor(
    private readonly ctx: ControllerContext,
    private readonly opts: ResolvedNodeLifecycleOptions,
  ) {
    this.clock = opts.clock
    this.nodes = nodeInformer(ctx)
    this.leases = nodeLeaseInformer(ctx)
    this.pods = podInformer(ctx)
    this.recorder = ctx.events('node-controller')
    this.nodeQueue = new RateLimitingQueue<string>(undefined, { name: 'node_lifecycle_controller', clock: this.clock })
    this.podQueue = new RateLimitingQueue<string>(undefined, { name: 'node_lifecycle_controller_pods', clock: this.clock })

    const enqueueNode = (n: KubeObject): void => {
      const name = n.metadata?.name
      if (name !== undefined) this.nodeQueue.add(name)
    }
    this.nodes.addEventHandler({
      onAdd: enqueueNode,
      onUpdate: (_, n) => enqueueNode(n),
      onDelete: (n) => {
        const obj = n instanceof DeletedFinalStateUnknown ? n.obj : n
        if (obj.metadata?.name !== undefined) this.podsToRetry.delete(obj.metadata.name)
      },
    })
    // Only a pod newly bound to a node matters here: the monitor pass handles the rest.
    const enqueuePod = (p: KubeObject): void => {
      if (p.metadata?.name !== undefined) this.podQueue.add(`${p.metadata.namespace ?? ''}/${p.metadata.name}`)
    }
    this.pods.addEventHandler({
      onAdd: (p) => {
        if (podNodeName(p) !== '') enqueuePod(p)
      },
      onUpdate: (old, p) => {
        if (podNodeName(p) !== '' && podNodeName(p) !== podNodeName(old)) enqueuePod(p)
      },
    })
  }

  async run(signal: AbortSignal): Promise<void> {
    signal.addEventListener(
      'abort',
      () => {
        this.nodeQueue.shutDown()
        this.podQueue.shutDown()
      },
      { once: true },
    )
    const log = this.ctx.logger
    await Promise.all([
      runWorkers(this.nodeQueue, 2, (name) => this.syncNode(name), {
        onError: (name, err) => log.warn({ node: name, err: errorMessage(err) }, 'failed to update node taints or labels; requeued'),
      }),
      runWorkers(this.podQueue, 2, (key) => this.processPod(key), {
        onError: (key, err) => log.warn({ pod: key, err: errorMessage(err) }, 'failed to mark pod not ready; requeued'),
      }),
      this.every(signal, this.opts.evictionPassPeriodMs, () => this.noExecuteTaintingPass()),
      this.every(signal, this.opts.nodeMonitorPeriodMs, () => this.monitorNodeHealth()),
    ])
  }

  /** Runs `pass`, then waits `periodMs`, until the term ends (upstream wait.Until). */
  private async every(signal: AbortSignal, periodMs: number, pass: () => Promise<void>): Promise<void> {
    while (!signal.aborted) {
      try {
        await pass()
      } catch (err) {
        this.ctx.logger.error({ err: errorMessage(err) }, 'node lifecycle pass failed')
      }
      if (!(await sleep(this.clock, periodMs, signal))) return
    }
  }

  // ---- NoSchedule taints from conditions, labels ----

  /** A node changed: its NoSchedule taints follow its conditions, its beta labels its stable ones. */
  private async syncNode(name: string): Promise<void> {
    const node = this.nodes.indexer.getByKey(name)
    if (node === undefined) return
    const { add, remove } = taintSetDiff(wantedNoScheduleTaints(node), managedNoScheduleTaints(nodeTaints(node)))
    if (add.length > 0 || remove.length > 0) await swapNodeTaints(this.ctx, node, add, remove)
    const labels = labelsToReconcile(node)
    if (labels !== undefined) {
      try {
        await this.ctx.writer.resource(NODES).patch(name, 'merge', { metadata: { labels } })
      } catch (err) {
        if (!isNotFound(err)) throw err
      }
    }
  }

  // ---- pods bound to a node that is not ready ----

  private async processPod(key: string): Promise<void> {
    const pod = this.pods.indexer.getByKey(key)
    if (pod === undefined) return
    const nodeName = podNodeName(pod)
    // Not looked at yet (or gone): the next monitor pass covers its pods.
    const ready = this.health.get(nodeName)?.ready
    if (ready === undefined || this.nodes.indexer.getByKey(nodeName) === undefined) return
    if (ready.status !== 'True') await markPodsNotReady(this.ctx, this.recorder, [pod], nodeName, this.clock.now())
  }

  // ---- node health ----

  private async monitorNodeHealth(): Promise<void> {
    const nodes = this.nodes.indexer.list()
    const seen = new Set<string>()
    for (const node of nodes) {
      const name = node.metadata?.name ?? ''
      seen.add(name)
      if (!this.known.has(name)) {
        // Upstream also lifts a newly seen node's NoExecute taints (and re-adds them
        // through the queue with a new timeAdded), restarting every eviction countdown
        // whenever the leader changes; here they stay, and so do the deadlines.
        this.nodeEvent(node, 'RegisteredNode', `Registered Node ${name} in Controller`)
      }
      this.known.set(name, node)
      this.ensureZone(zoneKey(node))
    }
    for (const [name, node] of this.known) {
      if (seen.has(name)) continue
      this.nodeEvent(node, 'RemovingNode', `Removing Node ${name} from Controller`)
      this.known.delete(name)
      this.health.delete(name)
      for (const q of this.tainters.values()) q.remove(name)
    }

    const zoneReady = new Map<string, (NodeCondition | undefined)[]>()
    await forEachLimited(nodes, HEALTH_CONCURRENCY, async (node) => {
      const currentReady = await this.monitorNode(node)
      if (currentReady === false || excludedFromDisruption(node)) return
      const zone = zoneKey(node)
      const list = zoneReady.get(zone) ?? []
      list.push(currentReady)
      zoneReady.set(zone, list)
    })
    await this.handleDisruption(zoneReady, nodes)
  }

  /** One node's pass; its Ready condition afterwards, or false when its health could not be updated. */
  private async monitorNode(cached: KubeObject): Promise<NodeCondition | undefined | false> {
    const name = cached.metadata?.name ?? ''
    let node = cached
    let obs: HealthObservation | undefined
    for (let attempt = 1; ; attempt++) {
      obs = observeNodeHealth(node, this.health.get(name), nodeLease(this.leases, name), this.clock.now(), {
        gracePeriodMs: this.opts.nodeMonitorGracePeriodMs,
        startupGracePeriodMs: this.opts.nodeStartupGracePeriodMs,
      })
      this.health.set(name, obs.health)
      if (obs.write === undefined) break
      try {
        node = await writeNodeConditions(this.ctx, node, obs.write.conditions)
        this.health.set(name, obs.write.health)
        break
      } catch (err) {
        if (isNotFound(err)) return false
        if (attempt >= STATUS_ATTEMPTS) {
          this.ctx.logger.error({ node: name, err: errorMessage(err) }, 'updating node health failed; no pods will be evicted this pass')
          return false
        }
      }
      await sleep(this.clock, STATUS_RETRY_MS)
      try {
        node = await this.ctx.client.resource(NODES).get(name)
      } catch (err) {
        this.ctx.logger.warn({ node: name, err: errorMessage(err) }, 'rereading a node to update its health failed; probably deleted')
        return false
      }
    }

    const { observedReady, currentReady } = obs
    if (currentReady === undefined) {
      this.podsToRetry.delete(name)
      return undefined
    }
    await this.processTaintBasedEviction(node, observedReady)

    const becameNotReady = currentReady.status !== 'True' && observedReady.status === 'True'
    if (becameNotReady) this.nodeEvent(node, 'NodeNotReady', `Node ${name} status is now: NodeNotReady`, 'status')
    if (becameNotReady || (this.podsToRetry.has(name) && observedReady.status !== 'True')) {
      try {
        await markPodsNotReady(this.ctx, this.recorder, podsOnNode(this.pods, name), name, this.clock.now())
      } catch (err) {
        this.ctx.logger.warn({ node: name, err: errorMessage(err) }, 'marking pods not ready failed; will retry')
        this.podsToRetry.add(name)
        return currentReady
      }
    }
    this.podsToRetry.delete(name)
    return currentReady
  }

  // ---- NoExecute taints ----

  /** Reacts to the Ready condition seen at the start of this pass (upstream processTaintBaseEviction). */
  private async processTaintBasedEviction(node: KubeObject, observedReady: NodeCondition): Promise<void> {
    const name = node.metadata?.name ?? ''
    const taints = nodeTaints(node)
    const now = this.clock.now()
    try {
      switch (observedReady.status) {
        case 'False':
          // Already tainted unreachable: swap at once, without waiting for the queue.
          if (taintExists(taints, UNREACHABLE_NO_EXECUTE)) await swapNodeTaints(this.ctx, node, [stamped(NOT_READY_NO_EXECUTE, now)], [UNREACHABLE_NO_EXECUTE])
          else this.markForTainting(node, NOT_READY_NO_EXECUTE)
          break
        case 'Unknown':
          if (taintExists(taints, NOT_READY_NO_EXECUTE)) await swapNodeTaints(this.ctx, node, [stamped(UNREACHABLE_NO_EXECUTE, now)], [NOT_READY_NO_EXECUTE])
          else this.markForTainting(node, UNREACHABLE_NO_EXECUTE)
          break
        case 'True':
          await this.markReachable(node)
          break
      }
    } catch (err) {
      this.ctx.logger.warn({ node: name, err: errorMessage(err) }, 'updating NoExecute taints failed; will retry next pass')
    }
  }

  private markForTainting(node: KubeObject, taint: Taint): void {
    const name = node.metadata?.name ?? ''
    const q = this.ensureZone(zoneKey(node))
    // Tainted before but the taint is gone: queue it again.
    if (!taintExists(nodeTaints(node), taint)) q.remove(name)
    q.add(name)
  }

  private async markReachable(node: KubeObject): Promise<void> {
    await swapNodeTaints(this.ctx, node, [], [UNREACHABLE_NO_EXECUTE, NOT_READY_NO_EXECUTE])
    this.tainters.get(zoneKey(node))?.remove(node.metadata?.name ?? '')
  }

  /** Works every zone's tainting queue (upstream doNoExecuteTaintingPass). */
  private async noExecuteTaintingPass(): Promise<void> {
    for (const q of [...this.tainters.values()]) await q.work((name) => this.taintNode(name))
  }

  private async taintNode(name: string): Promise<TaintAttempt> {
    const node = this.nodes.indexer.getByKey(name)
    if (node === undefined) return { done: true }
    const ready = nodeCondition(node, 'Ready')
    if (ready === undefined) return { done: false, retryMs: NO_CONDITION_RETRY_MS }
    // not-ready and unreachable mirror the Ready condition, so they never coexist.
    let add: Taint
    let opposite: Taint
    if (ready.status === 'False') [add, opposite] = [NOT_READY_NO_EXECUTE, UNREACHABLE_NO_EXECUTE]
    else if (ready.status === 'Unknown') [add, opposite] = [UNREACHABLE_NO_EXECUTE, NOT_READY_NO_EXECUTE]
    else return { done: true }
    try {
      await swapNodeTaints(this.ctx, node, [stamped(add, this.clock.now())], [opposite])
      return { done: true }
    } catch (err) {
      this.ctx.logger.warn({ node: name, err: errorMessage(err) }, 'adding NoExecute taint failed; will retry')
      return { done: false, retryMs: 0 }
    }
  }

  // ---- zones ----

  private ensureZone(zone: string): TaintingQueue {
    let q = this.tainters.get(zone)
    if (q === undefined || !this.zoneStates.has(zone)) {
      this.zoneStates.set(zone, 'Initial')
      q = new TaintingQueue(this.opts.nodeEvictionRate, this.clock)
      this.tainters.set(zone, q)
    }
    return q
  }

  private setZoneRate(zone: string, size: number, state: ZoneState): void {
    if (state === 'Initial') return
    this.tainters.get(zone)?.swapLimiter(evictionRateFor(state, size, this.opts))
  }

  /** Moves zones between states and their tainting rates (upstream handleDisruption). */
  private async handleDisruption(zoneReady: Map<string, (NodeCondition | undefined)[]>, nodes: KubeObject[]): Promise<void> {
    const newStates = new Map<string, ZoneState>()
    let allFullyDisrupted = true
    for (const [zone, conditions] of zoneReady) {
      const { state } = computeZoneState(conditions, this.opts.unhealthyZoneThreshold)
      if (state !== 'FullDisruption') allFullyDisrupted = false
      newStates.set(zone, state)
      if (!this.zoneStates.has(zone)) this.zoneStates.set(zone, 'Initial')
    }
    let allWereFullyDisrupted = true
    for (const [zone, state] of [...this.zoneStates]) {
      if (!zoneReady.has(zone)) {
        this.zoneStates.delete(zone)
        continue
      }
      if (state !== 'FullDisruption') allWereFullyDisrupted = false
    }
    if (allFullyDisrupted && allWereFullyDisrupted) return

    if (allFullyDisrupted) {
      this.ctx.logger.info({}, 'every node is not ready: entering master disruption mode; NoExecute taints are lifted and evictions stop')
      for (const node of nodes) {
        try {
          await this.markReachable(node)
        } catch (err) {
          this.ctx.logger.warn({ node: node.metadata?.name, err: errorMessage(err) }, 'removing NoExecute taints failed')
        }
      }
      for (const zone of this.zoneStates.keys()) {
        this.tainters.get(zone)?.swapLimiter(0)
        this.zoneStates.set(zone, 'FullDisruption')
      }
      return
    }
    if (allWereFullyDisrupted) {
      this.ctx.logger.info({}, 'some nodes are ready again: leaving master disruption mode')
      // Every node gets a fresh grace period: their silence may have been ours.
      const now = this.clock.now()
      for (const node of nodes) {
        const h = this.health.get(node.metadata?.name ?? '')
        if (h !== undefined) this.health.set(node.metadata?.name ?? '', { ...h, probeTimestamp: now, readyTransitionTimestamp: now })
      }
      for (const zone of this.zoneStates.keys()) {
        const state = newStates.get(zone) ?? 'Normal'
        this.setZoneRate(zone, zoneReady.get(zone)?.length ?? 0, state)
        this.zoneStates.set(zone, state)
      }
      return
    }
    for (const [zone, state] of this.zoneStates) {
      const next = newStates.get(zone)
      if (next === undefined || next === state) continue
      this.ctx.logger.info({ zone, state: next }, 'zone changed state')
      this.setZoneRate(zone, zoneReady.get(zone)?.length ?? 0, next)
      this.zoneStates.set(zone, next)
    }
  }

  private nodeEvent(node: KubeObject, reason: string, message: string, form: 'event' | 'status' = 'event'): void {
    const name = node.metadata?.name ?? ''
    // Upstream's RecordNodeEvent and RecordNodeStatusChange word their messages differently.
    const text = form === 'event' ? `Node ${name} event: ${message}` : message
    this.recorder.event(nodeRef(node), 'Normal', reason, text)
  }
}

/** Runs `fn` over `items`, at most `limit` at a time (upstream workqueue.ParallelizeUntil). */
async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!)
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
}
