// The scheduling queue (kube-scheduler's PriorityQueue): where pods wait for a
// scheduling attempt. Three places, as upstream:
//   activeQ        — ready now; a heap by priority (higher first), then by the time the
//                    pod was (re-)queued (older first);
//   backoffQ       — failed recently; each waits 1 s, 2 s, 4 s … up to 10 s by its
//                    attempts before it goes back to activeQ;
//   unschedulable  — fitted nowhere; waits for a cluster event that could help it
//                    (node added, resources freed …, see hints.ts) or for 5 minutes.
// Pods with scheduling gates wait apart (gated) until an update removes the gates.
//
// While a pod is being scheduled ("in flight") the queue remembers which events
// happened, so a pod that fails after an event that might have helped it goes to
// backoffQ rather than unschedulable (upstream's moveRequestCycle): otherwise the
// event would be lost and the pod would wait for the next one.
import { type Clock, realClock, type Timer } from '../../client/clock.js'
import type { KubeObject } from '../../client/types.js'
import { PodInfo } from '../framework/node-info.js'
import { assignedPodSchedulingPropertiesChange, type ClusterEvent, isGated, isPodUpdated, NODE_UPDATE_EVENTS, nodeSchedulingPropertiesChange } from './events.js'
import { KeyedHeap } from './heap.js'
import { DEFAULT_QUEUEING_HINTS, HintTable, type QueueingHints } from './hints.js'

/** A pod as the queue holds it (upstream's QueuedPodInfo). Times are the queue clock's milliseconds. */
export interface QueuedPodInfo {
  readonly podInfo: PodInfo
  /** When the pod was last added to the queue: orders activeQ ties and starts its back-off. */
  readonly timestamp: number
  /** When the pod was popped for the first time; undefined until then. */
  readonly initialAttemptTimestamp: number | undefined
  /** Scheduling attempts so far (incremented by pop). */
  readonly attempts: number
  /** The plugins that rejected the pod in its last attempt; empty after an error. */
  readonly unschedulablePlugins: ReadonlySet<string>
  /** Kept out of activeQ by spec.schedulingGates. */
  readonly gated: boolean
}

export type QueueName = 'active' | 'backoff' | 'unschedulable' | 'gated'

/** The `scheduler_pending_pods{queue}` values. */
export type PendingCounts = { active: number; backoff: number; unschedulable: number; gated: number }

export interface SchedulingQueueOptions {
  clock?: Clock
  /** Back-off after the first failed attempt, doubled per attempt (KubeSchedulerConfiguration's default: 1). */
  podInitialBackoffSeconds?: number
  /** The longest back-off (default: 10). */
  podMaxBackoffSeconds?: number
  /** How long a pod waits in unschedulablePods when no event moves it (default: 300). */
  podMaxInUnschedulablePodsSeconds?: number
  /** Which events may help which plugin's rejections; false moves every pod on every event. */
  queueingHints?: QueueingHints | false
  /** activeQ's order (the QueueSort plugin); default: priority, then timestamp. */
  less?: (a: QueuedPodInfo, b: QueuedPodInfo) => boolean
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

interface Item {
  qpi: Mutable<QueuedPodInfo>
  /** Arrival order: breaks timestamp ties so equal pods come out first in, first out. */
  seq: number
  /** When the back-off ends (set when the item enters backoffQ). */
  expiry: number
}

/** What the queue learns about a pod while it is being scheduled. */
interface InFlight {
  /** The pod as popped. */
  base: KubeObject
  /** The newest version seen while in flight, if any. */
  latest: KubeObject | undefined
  /** Some update changed more than the status. */
  updated: boolean
  deleted: boolean
}

interface Waiter {
  resolve: (qpi: QueuedPodInfo | undefined) => void
  signal: AbortSignal | undefined
  onAbort: () => void
}

/** Upstream's PrioritySort: higher priority first, then older timestamp. */
export function prioritySort(a: QueuedPodInfo, b: QueuedPodInfo): boolean {
  if (a.podInfo.priority !== b.podInfo.priority) return a.podInfo.priority > b.podInfo.priority
  return a.timestamp < b.timestamp
}

/** Back-off before attempt `attempts + 1`: initial × 2^(attempts-1), capped at max (upstream's calculateBackoffDuration). */
export function backoffDuration(attempts: number, initialMs: number, maxMs: number): number {
  let d = initialMs
  for (let i = 1; i < attempts; i++) {
    if (d > maxMs - d) return maxMs
    d += d
  }
  return Math.min(d, maxMs)
}

function keyOf(pod: KubeObject): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`
}

export class SchedulingQueue {
  private readonly clock: Clock
  private readonly initialBackoffMs: number
  private readonly maxBackoffMs: number
  private readonly maxUnschedulableMs: number
  private readonly hints: HintTable | undefined
  private readonly activeLess: (a: Item, b: Item) => boolean
  private readonly activeQ: KeyedHeap<Item>
  private readonly backoffQ: KeyedHeap<Item>
  /** In insertion order, which is timestamp order: the leftover flush reads from the front. */
  private readonly unschedulable = new Map<string, Item>()
  /** unschedulable's keys by rejecting plugin, so an event visits only the pods it may help. */
  private readonly byPlugin = new Map<string, Set<string>>()
  /** unschedulable's keys rejected by no named plugin: every event may help them. */
  private readonly byNoPlugin = new Set<string>()
  private readonly gated = new Map<string, Item>()
  private readonly inFlight = new Map<string, InFlight>()
  /** The scheduling cycle at which each event last happened. */
  private readonly eventCycle = new Map<string, number>()
  private readonly waiters: Waiter[] = []
  private cycle = 0
  private seq = 0
  private closed = false
  private backoffTimer: { timer: Timer; at: number } | undefined
  private leftoverTimer: Timer | undefined

  constructor(opts: SchedulingQueueOptions = {}) {
    this.clock = opts.clock ?? realClock
    this.initialBackoffMs = (opts.podInitialBackoffSeconds ?? 1) * 1000
    this.maxBackoffMs = (opts.podMaxBackoffSeconds ?? 10) * 1000
    this.maxUnschedulableMs = (opts.podMaxInUnschedulablePodsSeconds ?? 300) * 1000
    this.hints = opts.queueingHints === false ? undefined : new HintTable(opts.queueingHints ?? DEFAULT_QUEUEING_HINTS)
    const less = opts.less ?? prioritySort
    this.activeLess = (a, b) => less(a.qpi, b.qpi) || (!less(b.qpi, a.qpi) && a.seq < b.seq)
    this.activeQ = new KeyedHeap<Item>((i) => i.qpi.podInfo.key, this.activeLess)
    this.backoffQ = new KeyedHeap<Item>(
      (i) => i.qpi.podInfo.key,
      (a, b) => a.expiry < b.expiry || (a.expiry === b.expiry && a.seq < b.seq),
    )
  }

  /** A new pending pod (or a newer version of a known one). */
  add(pod: KubeObject): void {
    const key = keyOf(pod)
    const known = this.itemOf(key)
    if (known !== undefined) return this.update(known.qpi.podInfo.pod, pod)
    const flight = this.inFlight.get(key)
    if (flight !== undefined) return this.noteInFlight(flight, pod)
    const gated = isGated(pod)
    const item = this.newItem({
      podInfo: new PodInfo(pod),
      timestamp: this.clock.now(),
      initialAttemptTimestamp: undefined,
      attempts: 0,
      unschedulablePlugins: new Set(),
      gated,
    })
    if (gated) {
      this.gated.set(key, item)
      return
    }
    this.activeQ.set(item)
    this.wake()
  }

  /**
   * A pending pod changed. Where it waits for an event, a change beyond its status
   * moves it on (its own change may make it fit); removing its last scheduling gate
   * releases it. Unknown pods are added, as upstream.
   */
  update(oldPod: KubeObject, newPod: KubeObject): void {
    const key = keyOf(newPod)
    const gated = this.gated.get(key)
    if (gated !== undefined) {
      gated.qpi.podInfo = new PodInfo(newPod)
      if (isGated(newPod)) return
      this.gated.delete(key)
      gated.qpi.gated = false
      this.requeue(gated)
      this.wake()
      return
    }
    const active = this.activeQ.get(key)
    if (active !== undefined) {
      active.qpi.podInfo = new PodInfo(newPod)
      this.activeQ.set(active) // the priority may have changed
      return
    }
    const backoff = this.backoffQ.get(key)
    if (backoff !== undefined) {
      backoff.qpi.podInfo = new PodInfo(newPod)
      return
    }
    const waiting = this.unschedulable.get(key)
    if (waiting !== undefined) {
      waiting.qpi.podInfo = new PodInfo(newPod)
      if (!isPodUpdated(oldPod, newPod)) return
      this.removeUnschedulable(key)
      this.requeue(waiting)
      this.wake()
      return
    }
    const flight = this.inFlight.get(key)
    if (flight !== undefined) return this.noteInFlight(flight, newPod)
    this.add(newPod)
  }

  /** The pod was deleted or bound: it leaves the queue, and an attempt in flight is not requeued. */
  delete(pod: KubeObject | string): void {
    const key = typeof pod === 'string' ? pod : keyOf(pod)
    this.gated.delete(key)
    this.activeQ.delete(key)
    this.backoffQ.delete(key)
    this.removeUnschedulable(key)
    const flight = this.inFlight.get(key)
    if (flight !== undefined) flight.deleted = true
  }

  /**
   * The next pod to schedule, waiting while activeQ is empty; undefined once the queue
   * is closed or `signal` aborts. The pod is in flight until `done` or
   * `addUnschedulableIfNotPresent`.
   */
  pop(signal?: AbortSignal): Promise<QueuedPodInfo | undefined> {
    if (this.closed || signal?.aborted === true) return Promise.resolve(undefined)
    if (this.activeQ.size > 0) return Promise.resolve(this.take())
    return new Promise((resolve) => {
      const waiter: Waiter = {
        resolve,
        signal,
        onAbort: () => {
          const i = this.waiters.indexOf(waiter)
          if (i >= 0) this.waiters.splice(i, 1)
          resolve(undefined)
        },
      }
      signal?.addEventListener('abort', waiter.onAbort, { once: true })
      this.waiters.push(waiter)
    })
  }

  /** The scheduling cycle of the last pop: pass it back to addUnschedulableIfNotPresent. */
  schedulingCycle(): number {
    return this.cycle
  }

  /**
   * A popped pod failed. It goes to backoffQ when `forceBackoff` (an error, a failed
   * binding), when no plugin is named, when it changed while in flight, or when an
   * event that may help it happened since `podSchedulingCycle`; otherwise to
   * unschedulablePods. Returns where it went: undefined when it was already queued
   * again or was deleted meanwhile.
   */
  addUnschedulableIfNotPresent(qpi: QueuedPodInfo, podSchedulingCycle: number, forceBackoff = false): QueueName | undefined {
    const key = qpi.podInfo.key
    const flight = this.inFlight.get(key)
    this.inFlight.delete(key)
    if (this.itemOf(key) !== undefined || flight?.deleted === true) return undefined
    const plugins = new Set(qpi.unschedulablePlugins)
    const item = this.newItem({
      podInfo: flight?.latest === undefined ? qpi.podInfo : new PodInfo(flight.latest),
      timestamp: this.clock.now(),
      initialAttemptTimestamp: qpi.initialAttemptTimestamp,
      attempts: qpi.attempts,
      unschedulablePlugins: plugins,
      gated: false,
    })
    if (forceBackoff || plugins.size === 0 || flight?.updated === true || this.helpedSince(podSchedulingCycle, plugins)) {
      const where = this.requeue(item)
      this.wake()
      return where
    }
    this.addUnschedulable(item)
    return 'unschedulable'
  }

  /** The pod's attempt is over (scheduled, or dropped): it is no longer in flight. */
  done(key: string): void {
    this.inFlight.delete(key)
  }

  /**
   * A cluster event: moves the unschedulable pods it may help to activeQ (or backoffQ
   * while their back-off lasts). For 'NodeUpdate' and 'AssignedPodUpdate', pass the
   * old and new object so updates that cannot help anyone (heartbeats, status
   * updates) move nothing. Returns how many pods moved.
   */
  moveAllToActiveOrBackoffQueue(event: ClusterEvent | (string & {}), oldObj?: unknown, newObj?: unknown): number {
    const both = oldObj !== undefined && newObj !== undefined
    let events: readonly string[] = [event]
    if (event === 'NodeUpdate') events = both ? nodeSchedulingPropertiesChange(oldObj, newObj) : NODE_UPDATE_EVENTS
    else if (event === 'AssignedPodUpdate' && both) events = assignedPodSchedulingPropertiesChange(oldObj, newObj)
    for (const e of events) this.eventCycle.set(e, this.cycle)
    const keys = new Set<string>()
    for (const e of events) this.collectHelped(e, keys)
    return this.moveUnschedulable(keys)
  }

  /** Moves the pods whose back-off has ended to activeQ (runs on a timer too). */
  flushBackoffQCompleted(): void {
    const now = this.clock.now()
    let moved = false
    for (let top = this.backoffQ.peek(); top !== undefined && top.expiry <= now; top = this.backoffQ.peek()) {
      this.backoffQ.pop()
      this.activeQ.set(top)
      moved = true
    }
    if (moved) this.wake()
    this.armBackoff()
  }

  /** Moves the pods that waited podMaxInUnschedulablePods in unschedulablePods (runs on a timer too). */
  flushUnschedulablePodsLeftover(): void {
    const now = this.clock.now()
    const due = new Set<string>()
    for (const [key, item] of this.unschedulable) {
      if (now - item.qpi.timestamp < this.maxUnschedulableMs) break
      due.add(key)
    }
    this.moveUnschedulable(due)
    this.armLeftover()
  }

  /** Wakes every pop with undefined and stops the timers; later pops resolve undefined at once. */
  close(): void {
    this.closed = true
    this.backoffTimer?.timer.cancel()
    this.backoffTimer = undefined
    this.leftoverTimer?.cancel()
    this.leftoverTimer = undefined
    for (const w of this.waiters.splice(0)) {
      w.signal?.removeEventListener('abort', w.onAbort)
      w.resolve(undefined)
    }
  }

  pendingCounts(): PendingCounts {
    return { active: this.activeQ.size, backoff: this.backoffQ.size, unschedulable: this.unschedulable.size, gated: this.gated.size }
  }

  /** Where the pod waits, 'inFlight' while it is being scheduled, undefined when unknown. */
  where(key: string): QueueName | 'inFlight' | undefined {
    if (this.activeQ.has(key)) return 'active'
    if (this.backoffQ.has(key)) return 'backoff'
    if (this.unschedulable.has(key)) return 'unschedulable'
    if (this.gated.has(key)) return 'gated'
    if (this.inFlight.has(key)) return 'inFlight'
    return undefined
  }

  /** The queued pod by key (a live view: do not keep it). */
  get(key: string): QueuedPodInfo | undefined {
    return this.itemOf(key)?.qpi
  }

  /** For debugging and tests: the keys in each place (activeQ and backoffQ in heap order). */
  dump(): Record<QueueName | 'inFlight', string[]> {
    const keys = (items: Iterable<Item>) => [...items].map((i) => i.qpi.podInfo.key)
    return {
      active: keys([...this.activeQ.values()].sort((a, b) => (this.activeLess(a, b) ? -1 : 1))),
      backoff: keys([...this.backoffQ.values()].sort((a, b) => a.expiry - b.expiry || a.seq - b.seq)),
      unschedulable: [...this.unschedulable.keys()],
      gated: [...this.gated.keys()],
      inFlight: [...this.inFlight.keys()],
    }
  }

  private newItem(qpi: Mutable<QueuedPodInfo>): Item {
    return { qpi, seq: ++this.seq, expiry: 0 }
  }

  private itemOf(key: string): Item | undefined {
    return this.activeQ.get(key) ?? this.backoffQ.get(key) ?? this.unschedulable.get(key) ?? this.gated.get(key)
  }

  private take(): QueuedPodInfo {
    const item = this.activeQ.pop()!
    const q = item.qpi
    q.attempts++
    q.initialAttemptTimestamp ??= this.clock.now()
    q.unschedulablePlugins = new Set()
    this.cycle++
    this.inFlight.set(q.podInfo.key, { base: q.podInfo.pod, latest: undefined, updated: false, deleted: false })
    return q
  }

  private wake(): void {
    while (this.waiters.length > 0 && this.activeQ.size > 0 && !this.closed) {
      const w = this.waiters.shift()!
      w.signal?.removeEventListener('abort', w.onAbort)
      w.resolve(this.take())
    }
  }

  private noteInFlight(flight: InFlight, pod: KubeObject): void {
    flight.updated ||= isPodUpdated(flight.latest ?? flight.base, pod)
    flight.latest = pod
  }

  private backingOff(item: Item, now: number): boolean {
    return item.qpi.attempts > 0 && this.backoffEnd(item) > now
  }

  private backoffEnd(item: Item): number {
    return item.qpi.timestamp + backoffDuration(item.qpi.attempts, this.initialBackoffMs, this.maxBackoffMs)
  }

  /** To backoffQ while the pod's back-off lasts, else to activeQ (the caller wakes pops). */
  private requeue(item: Item): 'active' | 'backoff' {
    const now = this.clock.now()
    if (this.backingOff(item, now)) {
      item.expiry = this.backoffEnd(item)
      this.backoffQ.set(item)
      this.armBackoff()
      return 'backoff'
    }
    this.activeQ.set(item)
    return 'active'
  }

  private addUnschedulable(item: Item): void {
    const key = item.qpi.podInfo.key
    this.unschedulable.set(key, item)
    if (item.qpi.unschedulablePlugins.size === 0) this.byNoPlugin.add(key)
    for (const p of item.qpi.unschedulablePlugins) {
      let keys = this.byPlugin.get(p)
      if (keys === undefined) this.byPlugin.set(p, (keys = new Set()))
      keys.add(key)
    }
    this.armLeftover()
  }

  private removeUnschedulable(key: string): void {
    const item = this.unschedulable.get(key)
    if (item === undefined) return
    this.unschedulable.delete(key)
    this.byNoPlugin.delete(key)
    for (const p of item.qpi.unschedulablePlugins) {
      const keys = this.byPlugin.get(p)
      keys?.delete(key)
      if (keys?.size === 0) this.byPlugin.delete(p)
    }
  }

  /** Adds to `into` the unschedulable pods `event` may help. */
  private collectHelped(event: string, into: Set<string>): void {
    if (this.hints === undefined) {
      for (const k of this.unschedulable.keys()) into.add(k)
      return
    }
    for (const k of this.byNoPlugin) into.add(k)
    for (const [plugin, keys] of this.byPlugin) if (this.hints.mayHelp(plugin, event)) for (const k of keys) into.add(k)
  }

  private moveUnschedulable(keys: Iterable<string>): number {
    let moved = 0
    for (const key of keys) {
      const item = this.unschedulable.get(key)
      if (item === undefined) continue
      this.removeUnschedulable(key)
      this.requeue(item)
      moved++
    }
    if (moved > 0) this.wake()
    return moved
  }

  /** Whether an event that may help `plugins` happened at or after `cycle`. */
  private helpedSince(cycle: number, plugins: ReadonlySet<string>): boolean {
    for (const [event, at] of this.eventCycle) {
      if (at >= cycle && (this.hints === undefined || this.hints.mayHelpAny(plugins, event))) return true
    }
    return false
  }

  /** Keeps one timer set for the earliest back-off end. */
  private armBackoff(): void {
    if (this.closed) return
    const top = this.backoffQ.peek()
    if (top === undefined) {
      this.backoffTimer?.timer.cancel()
      this.backoffTimer = undefined
      return
    }
    // A timer due no later than the new head fires and re-arms for it.
    if (this.backoffTimer !== undefined && this.backoffTimer.at <= top.expiry) return
    this.backoffTimer?.timer.cancel()
    const at = top.expiry
    const timer = this.clock.setTimeout(() => {
      this.backoffTimer = undefined
      this.flushBackoffQCompleted()
    }, at - this.clock.now())
    this.backoffTimer = { timer, at }
  }

  /** Keeps one timer set for when the oldest unschedulable pod has waited long enough. */
  private armLeftover(): void {
    if (this.closed || this.leftoverTimer !== undefined) return
    const first = this.unschedulable.values().next()
    if (first.done === true) return
    const at = first.value.qpi.timestamp + this.maxUnschedulableMs
    this.leftoverTimer = this.clock.setTimeout(() => {
      this.leftoverTimer = undefined
      this.flushUnschedulablePodsLeftover()
    }, at - this.clock.now())
  }
}
