// Reading a ResourceQuota: its hard limits (status.hard, which mirrors spec.hard),
// what it has recorded as used, its scopes, and whether an object falls under it
// (apiserver's quota/v1/generic.Matches: the quota names a resource the object's
// evaluator counts, and the object is in every one of its scopes).
import type { KubeObject } from '../watch-cache/types.js'
import type { Evaluator, ScopeSelector } from './quota-evaluators.js'
import { parseResourceList, type ResourceList } from '../../api/resource-list.js'

type Json = Record<string, unknown>

function rec(v: unknown): Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {}
}

export function quotaName(q: KubeObject): string {
  return String(rec(q.metadata).name ?? '')
}

/** The enforced limits: status.hard, or spec.hard while the status has none yet. */
export function quotaHard(q: KubeObject): ResourceList {
  const status = rec(q.status)
  return parseResourceList(status.hard !== undefined ? status.hard : rec(q.spec).hard)
}

export function quotaUsed(q: KubeObject): ResourceList {
  return parseResourceList(rec(q.status).used)
}

/** spec.scopes (each an Exists requirement) and spec.scopeSelector's expressions. */
export function scopeSelectors(q: KubeObject): ScopeSelector[] {
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

export function quotaMatches(q: KubeObject, ev: Evaluator, obj: KubeObject): boolean {
  if (ev.matchingResources([...quotaHard(q).keys()]).length === 0) return false
  return scopeSelectors(q).every((sel) => ev.matchesScope(sel, obj))
}
