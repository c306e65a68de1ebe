// Node and pod conditions as the node lifecycle controller rewrites them: a silent
// node's Ready and pressure conditions turn Unknown ("Kubelet stopped posting node
// status."), and the pods of a node that stopped being ready lose their Ready
// condition (upstream MarkPodsNotReady). Pure functions over the JSON the informers hold.
import { metaTime } from '../../api/time.js'
import type { KubeObject } from '../../client/index.js'

export interface NodeCondition {
  type: string
  status: string
  lastHeartbeatTime?: string
  lastTransitionTime?: string
  reason?: string
  message?: string
}

type Json = Record<string, unknown>

function record(v: unknown): Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {}
}

export function nodeConditions(node: KubeObject): NodeCondition[] {
  const c = record(node.status).conditions
  return Array.isArray(c) ? (c as NodeCondition[]).filter((x) => x !== null && typeof x === 'object') : []
}

export function nodeCondition(node: KubeObject, type: string): NodeCondition | undefined {
  return nodeConditions(node).find((c) => c.type === type)
}

/** The conditions a silent kubelet no longer vouches for; NetworkUnavailable is the network plugin's, left alone. */
export const KUBELET_CONDITIONS = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'] as const

/**
 * The node's conditions with the kubelet's ones Unknown: a condition never posted is
 * added (reason NodeStatusNeverUpdated, heartbeat at the node's creation); one that
 * is not Unknown yet becomes Unknown (reason NodeStatusUnknown) and keeps its last
 * heartbeat, so `kubectl describe node` shows when the kubelet was last heard from.
 */
export function conditionsWithKubeletSilent(node: KubeObject, nowMs: number): NodeCondition[] {
  const now = metaTime(new Date(nowMs))
  const created = node.metadata?.creationTimestamp ?? now
  const out = nodeConditions(node).map((c) => ({ ...c }))
  for (const type of KUBELET_CONDITIONS) {
    const c = out.find((x) => x.type === type)
    if (c === undefined) {
      out.push({
        type,
        status: 'Unknown',
        lastHeartbeatTime: created,
        lastTransitionTime: now,
        reason: 'NodeStatusNeverUpdated',
        message: 'Kubelet never posted node status.',
      })
    } else if (c.status !== 'Unknown') {
      c.status = 'Unknown'
      c.reason = 'NodeStatusUnknown'
      c.message = 'Kubelet stopped posting node status.'
      c.lastTransitionTime = now
    }
  }
  return out
}

export function sameCondition(a: NodeCondition | undefined, b: NodeCondition | undefined): boolean {
  if (a === undefined || b === undefined) return a === b
  return (
    a.type === b.type &&
    a.status === b.status &&
    (a.reason ?? '') === (b.reason ?? '') &&
    (a.message ?? '') === (b.message ?? '') &&
    (a.lastHeartbeatTime ?? '') === (b.lastHeartbeatTime ?? '') &&
    (a.lastTransitionTime ?? '') === (b.lastTransitionTime ?? '')
  )
}

/**
 * The pod's status with its Ready condition False (transition time now), or
 * undefined when it has no Ready condition or it is False already.
 */
export function podStatusNotReady(pod: KubeObject, nowMs: number): Json | undefined {
  const status = record(pod.status)
  const conditions = Array.isArray(status.conditions) ? (status.conditions as Json[]) : []
  const i = conditions.findIndex((c) => record(c).type === 'Ready')
  if (i < 0 || conditions[i]!.status === 'False') return undefined
  const next = [...conditions]
  next[i] = { ...conditions[i], status: 'False', lastTransitionTime: metaTime(new Date(nowMs)) }
  return { ...status, conditions: next }
}

/**
 * The pod's status with the DisruptionTarget condition the taint eviction controller
 * sets before deleting it, or undefined when it is there already.
 */
export function podStatusWithDisruptionTarget(pod: KubeObject, nowMs: number): Json | undefined {
  const status = record(pod.status)
  const conditions = Array.isArray(status.conditions) ? (status.conditions as Json[]) : []
  const want = { type: 'DisruptionTarget', status: 'True', reason: 'DeletionByTaintManager', message: 'Taint manager: deleting due to NoExecute taint' }
  const i = conditions.findIndex((c) => record(c).type === 'DisruptionTarget')
  const old = i < 0 ? undefined : conditions[i]!
  if (old !== undefined && old.status === want.status && old.reason === want.reason && old.message === want.message) return undefined
  const lastTransitionTime = old !== undefined && old.status === want.status ? old.lastTransitionTime : metaTime(new Date(nowMs))
  const cond = { ...want, lastProbeTime: null, lastTransitionTime }
  const next = i < 0 ? [...conditions, cond] : conditions.map((c, j) => (j === i ? cond : c))
  return { ...status, conditions: next }
}
