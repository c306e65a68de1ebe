// A pod's phase from its container statuses, as the kubelet's getPhase decides it:
// Pending while an init container has not succeeded or a container waits for its
// first start; Running while a container runs (or all stopped and will restart);
// Succeeded when every container ended with 0 and none will restart; Failed when
// they all ended, one failed and none will restart. A pod stopped for good (deleted,
// or ended by the kubelet) is `terminal`: its phase is Succeeded or Failed whatever
// the restart policy. Restartable init containers (sidecars) are not run by this
// kubelet yet, so all init containers are read as regular ones.
import type { Json } from './runtime/types.js'

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed'

function rec(v: unknown): Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {}
}

function recs(v: unknown): Json[] {
  return Array.isArray(v) ? v.map(rec) : []
}

function statusOf(statuses: readonly Json[], name: string): Json | undefined {
  return statuses.find((s) => s.name === name)
}

function exitCode(t: Json): number {
  return typeof t.exitCode === 'number' ? t.exitCode : 0
}

export function podPhase(spec: Json, initStatuses: readonly Json[], statuses: readonly Json[], terminal: boolean): PodPhase {
  const restartPolicy = typeof spec.restartPolicy === 'string' ? spec.restartPolicy : 'Always'
  let pendingInit = 0
  let failedInit = 0
  for (const c of recs(spec.initContainers)) {
    const s = statusOf(initStatuses, String(c.name))
    if (s === undefined) {
      pendingInit++
      continue
    }
    const state = rec(s.state)
    if (state.running !== undefined) pendingInit++
    else if (state.terminated !== undefined) {
      if (exitCode(rec(state.terminated)) !== 0) failedInit++
    } else if (state.waiting !== undefined) {
      const last = rec(rec(s.lastState).terminated)
      if (Object.keys(last).length > 0) {
        if (exitCode(last) !== 0) failedInit++
      } else pendingInit++
    } else pendingInit++
  }

  let unknown = 0
  let running = 0
  let waiting = 0
  let stopped = 0
  let succeeded = 0
  for (const c of recs(spec.containers)) {
    const s = statusOf(statuses, String(c.name))
    if (s === undefined) {
      unknown++
      continue
    }
    const state = rec(s.state)
    if (state.running !== undefined) running++
    else if (state.terminated !== undefined) {
      stopped++
      if (exitCode(rec(state.terminated)) === 0) succeeded++
    } else if (state.waiting !== undefined) {
      if (Object.keys(rec(rec(s.lastState).terminated)).length > 0) stopped++
      else waiting++
    } else unknown++
  }

  if (failedInit > 0 && restartPolicy === 'Never') return 'Failed'
  const anyRegularStarted = hasAnyRegularContainerStarted(spec, statuses)
  if ((pendingInit > 0 && !anyRegularStarted) || waiting > 0) return 'Pending'
  if (running > 0 && unknown === 0) return 'Running'
  if (running === 0 && stopped > 0 && unknown === 0) {
    if (terminal) return stopped === succeeded ? 'Succeeded' : 'Failed'
    if (restartPolicy === 'Always') return 'Running'
    if (stopped === succeeded) return 'Succeeded'
    if (restartPolicy === 'Never') return 'Failed'
    return 'Running'
  }
  return 'Pending'
}

export function isTerminalPhase(phase: unknown): phase is 'Succeeded' | 'Failed' {
  return phase === 'Succeeded' || phase === 'Failed'
}

/** Whether a regular container runs or ran (the pod was initialized before, whatever its init containers say now). */
export function hasAnyRegularContainerStarted(spec: Json, statuses: readonly Json[]): boolean {
  const names = new Set(recs(spec.containers).map((c) => String(c.name)))
  return statuses.some((s) => {
    if (!names.has(String(s.name))) return false
    const state = rec(s.state)
    return state.running !== undefined || state.terminated !== undefined
  })
}
