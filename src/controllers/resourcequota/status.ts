// What a ResourceQuota's status should say (upstream syncResourceQuota): status.hard
// is spec.hard; status.used holds, for every hard resource, the freshly counted usage,
// or for a resource no evaluator counts the usage recorded before. A status that
// already says that is not written again.
import { rec } from '../../api/json.js'
import type { QuotaObject } from '../../api/quota/evaluators.js'
import { specHard } from '../../api/quota/quota-object.js'
import { countedNames } from '../../api/quota/usage.js'
import { equals, mask, parseResourceList, toJson, type ResourceList } from '../../api/resource-list.js'

export interface QuotaStatus {
  hard: Record<string, string>
  used: Record<string, string>
}

/** The status the quota should have given `counted`, or undefined when it has it already. */
export function nextStatus(quota: QuotaObject, counted: ResourceList): QuotaStatus | undefined {
  const hard = specHard(quota)
  const status = rec(quota.status)
  const recorded = parseResourceList(status.used)
  const used = mask(new Map([...recorded, ...counted]), hard.keys())
  const dirty = status.hard === undefined || status.used === undefined || !equals(hard, parseResourceList(status.hard)) || !equals(used, recorded)
  return dirty ? { hard: toJson(hard), used: toJson(used) } : undefined
}

/**
 * A quota whose status does not reflect its spec yet: hard limits not mirrored, or a
 * countable hard resource without usage. Admission refuses what such a quota covers
 * ("status unknown for quota"), so it goes ahead of routine recalculations (upstream's
 * missingUsageQueue).
 */
export function needsPriority(quota: QuotaObject): boolean {
  const status = rec(quota.status)
  const hard = parseResourceList(status.hard)
  if (!equals(specHard(quota), hard)) return true
  const used = parseResourceList(status.used)
  return countedNames([...hard.keys()].filter((n) => !used.has(n))).length > 0
}
