// A Job's status as the controller reads and writes it, and its conditions: a
// condition's lastTransitionTime moves only when its status flips, as upstream.
import { metaTime } from '../../api/time.js'

export interface Condition {
  type: string
  status: string
  reason?: string
  message?: string
  lastProbeTime?: string
  lastTransitionTime?: string
}

export interface JobStatus {
  active?: number
  ready?: number
  terminating?: number
  succeeded?: number
  failed?: number
  startTime?: string
  completionTime?: string
  completedIndexes?: string
  uncountedTerminatedPods?: { succeeded?: string[]; failed?: string[] }
  conditions?: Condition[]
  [field: string]: unknown
}

export function conditionTrue(status: JobStatus, type: string): boolean {
  return status.conditions?.some((c) => c.type === type && c.status === 'True') ?? false
}

/** Adds or updates the condition; an unchanged status, reason and message is left as it is. */
export function setCondition(status: JobStatus, c: { type: string; status: string; reason: string; message: string }, now: Date): void {
  const conditions = status.conditions ?? []
  const existing = conditions.find((x) => x.type === c.type)
  const at = metaTime(now)
  if (existing === undefined) {
    conditions.push({ type: c.type, status: c.status, lastProbeTime: at, lastTransitionTime: at, reason: c.reason, message: c.message })
  } else if (existing.status !== c.status || existing.reason !== c.reason || existing.message !== c.message) {
    if (existing.status !== c.status) existing.lastTransitionTime = at
    existing.status = c.status
    existing.reason = c.reason
    existing.message = c.message
    existing.lastProbeTime = at
  }
  status.conditions = conditions
}
