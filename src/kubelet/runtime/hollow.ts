// The hollow runtime: containers that only pretend, so that controllers can be tested
// end to end without real processes and one process can host thousands of kubelets
// (the kubemark idea). Nothing runs; every container is a record and a few timers.
//
// What a hollow container does is read from its pod's annotations (values are Go
// durations, `2s`, `1m30s`, `500ms`):
//
//   hollow.raftplane.io/start-after: 1s   from the start until running (default: the runtime's startDelayMs)
//   hollow.raftplane.io/exit-after: 2s    each instance exits by itself after running this long
//                                         (default: runs until stopped)
//   hollow.raftplane.io/exit-code: 1      the exit code of those exits (default 0: Completed; else Error)
//   hollow.raftplane.io/ready-after: 5s   ready this long after it started (default: at once)
//   hollow.raftplane.io/stop-after: 3s    how long it takes to stop once asked (default: the runtime's
//                                         stopDelayMs); within the grace period it exits 0, past it it is
//                                         killed at the end of the grace period with 137
//
// Each key may name one container, `hollow.raftplane.io/exit-code.<container>`, which
// wins over the pod-wide key. Init containers read only the per-container keys: by
// default they run and exit 0 at once, so initialization completes in order. So a
// Job pod with `exit-after: 2s` completes (Succeeded), with `exit-code: 1` too it
// fails, and under restartPolicy OnFailure or Always it restarts with the crash-loop
// back-off. An annotation that does not parse is ignored, with a Warning event.
//
// State lives in memory only. A kubelet restarted with a fresh hollow runtime adopts
// its pods through recover(): what the pod's status says is taken as the truth — a
// container reported running keeps running with the same containerID, startedAt and
// restartCount (its exit-after counts from that startedAt), a terminated one stays
// terminated — so nothing is restarted and no restartCount is reset.
import { createHash, randomBytes } from 'node:crypto'
import type { KubeObject } from '../../client/index.js'
import { type Clock, realClock, type Timer } from '../../client/index.js'
import { hollowBehaviour, hollowReadyAfterMs, normalizeImage, stopOutcome, type HollowBehaviour } from './hollow-behaviour.js'
import type {
  ContainerReadiness,
  ContainerRecord,
  ContainerRuntime,
  Json,
  RuntimeHealth,
  StartContainerRequest,
  TerminatedState,
} from './types.js'

export const HOLLOW_RUNTIME_VERSION = 'hollow://0.1.0'

export interface HollowRuntimeOptions {
  /** From the start of a container until it runs, unless its pod says otherwise. Default 0. */
  startDelayMs?: number
  /** How long a container takes to stop, unless its pod says otherwise. Default 0. */
  stopDelayMs?: number
  /** Timers (tests drive a FakeClock). */
  clock?: Clock
  /** Wall-clock time for the timestamps reported. */
  now?: () => Date
}

interface Instance {
  record: ContainerRecord
  behaviour: HollowBehaviour
  timer?: Timer
  /** When a requested stop ends the instance (ms of `clock`). */
  stopAt?: number
  started?: () => void
  stopped: (() => void)[]
  /** The instance this one replaces (put back if this one is stopped before it ran). */
  previous?: Instance
}

export class HollowRuntime implements ContainerRuntime {
  readonly name = 'hollow'
  readonly version = HOLLOW_RUNTIME_VERSION
  private readonly pods = new Map<string, Map<string, Instance>>()
  private readonly listeners = new Set<(podUid: string) => void>()
  private readonly clock: Clock
  private readonly now: () => Date
  private readonly defaults: { startDelayMs: number; stopDelayMs: number }

  constructor(o: HollowRuntimeOptions = {}) {
    this.clock = o.clock ?? realClock
    this.now = o.now ?? (() => new Date())
    this.defaults = { startDelayMs: o.startDelayMs ?? 0, stopDelayMs: o.stopDelayMs ?? 0 }
  }

  /** Readiness without probes: ready once running, or `ready-after` later. */
  readonly readiness: ContainerReadiness = {
    check: (pod, container, record, nowMs) => {
      const delay = hollowReadyAfterMs(pod as Json, String(container.name))
      const startedAt = record.startedAt?.getTime()
      if (delay === 0 || startedAt === undefined) return { started: true, ready: true }
      const at = startedAt + delay
      return at <= nowMs ? { started: true, ready: true } : { started: true, ready: false, recheckAtMs: at }
    },
  }

  containers(podUid: string): readonly ContainerRecord[] {
    const pod = this.pods.get(podUid)
    return pod === undefined ? [] : [...pod.values()].map((i) => i.record)
  }

  startContainer(req: StartContainerRequest): Promise<void> {
    const uid = String(req.pod.metadata?.uid ?? '')
    const name = String(req.container.name ?? '')
    const { behaviour, problems } = hollowBehaviour(req.pod as Json, name, req.init, this.defaults)
    for (const p of problems) req.event('Warning', 'InvalidHollowAnnotation', `annotation ${p.annotation}=${JSON.stringify(p.value)} ignored: ${p.message}`)
    let pod = this.pods.get(uid)
    if (pod === undefined) {
      pod = new Map()
      this.pods.set(uid, pod)
    }
    const previous = pod.get(name)
    if (previous !== undefined && previous.record.state !== 'exited') return Promise.reject(new Error(`hollow runtime: container ${name} of pod ${uid} is ${previous.record.state}`))
    const image = normalizeImage(String(req.container.image ?? ''))
    const record: ContainerRecord = {
      name,
      containerID: `hollow://${randomBytes(32).toString('hex')}`,
      image,
      imageID: imageID(image),
      restartCount: previous === undefined ? 0 : previous.record.restartCount + 1,
      state: 'created',
    }
    if (previous?.record.terminated !== undefined) record.lastTerminated = previous.record.terminated
    const inst: Instance = { record, behaviour, stopped: [] }
    if (previous !== undefined) inst.previous = previous
    pod.set(name, inst)
    req.event('Normal', 'Pulled', `Container image "${String(req.container.image ?? '')}" already present on machine`)
    req.event('Normal', 'Created', `Created container ${name}`)
    return new Promise<void>((resolve) => {
      inst.started = resolve
      inst.timer = this.clock.setTimeout(() => {
        inst.timer = undefined
        this.run(uid, inst)
        req.event('Normal', 'Started', `Started container ${name}`)
      }, behaviour.startAfterMs)
    })
  }

  stopContainer(podUid: string, name: string, gracePeriodMs: number): Promise<void> {
    const inst = this.pods.get(podUid)?.get(name)
    if (inst === undefined || inst.record.state === 'exited') return Promise.resolve()
    const done = new Promise<void>((resolve) => inst.stopped.push(resolve))
    if (inst.record.state === 'created') {
      // Never ran: as if it had not been created (the instance before it, if any, is the newest again).
      this.discard(podUid, inst)
      return done
    }
    const outcome = stopOutcome(inst.behaviour.stopAfterMs, Math.max(0, gracePeriodMs))
    const at = this.clock.now() + outcome.delayMs
    if (inst.stopAt !== undefined && inst.stopAt <= at) return done
    inst.stopAt = at
    inst.timer?.cancel()
    inst.timer = this.clock.setTimeout(() => {
      inst.timer = undefined
      this.exit(podUid, inst, outcome.exitCode, outcome.reason, false)
    }, outcome.delayMs)
    return done
  }

  removePod(podUid: string): void {
    const pod = this.pods.get(podUid)
    if (pod === undefined) return
    this.pods.delete(podUid)
    for (const inst of pod.values()) {
      inst.timer?.cancel()
      inst.started?.()
      for (const s of inst.stopped.splice(0)) s()
    }
  }

  recover(pod: KubeObject): void {
    const uid = String(pod.metadata?.uid ?? '')
    if (uid === '' || this.pods.has(uid)) return
    const status = asJson(pod.status)
    const spec = asJson(pod.spec)
    const recovered = new Map<string, Instance>()
    const specs = new Map<string, { container: Json; init: boolean }>()
    for (const c of asJsonList(spec.initContainers)) specs.set(String(c.name), { container: c, init: true })
    for (const c of asJsonList(spec.containers)) specs.set(String(c.name), { container: c, init: false })
    for (const cs of [...asJsonList(status.initContainerStatuses), ...asJsonList(status.containerStatuses)]) {
      const name = String(cs.name ?? '')
      const found = specs.get(name)
      if (found === undefined) continue
      const inst = this.recovered(pod, cs, found.container, found.init)
      if (inst !== undefined) recovered.set(name, inst)
    }
    if (recovered.size === 0) return
    this.pods.set(uid, recovered)
    for (const inst of recovered.values()) {
      if (inst.record.state !== 'running' || inst.behaviour.exitAfterMs === undefined) continue
      const ranMs = this.now().getTime() - (inst.record.startedAt?.getTime() ?? this.now().getTime())
      this.armExit(uid, inst, Math.max(0, inst.behaviour.exitAfterMs - ranMs))
    }
  }

  subscribe(listener: (podUid: string) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  health(): RuntimeHealth {
    return { ready: true }
  }

  async close(): Promise<void> {
    for (const uid of [...this.pods.keys()]) this.removePod(uid)
    this.listeners.clear()
  }

  /** Pods the runtime holds (benchmarks, tests). */
  get podCount(): number {
    return this.pods.size
  }

  // ---- instances ----

  private run(uid: string, inst: Instance): void {
    inst.record.state = 'running'
    inst.record.startedAt = this.now()
    inst.previous = undefined
    const started = inst.started
    inst.started = undefined
    if (inst.behaviour.exitAfterMs !== undefined) this.armExit(uid, inst, inst.behaviour.exitAfterMs)
    started?.()
  }

  private discard(uid: string, inst: Instance): void {
    inst.timer?.cancel()
    inst.timer = undefined
    const pod = this.pods.get(uid)
    if (pod?.get(inst.record.name) === inst) {
      if (inst.previous !== undefined) pod.set(inst.record.name, inst.previous)
      else pod.delete(inst.record.name)
    }
    const started = inst.started
    inst.started = undefined
    started?.()
    for (const s of inst.stopped.splice(0)) s()
  }

  private armExit(uid: string, inst: Instance, afterMs: number): void {
    const code = inst.behaviour.exitCode
    inst.timer = this.clock.setTimeout(() => {
      inst.timer = undefined
      this.exit(uid, inst, code, code === 0 ? 'Completed' : 'Error', true)
    }, afterMs)
  }

  private exit(uid: string, inst: Instance, exitCode: number, reason: string, byItself: boolean): void {
    if (inst.record.state === 'exited') return
    inst.timer?.cancel()
    inst.timer = undefined
    const terminated: TerminatedState = { exitCode, reason, finishedAt: this.now(), containerID: inst.record.containerID }
    if (inst.record.startedAt !== undefined) terminated.startedAt = inst.record.startedAt
    inst.record.state = 'exited'
    inst.record.terminated = terminated
    inst.stopAt = undefined
    const started = inst.started
    inst.started = undefined
    started?.()
    for (const s of inst.stopped.splice(0)) s()
    if (byItself && this.pods.get(uid)?.get(inst.record.name) === inst) for (const l of [...this.listeners]) l(uid)
  }

  /** An instance rebuilt from a reported container status, or undefined when nothing of it ran. */
  private recovered(pod: KubeObject, cs: Json, container: Json, init: boolean): Instance | undefined {
    const { behaviour } = hollowBehaviour(pod as Json, String(container.name), init, this.defaults)
    const state = asJson(cs.state)
    const last = terminatedFrom(asJson(asJson(cs.lastState).terminated))
    const image = typeof cs.image === 'string' && cs.image !== '' ? cs.image : normalizeImage(String(container.image ?? ''))
    const base = {
      name: String(cs.name),
      containerID: typeof cs.containerID === 'string' && cs.containerID !== '' ? cs.containerID : `hollow://${randomBytes(32).toString('hex')}`,
      image,
      imageID: typeof cs.imageID === 'string' && cs.imageID !== '' ? cs.imageID : imageID(image),
      restartCount: typeof cs.restartCount === 'number' ? cs.restartCount : 0,
    }
    let record: ContainerRecord
    if (state.running !== undefined) {
      record = { ...base, state: 'running', startedAt: parseTime(asJson(state.running).startedAt) ?? this.now() }
    } else if (state.terminated !== undefined) {
      const t = terminatedFrom(asJson(state.terminated))
      if (t === undefined) return undefined
      record = { ...base, state: 'exited', terminated: { ...t, containerID: t.containerID || base.containerID } }
      if (t.startedAt !== undefined) record.startedAt = t.startedAt
    } else if (last !== undefined) {
      // Waiting to restart: the instance that ended is what the runtime holds; the next start counts one more restart.
      record = { ...base, containerID: last.containerID || base.containerID, state: 'exited', terminated: last }
      if (last.startedAt !== undefined) record.startedAt = last.startedAt
      return { record, behaviour, stopped: [] }
    } else {
      return undefined
    }
    if (last !== undefined) record.lastTerminated = last
    return { record, behaviour, stopped: [] }
  }
}

/** A stable fake digest per image, as `<image>@sha256:<hex>`. */
function imageID(image: string): string {
  const repo = image.replace(/:[^/:@]+$/, '')
  return `${repo}@sha256:${createHash('sha256').update(image).digest('hex')}`
}

function asJson(v: unknown): Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {}
}

function asJsonList(v: unknown): Json[] {
  return Array.isArray(v) ? v.map(asJson) : []
}

function parseTime(v: unknown): Date | undefined {
  if (typeof v !== 'string') return undefined
  const t = Date.parse(v)
  return Number.isFinite(t) ? new Date(t) : undefined
}

function terminatedFrom(t: Json): TerminatedState | undefined {
  if (Object.keys(t).length === 0) return undefined
  const out: TerminatedState = {
    exitCode: typeof t.exitCode === 'number' ? t.exitCode : 0,
    reason: typeof t.reason === 'string' ? t.reason : '',
    finishedAt: parseTime(t.finishedAt) ?? new Date(0),
    containerID: typeof t.containerID === 'string' ? t.containerID : '',
  }
  const started = parseTime(t.startedAt)
  if (started !== undefined) out.startedAt = started
  if (typeof t.message === 'string' && t.message !== '') out.message = t.message
  return out
}
