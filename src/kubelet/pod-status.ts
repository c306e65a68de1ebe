// A pod's whole status as the kubelet reports it (generateAPIPodStatus plus the
// status manager's merge): container statuses, phase, conditions, IPs, startTime and
// qosClass. Rules kept from upstream: a pod never leaves Succeeded or Failed; the
// phase's reason and message stay while the phase does; a pod stopped for good gets
// a terminal phase, containers without an end reported as ContainerStatusUnknown
// (TerminatePod); startTime and qosClass never change once set. Pure.
import { computePodQOS } from '../api/validation/pod.js'
import { metaTime } from '../api/time.js'
import type { KubeObject } from '../client/index.js'
import { containerStatuses, terminateStatuses, type ContainerView } from './container-statuses.js'
import { KUBELET_CONDITIONS, podConditions } from './pod-conditions.js'
import { isTerminalPhase, podPhase, type PodPhase } from './pod-phase.js'
import type { Json } from './runtime/types.js'

function rec(v: unknown): Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {}
}

function recs(v: unknown): Json[] {
  return Array.isArray(v) ? v.map(rec) : []
}

export interface PodStatusInput {
  pod: KubeObject
  /** Per container name (init and regular). */
  views: ReadonlyMap<string, ContainerView>
  /** undefined: no sandbox yet (or no longer). */
  podIP?: string
  hostIP: string
  /** The pod's sandbox and network exist (PodReadyToStartContainers). */
  sandboxReady: boolean
  /** Stopped for good (deleted, or ended by the kubelet): every container stopped and none will start. */
  terminal: boolean
  /** The kubelet ended the pod (activeDeadlineSeconds): once terminal, Failed with this reason and message. */
  ended?: { reason: string; message: string }
  now: Date
}

/** Whether the pod's init containers are behind it (status manager's hasPodInitialized). */
function podInitialized(spec: Json, initStatuses: readonly Json[], statuses: readonly Json[]): boolean {
  const inits = recs(spec.initContainers)
  if (inits.length === 0) return true
  for (const s of statuses) {
    const state = rec(s.state)
    if (state.waiting === undefined || Object.keys(rec(rec(s.lastState).terminated)).length > 0) return true
  }
  const last = initStatuses[initStatuses.length - 1]
  const t = rec(rec(last?.state).terminated)
  return last !== undefined && Object.keys(t).length > 0 && t.exitCode === 0
}

export function generatePodStatus(i: PodStatusInput): Json {
  const spec = rec(i.pod.spec)
  const old = rec(i.pod.status)
  const deleting = typeof i.pod.metadata?.deletionTimestamp === 'string'
  const inits = recs(spec.initContainers)
  const hasInit = inits.length > 0
  let initStatuses = containerStatuses(inits, recs(old.initContainerStatuses), i.views, { hasInitContainers: hasInit, init: true, deleting })
  let statuses = containerStatuses(recs(spec.containers), recs(old.containerStatuses), i.views, { hasInitContainers: hasInit, init: false, deleting })

  let phase: PodPhase = podPhase(spec, initStatuses, statuses, i.terminal)
  if (i.terminal) {
    const initializedBefore = podInitialized(spec, initStatuses, statuses)
    initStatuses = terminateStatuses(initStatuses, true, initializedBefore)
    statuses = terminateStatuses(statuses, false, initializedBefore)
    if (!isTerminalPhase(phase)) phase = 'Failed'
  }
  let reason: string | undefined
  let message: string | undefined
  // No terminal phase while something may still run (the status manager's rule).
  if (i.ended !== undefined && i.terminal) {
    phase = 'Failed'
    reason = i.ended.reason
    message = i.ended.message
  }
  // Terminal is final: the API's phase wins over a non-terminal one computed now.
  if (!isTerminalPhase(phase) && isTerminalPhase(old.phase)) phase = old.phase
  if (phase === old.phase && reason === undefined) {
    if (typeof old.reason === 'string' && old.reason !== '') reason = old.reason
    if (typeof old.message === 'string' && old.message !== '') message = old.message
  }

  const conditions = podConditions({
    spec,
    old: recs(old.conditions),
    initStatuses,
    statuses,
    phase,
    sandboxReady: i.sandboxReady,
    now: i.now,
  })

  const status: Json = { phase, conditions }
  if (message !== undefined) status.message = message
  if (reason !== undefined) status.reason = reason
  status.hostIP = i.hostIP
  status.hostIPs = [{ ip: i.hostIP }]
  const podIP = i.podIP ?? (typeof old.podIP === 'string' && old.podIP !== '' ? old.podIP : undefined)
  if (podIP !== undefined) {
    status.podIP = podIP
    status.podIPs = [{ ip: podIP }]
  }
  status.startTime = typeof old.startTime === 'string' && old.startTime !== '' ? old.startTime : metaTime(i.now)
  if (hasInit) status.initContainerStatuses = initStatuses
  status.containerStatuses = statuses
  status.qosClass = typeof old.qosClass === 'string' && old.qosClass !== '' ? old.qosClass : computePodQOS(i.pod as Json)
  return status
}

/** The status of a pod refused by admission: Failed, with the reason, and nothing run. */
export function rejectedStatus(pod: KubeObject, reason: string, message: string, now: Date): Json {
  const old = rec(pod.status)
  const owned = new Set<string>(KUBELET_CONDITIONS)
  const status: Json = { phase: 'Failed', reason, message: `Pod was rejected: ${message}` }
  const kept = recs(old.conditions).filter((c) => !owned.has(String(c.type)))
  if (kept.length > 0) status.conditions = kept
  status.startTime = typeof old.startTime === 'string' && old.startTime !== '' ? old.startTime : metaTime(now)
  status.qosClass = typeof old.qosClass === 'string' && old.qosClass !== '' ? old.qosClass : computePodQOS(pod as Json)
  return status
}

/** JSON with nulls and empty objects dropped and keys sorted: what two statuses mean, not how they were spelt. */
export function normalizeStatus(v: unknown): string {
  return JSON.stringify(strip(v)) ?? ''
}

function strip(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(strip)
  if (v === null || typeof v !== 'object') return v
  const out: Json = {}
  for (const k of Object.keys(v as Json).sort()) {
    const x = strip((v as Json)[k])
    if (x === null || x === undefined) continue
    if (typeof x === 'object' && !Array.isArray(x) && Object.keys(x as Json).length === 0) continue
    out[k] = x
  }
  return out
}

export function sameStatus(a: unknown, b: unknown): boolean {
  return normalizeStatus(a) === normalizeStatus(b)
}
