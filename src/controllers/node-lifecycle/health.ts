// How the node lifecycle controller decides that a kubelet went silent (upstream
// tryUpdateNodeHealth). Two signals count as a heartbeat: the node's Lease in
// kube-node-lease being renewed, and the Ready condition's lastHeartbeatTime
// changing. Each is stamped with the controller's own clock when it is *seen* to
// change, not with the time it carries, so a kubelet whose clock is off is judged
// fairly. With no heartbeat for the grace period the kubelet's conditions turn Unknown.
import type { KubeObject } from '../../client/index.js'
import { conditionsWithKubeletSilent, type NodeCondition, nodeCondition, sameCondition } from './conditions.js'

/** What the controller remembers of one node between passes. */
export interface NodeHealth {
  /** When a heartbeat was last seen (controller clock, ms). */
  probeTimestamp: number
  /** When the Ready condition was last seen to change (controller clock, ms). */
  readyTransitionTimestamp: number
  /** The Ready condition as last seen. */
  ready: NodeCondition | undefined
  /** The Lease's renewTime as last seen (ms), if the node has a Lease. */
  leaseRenewTime: number | undefined
}

export interface HealthPeriods {
  gracePeriodMs: number
  /** For a node whose kubelet never posted a Ready condition. */
  startupGracePeriodMs: number
}

export interface HealthObservation {
  /** What to remember if nothing is written (or the write fails). */
  health: NodeHealth
  /** The Ready condition as the node had it at this pass (a placeholder Unknown one if it had none). */
  observedReady: NodeCondition
  /** The Ready condition as it is after this pass (Unknown if the node went silent). */
  currentReady: NodeCondition | undefined
  /** When the kubelet went silent: the conditions to write and what to remember once written. */
  write?: { conditions: NodeCondition[]; health: NodeHealth }
}

function parseTime(s: unknown): number | undefined {
  if (typeof s !== 'string') return undefined
  const t = Date.parse(s)
  return Number.isFinite(t) ? t : undefined
}

export function leaseRenewTime(lease: KubeObject | undefined): number | undefined {
  return parseTime((lease?.spec as { renewTime?: unknown } | undefined)?.renewTime)
}

export function observeNodeHealth(
  node: KubeObject,
  saved: NodeHealth | undefined,
  lease: KubeObject | undefined,
  nowMs: number,
  periods: HealthPeriods,
): HealthObservation {
  const created = parseTime(node.metadata?.creationTimestamp) ?? nowMs
  const current = nodeCondition(node, 'Ready')
  let health: NodeHealth
  let observedReady: NodeCondition
  let gracePeriodMs: number
  if (current === undefined) {
    // The kubelet never posted status: judge it from the node's creation, with the longer startup grace.
    const createdAt = node.metadata?.creationTimestamp ?? undefined
    observedReady = { type: 'Ready', status: 'Unknown', lastHeartbeatTime: createdAt, lastTransitionTime: createdAt }
    gracePeriodMs = periods.startupGracePeriodMs
    health =
      saved !== undefined ? { ...saved, ready: undefined } : { probeTimestamp: created, readyTransitionTimestamp: created, ready: undefined, leaseRenewTime: undefined }
  } else {
    observedReady = { ...current }
    gracePeriodMs = periods.gracePeriodMs
    if (saved === undefined || saved.ready === undefined) {
      // First sight of this node (or of its Ready condition): assume it was just heard from.
      health = { probeTimestamp: nowMs, readyTransitionTimestamp: nowMs, ready: current, leaseRenewTime: saved?.leaseRenewTime }
    } else if ((saved.ready.lastHeartbeatTime ?? '') !== (current.lastHeartbeatTime ?? '')) {
      const transitioned = (saved.ready.lastTransitionTime ?? '') !== (current.lastTransitionTime ?? '')
      const readyTransitionTimestamp = transitioned ? nowMs : saved.readyTransitionTimestamp
      health = { probeTimestamp: nowMs, readyTransitionTimestamp, ready: current, leaseRenewTime: saved.leaseRenewTime }
    } else {
      health = { ...saved, ready: current }
    }
  }

  // A renewed Lease is a heartbeat even when the kubelet leaves its status alone.
  const renewed = leaseRenewTime(lease)
  if (renewed !== undefined && (health.leaseRenewTime === undefined || health.leaseRenewTime < renewed)) {
    health = { ...health, leaseRenewTime: renewed, probeTimestamp: nowMs }
  }

  if (nowMs <= health.probeTimestamp + gracePeriodMs) return { health, observedReady, currentReady: current }
  const conditions = conditionsWithKubeletSilent(node, nowMs)
  const currentReady = conditions.find((c) => c.type === 'Ready')
  if (sameCondition(currentReady, observedReady)) return { health, observedReady, currentReady }
  return {
    health,
    observedReady,
    currentReady,
    write: { conditions, health: { ...health, ready: currentReady, readyTransitionTimestamp: nowMs } },
  }
}
