// When a change to an object means a quota must be recounted now rather than at the
// next full recalculation (upstream's quota monitor with its update filter). Admission
// charges every write that adds usage, so only what gives usage back matters here:
//   - a delete, for every quota counting the object's kind (as upstream replenishQuota);
//   - an update that lowers what a quota counts of the object: a pod reaching Succeeded
//     or Failed, a Service no longer NodePort or LoadBalancer, a claim's allocated
//     storage shrinking, an object leaving one of the quota's scopes. Upstream filters
//     on the first three by kind; comparing the evaluator's usage covers them all.
import type { Evaluator, QuotaObject } from '../../api/quota/evaluators.js'
import { quotaHard, quotaMatches } from '../../api/quota/quota-object.js'
import { mask, type ResourceList } from '../../api/resource-list.js'

/** One update of an object, with its usage before and after (computed once for every quota). */
export interface UsageChange {
  readonly old: QuotaObject
  readonly cur: QuotaObject
  readonly oldUsage: ResourceList
  readonly curUsage: ResourceList
}

export function usageChange(ev: Evaluator, old: QuotaObject, cur: QuotaObject, now: Date): UsageChange {
  return { old, cur, oldUsage: ev.usage(old, now), curUsage: ev.usage(cur, now) }
}

/** The quota counts objects of the evaluator's kind (its status.hard names one of them). */
export function countsKind(quota: QuotaObject, ev: Evaluator): boolean {
  return ev.matchingResources([...quotaHard(quota).keys()]).length > 0
}

/** What the quota counts of an object in one state: nothing outside its scopes. */
function counted(quota: QuotaObject, ev: Evaluator, obj: QuotaObject, usage: ResourceList): ResourceList {
  return quotaMatches(quota, ev, obj) ? mask(usage, quotaHard(quota).keys()) : new Map()
}

/** Whether the update gave back some of what the quota counted of the object. */
export function lowersUsage(quota: QuotaObject, ev: Evaluator, change: UsageChange): boolean {
  if (!countsKind(quota, ev)) return false
  const before = counted(quota, ev, change.old, change.oldUsage)
  if (before.size === 0) return false
  const after = counted(quota, ev, change.cur, change.curUsage)
  for (const [name, q] of before) {
    const now = after.get(name)
    if (now === undefined ? !q.isZero() : now.cmp(q) < 0) return true
  }
  return false
}
