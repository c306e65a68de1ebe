// Counting a quota's usage from the objects of its namespace (apiserver's
// quota/v1.CalculateUsage with generic.CalculateUsageStats): every hard resource an
// evaluator can count starts at zero, and each object that falls in all of the
// quota's scopes adds its usage. The caller supplies the objects (the controller
// from its informers), so this stays pure and is tested without a server.
import { rec } from '../json.js'
import { Quantity } from '../quantity.js'
import { addInto, mask, type ResourceList } from '../resource-list.js'
import { allEvaluators, type Evaluator, type QuotaObject } from './evaluators.js'
import { scopeSelectors, specHard } from './quota-object.js'

/** The evaluators that count at least one of `names`, each with the names it counts. */
export function evaluatorsCounting(names: readonly string[], evaluators: readonly Evaluator[] = allEvaluators()): { ev: Evaluator; names: string[] }[] {
  const out: { ev: Evaluator; names: string[] }[] = []
  for (const ev of evaluators) {
    const matched = ev.matchingResources(names)
    if (matched.length > 0) out.push({ ev, names: matched })
  }
  return out
}

/** Of `names`, the ones some evaluator counts (the others keep whatever usage was recorded). */
export function countedNames(names: readonly string[], evaluators: readonly Evaluator[] = allEvaluators()): string[] {
  const counted = new Set(evaluatorsCounting(names, evaluators).flatMap((e) => e.names))
  return names.filter((n) => counted.has(n))
}

function objectKey(o: QuotaObject): string {
  const m = rec(o.metadata)
  return `${String(m.namespace ?? '')}/${String(m.name ?? '')}`
}

/**
 * What the objects use of the quota's spec.hard resources under its scopes.
 * `objectsOf(ev)`: the objects of the evaluator's resource in the quota's namespace.
 * Objects are summed in name order, so the first one sets a sum's format as the same
 * objects listed from storage would.
 */
export function calculateUsage(quota: QuotaObject, objectsOf: (ev: Evaluator) => readonly QuotaObject[], now: Date, evaluators: readonly Evaluator[] = allEvaluators()): ResourceList {
  const names = [...specHard(quota).keys()]
  const scopes = scopeSelectors(quota)
  const total: ResourceList = new Map()
  for (const { ev, names: matched } of evaluatorsCounting(names, evaluators)) {
    for (const n of matched) if (!total.has(n)) total.set(n, Quantity.fromValue(0))
    const items = [...objectsOf(ev)].sort((a, b) => (objectKey(a) < objectKey(b) ? -1 : objectKey(a) > objectKey(b) ? 1 : 0))
    for (const o of items) {
      if (scopes.every((sel) => ev.matchesScope(sel, o))) addInto(total, mask(ev.usage(o, now), matched))
    }
  }
  return total
}
