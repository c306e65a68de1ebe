// structured-merge-diff's typed operations over our schema tree (src/api/patch-meta.ts):
// the field set an object or applied configuration covers, the comparison of two
// versions of an object, the merge of an applied configuration into a live object, and
// the removal of a set of fields. Values are plain JSON; a walker deduces what the
// schema does not say from the value (an object is a struct, a list is atomic).

import type { FieldSchema, ListNode, MapNode, SchemaNode, StructNode } from '../../api/patch-meta.js'
import { FieldSet, fieldElement, keyElement, pathToString, valueElement, type Path, type PathElement } from './fieldpath.js'
import { isObject, jsonEqual, type Json } from './json.js'

type JsonMap = { [key: string]: Json }

const UNTYPED: SchemaNode = { kind: 'untyped' }
const UNDESCRIBED_STRUCT: StructNode = { kind: 'struct', definition: undefined, atomic: false, field: () => undefined, fieldNames: () => [] }
const UNTYPED_LIST: ListNode = { kind: 'list', relationship: 'atomic', keys: [], keyDefaults: {}, elem: UNTYPED }

type Atom = { kind: 'struct'; node: StructNode } | { kind: 'map'; node: MapNode } | { kind: 'list'; node: ListNode } | { kind: 'scalar' }

// deduceAtom: which of the schema's shapes a value takes. A value of the wrong shape is
// compared and merged as a whole (upstream reports it as a validation error).
function atomOf(node: SchemaNode, value: Json | undefined): Atom {
  if (Array.isArray(value)) {
    if (node.kind === 'list') return { kind: 'list', node }
    return node.kind === 'untyped' ? { kind: 'list', node: UNTYPED_LIST } : { kind: 'scalar' }
  }
  if (isObject(value)) {
    if (node.kind === 'struct' || node.kind === 'map') return node.kind === 'struct' ? { kind: 'struct', node } : { kind: 'map', node }
    return node.kind === 'untyped' ? { kind: 'struct', node: UNDESCRIBED_STRUCT } : { kind: 'scalar' }
  }
  if (value === null || value === undefined) {
    if (node.kind === 'struct') return { kind: 'struct', node }
    if (node.kind === 'map') return { kind: 'map', node }
    if (node.kind === 'list') return { kind: 'list', node }
  }
  return { kind: 'scalar' }
}

// The shape two versions share. A null side takes the other's shape (null is an empty
// struct, map or list); two present values of different shapes are a mismatch.
function atomOfPair(node: SchemaNode, l: Json | undefined, r: Json | undefined): Atom | 'mismatch' {
  const hasL = l !== undefined && l !== null
  const hasR = r !== undefined && r !== null
  if (hasL && hasR) {
    const a = atomOf(node, l)
    const b = atomOf(node, r)
    return a.kind === b.kind ? b : 'mismatch'
  }
  return atomOf(node, hasR ? r : hasL ? l : (r ?? l))
}

function isAtomic(atom: Atom): boolean {
  if (atom.kind === 'list') return atom.node.relationship === 'atomic'
  if (atom.kind === 'struct' || atom.kind === 'map') return atom.node.atomic
  return true
}

function childNode(atom: Atom, key: string): SchemaNode {
  if (atom.kind === 'struct') return atom.node.field(key)?.node ?? UNTYPED
  if (atom.kind === 'map') return atom.node.elem
  return UNTYPED
}

/** A typed-conversion failure, worded as structured-merge-diff's validation errors. */
export class TypedError extends Error {}

/** The path element of an associative list's item (its key fields, or its value in a set). */
export function itemElement(list: ListNode, item: Json): PathElement {
  if (list.keys.length === 0) {
    if (isObject(item)) throw new TypedError("associative list without keys has an element that's a map type")
    if (Array.isArray(item)) throw new TypedError('not supported: associative list with lists as elements')
    if (item === null) throw new TypedError("associative list without keys has an element that's an explicit null")
    return valueElement(item)
  }
  if (item === null) throw new TypedError('associative list with keys may not have a null element')
  if (!isObject(item)) throw new TypedError('associative list with keys may not have non-map elements')
  const fields: [string, Json][] = []
  for (const name of list.keys) {
    const value = (item as JsonMap)[name]
    if (value !== undefined) fields.push([name, value])
    else if (Object.hasOwn(list.keyDefaults, name)) fields.push([name, list.keyDefaults[name] as Json])
    else throw new TypedError(`associative list with keys has an element that omits key field ${JSON.stringify(name)} (and doesn't have default value)`)
  }
  return keyElement(fields)
}

function entriesOf(value: Json | undefined): [string, Json][] {
  return isObject(value) ? Object.entries(value as JsonMap) : []
}

function itemsOf(value: Json | undefined): Json[] {
  return Array.isArray(value) ? value : []
}

/**
 * Checks an applied configuration as ObjectToTyped does: associative-list items need
 * their keys, sets take scalars, and no key may repeat. Returns the errors' messages.
 */
export function validateApplied(value: Json, node: SchemaNode): string[] {
  const errors: string[] = []
  const walk = (v: Json, n: SchemaNode, path: PathElement[]): void => {
    const atom = atomOf(n, v)
    if (atom.kind === 'list') {
      if (atom.node.relationship === 'atomic') return
      const seen = new Set<string>()
      itemsOf(v).forEach((item, i) => {
        let pe: PathElement
        try {
          pe = itemElement(atom.node, item)
        } catch (err) {
          if (!(err instanceof TypedError)) throw err
          errors.push(`${pathToString(path)}: element ${i}: ${err.message}`)
          return
        }
        if (seen.has(pe.id)) errors.push(`${pathToString(path)}: duplicate entries for key ${pathToString([pe]).replace(/^\./, '')}`)
        seen.add(pe.id)
        walk(item, atom.node.elem, [...path, pe])
      })
    } else if ((atom.kind === 'struct' || atom.kind === 'map') && !atom.node.atomic) {
      for (const [k, child] of entriesOf(v)) walk(child, childNode(atom, k), [...path, fieldElement(k)])
    }
  }
  walk(value, node, [])
  return errors
}

/** The fields an object or applied configuration sets (TypedValue.ToFieldSet). */
export function toFieldSet(value: Json, node: SchemaNode): FieldSet {
  const set = new FieldSet()
  const path: PathElement[] = []
  const walk = (v: Json, n: SchemaNode): void => {
    const atom = atomOf(n, v)
    if (atom.kind === 'scalar' || isAtomic(atom)) {
      set.insert(path)
      return
    }
    if (atom.kind === 'list') {
      const items = itemsOf(v)
      const pes = items.map((item) => safeItemElement(atom.node, item))
      const counts = new Map<string, number>()
      for (const pe of pes) if (pe !== undefined) counts.set(pe.id, (counts.get(pe.id) ?? 0) + 1)
      const duplicatesDone = new Set<string>()
      items.forEach((item, i) => {
        const pe = pes[i]
        if (pe === undefined) return
        path.push(pe)
        // A duplicated key is owned as a whole, once.
        if ((counts.get(pe.id) ?? 0) > 1) {
          if (!duplicatesDone.has(pe.id)) set.insert(path)
          duplicatesDone.add(pe.id)
        } else {
          walk(item, atom.node.elem)
          set.insert(path)
        }
        path.pop()
      })
      return
    }
    for (const [k, child] of entriesOf(v)) {
      path.push(fieldElement(k))
      walk(child, childNode(atom, k))
      const emptyObject = isObject(child) && Object.keys(child).length === 0
      if (child === null || emptyObject || atom.kind === 'map') set.insert(path)
      path.pop()
    }
  }
  walk(value, node)
  return set
}

function safeItemElement(list: ListNode, item: Json): PathElement | undefined {
  try {
    return itemElement(list, item)
  } catch (err) {
    if (err instanceof TypedError) return undefined
    throw err
  }
}

export interface Comparison {
  readonly added: FieldSet
  readonly modified: FieldSet
  readonly removed: FieldSet
}

/** What changed between two versions of an object (TypedValue.Compare); undefined = absent. */
export function compareObjects(lhs: Json | undefined, rhs: Json | undefined, node: SchemaNode): Comparison {
  const c = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() }
  const path: PathElement[] = []
  const leaf = (l: Json | undefined, r: Json | undefined): void => {
    if (l === undefined) c.added.insert(path)
    else if (r === undefined) c.removed.insert(path)
    else if (!jsonEqual(l, r)) c.modified.insert(path)
  }
  const walk = (l: Json | undefined, r: Json | undefined, n: SchemaNode): void => {
    const atom = atomOfPair(n, l, r)
    if (atom === 'mismatch' || atom.kind === 'scalar' || isAtomic(atom)) return leaf(l, r)
    if (atom.kind === 'list') {
      if (itemsOf(l).length === 0 && itemsOf(r).length === 0) return leaf(l, r)
      // An unchanged list changes nothing below it; spare keying every item.
      if (l !== undefined && r !== undefined && jsonEqual(l, r)) return
      compareItems(atom.node, itemsOf(l), itemsOf(r))
    } else {
      if (entriesOf(l).length === 0 && entriesOf(r).length === 0) return leaf(l, r)
      const lm = isObject(l) ? (l as JsonMap) : {}
      const rm = isObject(r) ? (r as JsonMap) : {}
      for (const k of new Set([...Object.keys(lm), ...Object.keys(rm)])) {
        path.push(fieldElement(k))
        walk(lm[k], rm[k], childNode(atom, k))
        path.pop()
      }
    }
    if (l === undefined) c.added.insert(path)
    else if (r === undefined) c.removed.insert(path)
  }
  const compareItems = (list: ListNode, l: Json[], r: Json[]): void => {
    const byKey = (items: Json[]): Map<string, { pe: PathElement; values: Json[] }> => {
      const out = new Map<string, { pe: PathElement; values: Json[] }>()
      for (const item of items) {
        const pe = safeItemElement(list, item)
        if (pe === undefined) continue
        const entry = out.get(pe.id)
        if (entry === undefined) out.set(pe.id, { pe, values: [item] })
        else entry.values.push(item)
      }
      return out
    }
    const lk = byKey(l)
    const rk = byKey(r)
    for (const id of new Set([...lk.keys(), ...rk.keys()])) {
      const pe = (lk.get(id) ?? rk.get(id))?.pe as PathElement
      const lv = lk.get(id)?.values ?? []
      const rv = rk.get(id)?.values ?? []
      path.push(pe)
      if (lv.length <= 1 && rv.length <= 1) {
        walk(lv[0], rv[0], list.elem)
      } else if (lv.length >= 2 && rv.length >= 2) {
        if (!jsonEqual(lv, rv)) c.modified.insert(path)
      } else if (lv.length >= 2) {
        if (rv.length !== 0) walk(undefined, rv[0], list.elem)
        c.removed.insert(path)
      } else {
        if (lv.length !== 0) walk(lv[0], undefined, list.elem)
        c.added.insert(path)
      }
      path.pop()
    }
  }
  walk(lhs, rhs, node)
  return c
}

/**
 * Merges an applied configuration into a live object (TypedValue.Merge): the
 * configuration's value wins at every leaf, structs and maps merge key by key,
 * associative lists item by item in an order that keeps both sides' relative order.
 */
export function mergeObjects(lhs: Json | undefined, rhs: Json | undefined, node: SchemaNode): Json | undefined {
  const atom = atomOfPair(node, lhs, rhs)
  if (atom === 'mismatch') return rhs
  const leaf = (): Json | undefined => (rhs !== undefined ? rhs : lhs)
  if (atom.kind === 'scalar' || isAtomic(atom)) return leaf()
  if (atom.kind === 'list') {
    if (itemsOf(lhs).length === 0 && itemsOf(rhs).length === 0) return leaf()
    const out = mergeItems(atom.node, itemsOf(lhs), itemsOf(rhs))
    return out.length > 0 ? out : undefined
  }
  if (entriesOf(lhs).length === 0 && entriesOf(rhs).length === 0) return leaf()
  const lm = isObject(lhs) ? (lhs as JsonMap) : {}
  const rm = isObject(rhs) ? (rhs as JsonMap) : {}
  const out: JsonMap = {}
  for (const k of new Set([...Object.keys(lm), ...Object.keys(rm)])) {
    const merged = mergeObjects(lm[k], rm[k], childNode(atom, k))
    if (merged !== undefined) out[k] = merged
  }
  return Object.keys(out).length > 0 ? out : undefined
}

// visitListItems of the merging walker: live items not in the configuration keep their
// place; the configuration's items come in its order, each shared item where the
// configuration puts it relative to the other shared ones.
function mergeItems(list: ListNode, lhs: Json[], rhs: Json[]): Json[] {
  const rhsPEs = rhs.map((item) => itemElement(list, item))
  const rhsByKey = new Map(rhsPEs.map((pe, i) => [pe.id, rhs[i] as Json]))
  const lhsPEs = lhs.map((item) => itemElement(list, item))
  const lhsByKey = new Map<string, Json>()
  for (let i = 0; i < lhs.length; i++) {
    const id = (lhsPEs[i] as PathElement).id
    lhsByKey.set(id, lhsByKey.has(id) ? null : (lhs[i] as Json))
  }
  const sharedOrder = rhsPEs.filter((pe) => lhsByKey.has(pe.id)).map((pe) => pe.id)
  let nextShared = sharedOrder.shift()
  const emitted = new Set<string>()
  const out: Json[] = []
  const push = (v: Json | undefined): void => {
    if (v !== undefined) out.push(v)
  }
  let l = 0
  let r = 0
  while (l < lhsPEs.length || r < rhsPEs.length) {
    if (l < lhsPEs.length && r < rhsPEs.length) {
      const id = (lhsPEs[l] as PathElement).id
      if (id === (rhsPEs[r] as PathElement).id) {
        emitted.add(id)
        push(mergeObjects(lhsByKey.get(id), rhsByKey.get(id), list.elem))
        l++
        r++
        nextShared = sharedOrder.shift()
        continue
      }
      if (rhsByKey.has(id) && nextShared !== undefined && nextShared !== id) {
        l++
        continue
      }
    }
    if (l < lhsPEs.length) {
      const id = (lhsPEs[l] as PathElement).id
      if (!rhsByKey.has(id)) {
        push(mergeObjects(lhs[l], undefined, list.elem))
        l++
        continue
      } else if (emitted.has(id)) {
        l++
      }
    }
    if (r < rhsPEs.length) {
      const id = (rhsPEs[r] as PathElement).id
      emitted.add(id)
      push(mergeObjects(lhsByKey.get(id), rhsByKey.get(id), list.elem))
      r++
      if (nextShared === id) nextShared = sharedOrder.shift()
    }
  }
  return out
}

/**
 * Removes the fields of `toRemove` from a value (TypedValue.RemoveItems); undefined when
 * nothing is left. A struct emptied this way stays as null, as upstream leaves it (the
 * apply code drops nulls at the end; until then they still count as set).
 */
export function removeFields(value: Json | undefined, toRemove: FieldSet, node: SchemaNode): Json | undefined {
  if (value === undefined) return undefined
  const atom = atomOf(node, value)
  if (atom.kind === 'scalar') return value
  if (isAtomic(atom)) return undefined
  if (atom.kind === 'list') {
    const out: Json[] = []
    for (const item of itemsOf(value)) {
      const pe = safeItemElement(atom.node, item)
      if (pe === undefined) continue
      if (toRemove.hasMember(pe)) continue
      const below = toRemove.withPrefix(pe)
      const kept = below.empty() ? item : removeFields(item, below, atom.node.elem)
      if (kept !== undefined) out.push(kept)
    }
    return out.length > 0 ? out : undefined
  }
  const out: JsonMap = {}
  for (const [k, child] of entriesOf(value)) {
    const pe = fieldElement(k)
    if (toRemove.hasMember(pe)) continue
    const below = toRemove.withPrefix(pe)
    out[k] = below.empty() ? child : (removeFields(child, below, childNode(atom, k)) ?? null)
  }
  return Object.keys(out).length > 0 ? out : undefined
}

/** Adds as members the struct fields that lead to members (EnsureNamedFieldsAreMembers). */
export function ensureNamedFieldsAreMembers(set: FieldSet, node: SchemaNode): FieldSet {
  const out = new FieldSet()
  const walk = (s: FieldSet, n: SchemaNode, prefix: Path): void => {
    for (const pe of s.memberElements()) out.insert([...prefix, pe])
    const named = n.kind === 'struct' || n.kind === 'untyped'
    for (const { pe, set: child } of s.childElements()) {
      if (pe.type === 'f' && named) out.insert([...prefix, pe])
      let childSchema: SchemaNode = UNTYPED
      if (pe.type === 'f') childSchema = n.kind === 'struct' ? (n.field(pe.name)?.node ?? UNTYPED) : n.kind === 'map' ? n.elem : UNTYPED
      else if (n.kind === 'list') childSchema = n.elem
      walk(child, childSchema, [...prefix, pe])
    }
  }
  walk(set, node, [])
  return out
}

/**
 * The object as Go's typed round trip presents it to the field manager: struct fields
 * Go always encodes are present (`{}` for a struct, null for a list, map or pointer).
 * kube-apiserver compares typed objects, so without this a create would record
 * `metadata`, `spec`, `template`... as added and print `.` entries under them.
 */
export function withEmittedFields(value: Json | undefined, node: SchemaNode): Json | undefined {
  if (value === undefined || !hasEmittedFields(node)) return value
  if (Array.isArray(value)) {
    const elem = (node as ListNode).elem
    return value.map((item) => withEmittedFields(item, elem) as Json)
  }
  if (!isObject(value) || (node.kind !== 'struct' && node.kind !== 'map')) return value
  const out: JsonMap = {}
  for (const [k, child] of Object.entries(value as JsonMap)) {
    const childSchema = node.kind === 'struct' ? node.field(k)?.node : node.elem
    out[k] = childSchema === undefined ? child : (withEmittedFields(child, childSchema) as Json)
  }
  if (node.kind === 'struct') {
    for (const field of emittedFieldsOf(node)) {
      if (!Object.hasOwn(out, field.name)) out[field.name] = field.unset === 'empty' ? (withEmittedFields({}, field.node) as Json) : null
    }
  }
  return out
}

const emitted = new WeakMap<StructNode, readonly FieldSchema[]>()
const emitsBelow = new WeakMap<SchemaNode, boolean>()

function emittedFieldsOf(node: StructNode): readonly FieldSchema[] {
  let fields = emitted.get(node)
  if (fields === undefined) {
    fields = node.fieldNames().flatMap((name) => {
      const field = node.field(name)
      return field !== undefined && field.unset !== 'omitted' ? [field] : []
    })
    emitted.set(node, fields)
  }
  return fields
}

// Whether any struct at or below the node has always-encoded fields (most subtrees have
// none, and are then left as they are).
function hasEmittedFields(node: SchemaNode): boolean {
  const known = emitsBelow.get(node)
  if (known !== undefined) return known
  emitsBelow.set(node, false) // a cycle adds nothing
  let result = false
  if (node.kind === 'list' || node.kind === 'map') result = hasEmittedFields(node.elem)
  else if (node.kind === 'struct') {
    result = emittedFieldsOf(node).length > 0 || node.fieldNames().some((name) => {
      const field = node.field(name)
      return field !== undefined && hasEmittedFields(field.node)
    })
  }
  emitsBelow.set(node, result)
  return result
}
