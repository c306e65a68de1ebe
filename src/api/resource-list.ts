// Resource lists (`{cpu: "500m", pods: "3"}`) as the quota and limit-range plugins
// compute with them: apiserver's quota/v1 helpers (Add, Subtract, Mask,
// LessThanOrEqual, ...) over exact quantities.
import { Quantity, tryParseQuantity } from './quantity.js'

export type ResourceList = Map<string, Quantity>

/** A stored resource list; entries that are not quantities are left out. */
export function parseResourceList(v: unknown): ResourceList {
  const out: ResourceList = new Map()
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return out
  for (const [k, raw] of Object.entries(v as Record<string, unknown>)) {
    const q = tryParseQuantity(raw)
    if (q !== undefined) out.set(k, q)
  }
  return out
}

/** The JSON form, keys sorted (Go marshals maps that way). */
export function toJson(list: ResourceList): Record<string, string> {
  const out: Record<string, string> = {}
  for (const k of [...list.keys()].sort()) out[k] = list.get(k)!.toString()
  return out
}

export function resourceNames(list: ResourceList): string[] {
  return [...list.keys()]
}

/** a + b; a resource in only one of them is kept as it is. */
export function add(a: ResourceList, b: ResourceList): ResourceList {
  const out = new Map(a)
  for (const [k, q] of b) {
    const prev = out.get(k)
    out.set(k, prev === undefined ? q : prev.add(q))
  }
  return out
}

/** a - b over a's resources and b's (a missing value counts as zero). */
export function subtract(a: ResourceList, b: ResourceList): ResourceList {
  const out = new Map(a)
  for (const [k, q] of b) {
    const prev = out.get(k)
    out.set(k, prev === undefined ? q.neg() : prev.sub(q))
  }
  return out
}

/** a - b, where a result below zero is zero (quota's SubtractWithNonNegativeResult). */
export function subtractNonNegative(a: ResourceList, b: ResourceList): ResourceList {
  const out: ResourceList = new Map()
  for (const [k, q] of subtract(a, b)) out.set(k, q.sign() < 0 ? Quantity.fromNanos(0n) : q)
  return out
}

/** Only the named resources. */
export function mask(list: ResourceList, names: Iterable<string>): ResourceList {
  const keep = new Set(names)
  const out: ResourceList = new Map()
  for (const [k, q] of list) if (keep.has(k)) out.set(k, q)
  return out
}

/** Whether every resource of `a` that `b` also names is at most b's value; the names that are not. */
export function lessThanOrEqual(a: ResourceList, b: ResourceList): { allowed: boolean; exceeded: string[] } {
  const exceeded: string[] = []
  for (const [k, limit] of b) {
    const v = a.get(k)
    if (v !== undefined && v.cmp(limit) > 0) exceeded.push(k)
  }
  return { allowed: exceeded.length === 0, exceeded }
}

export function isZero(list: ResourceList): boolean {
  for (const q of list.values()) if (!q.isZero()) return false
  return true
}

export function negativeNames(list: ResourceList): string[] {
  return [...list].filter(([, q]) => q.sign() < 0).map(([k]) => k)
}

export function equals(a: ResourceList, b: ResourceList): boolean {
  if (a.size !== b.size) return false
  for (const [k, q] of a) {
    const o = b.get(k)
    if (o === undefined || !o.equal(q)) return false
  }
  return true
}

/** `limits.cpu=2,requests.cpu=1`: sorted by name, as quota's error messages print lists. */
export function prettyPrint(list: ResourceList): string {
  return [...list.keys()]
    .sort()
    .map((k) => `${k}=${list.get(k)!.toString()}`)
    .join(',')
}

/** Each resource of `b` raised into `into` where it is larger (quota's maxResourceList). */
export function maxInto(into: ResourceList, b: ResourceList): void {
  for (const [k, q] of b) {
    const prev = into.get(k)
    if (prev === undefined || q.cmp(prev) > 0) into.set(k, q)
  }
}

/** Adds `b` into `into` in place (addResourceList). */
export function addInto(into: ResourceList, b: ResourceList): void {
  for (const [k, q] of b) {
    const prev = into.get(k)
    into.set(k, prev === undefined ? q : prev.add(q))
  }
}
