// One pod's worker (the kubelet's pod worker): every change — a new version of the
// pod from the watch, a container exiting, a back-off or readiness timer, a start or
// stop finishing — asks for a sync, and syncs run one at a time, each converging
// from what is true now (level-triggered). A sync:
// - admitted pods: sets the sandbox up (the pod IP), starts what computePodActions
//   says is due, holding restarts back with the crash-loop back-off (the container
//   then waits as CrashLoopBackOff), and reports the status when it changed;
// - pods that finished (nothing will restart), ran past activeDeadlineSeconds
//   (Failed, DeadlineExceeded) or are being deleted: stops what still runs (the
//   deletion's grace period), takes the sandbox down, reports a terminal status, and,
//   when deleted, confirms the deletion (grace 0, with the pod's UID as
//   precondition) once the terminal phase is stored — as the kubelet does since 1.27;
// - pods refused by admission: reports Failed with the reason, runs nothing;
// - pods gone from the API (force-deleted): stops their containers and forgets them.
// Status writes carry the pod's resourceVersion and UID as preconditions; on a
// conflict the newer pod arrives through the watch and the sync runs again.
import { errorMessage, isConflict, isNotFound, type KubeObject, type Logger } from '../client/index.js'
import type { NodeApiClient } from '../client/node-grpc.js'
import type { AdmitResult } from './admission.js'
import type { ContainerView } from './container-statuses.js'
import { backoffKey, type CrashBackoff, goDuration } from './crash-backoff.js'
import type { KubeletEvents } from './events.js'
import { computePodActions, type StartAction } from './pod-actions.js'
import type { PodIpAllocator } from './pod-ip.js'
import { isTerminalPhase } from './pod-phase.js'
import { generatePodStatus, normalizeStatus, rejectedStatus, sameStatus } from './pod-status.js'
import { type ContainerReadiness, type ContainerRecord, type ContainerRuntime, ContainerStartError, type Json } from './runtime/types.js'

export interface PodWorkerContext {
  client: NodeApiClient
  runtime: ContainerRuntime
  readiness: ContainerReadiness
  backoff: CrashBackoff
  ipam: PodIpAllocator
  hostIP: string
  events: KubeletEvents
  log: Logger
  now(): Date
  /** The worker is finished with its pod: it is gone from the API and cleaned up. */
  done(uid: string): void
}

const DEFAULT_GRACE_SECONDS = 30
/** Retry of a sandbox that could not be set up (no pod IP left). */
const SANDBOX_RETRY_MS = 10_000
const API_RETRY = { min: 500, max: 30_000 }

function rec(v: unknown): Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {}
}

function recs(v: unknown): Json[] {
  return Array.isArray(v) ? v.map(rec) : []
}

function rvNumber(obj: KubeObject): number {
  const n = Number(obj.metadata?.resourceVersion)
  return Number.isFinite(n) ? n : 0
}

export class PodWorker {
  readonly uid: string
  private pod: KubeObject
  private readonly rejection: { reason: string; message: string } | undefined
  /** Nothing runs or will run; only the deletion may still need confirming. */
  private finalized: boolean
  private gone = false
  private cleanedUp = false
  private closed = false
  private ended: { reason: string; message: string } | undefined
  private podIP: string | undefined
  private sandbox = false
  private readonly inflight = new Set<string>()
  private readonly startErrors = new Map<string, { reason: string; message: string; atMs: number }>()
  /** Stops asked for, by container ID: the grace period given. */
  private readonly stopsAsked = new Map<string, number>()
  private lastWrite: { generated: string; stored: string } | undefined
  private deletionConfirmed = false
  private apiFailures = 0
  private syncing = false
  private dirty = false
  private wake: NodeJS.Timeout | undefined
  private wakeAt = Infinity

  /**
   * `admission`: the verdict on a pod seen for the first time; undefined for a pod
   * that was over (terminal) or being deleted before this kubelet took it on.
   */
  constructor(
    private readonly ctx: PodWorkerContext,
    pod: KubeObject,
    admission: AdmitResult | undefined,
  ) {
    this.pod = pod
    this.uid = String(pod.metadata?.uid ?? '')
    this.rejection = admission !== undefined && !admission.admit ? { reason: admission.reason, message: admission.message } : undefined
    this.finalized = admission === undefined && isTerminalPhase(rec(pod.status).phase) && this.records().every((r) => r.state === 'exited')
  }

  /** Whether the pod holds node resources (what admission counts). */
  get active(): boolean {
    return this.rejection === undefined && !this.finalized && !this.cleanedUp
  }

  get current(): KubeObject {
    return this.pod
  }

  /** A newer version of the pod (the same or older ones, e.g. the watch event of our own write, are ignored). */
  update(pod: KubeObject): void {
    if (rvNumber(pod) <= rvNumber(this.pod)) return
    this.pod = pod
    this.kick()
  }

  /** The pod is gone from the API. */
  remove(): void {
    this.gone = true
    this.kick()
  }

  /** Ends the worker without touching the pod (the kubelet stops). */
  close(): void {
    this.closed = true
    if (this.wake !== undefined) clearTimeout(this.wake)
    this.wake = undefined
  }

  /** Asks for a sync now, or at the latest in `delayMs`. */
  kick(delayMs = 0): void {
    if (this.closed) return
    if (delayMs > 0) return this.arm(Date.now() + delayMs)
    this.dirty = true
    if (this.syncing) return
    this.syncing = true
    queueMicrotask(() => void this.loop())
  }

  private arm(atMs: number): void {
    if (this.closed || !Number.isFinite(atMs)) return
    if (this.wake !== undefined && this.wakeAt <= atMs) return
    if (this.wake !== undefined) clearTimeout(this.wake)
    this.wakeAt = atMs
    this.wake = setTimeout(
      () => {
        this.wake = undefined
        this.wakeAt = Infinity
        this.kick()
      },
      Math.max(0, atMs - Date.now()),
    )
  }

  private async loop(): Promise<void> {
    try {
      while (this.dirty && !this.closed) {
        this.dirty = false
        try {
          await this.syncOnce()
        } catch (err) {
          this.ctx.log.error({ err: errorMessage(err), pod: this.key }, 'pod sync failed')
          this.retryLater()
        }
      }
    } finally {
      this.syncing = false
    }
  }

  private get key(): string {
    return `${String(this.pod.metadata?.namespace)}/${String(this.pod.metadata?.name)}`
  }

  private records(): ContainerRecord[] {
    return [...this.ctx.runtime.containers(this.uid)]
  }

  private retryLater(): void {
    const delay = Math.min(API_RETRY.max, API_RETRY.min * 2 ** this.apiFailures)
    this.apiFailures++
    this.kick(delay)
  }

  // ---- the sync ----

  private async syncOnce(): Promise<void> {
    if (this.gone) return this.cleanUp()
    if (this.cleanedUp) return
    const deleting = typeof this.pod.metadata?.deletionTimestamp === 'string'
    if (this.rejection !== undefined) {
      if (!(await this.writeStatus(rejectedStatus(this.pod, this.rejection.reason, this.rejection.message, this.ctx.now())))) return
      if (deleting) await this.confirmDeletion()
      return
    }
    if (this.finalized) {
      if (deleting) await this.confirmDeletion()
      return
    }

    const now = this.ctx.now()
    const nowMs = now.getTime()
    const spec = rec(this.pod.spec)
    if (this.ended === undefined && !deleting) this.ended = this.deadlineExceeded(nowMs)
    let finishing = deleting || this.ended !== undefined || isTerminalPhase(rec(this.pod.status).phase)
    const waiting = new Map<string, { reason: string; message: string }>()
    let wakeAt = Infinity

    if (!finishing) {
      if (!this.ensureSandbox()) {
        wakeAt = nowMs + SANDBOX_RETRY_MS
      } else {
        const records = new Map(this.records().map((r) => [r.name, r]))
        const actions = computePodActions(spec, records)
        for (const action of actions.start) {
          if (this.inflight.has(action.name)) continue
          const held = this.holdBack(action, nowMs)
          if (held === undefined) this.startContainer(action)
          else {
            waiting.set(action.name, held.waiting)
            wakeAt = Math.min(wakeAt, held.retryAtMs)
          }
        }
        if (actions.finished && this.inflight.size === 0) finishing = true
      }
    }

    if (finishing) {
      const live = this.records().filter((r) => r.state !== 'exited')
      if (live.length > 0 || this.inflight.size > 0) {
        this.stopContainers(live, this.gracePeriodMs(deleting))
        await this.report(waiting, false, now)
        return
      }
      this.releaseSandbox()
      if (!(await this.report(waiting, true, now))) return
      this.finalized = true
      if (deleting) await this.confirmDeletion()
      return
    }

    const views = this.views(waiting, nowMs)
    for (const t of views.recheckAt) wakeAt = Math.min(wakeAt, t)
    const deadline = this.deadlineAt()
    if (deadline !== undefined) wakeAt = Math.min(wakeAt, deadline)
    if (await this.writeStatus(generatePodStatus(this.statusInput(views.views, false, now)))) this.arm(wakeAt)
  }

  /** Builds and writes the status; false when the write did not land. */
  private async report(waiting: ReadonlyMap<string, { reason: string; message: string }>, terminal: boolean, now: Date): Promise<boolean> {
    const { views } = this.views(waiting, now.getTime())
    return this.writeStatus(generatePodStatus(this.statusInput(views, terminal, now)))
  }

  private statusInput(views: ReadonlyMap<string, ContainerView>, terminal: boolean, now: Date): Parameters<typeof generatePodStatus>[0] {
    const input: Parameters<typeof generatePodStatus>[0] = { pod: this.pod, views, hostIP: this.ctx.hostIP, sandboxReady: this.sandbox, terminal, now }
    if (this.podIP !== undefined) input.podIP = this.podIP
    if (this.ended !== undefined) input.ended = this.ended
    return input
  }

  private containerSpecs(): Map<string, { container: Json; init: boolean }> {
    const spec = rec(this.pod.spec)
    const out = new Map<string, { container: Json; init: boolean }>()
    for (const c of recs(spec.initContainers)) out.set(String(c.name), { container: c, init: true })
    for (const c of recs(spec.containers)) out.set(String(c.name), { container: c, init: false })
    return out
  }

  private views(waiting: ReadonlyMap<string, { reason: string; message: string }>, nowMs: number): { views: Map<string, ContainerView>; recheckAt: number[] } {
    const specs = this.containerSpecs()
    const views = new Map<string, ContainerView>()
    const recheckAt: number[] = []
    for (const r of this.records()) {
      const s = specs.get(r.name)
      if (s === undefined) continue
      let started = false
      let ready = false
      if (r.state === 'running' && !s.init) {
        const check = this.ctx.readiness.check(this.pod, s.container, r, nowMs)
        started = check.started
        ready = check.ready
        if (check.recheckAtMs !== undefined) recheckAt.push(check.recheckAtMs)
      }
      views.set(r.name, { record: r, started, ready })
    }
    for (const [name, w] of waiting) views.set(name, { ...(views.get(name) ?? { started: false, ready: false }), waiting: w })
    return { views, recheckAt }
  }

  // ---- containers ----

  /** Whether a due start must wait (crash-loop back-off): the waiting state and when to try again. */
  private holdBack(action: StartAction, nowMs: number): { waiting: { reason: string; message: string }; retryAtMs: number } | undefined {
    const key = backoffKey(this.uid, action.name)
    const failedStart = this.startErrors.get(action.name)
    const finishedMs = action.replaces?.finishedAt.getTime() ?? failedStart?.atMs
    if (finishedMs === undefined) return undefined
    const backoff = this.ctx.backoff
    const remaining = backoff.remaining(key, finishedMs, nowMs)
    if (remaining <= 0) {
      backoff.next(key, finishedMs, nowMs)
      return undefined
    }
    const meta = this.pod.metadata ?? {}
    const podRef = `${String(meta.name)}_${String(meta.namespace)}(${this.uid})`
    this.ctx.events.pod(this.pod, 'Warning', 'BackOff', `Back-off restarting failed container ${action.name} in pod ${podRef}`, { name: action.name, init: action.init })
    return {
      waiting: { reason: 'CrashLoopBackOff', message: `back-off ${goDuration(backoff.delay(key))} restarting failed container=${action.name} pod=${podRef}` },
      retryAtMs: nowMs + remaining,
    }
  }

  private startContainer(action: StartAction): void {
    const spec = this.containerSpecs().get(action.name)
    if (spec === undefined) return
    const name = action.name
    this.inflight.add(name)
    const pod = this.pod
    const container = { name, init: action.init }
    this.ctx.runtime
      .startContainer({
        pod,
        container: spec.container,
        init: action.init,
        podIP: this.podIP ?? this.ctx.hostIP,
        hostIP: this.ctx.hostIP,
        event: (type, reason, message) => this.ctx.events.pod(pod, type, reason, message, container),
      })
      .then(
        () => this.startErrors.delete(name),
        (err: unknown) => {
          const reason = err instanceof ContainerStartError ? err.reason : 'RunContainerError'
          const message = errorMessage(err)
          this.startErrors.set(name, { reason, message, atMs: this.ctx.now().getTime() })
          this.ctx.events.pod(pod, 'Warning', 'Failed', `Error: ${message}`, container)
          this.ctx.log.warn({ pod: this.key, container: name, reason, err: message }, 'container did not start')
        },
      )
      .finally(() => {
        this.inflight.delete(name)
        this.kick()
      })
  }

  private stopContainers(live: readonly ContainerRecord[], graceMs: number): void {
    for (const r of live) {
      const asked = this.stopsAsked.get(r.containerID)
      if (asked !== undefined && asked <= graceMs) continue
      if (asked === undefined && r.state === 'running') {
        const init = this.containerSpecs().get(r.name)?.init ?? false
        this.ctx.events.pod(this.pod, 'Normal', 'Killing', `Stopping container ${r.name}`, { name: r.name, init })
      }
      this.stopsAsked.set(r.containerID, graceMs)
      void this.ctx.runtime.stopContainer(this.uid, r.name, graceMs).then(() => this.kick())
    }
  }

  /** The grace period of a stop: the deletion's, else the pod's terminationGracePeriodSeconds. */
  private gracePeriodMs(deleting: boolean): number {
    const meta = this.pod.metadata ?? {}
    const spec = rec(this.pod.spec)
    const fromDeletion = deleting && typeof meta.deletionGracePeriodSeconds === 'number' ? meta.deletionGracePeriodSeconds : undefined
    const fromSpec = typeof spec.terminationGracePeriodSeconds === 'number' ? spec.terminationGracePeriodSeconds : undefined
    return Math.max(0, fromDeletion ?? fromSpec ?? DEFAULT_GRACE_SECONDS) * 1000
  }

  // ---- sandbox (the pod's network identity) ----

  private hostNetwork(): boolean {
    return rec(this.pod.spec).hostNetwork === true
  }

  private ensureSandbox(): boolean {
    if (this.sandbox) return true
    if (this.hostNetwork()) {
      this.podIP = this.ctx.hostIP
      this.sandbox = true
      return true
    }
    const reported = rec(this.pod.status).podIP
    try {
      if (typeof reported === 'string' && reported !== '' && reported !== this.ctx.hostIP) {
        // An adopted pod keeps the IP it had (reserved when it is ours to give).
        this.ctx.ipam.reserve(this.uid, reported)
        this.podIP = reported
      } else {
        this.podIP = this.ctx.ipam.allocate(this.uid)
      }
      this.sandbox = true
      return true
    } catch (err) {
      this.ctx.events.pod(this.pod, 'Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${errorMessage(err)}`)
      return false
    }
  }

  private releaseSandbox(): void {
    if (!this.sandbox) return
    this.sandbox = false
    if (!this.hostNetwork()) this.ctx.ipam.release(this.uid)
  }

  // ---- activeDeadlineSeconds ----

  private deadlineAt(): number | undefined {
    const seconds = rec(this.pod.spec).activeDeadlineSeconds
    if (typeof seconds !== 'number') return undefined
    const start = Date.parse(String(rec(this.pod.status).startTime ?? ''))
    return Number.isFinite(start) ? start + seconds * 1000 : undefined
  }

  private deadlineExceeded(nowMs: number): { reason: string; message: string } | undefined {
    const at = this.deadlineAt()
    if (at === undefined || nowMs < at) return undefined
    return { reason: 'DeadlineExceeded', message: 'Pod was active on the node longer than the specified deadline' }
  }

  // ---- writes ----

  private async writeStatus(status: Json): Promise<boolean> {
    const current = rec(this.pod.status)
    if (sameStatus(status, current)) return true
    const generated = normalizeStatus(status)
    // The server may spell what we wrote differently; what it stored for our last write is no news.
    if (this.lastWrite !== undefined && this.lastWrite.generated === generated && this.lastWrite.stored === normalizeStatus(current)) return true
    const meta = this.pod.metadata ?? {}
    try {
      const stored = await this.ctx.client.updatePodStatus(String(meta.namespace ?? ''), String(meta.name ?? ''), status, {
        uid: this.uid,
        resourceVersion: String(meta.resourceVersion ?? ''),
      })
      this.lastWrite = { generated, stored: normalizeStatus(stored.status) }
      this.apiFailures = 0
      // Our own write: no need to sync again for it (its watch event is ignored as no newer).
      if (rvNumber(stored) >= rvNumber(this.pod)) this.pod = stored
      return true
    } catch (err) {
      if (isConflict(err)) {
        // A newer pod is on its way through the watch; look again soon in case it was already here.
        this.kick(1000)
      } else if (isNotFound(err)) {
        this.ctx.log.debug({ pod: this.key }, 'pod gone before its status was written')
      } else {
        this.ctx.log.warn({ pod: this.key, err: errorMessage(err) }, 'pod status update failed; retrying')
        this.retryLater()
      }
      return false
    }
  }

  private async confirmDeletion(): Promise<void> {
    if (this.deletionConfirmed) return
    const meta = this.pod.metadata ?? {}
    try {
      await this.ctx.client.deletePod(String(meta.namespace ?? ''), String(meta.name ?? ''), this.uid)
      this.deletionConfirmed = true
    } catch (err) {
      if (isNotFound(err) || isConflict(err)) {
        this.deletionConfirmed = true
        return
      }
      this.ctx.log.warn({ pod: this.key, err: errorMessage(err) }, 'pod deletion failed; retrying')
      this.retryLater()
    }
  }

  private async cleanUp(): Promise<void> {
    if (this.cleanedUp) return
    const live = this.records().filter((r) => r.state !== 'exited')
    const grace = this.gracePeriodMs(true)
    await Promise.all(live.map((r) => this.ctx.runtime.stopContainer(this.uid, r.name, grace)))
    this.ctx.runtime.removePod(this.uid)
    this.releaseSandbox()
    this.ctx.backoff.forget(backoffKey(this.uid, ''))
    this.cleanedUp = true
    this.close()
    this.ctx.done(this.uid)
  }
}
