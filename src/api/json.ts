// Reading plain JSON objects (Kubernetes' external v1 shapes as clients send them)
// without trusting their types: every accessor falls back to the Go zero value, as a
// decoded Go struct would hold for a missing field.

export type Json = Record<string, unknown>

export function isRecord(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

/** The object at `v`, or a fresh empty one. */
export function rec(v: unknown): Json {
  return isRecord(v) ? v : {}
}

export function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : []
}

/** The records of an array (non-record items read as empty objects, as Go's zero struct). */
export function recs(v: unknown): Json[] {
  return arr(v).map(rec)
}

export function str(v: unknown): string {
  return typeof v === 'string' ? v : ''
}

export function optStr(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined
}

export function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined
}

export function int(v: unknown, dflt = 0): number {
  return num(v) ?? dflt
}

export function bool(v: unknown): boolean {
  return v === true
}

export function strs(v: unknown): string[] {
  return arr(v).map(str)
}

/** A map[string]string: non-string values read as "". */
export function strMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, val] of Object.entries(rec(v))) out[k] = str(val)
  return out
}

export function has(o: Json, k: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, k) && o[k] !== undefined && o[k] !== null
}

/** The record under `key`, created when missing or not an object. */
export function ensureRecord(parent: Json, key: string): Json {
  const v = parent[key]
  if (isRecord(v)) return v
  const fresh: Json = {}
  parent[key] = fresh
  return fresh
}

/** Sets `key` when it is missing (undefined or null). */
export function setDefault(o: Json, key: string, value: unknown): void {
  if (o[key] === undefined || o[key] === null) o[key] = value
}

// Go's omitempty fields read back as zero values, and the API's semantic equality
// treats nil and empty collections alike: all of these compare as "absent".
function isEmptyish(v: unknown): boolean {
  if (v === undefined || v === null || v === '' || v === false || v === 0) return true
  if (Array.isArray(v)) return v.length === 0
  if (isRecord(v)) return Object.values(v).every(isEmptyish)
  return false
}

/** Equality as apiequality.Semantic.DeepEqual sees decoded objects. */
export function semanticEqual(a: unknown, b: unknown): boolean {
  if (isEmptyish(a) && isEmptyish(b)) return true
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false
    return a.every((x, i) => semanticEqual(x, b[i]))
  }
  if (isRecord(a) || isRecord(b)) {
    if (!isRecord(a) || !isRecord(b)) return false
    const keys = new Set([...Object.keys(a), ...Object.keys(b)])
    for (const k of keys) if (!semanticEqual(a[k], b[k])) return false
    return true
  }
  return a === b
}

export function clone<T>(v: T): T {
  return structuredClone(v)
}
