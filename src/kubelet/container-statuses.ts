// containerStatuses and initContainerStatuses from what the runtime holds, the way
// the kubelet converts them (convertToAPIContainerStatuses): every container of the
// spec has a status; one the runtime has not started yet waits with
// ContainerCreating (PodInitializing in a pod with init containers); a running one
// shows startedAt, ready and started; an exited one its exit code, reason and times;
// the instance before it is `lastState`. A container the kubelet holds back (crash
// loop back-off, a start that failed) waits with that reason, its last end moved to
// lastState. Regular containers are sorted by name, init containers keep spec order.
import { metaTime } from '../api/time.js'
import type { ContainerRecord, Json, TerminatedState } from './runtime/types.js'

export interface ContainerView {
  /** The runtime's newest instance; undefined: never started. */
  record?: ContainerRecord
  /** For a running regular container: started (startup probe) and ready (readiness). */
  started: boolean
  ready: boolean
  /** Why the kubelet holds the container back (CrashLoopBackOff, a start error). */
  waiting?: { reason: string; message: string }
}

export const CONTAINER_STATUS_UNKNOWN = 'ContainerStatusUnknown'

function rec(v: unknown): Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {}
}

function recs(v: unknown): Json[] {
  return Array.isArray(v) ? v.map(rec) : []
}

function time(d: Date | undefined): string | null {
  return d === undefined ? null : metaTime(d)
}

export function terminatedJson(t: TerminatedState): Json {
  const out: Json = { exitCode: t.exitCode, reason: t.reason, startedAt: time(t.startedAt), finishedAt: metaTime(t.finishedAt), containerID: t.containerID }
  if (t.message !== undefined && t.message !== '') out.message = t.message
  return out
}

function volumeMounts(container: Json): Json[] | undefined {
  const mounts = recs(container.volumeMounts)
  if (mounts.length === 0) return undefined
  return mounts.map((m) => {
    const out: Json = { name: m.name, mountPath: m.mountPath }
    if (m.readOnly === true) {
      out.readOnly = true
      out.recursiveReadOnly = 'Disabled'
    }
    return out
  })
}

function fromRecord(r: ContainerRecord, view: ContainerView, init: boolean, defaultWaiting: string): Json {
  let state: Json
  if (r.state === 'running') state = { running: { startedAt: time(r.startedAt) } }
  else if (r.state === 'exited' && r.terminated !== undefined) state = { terminated: terminatedJson(r.terminated) }
  else state = { waiting: { reason: defaultWaiting } }
  const running = r.state === 'running'
  const succeeded = r.state === 'exited' && r.terminated?.exitCode === 0
  return {
    name: r.name,
    state,
    lastState: r.lastTerminated === undefined ? {} : { terminated: terminatedJson(r.lastTerminated) },
    ready: init ? succeeded : running && view.ready,
    restartCount: r.restartCount,
    image: r.image,
    imageID: r.imageID,
    containerID: r.containerID,
    started: init ? running : running && view.started,
  }
}

/**
 * The statuses of `containers` (spec.containers or spec.initContainers).
 * `old`: the same list of the pod's current status; `deleting`: the pod has a deletionTimestamp.
 */
export function containerStatuses(
  containers: readonly Json[],
  old: readonly Json[],
  views: ReadonlyMap<string, ContainerView>,
  o: { hasInitContainers: boolean; init: boolean; deleting: boolean },
): Json[] {
  const defaultWaiting = o.hasInitContainers ? 'PodInitializing' : 'ContainerCreating'
  const oldByName = new Map(old.map((s) => [String(s.name), s]))
  const out: Json[] = []
  for (const c of containers) {
    const name = String(c.name)
    const view = views.get(name)
    const prev = oldByName.get(name)
    let status: Json
    if (view?.record !== undefined) {
      status = fromRecord(view.record, view, o.init, defaultWaiting)
    } else {
      status = { name, state: { waiting: { reason: defaultWaiting } }, lastState: {}, ready: false, restartCount: 0, image: c.image, imageID: '', started: false }
      if (prev !== undefined) {
        const prevState = rec(prev.state)
        if (prevState.terminated !== undefined) status = structuredClone(prev)
        else {
          status.restartCount = typeof prev.restartCount === 'number' ? prev.restartCount : 0
          status.lastState = rec(prev.lastState)
          if (prevState.running !== undefined && rec(rec(status.lastState).terminated).exitCode === undefined) {
            // It ran, and the runtime lost it: it ended, how is unknown (not "never ran", which would make a run-once pod run twice).
            status.lastState = {
              terminated: { exitCode: 137, reason: CONTAINER_STATUS_UNKNOWN, message: 'The container could not be located when the pod was deleted.  The container used to be Running', startedAt: null, finishedAt: null },
            }
            if (!o.deleting) status.restartCount = (status.restartCount as number) + 1
          }
        }
      }
    }
    const mounts = volumeMounts(c)
    if (mounts !== undefined) status.volumeMounts = mounts
    const waiting = view?.waiting
    const r = view?.record
    const initSucceeded = o.init && r?.state === 'exited' && r.terminated?.exitCode === 0
    if (waiting !== undefined && !initSucceeded && r?.state !== 'running') {
      const state = rec(status.state)
      if (state.terminated !== undefined) status.lastState = { terminated: state.terminated }
      status.state = { waiting: { reason: waiting.reason, message: waiting.message } }
    }
    out.push(status)
  }
  if (!o.init) out.sort((a, b) => (String(a.name) < String(b.name) ? -1 : String(a.name) > String(b.name) ? 1 : 0))
  return out
}

/**
 * The statuses of a pod stopped for good (status manager's TerminatePod): a container
 * that has no end state is reported ended with ContainerStatusUnknown — once the pod
 * initialized for regular containers, and for init containers that ran.
 */
export function terminateStatuses(statuses: readonly Json[], init: boolean, initialized: boolean): Json[] {
  return statuses.map((s) => {
    const state = rec(s.state)
    if (state.terminated !== undefined) return s
    if (init ? state.running === undefined : !initialized) return s
    return {
      ...s,
      state: { terminated: { exitCode: 137, reason: CONTAINER_STATUS_UNKNOWN, message: 'The container could not be located when the pod was terminated', startedAt: null, finishedAt: null } },
      ready: false,
      started: false,
    }
  })
}
