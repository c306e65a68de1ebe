// Reading a ResourceQuota: its hard limits (status.hard, which mirrors spec.hard),
// what it has recorded as used, its scopes, and whether an object falls under it
// (apiserver's quota/v1/generic.Matches: the quota names a resource the object's
// evaluator counts, and the object is in every one of its scopes). Shared by quota
// admission and the resource quota controller.
import { rec } from '../json.js'
import { parseResourceList, type ResourceList } from '../resource-list.js'
import type { Evaluator, QuotaObject, ScopeSelector } from './evaluators.js'

export function quotaName(q: QuotaObject): string {
  return String(rec(q.metadata).name ?? '')
}

/** The enforced limits: status.hard, or spec.hard while the status has none yet. */
export function quotaHard(q: QuotaObject): ResourceList {
  const status = rec(q.status)
  return parseResourceList(status.hard !== undefined ? status.hard : rec(q.spec).hard)
}

/** The limits the quota asks for (the controller mirrors them into status.hard). */
export function specHard(q: QuotaObject): ResourceList {
  return parseResourceList(rec(q.spec).hard)
}

export function quotaUsed(q: QuotaObject): ResourceList {
  return parseResourceList(rec(q.status).used)
}

/** spec.scopes (each an Exists requirement) and spec.scopeSelector's expressions. */
export function scopeSelectors(q: QuotaObject): ScopeSelector[] {
  const spec = rec(q.spec)
  const out: ScopeSelector[] = []
  for (const s of Array.isArray(spec.scopes) ? spec.scopes : []) out.push({ scopeName: String(s), operator: 'Exists', values: [] })
  const exprs = rec(spec.scopeSelector).matchExpressions
  for (const e of Array.isArray(exprs) ? exprs.map(rec) : []) {
    out.push({
      scopeName: String(e.scopeName ?? ''),
      operator: String(e.operator ?? ''),
      values: Array.isArray(e.values) ? e.values.map(String) : [],
    })
  }
  return out
}

export function quotaMatches(q: QuotaObject, ev: Evaluator, obj: QuotaObject): boolean {
  if (ev.matchingResources([...quotaHard(q).keys()]).length === 0) return false
  return scopeSelectors(q).every((sel) => ev.matchesScope(sel, obj))
}
