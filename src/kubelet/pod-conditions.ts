// The pod conditions the kubelet owns (pkg/kubelet/status/generate.go):
// PodReadyToStartContainers (the sandbox and its network exist), Initialized (every
// init container succeeded), ContainersReady (every container ready), Ready
// (ContainersReady and every readiness gate True) and PodScheduled, with upstream's
// reasons and messages. Conditions others own (DisruptionTarget, readiness gates'
// own conditions, …) are kept as they are, first, as the kubelet's status merge
// does. A condition keeps its lastTransitionTime while its status stays the same.
import { metaTime } from '../api/time.js'
import { hasAnyRegularContainerStarted, type PodPhase } from './pod-phase.js'
import type { Json } from './runtime/types.js'

export const KUBELET_CONDITIONS = ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'] as const

interface Condition {
  type: string
  status: 'True' | 'False'
  reason?: string
  message?: string
}

function rec(v: unknown): Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {}
}

function recs(v: unknown): Json[] {
  return Array.isArray(v) ? v.map(rec) : []
}

/** Go's fmt %s of a []string: `[a b]`. */
function goList(names: readonly string[]): string {
  return `[${names.join(' ')}]`
}

function byName(statuses: readonly Json[]): Map<string, Json> {
  return new Map(statuses.map((s) => [String(s.name), s]))
}

function containersReady(spec: Json, statuses: readonly Json[], phase: PodPhase): Condition {
  const known = byName(statuses)
  const unknown: string[] = []
  const unready: string[] = []
  for (const c of recs(spec.containers)) {
    const s = known.get(String(c.name))
    if (s === undefined) unknown.push(String(c.name))
    else if (s.ready !== true) unready.push(String(c.name))
  }
  if (phase === 'Succeeded' && unknown.length === 0) return { type: 'ContainersReady', status: 'False', reason: 'PodCompleted' }
  if (phase === 'Failed') return { type: 'ContainersReady', status: 'False', reason: 'PodFailed' }
  const messages: string[] = []
  if (unknown.length > 0) messages.push(`containers with unknown status: ${goList(unknown)}`)
  if (unready.length > 0) messages.push(`containers with unready status: ${goList(unready)}`)
  if (messages.length > 0) return { type: 'ContainersReady', status: 'False', reason: 'ContainersNotReady', message: messages.join(', ') }
  return { type: 'ContainersReady', status: 'True' }
}

function podReady(spec: Json, conditions: readonly Json[], ready: Condition): Condition {
  if (ready.status !== 'True') return { ...ready, type: 'Ready' }
  const messages: string[] = []
  for (const gate of recs(spec.readinessGates)) {
    const type = String(gate.conditionType ?? '')
    const c = conditions.find((x) => x.type === type)
    if (c === undefined) messages.push(`corresponding condition of pod readiness gate "${type}" does not exist.`)
    else if (c.status !== 'True') messages.push(`the status of pod readiness gate "${type}" is not "True", but ${String(c.status)}`)
  }
  if (messages.length > 0) return { type: 'Ready', status: 'False', reason: 'ReadinessGatesNotReady', message: messages.join(', ') }
  return { type: 'Ready', status: 'True' }
}

function initialized(spec: Json, initStatuses: readonly Json[], statuses: readonly Json[], phase: PodPhase): Condition {
  const known = byName(initStatuses)
  const unknown: string[] = []
  const incomplete: string[] = []
  for (const c of recs(spec.initContainers)) {
    const s = known.get(String(c.name))
    if (s === undefined) unknown.push(String(c.name))
    else if (s.ready !== true) incomplete.push(String(c.name))
  }
  if (phase === 'Succeeded' && unknown.length === 0) return { type: 'Initialized', status: 'True', reason: 'PodCompleted' }
  if (hasAnyRegularContainerStarted(spec, statuses)) return { type: 'Initialized', status: 'True' }
  const messages: string[] = []
  if (unknown.length > 0) messages.push(`containers with unknown status: ${goList(unknown)}`)
  if (incomplete.length > 0) messages.push(`containers with incomplete status: ${goList(incomplete)}`)
  if (messages.length > 0) return { type: 'Initialized', status: 'False', reason: 'ContainersNotInitialized', message: messages.join(', ') }
  return { type: 'Initialized', status: 'True' }
}

function withTimes(c: Condition, old: readonly Json[], now: Date): Json {
  const prev = old.find((x) => x.type === c.type)
  const lastTransitionTime = prev !== undefined && prev.status === c.status && typeof prev.lastTransitionTime === 'string' ? prev.lastTransitionTime : metaTime(now)
  const out: Json = { type: c.type, status: c.status, lastProbeTime: null, lastTransitionTime }
  if (c.reason !== undefined) out.reason = c.reason
  if (c.message !== undefined) out.message = c.message
  return out
}

export interface ConditionsInput {
  spec: Json
  /** The pod's current conditions. */
  old: readonly Json[]
  initStatuses: readonly Json[]
  statuses: readonly Json[]
  phase: PodPhase
  sandboxReady: boolean
  now: Date
}

/** Every condition of the new status: the ones others own, then the kubelet's. */
export function podConditions(i: ConditionsInput): Json[] {
  const owned = new Set<string>(KUBELET_CONDITIONS)
  const kept = i.old.filter((c) => !owned.has(String(c.type)))
  const ready = containersReady(i.spec, i.statuses, i.phase)
  const generated: Condition[] = [
    { type: 'PodReadyToStartContainers', status: i.sandboxReady ? 'True' : 'False' },
    initialized(i.spec, i.initStatuses, i.statuses, i.phase),
    podReady(i.spec, kept, ready),
    ready,
    { type: 'PodScheduled', status: 'True' },
  ]
  return [...kept, ...generated.map((c) => withTimes(c, i.old, i.now))]
}
