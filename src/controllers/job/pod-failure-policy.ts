// spec.podFailurePolicy: the first rule matching a failed pod decides what its failure
// means: FailJob ends the Job at once, Ignore does not count it toward backoffLimit,
// Count (and no matching rule) counts it. Rules match non-zero container exit codes
// (In/NotIn, optionally one container) or pod conditions, as upstream.
import type { KubeObject } from '../../client/index.js'

type Json = Record<string, unknown>

export type FailureAction = 'FailJob' | 'Ignore' | 'Count' | 'FailIndex'

export interface FailureVerdict {
  action: FailureAction
  /** For FailJob: the Failed condition's message, upstream's text. */
  message?: string
}

function recs(v: unknown): Json[] {
  return Array.isArray(v) ? (v.filter((x) => x !== null && typeof x === 'object') as Json[]) : []
}

function matchingExitCode(pod: KubeObject, req: Json): { name: string; code: number } | undefined {
  const status = (pod.status ?? {}) as Json
  const values = Array.isArray(req.values) ? (req.values as number[]) : []
  for (const cs of [...recs(status.initContainerStatuses), ...recs(status.containerStatuses)]) {
    const term = ((cs.state ?? {}) as Json).terminated as Json | undefined
    if (term === undefined || typeof term.exitCode !== 'number' || term.exitCode === 0) continue
    if (typeof req.containerName === 'string' && req.containerName !== cs.name) continue
    const inValues = values.includes(term.exitCode)
    if ((req.operator === 'In' && inValues) || (req.operator === 'NotIn' && !inValues)) return { name: String(cs.name), code: term.exitCode }
  }
  return undefined
}

/** What the policy says of this failed pod; no policy or no matching rule: Count. */
export function judgeFailure(policy: unknown, pod: KubeObject): FailureVerdict {
  const rules = recs((policy as Json | undefined)?.rules)
  const who = `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`
  for (const [i, rule] of rules.entries()) {
    const action = rule.action as FailureAction
    if (rule.onExitCodes !== undefined && rule.onExitCodes !== null) {
      const hit = matchingExitCode(pod, rule.onExitCodes as Json)
      if (hit !== undefined) return { action, message: `Container ${hit.name} for pod ${who} failed with exit code ${hit.code} matching ${action} rule at index ${i}` }
      continue
    }
    const conditions = recs(((pod.status ?? {}) as Json).conditions)
    for (const pattern of recs(rule.onPodConditions)) {
      const want = typeof pattern.status === 'string' ? pattern.status : 'True'
      if (conditions.some((c) => c.type === pattern.type && c.status === want)) {
        return { action, message: `Pod ${who} has condition ${String(pattern.type)} matching ${action} rule at index ${i}` }
      }
    }
  }
  return { action: 'Count' }
}
