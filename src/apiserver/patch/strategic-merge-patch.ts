// `application/strategic-merge-patch+json` as kube-apiserver applies it
// (k8s.io/apimachinery/pkg/util/strategicpatch, StrategicMergeMapPatch with the
// server-side options): a JSON merge patch whose lists merge by the field's
// patchMergeKey when its patchStrategy is `merge` (others are replaced), with the
// directives kubectl sends:
//
//   $patch: replace|delete        on a map: replace it / delete it; in a merging list:
//                                 replace the whole list / delete the item with that key
//   $deleteFromPrimitiveList/<f>  values to remove from the primitive list <f>
//   $setElementOrder/<f>          the order the list <f> must end up in
//   $retainKeys                   keys of this map to keep; all others are cleared
//
// Items a merge adds go before the server's own items unless $setElementOrder says
// otherwise, as upstream orders them. Errors carry upstream's messages and codes (400
// for malformed directives, 422 for lists of lists, a bare 500 for the rest, as
// kube-apiserver passes those through unclassified). Kinds without patch metadata (not
// served; kube-apiserver answers 415 for custom resources, see
// supportsStrategicMergePatch) merge as a JSON merge patch would.

import { patchMetaFor, type FieldPatchMeta, type SchemaNode } from '../../api/patch-meta.js'
import type { KubeObject } from '../watch-cache/types.js'
import { PatchError, badRequest, unclassified } from './errors.js'
import { GoSlice } from './go-slice.js'
import { formatGoValue, goTypeName, jsonKindWord, parseJson } from './go-text.js'
import { cloneJson, isObject, type Json } from './json.js'

type JsonMap = { [key: string]: Json }

const DIRECTIVE = '$patch'
const DELETE_FROM_PRIMITIVE_LIST = '$deleteFromPrimitiveList'
const RETAIN_KEYS = '$retainKeys'
const SET_ELEMENT_ORDER = '$setElementOrder'

const UNTYPED: SchemaNode = { kind: 'untyped' }

// Upstream's sentinel errors (mergepatch.Err*) and how the patch handler maps them.
const errPrimitiveListFormat = (): PatchError => badRequest('invalid patch format of primitive list')
const errRetainKeysFormat = (): PatchError => badRequest('invalid patch format of retainKeys')
const errSetElementOrderFormat = (): PatchError => badRequest('invalid patch format of setElementOrder list')
const errListOfLists = (): PatchError => new PatchError(422, 'Invalid', 'the server rejected our request due to an error in our request', {})

function errBadArgType(expected: 'map' | 'slice', actual: unknown): PatchError {
  const want = expected === 'map' ? 'map[string]interface {}' : '[]interface {}'
  return unclassified(`expected a ${want}, but received a ${goTypeName(actual)}`)
}

function errNoMergeKey(m: unknown, key: string): PatchError {
  return unclassified(`map: ${formatGoValue(m)} does not contain declared merge key: ${key}`)
}

// fmt's %s of an interface value: strings as is, anything else flagged.
function goSprintS(v: unknown): string {
  if (typeof v === 'string') return v
  if (v === null || v === undefined) return '%!s(<nil>)'
  return `%!s(${goTypeName(v)}=${formatGoValue(v)})`
}

function errBadPatchType(t: unknown, m: unknown): PatchError {
  return unclassified(`unknown patch type: ${goSprintS(t)} in map: ${formatGoValue(m)}`)
}

interface Child {
  readonly node: SchemaNode
  readonly meta: FieldPatchMeta
}

// LookupPatchMetadataForStruct / ForSlice: the field's metadata and the schema below it.
function childOf(node: SchemaNode, key: string): Child {
  if (node.kind === 'struct') {
    const field = node.field(key)
    if (field !== undefined) return { node: field.node, meta: field.meta }
  } else if (node.kind === 'map') {
    return { node: node.elem, meta: {} }
  }
  return { node: UNTYPED, meta: {} }
}

function elementOf(node: SchemaNode): SchemaNode {
  return node.kind === 'list' ? node.elem : UNTYPED
}

// The strategy other than retainKeys (retainKeys is acted on through the directive).
function listOrMapStrategy(meta: FieldPatchMeta): string {
  const strategies = (meta.patchStrategy ?? '').split(',').filter((s) => s !== '')
  return strategies.find((s) => s !== 'retainKeys') ?? ''
}

// reflect.Kind of a decoded value: values of different kinds never merge. (Go tells
// int64 from float64; JSON numbers here are one kind, which only matters for lists
// mixing 1 and 1.5, rejected upstream and merged here.)
function goKind(v: Json): string {
  if (v === null) return 'nil'
  if (Array.isArray(v)) return 'slice'
  if (typeof v === 'object') return 'map'
  return typeof v
}

function extractKey(key: string, prefix: string): string {
  const slash = key.indexOf('/')
  if (slash === -1 || key.slice(0, slash) !== prefix) {
    throw prefix === DELETE_FROM_PRIMITIVE_LIST ? errPrimitiveListFormat() : errSetElementOrderFormat()
  }
  return key.slice(slash + 1)
}

function hasDirective(v: Json): boolean {
  return isObject(v) && Object.hasOwn(v, DIRECTIVE)
}

/** Drops `$patch` maps (and list items), keeping everything else. */
function removeDirectives(v: Json): { value: Json; keep: boolean } {
  if (Array.isArray(v)) {
    const out: Json[] = []
    for (const item of v) {
      const r = removeDirectives(item)
      if (r.keep) out.push(r.value)
    }
    return { value: out, keep: true }
  }
  if (isObject(v)) {
    if (Object.hasOwn(v, DIRECTIVE)) return { value: null, keep: false }
    const m = v as JsonMap
    for (const [k, child] of Object.entries(m)) {
      const r = removeDirectives(child)
      if (r.keep) m[k] = r.value
      else delete m[k]
    }
    return { value: m, keep: true }
  }
  return { value: v, keep: true }
}

function discardNulls(v: Json): void {
  if (Array.isArray(v)) {
    for (const item of v) discardNulls(item)
  } else if (isObject(v)) {
    const m = v as JsonMap
    for (const [k, child] of Object.entries(m)) {
      if (child === null) delete m[k]
      else discardNulls(child)
    }
  }
}

function setOrDrop(target: JsonMap, key: string, patchValue: Json, discard: boolean): void {
  if (discard) discardNulls(patchValue)
  const r = removeDirectives(patchValue)
  if (r.keep) target[key] = r.value
  else delete target[key]
}

function mergeKeyOf(v: Json, mergeKey: string): Json | undefined {
  return isObject(v) ? (v as JsonMap)[mergeKey] : undefined
}

// Position of an item in a list: by merge key for maps, by value otherwise (Go's ==,
// under which two items lacking the key match).
function indexIn(list: readonly Json[], item: Json, mergeKey: string, kind: string): number {
  if (kind === 'map') {
    const want = mergeKeyOf(item, mergeKey) ?? null
    return list.findIndex((v) => (mergeKeyOf(v, mergeKey) ?? null) === want)
  }
  return list.indexOf(item)
}

function findByMergeKey(list: readonly Json[], mergeKey: string, value: Json): number {
  for (let i = 0; i < list.length; i++) {
    const v = list[i] ?? null
    if (!isObject(v)) throw unclassified(`value for key ${i} is not a map`)
    const m = v as JsonMap
    if (Object.hasOwn(m, mergeKey) && m[mergeKey] === value) return i
  }
  return -1
}

function sliceElementKind(...slices: readonly (readonly Json[])[]): string {
  let kind: string | undefined
  for (const slice of slices) {
    for (const v of slice) {
      const k = goKind(v)
      if (kind === undefined) {
        if (k === 'slice') throw errListOfLists()
        kind = k
      } else if (k !== kind) {
        throw unclassified(`list element types are not identical: ${formatGoValue(slices)}`)
      }
    }
  }
  if (kind === undefined) throw unclassified('no elements in any of the given slices')
  return kind
}

function extractToDeleteItems(list: readonly Json[]): { keep: Json[]; remove: Json[] } {
  const keep: Json[] = []
  const remove: Json[] = []
  for (const v of list) {
    if (!isObject(v)) throw errBadArgType('map', v)
    if ((v as JsonMap)[DIRECTIVE] === 'delete') remove.push(v)
    else keep.push(v)
  }
  return { keep, remove }
}

// Upstream sorts with sort.SliceStable and a "less" that answers true whenever either
// item is missing from `order`; an insertion sort with the same comparator orders
// exactly as Go does in every case that arises.
function sortByOrder(items: Json[], order: readonly Json[], mergeKey: string, kind: string): Json[] {
  const out = [...items]
  const less = (a: Json, b: Json): boolean => {
    const ia = indexIn(order, a, mergeKey, kind)
    const ib = indexIn(order, b, mergeKey, kind)
    return ia >= 0 && ib >= 0 ? ia < ib : true
  }
  for (let i = 1; i < out.length; i++) {
    for (let j = i; j > 0 && less(out[j] ?? null, out[j - 1] ?? null); j--) {
      const tmp = out[j] ?? null
      out[j] = out[j - 1] ?? null
      out[j - 1] = tmp
    }
  }
  return out
}

function normalizeSliceOrder(items: Json[], order: readonly Json[], mergeKey: string, kind: string): Json[] {
  let remove: Json[] = []
  if (kind === 'map') {
    for (const list of [items, order]) {
      for (const v of list) {
        if (!isObject(v)) throw errBadArgType('map', v)
        if (!Object.hasOwn(v, mergeKey)) throw errNoMergeKey(v, mergeKey)
      }
    }
    const split = extractToDeleteItems(items)
    items = split.keep
    remove = split.remove
  }
  return [...sortByOrder(items, order, mergeKey, kind), ...remove]
}

// Interleaves server-only items into the patch's items, keeping each side's order:
// a server item goes first only when both are known to the server and it came first.
function mergeSortedSlice(left: readonly Json[], right: readonly Json[], serverOrder: readonly Json[], mergeKey: string, kind: string): Json[] {
  const out: Json[] = []
  let i = 0
  let j = 0
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++] ?? null)
    else if (j >= right.length) out.push(left[i++] ?? null)
    else {
      const li = indexIn(serverOrder, left[i] ?? null, mergeKey, kind)
      const ri = indexIn(serverOrder, right[j] ?? null, mergeKey, kind)
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++] ?? null)
      else out.push(right[j++] ?? null)
    }
  }
  return out
}

function normalizeElementOrder(patchItems: Json[], serverOnly: Json[], patchOrder: readonly Json[], serverOrder: readonly Json[], mergeKey: string, kind: string): Json[] {
  const sortedPatch = normalizeSliceOrder(patchItems, patchOrder, mergeKey, kind)
  const sortedServer = normalizeSliceOrder(serverOnly, serverOrder, mergeKey, kind)
  return mergeSortedSlice(sortedServer, sortedPatch, serverOrder, mergeKey, kind)
}

function partition(merged: readonly Json[], by: readonly Json[], mergeKey: string): { inPatch: Json[]; serverOnly: Json[] } {
  const inPatch: Json[] = []
  const serverOnly: Json[] = []
  for (const v of merged) {
    let found: boolean
    if (mergeKey === '') {
      found = by.includes(v)
    } else {
      if (!isObject(v)) throw errBadArgType('map', v)
      if (!Object.hasOwn(v, mergeKey)) throw errNoMergeKey(v, mergeKey)
      found = findByMergeKey(by, mergeKey, (v as JsonMap)[mergeKey] ?? null) >= 0
    }
    ;(found ? inPatch : serverOnly).push(v)
  }
  return { inPatch, serverOnly }
}

function mergeSpecialElements(original: GoSlice, patch: readonly Json[], mergeKey: string): { original: GoSlice; patch: Json[] } {
  let rest = GoSlice.decoded([])
  let replace = false
  for (const v of patch) {
    const m = v as JsonMap
    if (!Object.hasOwn(m, DIRECTIVE)) {
      rest = rest.append(v)
      continue
    }
    const directive = m[DIRECTIVE]
    if (directive === 'delete') {
      if (!Object.hasOwn(m, mergeKey)) throw errNoMergeKey(m, mergeKey)
      const key = m[mergeKey] ?? null
      for (let at = findByMergeKey(original.items(), mergeKey, key); at >= 0; at = findByMergeKey(original.items(), mergeKey, key)) {
        original = original.removeAt(at)
      }
    } else if (directive === 'replace') {
      replace = true
    } else if (directive === 'merge') {
      throw unclassified('merging lists cannot yet be specified in the patch')
    } else {
      throw errBadPatchType(directive, m)
    }
  }
  return replace ? { original: rest, patch: [] } : { original, patch: rest.items() }
}

// Upstream's "clever" in-place deduplication, whose writes can reach the original list.
function deduplicateScalars(s: GoSlice): GoSlice {
  let last = s.length - 1
  for (let i = 0; i < last; i++) {
    for (let j = i + 1; j <= last; j++) {
      if (s.at(i) === s.at(j)) {
        s.set(j, s.at(last))
        s = s.truncate(last)
        last--
        j--
      }
    }
  }
  return s
}

// Merges `patch` into the list `original`, writing through its backing array as upstream
// does (see go-slice.ts); the caller may read `original` afterwards.
function mergeSlice(original: GoSlice, patch: Json[], elem: SchemaNode, mergeKey: string, isDeleteList: boolean): Json[] {
  if (original.length === 0 && patch.length === 0) return original.items()
  const kind = sliceElementKind(original.items(), patch)
  let merged: Json[]
  if (kind !== 'map') {
    if (isDeleteList) return original.items().filter((v) => !patch.includes(v))
    merged = deduplicateScalars(original.append(...patch)).items()
  } else {
    if (mergeKey === '') throw unclassified('cannot merge lists without merge key for struct')
    const special = mergeSpecialElements(original, patch, mergeKey)
    original = special.original
    patch = special.patch
    let into = original
    for (const item of patch) {
      const m = item as JsonMap
      if (!Object.hasOwn(m, mergeKey)) throw errNoMergeKey(m, mergeKey)
      const at = findByMergeKey(into.items(), mergeKey, m[mergeKey] ?? null)
      if (at >= 0) into.set(at, mergeMap(into.at(at) as JsonMap, m, elem))
      else into = into.append(item)
    }
    merged = into.items()
  }
  const { inPatch, serverOnly } = partition(merged, patch, kind === 'map' ? mergeKey : '')
  return normalizeElementOrder(inPatch, serverOnly, patch, original.items(), kind === 'map' ? mergeKey : '', kind)
}

function mergeSliceField(original: GoSlice, patch: Json[], child: Child, isDeleteList: boolean): Json[] {
  if (listOrMapStrategy(child.meta) === 'merge' || isDeleteList) {
    return mergeSlice(original, patch, elementOf(child.node), child.meta.patchMergeKey ?? '', isDeleteList)
  }
  return patch
}

function applyRetainKeys(original: JsonMap, patch: JsonMap): void {
  if (!Object.hasOwn(patch, RETAIN_KEYS)) return
  const list = patch[RETAIN_KEYS]
  delete patch[RETAIN_KEYS]
  if (!Array.isArray(list)) throw errRetainKeysFormat()
  const retained = new Set<Json>(list)
  for (const [k, v] of Object.entries(patch)) {
    if (v === null || k.startsWith(DELETE_FROM_PRIMITIVE_LIST) || k.startsWith(SET_ELEMENT_ORDER)) continue
    if (!retained.has(k)) throw errRetainKeysFormat()
  }
  for (const k of Object.keys(original)) if (!retained.has(k)) delete original[k]
}

function validateAgainstOrder(patchList: readonly Json[], order: readonly Json[], mergeKey: string): void {
  if (order.length === 0 || patchList.length === 0) return
  const items = mergeKey !== '' ? extractToDeleteItems(patchList).keep : patchList
  const sameItem = (a: Json, b: Json): boolean => {
    if (mergeKey === '') return a === b
    for (const v of [a, b]) {
      if (!isObject(v)) throw errBadArgType('map', v)
      if (!Object.hasOwn(v, mergeKey)) throw errNoMergeKey(v, mergeKey)
    }
    return (a as JsonMap)[mergeKey] === (b as JsonMap)[mergeKey]
  }
  let p = 0
  let s = 0
  while (p < items.length && s < order.length) {
    if (hasDirective(items[p] ?? null)) {
      p++
      continue
    }
    if (sameItem(items[p] ?? null, order[s] ?? null)) p++
    s++
  }
  if (p < items.length && s >= order.length) {
    throw unclassified(`The order in patch list:\n${formatGoValue(patchList)}\n doesn't match ${SET_ELEMENT_ORDER} list:\n${formatGoValue(order)}\n`)
  }
}

// Processes every $setElementOrder/<f> with its list <f>, removing both from the patch.
function mergeWithElementOrder(original: JsonMap, patch: JsonMap, schema: SchemaNode): void {
  for (const key of Object.keys(patch)) {
    if (!key.startsWith(SET_ELEMENT_ORDER)) continue
    const order = patch[key] ?? null
    delete patch[key]
    if (!Array.isArray(order)) throw errBadArgType('slice', order)
    const field = extractKey(key, SET_ELEMENT_ORDER)
    const foundOriginal = Object.hasOwn(original, field)
    const foundPatch = Object.hasOwn(patch, field)
    const originalValue = foundOriginal ? (original[field] ?? null) : []
    const patchValue = foundPatch ? (patch[field] ?? null) : []
    if (!Array.isArray(originalValue)) throw errBadArgType('slice', originalValue)
    if (!Array.isArray(patchValue)) throw errBadArgType('slice', patchValue)
    const child = childOf(schema, field)
    const mergeKey = child.meta.patchMergeKey ?? ''
    validateAgainstOrder(patchValue, order, mergeKey)
    const originalSlice = GoSlice.decoded(originalValue)
    let merged: Json[]
    if (foundOriginal && !foundPatch) merged = originalValue
    else if (!foundOriginal && foundPatch) merged = removeDirectives(patchValue).value as Json[]
    else if (foundOriginal && foundPatch) merged = mergeSliceField(originalSlice, patchValue, child, false)
    else continue
    const { inPatch, serverOnly } = partition(merged, order, mergeKey)
    const serverOrder = originalSlice.items()
    const kind = sliceElementKind(serverOrder, patchValue)
    original[field] = normalizeElementOrder(inPatch, serverOnly, order, serverOrder, mergeKey, kind)
    delete patch[field]
  }
}

/**
 * Merges `patch` into `original`, both owned by the caller and changed in place
 * (upstream's mergeMap with MergeParallelList and IgnoreUnmatchedNulls).
 */
function mergeMap(original: JsonMap | undefined, patch: JsonMap, schema: SchemaNode): JsonMap {
  if (Object.hasOwn(patch, DIRECTIVE)) {
    const directive = patch[DIRECTIVE]
    if (directive === 'replace') {
      delete patch[DIRECTIVE]
      return patch
    }
    if (directive === 'delete') return {}
    throw errBadPatchType(directive, patch)
  }
  const out = original ?? {}
  applyRetainKeys(out, patch)
  mergeWithElementOrder(out, patch, schema)
  for (const [rawKey, patchValue] of Object.entries(patch)) {
    let key = rawKey
    const isDeleteList = rawKey.startsWith(DELETE_FROM_PRIMITIVE_LIST)
    if (isDeleteList) key = extractKey(rawKey, DELETE_FROM_PRIMITIVE_LIST)
    if (patchValue === null) {
      delete out[key]
      continue
    }
    if (!Object.hasOwn(out, key)) {
      if (!isDeleteList) setOrDrop(out, key, patchValue, true)
      continue
    }
    const originalValue = out[key] ?? null
    if (goKind(originalValue) !== goKind(patchValue)) {
      if (!isDeleteList) setOrDrop(out, key, patchValue, true)
      continue
    }
    const child = childOf(schema, key)
    if (isObject(originalValue)) {
      out[key] = listOrMapStrategy(child.meta) === 'replace' ? patchValue : mergeMap(originalValue as JsonMap, patchValue as JsonMap, child.node)
    } else if (Array.isArray(originalValue)) {
      out[key] = mergeSliceField(GoSlice.decoded(originalValue), patchValue as Json[], child, isDeleteList)
    } else {
      setOrDrop(out, key, patchValue, false)
    }
  }
  return out
}

const DIRECTIVE_KEY = /^\$(patch$|retainKeys$|setElementOrder\/|deleteFromPrimitiveList\/)/

// What decoding the merged map into the Go type leaves: directives and nulls that
// passed through unmerged (a replaced list, a new list item) are gone. In place.
function dropDirectivesAndNulls(v: Json): void {
  if (Array.isArray(v)) {
    for (const item of v) dropDirectivesAndNulls(item)
  } else if (isObject(v)) {
    const m = v as JsonMap
    for (const [k, child] of Object.entries(m)) {
      if (child === null || DIRECTIVE_KEY.test(k)) delete m[k]
      else dropDirectivesAndNulls(child)
    }
  }
}

/** Parses a strategic merge patch body as kube-apiserver does (400 with encoding/json's message). */
export function decodeStrategicMergePatch(body: string | Uint8Array): JsonMap {
  const parsed = parseJson(body)
  if (!parsed.ok) throw badRequest(parsed.message)
  const patch = parsed.value
  if (patch === null) return {}
  if (!isObject(patch)) throw badRequest(`json: cannot unmarshal ${jsonKindWord(patch)} into Go value of type map[string]interface {}`)
  return patch as JsonMap
}

/**
 * Applies a decoded strategic merge patch to a value with the given schema. Neither
 * input is changed; the result shares nothing with them.
 */
export function strategicMergeValue(original: Readonly<Record<string, unknown>>, patch: Readonly<Record<string, unknown>>, schema: SchemaNode): Record<string, unknown> {
  const merged = mergeMap(cloneJson(original) as JsonMap, cloneJson(patch) as JsonMap, schema)
  dropDirectivesAndNulls(merged)
  return merged
}

/**
 * Applies a strategic merge patch body to `current` (not mutated), using the patch
 * metadata of the endpoint's kind (default: the object's own apiVersion and kind).
 * Throws PatchError with kube-apiserver's status on bad patches.
 */
export function applyStrategicMergePatch(current: KubeObject, body: string | Uint8Array, kind?: { apiVersion: string; kind: string }): KubeObject {
  const patch = decodeStrategicMergePatch(body)
  const apiVersion = kind?.apiVersion ?? current.apiVersion ?? ''
  const schema = patchMetaFor(apiVersion, kind?.kind ?? current.kind ?? '')?.schema ?? UNTYPED
  return strategicMergeValue(current, patch, schema) as KubeObject
}
