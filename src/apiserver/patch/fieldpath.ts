// Field paths and sets of them, as structured-merge-diff's fieldpath package defines
// them, with the FieldsV1 encoding of metadata.managedFields:
//
//   f:<name>          a field of a struct or a key of a map
//   k:{"name":"web"}  the item of an associative list with these key field values
//   v:"foo"           the item of a set (list of scalars) with this value
//   i:3               a list item by position
//   .                 the node itself is in the set (it also has children listed)
//
// Keys are written in structured-merge-diff's order (f < k < v < i, then by value), so
// the JSON matches kube-apiserver's byte for byte.

import { formatGoValue, goJsonMarshal, goJsonString } from './go-text.js'
import { cloneJson, isObject, type Json } from './json.js'

export type PathElement =
  | { readonly type: 'f'; readonly id: string; readonly name: string }
  | { readonly type: 'k'; readonly id: string; readonly key: readonly (readonly [string, Json])[] }
  | { readonly type: 'v'; readonly id: string; readonly value: Json }
  | { readonly type: 'i'; readonly id: string; readonly index: number }

export type Path = readonly PathElement[]

export function fieldElement(name: string): PathElement {
  return { type: 'f', id: `f:${name}`, name }
}

/** An associative-list item by its key fields (sorted here by name). */
export function keyElement(fields: readonly (readonly [string, Json])[]): PathElement {
  const key = [...fields].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  const id = `k:{${key.map(([name, value]) => `${goJsonString(name)}:${goJsonMarshal(value)}`).join(',')}}`
  return { type: 'k', id, key }
}

export function valueElement(value: Json): PathElement {
  return { type: 'v', id: `v:${goJsonMarshal(value)}`, value }
}

export function indexElement(index: number): PathElement {
  return { type: 'i', id: `i:${index}`, index }
}

// Every write decodes the object's managedFields again; the same keys come back over
// and over (container names, env names, ports), so parsed elements are kept, boundedly.
const parsed = new Map<string, PathElement>()
const PARSED_MAX = 20000

/** Parses one FieldsV1 key; undefined for a key of an unknown kind (skipped, as upstream does). */
export function parseElement(id: string): PathElement | undefined {
  const known = parsed.get(id)
  if (known !== undefined) return known
  const pe = parseElementUncached(id)
  if (pe !== undefined) {
    if (parsed.size >= PARSED_MAX) parsed.clear()
    parsed.set(id, pe)
  }
  return pe
}

function parseElementUncached(id: string): PathElement | undefined {
  if (id.length < 2 || id[1] !== ':') throw new Error(`missing colon: ${id}`)
  const body = id.slice(2)
  switch (id[0]) {
    case 'f':
      return fieldElement(body)
    case 'v':
      return valueElement(JSON.parse(body) as Json)
    case 'k': {
      const parsed = JSON.parse(body) as unknown
      if (!isObject(parsed)) throw new Error(`invalid key: ${id}`)
      return keyElement(Object.entries(parsed as Record<string, Json>))
    }
    case 'i':
      return indexElement(Number.parseInt(body, 10))
    default:
      return undefined
  }
}

const TYPE_ORDER = { f: 0, k: 1, v: 2, i: 3 } as const

function rank(v: Json): number {
  if (typeof v === 'number') return 0
  if (typeof v === 'string') return 1
  if (typeof v === 'boolean') return 2
  if (Array.isArray(v)) return 3
  if (v !== null) return 4
  return 5
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** structured-merge-diff's total order of values: numbers, strings, bools, lists, maps, null. */
export function compareValues(a: Json, b: Json): number {
  const ra = rank(a)
  const rb = rank(b)
  if (ra !== rb) return ra - rb
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0
  if (typeof a === 'string' && typeof b === 'string') return compareStrings(a, b)
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b)
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const c = compareValues(a[i] ?? null, b[i] ?? null)
      if (c !== 0) return c
    }
    return a.length - b.length
  }
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a).sort()
    const kb = Object.keys(b).sort()
    for (let i = 0; i < Math.min(ka.length, kb.length); i++) {
      const c = compareStrings(ka[i] ?? '', kb[i] ?? '') || compareValues((a as Record<string, Json>)[ka[i] ?? ''] ?? null, (b as Record<string, Json>)[kb[i] ?? ''] ?? null)
      if (c !== 0) return c
    }
    return ka.length - kb.length
  }
  return 0
}

export function compareElements(a: PathElement, b: PathElement): number {
  if (a.type !== b.type) return TYPE_ORDER[a.type] - TYPE_ORDER[b.type]
  if (a.type === 'f' && b.type === 'f') return compareStrings(a.name, b.name)
  if (a.type === 'k' && b.type === 'k') {
    for (let i = 0; i < Math.min(a.key.length, b.key.length); i++) {
      const [na, va] = a.key[i] ?? ['', null]
      const [nb, vb] = b.key[i] ?? ['', null]
      const c = compareStrings(na, nb) || compareValues(va, vb)
      if (c !== 0) return c
    }
    return a.key.length - b.key.length
  }
  if (a.type === 'v' && b.type === 'v') return compareValues(a.value, b.value)
  if (a.type === 'i' && b.type === 'i') return a.index - b.index
  return 0
}

// value.ToString: strings quoted, the rest as fmt prints them.
function valueToString(v: Json): string {
  return typeof v === 'string' ? JSON.stringify(v) : v === null ? 'null' : formatGoValue(v)
}

/** How structured-merge-diff prints an element in a path: `.name`, `[name="web"]`, `[=foo]`, `[3]`. */
export function elementToString(pe: PathElement): string {
  switch (pe.type) {
    case 'f':
      return `.${pe.name}`
    case 'k':
      return `[${pe.key.map(([name, value]) => `${name}=${valueToString(value)}`).join(',')}]`
    case 'v':
      return `[=${valueToString(pe.value)}]`
    case 'i':
      return `[${pe.index}]`
  }
}

export function pathToString(path: Path): string {
  return path.map(elementToString).join('')
}

/** The JSON object of FieldsV1 (metadata.managedFields[].fieldsV1). */
export type FieldsV1 = { [key: string]: FieldsV1 }

/**
 * A set of field paths: the members at this level and, for elements with anything
 * below them, the set of their children. Children sets are never empty.
 */
export class FieldSet {
  readonly #members = new Map<string, PathElement>()
  readonly #children = new Map<string, { readonly pe: PathElement; readonly set: FieldSet }>()
  // The FieldsV1 this set was decoded from, reused while the set is unchanged.
  #encoded: FieldsV1 | undefined

  static of(...paths: Path[]): FieldSet {
    const set = new FieldSet()
    for (const p of paths) set.insert(p)
    return set
  }

  /** Adds a path (its parents are not added) to a set being built. The empty path is the whole object: not tracked. */
  insert(path: Path): void {
    if (path.length === 0) return
    this.#encoded = undefined
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- walks down the tree
    let node: FieldSet = this
    for (let i = 0; i < path.length - 1; i++) {
      const pe = path[i] as PathElement
      let child = node.#children.get(pe.id)
      if (child === undefined) {
        child = { pe, set: new FieldSet() }
        node.#children.set(pe.id, child)
      }
      node = child.set
    }
    const last = path[path.length - 1] as PathElement
    node.#members.set(last.id, last)
  }

  has(path: Path): boolean {
    if (path.length === 0) return false
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- walks down the tree
    let node: FieldSet | undefined = this
    for (let i = 0; i < path.length - 1 && node !== undefined; i++) node = node.#children.get((path[i] as PathElement).id)?.set
    return node !== undefined && node.#members.has((path[path.length - 1] as PathElement).id)
  }

  hasMember(pe: PathElement): boolean {
    return this.#members.has(pe.id)
  }

  /** The paths below `pe`, without it (the set's own node: do not change it). */
  withPrefix(pe: PathElement): FieldSet {
    return this.#children.get(pe.id)?.set ?? new FieldSet()
  }

  empty(): boolean {
    return this.#members.size === 0 && this.#children.size === 0
  }

  memberElements(): PathElement[] {
    return [...this.#members.values()].sort(compareElements)
  }

  childElements(): { pe: PathElement; set: FieldSet }[] {
    return [...this.#children.values()].sort((a, b) => compareElements(a.pe, b.pe))
  }

  // The set operations build new sets that share unchanged subtrees with their
  // operands: sets are not changed once built (only insert changes one, while building).

  union(other: FieldSet): FieldSet {
    if (other.empty()) return this
    if (this.empty()) return other
    const out = new FieldSet()
    for (const [id, pe] of this.#members) out.#members.set(id, pe)
    for (const [id, pe] of other.#members) out.#members.set(id, pe)
    for (const [id, child] of this.#children) out.#children.set(id, child)
    for (const [id, child] of other.#children) {
      const mine = this.#children.get(id)
      out.#children.set(id, mine === undefined ? child : { pe: child.pe, set: mine.set.union(child.set) })
    }
    return out
  }

  intersection(other: FieldSet): FieldSet {
    const out = new FieldSet()
    if (this.empty() || other.empty()) return out
    for (const [id, pe] of this.#members) if (other.#members.has(id)) out.#members.set(id, pe)
    for (const [id, child] of this.#children) {
      const theirs = other.#children.get(id)
      if (theirs === undefined) continue
      const both = child.set.intersection(theirs.set)
      if (!both.empty()) out.#children.set(id, { pe: child.pe, set: both })
    }
    return out
  }

  /** Leaf-wise difference: a parent minus its child stays; a child minus its parent goes only if listed. */
  difference(other: FieldSet): FieldSet {
    if (other.empty() || this.empty()) return this
    const out = new FieldSet()
    for (const [id, pe] of this.#members) if (!other.#members.has(id)) out.#members.set(id, pe)
    for (const [id, child] of this.#children) {
      const theirs = other.#children.get(id)
      if (theirs === undefined) {
        out.#children.set(id, child)
        continue
      }
      const diff = child.set.difference(theirs.set)
      if (!diff.empty()) out.#children.set(id, { pe: child.pe, set: diff })
    }
    return out
  }

  /** Removes every path of `other` and everything below it. */
  recursiveDifference(other: FieldSet): FieldSet {
    if (other.empty() || this.empty()) return this
    const out = new FieldSet()
    for (const [id, pe] of this.#members) if (!other.#members.has(id)) out.#members.set(id, pe)
    for (const [id, child] of this.#children) {
      if (other.#members.has(id)) continue
      const theirs = other.#children.get(id)
      const rest = theirs === undefined ? child.set : child.set.recursiveDifference(theirs.set)
      if (!rest.empty()) out.#children.set(id, { pe: child.pe, set: rest })
    }
    return out
  }

  equals(other: FieldSet): boolean {
    return JSON.stringify(this.toFieldsV1()) === JSON.stringify(other.toFieldsV1())
  }

  /** Every member path, in structured-merge-diff's order (this level's members, then children). */
  paths(): Path[] {
    const out: Path[] = []
    const walk = (set: FieldSet, prefix: Path): void => {
      for (const pe of set.memberElements()) out.push([...prefix, pe])
      for (const { pe, set: child } of set.childElements()) walk(child, [...prefix, pe])
    }
    walk(this, [])
    return out
  }

  copy(): FieldSet {
    const out = new FieldSet()
    for (const [id, pe] of this.#members) out.#members.set(id, pe)
    for (const [id, child] of this.#children) out.#children.set(id, { pe: child.pe, set: child.set.copy() })
    return out
  }

  /** The FieldsV1 object (a new one: callers may keep or change it). */
  toFieldsV1(): FieldsV1 {
    return this.#encoded !== undefined ? cloneJson(this.#encoded) : this.#emit(false)
  }

  #emit(includeSelf: boolean): FieldsV1 {
    const out: FieldsV1 = {}
    if (includeSelf && !this.empty()) out['.'] = {}
    const entries: { pe: PathElement; child: FieldSet | undefined; member: boolean }[] = []
    for (const pe of this.#members.values()) entries.push({ pe, child: this.#children.get(pe.id)?.set, member: true })
    for (const { pe, set } of this.#children.values()) if (!this.#members.has(pe.id)) entries.push({ pe, child: set, member: false })
    entries.sort((a, b) => compareElements(a.pe, b.pe))
    for (const { pe, child, member } of entries) out[pe.id] = child === undefined ? {} : child.#emit(member)
    return out
  }

  static fromFieldsV1(fields: unknown): FieldSet {
    const { set, canonical } = FieldSet.#decode(fields)
    // Kept as given only when it is exactly what toFieldsV1 would write.
    if (canonical && isObject(fields)) set.#encoded = cloneJson(fields as FieldsV1)
    return set
  }

  static #decode(fields: unknown): { set: FieldSet; canonical: boolean } {
    const set = new FieldSet()
    if (!isObject(fields)) return { set, canonical: false }
    let canonical = true
    let previous: PathElement | undefined
    for (const [id, sub] of Object.entries(fields)) {
      if (id === '.') continue
      const pe = parseElement(id)
      if (pe === undefined) {
        canonical = false
        continue
      }
      const grand = FieldSet.#decode(sub)
      // `{}` is a member; `{".": {}, ...}` is a member with children; `{...}` children only.
      const keys = isObject(sub) ? Object.keys(sub) : []
      const isMember = !isObject(sub) || keys.length === 0 || Object.hasOwn(sub, '.')
      if (isMember) set.#members.set(pe.id, pe)
      if (!grand.set.empty()) set.#children.set(pe.id, { pe, set: grand.set })
      const dotFirst = !keys.includes('.') || (keys[0] === '.' && keys.length > 1)
      const inOrder = previous === undefined || compareElements(previous, pe) < 0
      if (!isObject(sub) || pe.id !== id || !dotFirst || (keys.length > 0 && !grand.canonical) || !inOrder) canonical = false
      previous = pe
    }
    return { set, canonical }
  }
}
