// The taint eviction controller (kube-controller-manager's "taint-eviction-controller",
// its own controller since 1.29): a pod on a node with a NoExecute taint it does not
// tolerate is deleted at once; one tolerating it for tolerationSeconds is deleted when
// they run out, unless the taint goes first. Any NoExecute taint counts, whoever put
// it there; the node lifecycle controller's not-ready and unreachable taints are the
// common case, and DefaultTolerationSeconds admission gives every pod 300 s for those.
//
// Level-triggered: a pod's key is synced whenever its node's NoExecute taints or its
// own tolerations or node change, and again when its deadline comes (the queue's
// addAfter), and each sync decides afresh from the caches.
import { parseTolerations, type Taint } from '../../api/taints.js'
import {
  type Clock,
  DeletedFinalStateUnknown,
  errorMessage,
  type EventRecorder,
  isNotFound,
  type KubeObject,
  metaNamespaceKey,
  RateLimitingQueue,
  runWorkers,
  type SharedIndexInformer,
  splitMetaNamespaceKey,
} from '../../client/index.js'
import type { Controller, ControllerContext, ControllerFactory } from '../types.js'
import { PODS } from '../util/resources.js'
import { isPodTerminating, podCondition, podNodeName } from '../util/pods.js'
import { podStatusWithDisruptionTarget } from './conditions.js'
import { evictionDecision } from './eviction.js'
import { nodeInformer, podInformer, podsOnNode } from './informers.js'
import { podRef } from './node-writes.js'
import { type TaintEvictionOptions, wallClock } from './options.js'
import { noExecuteTaints, nodeTaints } from './taints.js'

const WORKERS = 2
const NODE_PREFIX = 'node:'
const POD_PREFIX = 'pod:'

export function taintEvictionControllerFactory(options: TaintEvictionOptions = {}): ControllerFactory {
  const clock = options.clock ?? wallClock
  return (ctx) => new TaintEvictionController(ctx, clock)
}

export const taintEvictionController: ControllerFactory = taintEvictionControllerFactory()

function taintId(t: Taint): string {
  return `${t.key}\u0000${t.value}\u0000${t.effect}`
}

function parseTime(s: unknown): number | undefined {
  if (typeof s !== 'string') return undefined
  const t = Date.parse(s)
  return Number.isFinite(t) ? t : undefined
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null)
}

class TaintEvictionController implements Controller {
  readonly name = 'taint-eviction-controller'
  private readonly nodes: SharedIndexInformer
  private readonly pods: SharedIndexInformer
  private readonly recorder: EventRecorder
  private readonly queue: RateLimitingQueue<string>
  /** Pods with a deletion pending, and when: to report a cancelled one. */
  private readonly scheduled = new Map<string, number>()
  /** When this controller first saw each NoExecute taint that carries no timeAdded, per node. */
  private readonly firstSeen = new Map<string, Map<string, number>>()

  constructor(
    private readonly ctx: ControllerContext,
    private readonly clock: Clock,
  ) {
    this.nodes = nodeInformer(ctx)
    this.pods = podInformer(ctx)
    this.recorder = ctx.events('taint-eviction-controller')
    this.queue = new RateLimitingQueue<string>(undefined, { name: 'taint_eviction', clock })

    const nodeKey = (n: KubeObject | DeletedFinalStateUnknown<KubeObject>): string => {
      const obj = n instanceof DeletedFinalStateUnknown ? n.obj : n
      return NODE_PREFIX + (obj.metadata?.name ?? '')
    }
    this.nodes.addEventHandler({
      onAdd: (n) => this.queue.add(nodeKey(n)),
      onUpdate: (old, n) => {
        if (!sameJson(noExecuteTaints(nodeTaints(old)), noExecuteTaints(nodeTaints(n)))) this.queue.add(nodeKey(n))
      },
      onDelete: (n) => this.queue.add(nodeKey(n)),
    })
    const podKey = (p: KubeObject | DeletedFinalStateUnknown<KubeObject>): string =>
      POD_PREFIX + (p instanceof DeletedFinalStateUnknown ? p.key : metaNamespaceKey(p))
    this.pods.addEventHandler({
      onAdd: (p) => {
        if (podNodeName(p) !== '') this.queue.add(podKey(p))
      },
      onUpdate: (old, p) => {
        const tolerations = (x: KubeObject): unknown => (x.spec as { tolerations?: unknown } | undefined)?.tolerations
        const changed = podNodeName(old) !== podNodeName(p) || !sameJson(tolerations(old), tolerations(p))
        if (changed) this.queue.add(podKey(p))
      },
      onDelete: (p) => this.queue.add(podKey(p)),
    })
  }

  async run(signal: AbortSignal): Promise<void> {
    signal.addEventListener('abort', () => this.queue.shutDown(), { once: true })
    await runWorkers(this.queue, WORKERS, (key) => this.sync(key), {
      onError: (key, err) => this.ctx.logger.warn({ key, err: errorMessage(err) }, 'taint eviction failed; requeued'),
    })
  }

  private async sync(key: string): Promise<void> {
    if (key.startsWith(NODE_PREFIX)) this.syncNode(key.slice(NODE_PREFIX.length))
    else await this.syncPod(key.slice(POD_PREFIX.length))
  }

  /** Notes when taints without timeAdded appeared, then looks at every pod on the node. */
  private syncNode(name: string): void {
    const node = this.nodes.indexer.getByKey(name)
    const taints = node === undefined ? [] : noExecuteTaints(nodeTaints(node)).filter((t) => t.timeAdded === undefined)
    if (taints.length === 0) {
      this.firstSeen.delete(name)
    } else {
      const before = this.firstSeen.get(name) ?? new Map<string, number>()
      const now = this.clock.now()
      this.firstSeen.set(name, new Map(taints.map((t) => [taintId(t), before.get(taintId(t)) ?? now])))
    }
    for (const pod of podsOnNode(this.pods, name)) this.queue.add(POD_PREFIX + metaNamespaceKey(pod))
  }

  private async syncPod(key: string): Promise<void> {
    const pod = this.pods.indexer.getByKey(key)
    if (pod === undefined) return this.cancel(key)
    // Already on its way out: nothing more to do, and no cancellation to report.
    if (isPodTerminating(pod)) {
      this.scheduled.delete(key)
      return
    }
    const nodeName = podNodeName(pod)
    const node = nodeName === '' ? undefined : this.nodes.indexer.getByKey(nodeName)
    const taints = node === undefined ? [] : noExecuteTaints(nodeTaints(node))
    if (taints.length === 0) return this.cancel(key)
    const now = this.clock.now()
    const decision = evictionDecision(taints, parseTolerations(pod), (t) => this.toleratedSince(nodeName, t, pod, now), now)
    switch (decision.kind) {
      case 'keep':
        return this.cancel(key)
      case 'at':
        this.scheduled.set(key, decision.at)
        this.queue.addAfter(POD_PREFIX + key, decision.at - now)
        return
      case 'evict':
        await this.evict(pod, key)
    }
  }

  /**
   * When the pod started tolerating `taint`: when the taint was added (its timeAdded,
   * or when this controller first saw it) or when the pod was bound, whichever is later.
   */
  private toleratedSince(nodeName: string, taint: Taint, pod: KubeObject, now: number): number {
    let since = parseTime(taint.timeAdded)
    if (since === undefined) {
      let seen = this.firstSeen.get(nodeName)
      if (seen === undefined) this.firstSeen.set(nodeName, (seen = new Map()))
      since = seen.get(taintId(taint))
      if (since === undefined) seen.set(taintId(taint), (since = now))
    }
    const scheduled = podCondition(pod, 'PodScheduled')
    const bound = scheduled?.status === 'True' ? parseTime(scheduled.lastTransitionTime) : undefined
    return bound !== undefined && bound > since ? bound : since
  }

  private cancel(key: string): void {
    if (!this.scheduled.delete(key)) return
    const { namespace, name } = splitMetaNamespaceKey(key)
    this.recorder.event({ apiVersion: 'v1', kind: 'Pod', metadata: { namespace, name } }, 'Normal', 'TaintManagerEviction', `Cancelling deletion of Pod ${key}`)
  }

  /** Marks the pod as a disruption target, then deletes it (upstream addConditionAndDeletePod). */
  private async evict(pod: KubeObject, key: string): Promise<void> {
    this.scheduled.delete(key)
    const ns = pod.metadata?.namespace
    const name = pod.metadata?.name ?? ''
    this.ctx.logger.info({ pod: key, controller: this.name }, 'deleting pod')
    this.recorder.event(podRef(pod), 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${key}`)
    const pods = this.ctx.writer.resource(PODS, ns)
    const status = podStatusWithDisruptionTarget(pod, this.clock.now())
    try {
      if (status !== undefined) await pods.updateStatus({ ...pod, status })
      await pods.delete(name, { preconditions: { uid: pod.metadata?.uid } })
    } catch (err) {
      if (isNotFound(err)) return
      throw err
    }
  }
}
