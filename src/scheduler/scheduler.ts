// The scheduler's control loop (kube-scheduler's scheduleOne, one leadership term
// long): informers feed the cache (bound pods, nodes) and the queue (pods waiting
// for a node); the loop pops the next pod, runs the profile's filters and scores on
// a snapshot, assumes the pod on the chosen node so the next decision already counts
// it, runs the Reserve plugins (VolumeBinding assumes the volumes it chose), and binds
// in the background: PreBind plugins first (VolumeBinding writes claimRefs and
// selected-node annotations and waits for the claims to be bound), then the Binding.
// A pod that fits nowhere gets PodScheduled=False with upstream's "0/N nodes are
// available: …" message, a FailedScheduling Event, and waits in the queue until the
// cluster changes; one whose binding cycle fails is unreserved, forgotten, and retried
// with back-off.
//
// Reads go through `client`; every write (bindings, volume pre-bindings and
// selected-node annotations, pod conditions, events) through `writer`, the leader's
// fenced client, so a scheduler that lost its lease cannot land a write even if it
// has not noticed yet.
import { metaTime } from '../api/time.js'
import { setImmediate as yieldLoop } from 'node:timers/promises'
import { setMaxListeners } from 'node:events'
import type { Registry } from 'prom-client'
import { findResource } from '../api/resources.js'
import {
  type Clock,
  DeletedFinalStateUnknown,
  errorMessage,
  EventRecorder,
  type Logger,
  realClock,
  type RestClient,
  SharedInformerFactory,
  type SharedIndexInformer,
  silentLogger,
  waitForCacheSync,
} from '../client/index.js'
import { ApiError, isFencedError } from '../client/errors.js'
import type { KubeObject } from '../client/types.js'
import { SchedulerCache, Snapshot } from './cache/index.js'
import { schedulePod } from './framework/algorithm.js'
import { fitErrorMessage, newDiagnosis } from './framework/fit-error.js'
import { PodInfo } from './framework/node-info.js'
import { defaultProfile } from './framework/profile.js'
import { type BindingHandle, type CycleState, isRejected, POD_DELETED, type Profile, type Status, statusMessage } from './framework/types.js'
import { type SchedulerMetrics, schedulerMetrics } from './metrics.js'
import { InformerVolumeCache } from './plugins/helpers/volume-assume-cache.js'
import { SchedulingQueue, type QueuedPodInfo } from './queue/index.js'

const PODS = findResource('', 'v1', 'pods')!
const NODES = findResource('', 'v1', 'nodes')!

export interface SchedulerOptions {
  /** Reads: informers on pods, nodes, claims, volumes and storage classes. */
  client: RestClient
  /** Writes: bindings, volume bindings, pod conditions and events (the leader's fenced client). */
  writer: RestClient
  profiles?: Profile[]
  /** Events' source.host: the master's name. */
  host?: string
  logger?: Logger
  metrics?: Registry
  clock?: Clock
  rng?: () => number
  /** Binding writes in flight at once (pods waiting for their volumes not counted); the loop waits for a free slot beyond it. */
  bindConcurrency?: number
}

type Json = Record<string, unknown>

function spec(pod: KubeObject): Json {
  return (pod.spec ?? {}) as Json
}

function nodeNameOf(pod: KubeObject): string {
  const n = spec(pod).nodeName
  return typeof n === 'string' ? n : ''
}

function isTerminal(pod: KubeObject): boolean {
  const phase = ((pod.status ?? {}) as Json).phase
  return phase === 'Succeeded' || phase === 'Failed'
}

function podKey(pod: KubeObject): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`
}

export class Scheduler {
  private readonly profiles: Map<string, Profile>
  private readonly logger: Logger
  private readonly clock: Clock
  private readonly rng: () => number
  private readonly metrics: SchedulerMetrics | undefined
  private readonly bindConcurrency: number
  private readonly cache = new SchedulerCache()
  private readonly snapshot = new Snapshot()
  private readonly queue: SchedulingQueue
  private readonly events: EventRecorder
  private readonly inflight = new Set<Promise<void>>()
  /** Bindings between Reserve and the Binding write, by pod key: aborted when the pod is deleted or the scheduler stops. */
  private readonly binding = new Map<string, AbortController>()
  /** Bindings in PreBind: waiting for volumes may take minutes, so they do not count against bindConcurrency. */
  private preBinding = 0
  private pods: SharedIndexInformer | undefined
  private volumes: InformerVolumeCache | undefined
  /** Reserve's handle (the term's signal); PreBind gets one per pod. */
  private reserveHandle: BindingHandle | undefined

  constructor(private readonly opts: SchedulerOptions) {
    const profiles = opts.profiles ?? [defaultProfile()]
    this.profiles = new Map(profiles.map((p) => [p.schedulerName, p]))
    this.logger = opts.logger ?? silentLogger
    this.clock = opts.clock ?? realClock
    this.rng = opts.rng ?? Math.random
    this.metrics = opts.metrics === undefined ? undefined : schedulerMetrics(opts.metrics)
    this.bindConcurrency = opts.bindConcurrency ?? 128
    this.queue = new SchedulingQueue({ clock: this.clock })
    this.events = new EventRecorder({ client: opts.writer, component: 'default-scheduler', ...(opts.host === undefined ? {} : { host: opts.host }), logger: this.logger })
  }

  /** Runs until `signal` aborts: informers, then the scheduling loop. Returns once everything stopped. */
  async run(signal: AbortSignal): Promise<void> {
    // Every informer's cache-sync wait listens on the term's signal.
    setMaxListeners(0, signal)
    // Consistent first lists (see the controller-manager): a new leader must not place
    // pods against a node cache that misses the previous leader's last bindings.
    const factory = new SharedInformerFactory(this.opts.client, { informerOptions: { initialResourceVersion: '', pageSize: 0 } })
    const pods = factory.forResource(PODS)
    const nodes = factory.forResource(NODES)
    this.pods = pods
    // Claims, volumes and classes for VolumeBinding; their changes may let waiting pods fit.
    const volumes = new InformerVolumeCache(factory, { onEvent: (event, o, n) => this.queue.moveAllToActiveOrBackoffQueue(event, o, n) })
    this.volumes = volumes
    this.snapshot.volumes = volumes
    this.reserveHandle = this.handle(signal)
    pods.addEventHandler({
      onAdd: (p) => this.podAdded(p),
      onUpdate: (o, p) => this.podUpdated(o, p),
      onDelete: (p) => this.podDeleted(p instanceof DeletedFinalStateUnknown ? p.obj : p),
    })
    nodes.addEventHandler({
      onAdd: (n) => {
        this.cache.addNode(n)
        this.queue.moveAllToActiveOrBackoffQueue('NodeAdd', undefined, n)
      },
      onUpdate: (o, n) => {
        this.cache.updateNode(o, n)
        this.queue.moveAllToActiveOrBackoffQueue('NodeUpdate', o, n)
      },
      onDelete: (n) => {
        const node = n instanceof DeletedFinalStateUnknown ? n.obj : n
        this.cache.removeNode(node)
        // Pods that anti-affinity or spreading kept off that node's domain may fit now.
        this.queue.moveAllToActiveOrBackoffQueue('NodeDelete', node)
      },
    })
    this.metrics?.setPendingSource(() => this.queue.pendingCounts())
    factory.start()
    try {
      if (!(await waitForCacheSync([pods, nodes, ...volumes.informers], signal))) return
      this.logger.info({ nodes: nodes.indexer.list().length, pods: pods.indexer.list().length }, 'scheduler caches synced; scheduling')
      await this.loop(signal)
    } finally {
      for (const b of this.binding.values()) b.abort()
      this.queue.close()
      factory.shutdown()
      this.metrics?.setPendingSource(undefined)
      await Promise.allSettled([...this.inflight])
      await this.events.flush()
    }
  }

  private responsibleFor(pod: KubeObject): boolean {
    const name = spec(pod).schedulerName
    return this.profiles.has(typeof name === 'string' && name !== '' ? name : 'default-scheduler')
  }

  private podAdded(pod: KubeObject): void {
    if (nodeNameOf(pod) !== '') {
      if (!isTerminal(pod)) {
        this.cache.addPod(pod)
        this.queue.moveAllToActiveOrBackoffQueue('AssignedPodAdd', undefined, pod)
      }
    } else if (this.responsibleFor(pod) && pod.metadata?.deletionTimestamp === undefined) {
      this.queue.add(pod)
    }
  }

  private podUpdated(old: KubeObject, pod: KubeObject): void {
    const wasBound = nodeNameOf(old) !== ''
    if (nodeNameOf(pod) !== '') {
      if (!wasBound) this.queue.delete(old)
      if (isTerminal(pod)) {
        // A finished pod frees what it requested.
        if (this.cache.removePod(pod)) this.queue.moveAllToActiveOrBackoffQueue('AssignedPodDelete', pod)
      } else if (wasBound) {
        this.cache.updatePod(old, pod)
        this.queue.moveAllToActiveOrBackoffQueue('AssignedPodUpdate', old, pod)
      } else {
        this.cache.addPod(pod)
        this.queue.moveAllToActiveOrBackoffQueue('AssignedPodAdd', undefined, pod)
      }
      return
    }
    if (!this.responsibleFor(pod)) return
    if (pod.metadata?.deletionTimestamp !== undefined) this.queue.delete(pod)
    else this.queue.update(old, pod)
  }

  private podDeleted(pod: KubeObject): void {
    if (nodeNameOf(pod) !== '') {
      this.cache.removePod(pod)
      this.queue.moveAllToActiveOrBackoffQueue('AssignedPodDelete', pod)
    } else {
      this.queue.delete(pod)
      // A binding waiting for its volumes stops waiting (upstream: "pod does not exist any more").
      this.binding.get(podKey(pod))?.abort(POD_DELETED)
    }
  }

  private handle(signal: AbortSignal): BindingHandle {
    return { writer: this.opts.writer, volumes: this.volumes, node: (name) => this.snapshot.get(name)?.node, clock: this.clock, signal }
  }

  private async loop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const qpi = await this.queue.pop(signal)
      if (qpi === undefined) return
      await this.scheduleOne(qpi, signal)
      // Raft heartbeats share this event loop: let them through between pods.
      await yieldLoop()
      while (this.inflight.size - this.preBinding >= this.bindConcurrency && !signal.aborted) await Promise.race([...this.inflight])
    }
  }

  /** The pod as the informer has it now: gone, bound or being deleted means there is nothing to do. */
  private stillPending(qpi: QueuedPodInfo): KubeObject | undefined {
    const current = this.pods?.indexer.getByKey(qpi.podInfo.key)
    if (current === undefined || nodeNameOf(current) !== '' || current.metadata?.deletionTimestamp !== undefined) return undefined
    if (this.cache.isAssumed(qpi.podInfo.key)) return undefined
    return current
  }

  private async scheduleOne(qpi: QueuedPodInfo, signal: AbortSignal): Promise<void> {
    const pod = this.stillPending(qpi)
    if (pod === undefined) {
      this.queue.done(qpi.podInfo.key)
      return
    }
    const profileName = typeof spec(pod).schedulerName === 'string' && spec(pod).schedulerName !== '' ? String(spec(pod).schedulerName) : 'default-scheduler'
    const profile = this.profiles.get(profileName)!
    const started = this.clock.now()
    const cycle = this.queue.schedulingCycle()
    this.cache.updateSnapshot(this.snapshot)
    const podInfo = qpi.podInfo.pod === pod ? qpi.podInfo : new PodInfo(pod)
    let result
    try {
      result = schedulePod(profile, this.snapshot, podInfo, { rng: this.rng })
    } catch (err) {
      this.logger.error({ err: errorMessage(err), pod: podInfo.key }, 'scheduling failed')
      this.observe('error', profileName, started)
      this.queue.addUnschedulableIfNotPresent({ ...qpi, unschedulablePlugins: new Set() }, cycle, true)
      return
    }
    if (!result.ok) {
      this.observe('unschedulable', profileName, started)
      this.queue.addUnschedulableIfNotPresent({ ...qpi, unschedulablePlugins: new Set(result.failedPlugins) }, cycle)
      this.reportUnschedulable(pod, result.message, 'Unschedulable')
      return
    }
    const nodeName = result.nodeName
    const state = result.state
    this.cache.assumePod(podInfo, nodeName)
    const reserved = this.runReserve(profile, state, podInfo, nodeName)
    if (reserved !== undefined) {
      this.runUnreserve(profile, state, podInfo, nodeName, this.reserveHandle!)
      if (this.cache.forgetPod(podInfo.key)) this.queue.moveAllToActiveOrBackoffQueue('AssignedPodDelete', pod)
      const rejected = isRejected(reserved)
      this.observe(rejected ? 'unschedulable' : 'error', profileName, started)
      const plugins = new Set(rejected && reserved.plugin !== undefined ? [reserved.plugin] : [])
      this.queue.addUnschedulableIfNotPresent({ ...qpi, unschedulablePlugins: plugins }, cycle, !rejected)
      this.reportUnschedulable(pod, this.reserveMessage(reserved, nodeName), rejected ? 'Unschedulable' : 'SchedulerError')
      return
    }
    // The queue keeps the pod "in flight" until the binding settles, so an update or a
    // delete meanwhile is applied to it rather than queuing it a second time.
    const binding = this.bind(pod, podInfo, nodeName, qpi, cycle, profile, state, started, signal)
    this.inflight.add(binding)
    void binding.finally(() => this.inflight.delete(binding))
  }

  private async bind(
    pod: KubeObject,
    podInfo: PodInfo,
    nodeName: string,
    qpi: QueuedPodInfo,
    cycle: number,
    profile: Profile,
    state: CycleState,
    started: number,
    signal: AbortSignal,
  ): Promise<void> {
    const { namespace, name } = podInfo
    const profileName = profile.schedulerName
    const abort = new AbortController()
    this.binding.set(podInfo.key, abort)
    const handle = this.handle(abort.signal)
    try {
      let preBound: Status | undefined
      this.preBinding++
      try {
        preBound = await this.runPreBind(profile, state, podInfo, nodeName, handle)
      } finally {
        this.preBinding--
      }
      if (preBound !== undefined) {
        this.unbind(profile, state, podInfo, nodeName, handle, pod)
        this.observe('error', profileName, started)
        // The scheduler is stopping, or the pod is gone: nothing to retry or report.
        if (signal.aborted || abort.signal.aborted) return
        const rejected = isRejected(preBound)
        const plugins = new Set(rejected && preBound.plugin !== undefined ? [preBound.plugin] : [])
        this.queue.addUnschedulableIfNotPresent({ ...qpi, unschedulablePlugins: plugins }, cycle, !rejected)
        this.logger.info({ pod: podInfo.key, node: nodeName, err: statusMessage(preBound) }, 'PreBind failed')
        this.reportUnschedulable(pod, `running PreBind plugin "${preBound.plugin ?? ''}": ${statusMessage(preBound)}`, rejected ? 'Unschedulable' : 'SchedulerError')
        return
      }
      await this.opts.writer.request({
        method: 'POST',
        path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}/binding`,
        // No abort signal: a binding already sent completes or is refused by the fence;
        // the term's end does not need to cut it short.
        body: { apiVersion: 'v1', kind: 'Binding', metadata: { name, namespace, uid: podInfo.uid }, target: { apiVersion: 'v1', kind: 'Node', name: nodeName } },
      })
      this.cache.finishBinding(podInfo.key)
      this.observe('scheduled', profileName, started)
      this.events.event(pod, 'Normal', 'Scheduled', `Successfully assigned ${namespace}/${name} to ${nodeName}`)
    } catch (err) {
      this.unbind(profile, state, podInfo, nodeName, handle, pod)
      this.observe('error', profileName, started)
      const fenced = isFencedError(err)
      this.logger[fenced ? 'warn' : 'info']({ pod: podInfo.key, node: nodeName, err: errorMessage(err), fenced }, 'binding rejected')
      if (signal.aborted || fenced) return
      if (err instanceof ApiError && err.status.code === 409 && /already assigned|being deleted/.test(err.status.message ?? '')) return
      this.queue.addUnschedulableIfNotPresent({ ...qpi, unschedulablePlugins: new Set() }, cycle, true)
      this.events.event(pod, 'Warning', 'FailedScheduling', `Binding rejected: ${errorMessage(err)}`)
    } finally {
      this.binding.delete(podInfo.key)
      this.queue.done(podInfo.key)
    }
  }

  /** The binding cycle failed: Unreserve, and the assumed pod leaves its node (what it held may let others fit, as upstream). */
  private unbind(profile: Profile, state: CycleState, podInfo: PodInfo, nodeName: string, handle: BindingHandle, pod: KubeObject): void {
    this.runUnreserve(profile, state, podInfo, nodeName, handle)
    if (this.cache.forgetPod(podInfo.key)) this.queue.moveAllToActiveOrBackoffQueue('AssignedPodDelete', pod)
  }

  /** Reserve plugins in order; the first that does not succeed ends it (upstream's RunReservePluginsReserve). */
  private runReserve(profile: Profile, state: CycleState, pod: PodInfo, nodeName: string): Status | undefined {
    for (const pl of profile.reserve ?? []) {
      let st: Status | undefined
      try {
        st = pl.reserve(state, pod, nodeName, this.reserveHandle!)
      } catch (err) {
        st = { code: 'Error', reasons: [errorMessage(err)] }
      }
      if (st !== undefined && st.code !== 'Success') return { ...st, plugin: st.plugin ?? pl.name }
    }
    return undefined
  }

  /** Unreserve plugins in reverse order; each tolerates a Reserve that did not run. */
  private runUnreserve(profile: Profile, state: CycleState, pod: PodInfo, nodeName: string, handle: BindingHandle): void {
    const plugins = profile.reserve ?? []
    for (let i = plugins.length - 1; i >= 0; i--) {
      try {
        plugins[i].unreserve(state, pod, nodeName, handle)
      } catch (err) {
        this.logger.error({ pod: pod.key, plugin: plugins[i].name, err: errorMessage(err) }, 'unreserve failed')
      }
    }
  }

  /** PreBind plugins in order; the first that does not succeed fails the binding. */
  private async runPreBind(profile: Profile, state: CycleState, pod: PodInfo, nodeName: string, handle: BindingHandle): Promise<Status | undefined> {
    for (const pl of profile.preBind ?? []) {
      let st: Status | undefined
      try {
        st = await pl.preBind(state, pod, nodeName, handle)
      } catch (err) {
        st = { code: 'Error', reasons: [errorMessage(err)] }
      }
      if (st !== undefined && st.code !== 'Success') return { ...st, plugin: st.plugin ?? pl.name }
    }
    return undefined
  }

  /** Upstream's words for a Reserve failure: a rejection reads as a fit error on that one node. */
  private reserveMessage(st: Status, nodeName: string): string {
    if (!isRejected(st)) return `running Reserve plugin "${st.plugin ?? ''}": ${statusMessage(st)}`
    const d = newDiagnosis()
    d.nodeToStatus.set(nodeName, st)
    return fitErrorMessage(1, d)
  }

  private observe(result: 'scheduled' | 'unschedulable' | 'error', profile: string, started: number): void {
    if (this.metrics === undefined) return
    this.metrics.attempts.inc({ result, profile })
    this.metrics.attemptDuration.observe({ result, profile }, (this.clock.now() - started) / 1000)
  }

  /** PodScheduled=False with the reason and message, when they changed; and the Event. */
  private reportUnschedulable(pod: KubeObject, message: string, reason: string): void {
    this.events.event(pod, 'Warning', 'FailedScheduling', message)
    const conditions = ((pod.status ?? {}) as Json).conditions
    const current = Array.isArray(conditions) ? (conditions as Json[]).find((c) => c.type === 'PodScheduled') : undefined
    if (current !== undefined && current.status === 'False' && current.reason === reason && current.message === message) return
    const now = metaTime()
    const condition = { type: 'PodScheduled', status: 'False', reason, message, lastProbeTime: null, lastTransitionTime: current?.status === 'False' ? current.lastTransitionTime : now }
    const { namespace, name } = { namespace: pod.metadata?.namespace ?? '', name: pod.metadata?.name ?? '' }
    void this.opts.writer
      .resource(PODS, namespace)
      .patch(name, 'strategic', { status: { conditions: [condition] } }, { subresource: 'status' })
      .catch((err: unknown) => this.logger.info({ pod: podKey(pod), err: errorMessage(err) }, 'could not update the PodScheduled condition'))
  }
}
