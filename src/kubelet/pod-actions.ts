// What a pod needs next, from its spec and what the runtime holds (the kubelet's
// computePodActions): init containers run one at a time in order, each only after the
// one before it exited 0; a failed init container is run again unless the restart
// policy is Never, which fails the pod; then every regular container starts, and one
// that exited starts again as the restart policy says (Always: any exit; OnFailure:
// a non-zero one; Never: none). Whether a restart may happen now is the crash-loop
// back-off's call (./crash-backoff.ts), not this module's. Pure.
import type { ContainerRecord, Json, TerminatedState } from './runtime/types.js'

export interface StartAction {
  name: string
  init: boolean
  /** The instance this one replaces: a restart, paced by the back-off. */
  replaces?: TerminatedState
}

export interface PodActions {
  start: StartAction[]
  /** An init container failed and the restart policy is Never: the pod fails. */
  initFailed: boolean
  /** Every container ended and none will start again. */
  finished: boolean
}

function recs(v: unknown): Json[] {
  return Array.isArray(v) ? v.filter((x): x is Json => x !== null && typeof x === 'object') : []
}

export function restartPolicy(spec: Json): 'Always' | 'OnFailure' | 'Never' {
  const p = spec.restartPolicy
  return p === 'OnFailure' || p === 'Never' ? p : 'Always'
}

/** Whether a container that ended this way runs again under `policy`. */
export function shouldRestart(policy: 'Always' | 'OnFailure' | 'Never', exitCode: number): boolean {
  if (policy === 'Always') return true
  if (policy === 'OnFailure') return exitCode !== 0
  return false
}

export function computePodActions(spec: Json, records: ReadonlyMap<string, ContainerRecord>): PodActions {
  const policy = restartPolicy(spec)
  const containers = recs(spec.containers)
  const initDoneBefore = containers.some((c) => records.has(String(c.name)))
  if (!initDoneBefore) {
    for (const c of recs(spec.initContainers)) {
      const name = String(c.name)
      const r = records.get(name)
      if (r === undefined) return { start: [{ name, init: true }], initFailed: false, finished: false }
      if (r.state !== 'exited') return { start: [], initFailed: false, finished: false }
      const t = r.terminated!
      if (t.exitCode === 0) continue
      if (policy === 'Never') return { start: [], initFailed: true, finished: true }
      return { start: [{ name, init: true, replaces: t }], initFailed: false, finished: false }
    }
  }
  const start: StartAction[] = []
  let active = false
  for (const c of containers) {
    const name = String(c.name)
    const r = records.get(name)
    if (r === undefined) {
      start.push({ name, init: false })
      active = true
    } else if (r.state !== 'exited') {
      active = true
    } else if (shouldRestart(policy, r.terminated!.exitCode)) {
      start.push({ name, init: false, replaces: r.terminated! })
      active = true
    }
  }
  return { start, initFailed: false, finished: !active }
}
