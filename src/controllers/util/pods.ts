// What controllers ask of a pod: is it still counted (active), ready, available for
// minReadySeconds, terminating; read from status as kubelets write it. Pure functions
// over the JSON the informers hold.
import type { KubeObject } from '../../client/index.js'

type Json = Record<string, unknown>

export interface PodCondition {
  type: string
  status: string
  lastTransitionTime?: string
  reason?: string
  message?: string
}

function status(pod: KubeObject): Json {
  const s = pod.status
  return s !== null && typeof s === 'object' ? (s as Json) : {}
}

export function podPhase(pod: KubeObject): string {
  const p = status(pod).phase
  return typeof p === 'string' ? p : ''
}

export function podConditions(pod: KubeObject): PodCondition[] {
  const c = status(pod).conditions
  return Array.isArray(c) ? (c as PodCondition[]) : []
}

export function podCondition(pod: KubeObject, type: string): PodCondition | undefined {
  return podConditions(pod).find((c) => c.type === type)
}

export function isPodTerminating(pod: KubeObject): boolean {
  return pod.metadata?.deletionTimestamp !== undefined && pod.metadata.deletionTimestamp !== null
}

/** Succeeded or Failed: the pod will not run again. */
export function isPodTerminal(pod: KubeObject): boolean {
  const phase = podPhase(pod)
  return phase === 'Succeeded' || phase === 'Failed'
}

/** Counted toward a controller's replicas: not terminal and not being deleted (upstream IsPodActive). */
export function isPodActive(pod: KubeObject): boolean {
  return !isPodTerminal(pod) && !isPodTerminating(pod)
}

export function isPodReady(pod: KubeObject): boolean {
  return podCondition(pod, 'Ready')?.status === 'True'
}

/**
 * Ready for at least minReadySeconds at `now` (upstream IsPodAvailable): the Ready
 * condition's lastTransitionTime is the moment it became ready.
 */
export function isPodAvailable(pod: KubeObject, minReadySeconds: number, now: Date): boolean {
  const ready = podCondition(pod, 'Ready')
  if (ready?.status !== 'True') return false
  if (minReadySeconds <= 0) return true
  const since = Date.parse(ready.lastTransitionTime ?? '')
  return Number.isFinite(since) && since + minReadySeconds * 1000 <= now.getTime()
}

/** When a ready pod becomes available (ms since epoch), for requeueing after minReadySeconds. */
export function podAvailableAt(pod: KubeObject, minReadySeconds: number): number | undefined {
  const ready = podCondition(pod, 'Ready')
  if (ready?.status !== 'True') return undefined
  const since = Date.parse(ready.lastTransitionTime ?? '')
  return Number.isFinite(since) ? since + minReadySeconds * 1000 : undefined
}

export function podNodeName(pod: KubeObject): string {
  const n = (pod.spec as Json | undefined)?.nodeName
  return typeof n === 'string' ? n : ''
}

/** Sum of the restart counts of the pod's containers. */
export function podRestarts(pod: KubeObject): number {
  const cs = status(pod).containerStatuses
  if (!Array.isArray(cs)) return 0
  return (cs as Json[]).reduce((n, c) => n + (typeof c.restartCount === 'number' ? c.restartCount : 0), 0)
}

export const POD_DELETION_COST_ANNOTATION = 'controller.kubernetes.io/pod-deletion-cost'

/** The pod's deletion cost annotation as an int32; missing or malformed: 0. */
export function deletionCost(pod: KubeObject): number {
  const v = pod.metadata?.annotations?.[POD_DELETION_COST_ANNOTATION]
  if (v === undefined || !/^[+-]?\d+$/.test(v)) return 0
  const n = Number(v)
  return n >= -2147483648 && n <= 2147483647 ? n : 0
}

const PHASE_RANK: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 }

function time(s: unknown): number {
  const t = typeof s === 'string' ? Date.parse(s) : NaN
  return Number.isFinite(t) ? t : 0
}

/**
 * Orders pods so the least valuable come first, for scale-down (upstream
 * ActivePodsWithRanks): unscheduled before scheduled; Pending, Unknown, then Running;
 * not ready before ready; lower deletion cost first; pods sharing a node with more of their siblings first
 * (`rank`: how many of the controller's pods share its node); ready more recently
 * first; more restarts first; created more recently first.
 */
export function compareForDeletion(a: KubeObject, b: KubeObject, rank?: (pod: KubeObject) => number): number {
  const aNode = podNodeName(a) !== ''
  const bNode = podNodeName(b) !== ''
  if (aNode !== bNode) return aNode ? 1 : -1
  const aPhase = PHASE_RANK[podPhase(a)] ?? 0
  const bPhase = PHASE_RANK[podPhase(b)] ?? 0
  if (aPhase !== bPhase) return aPhase - bPhase
  const aReady = isPodReady(a)
  const bReady = isPodReady(b)
  if (aReady !== bReady) return aReady ? 1 : -1
  const cost = deletionCost(a) - deletionCost(b)
  if (cost !== 0) return cost
  if (rank !== undefined) {
    const d = rank(b) - rank(a)
    if (d !== 0) return d
  }
  if (aReady && bReady) {
    const d = time(podCondition(b, 'Ready')?.lastTransitionTime) - time(podCondition(a, 'Ready')?.lastTransitionTime)
    if (d !== 0) return d
  }
  const restarts = podRestarts(b) - podRestarts(a)
  if (restarts !== 0) return restarts
  return time(b.metadata?.creationTimestamp) - time(a.metadata?.creationTimestamp)
}
