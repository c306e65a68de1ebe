// metadata.managedFields: which manager owns which fields, as kube-apiserver's field
// manager keeps it (k8s.io/apimachinery/pkg/util/managedfields). Every create, update
// and patch is recorded with recordUpdate (operation Update); server-side apply records
// through apply.ts (operation Apply).
//
// An entry is keyed by its manager identifier: manager name, operation, and for Update
// the apiVersion, plus the subresource. Entries are written sorted (Apply before Update,
// then oldest first, then by name), at most 10 Update managers are kept (older ones fold
// into "ancient-changes"), and the fields every object has (apiVersion, kind, name,
// uid, resourceVersion, ...) are never owned.

import { patchMetaFor, type SchemaNode } from '../../api/patch-meta.js'
import type { KubeObject } from '../watch-cache/types.js'
import { FieldSet, fieldElement, type FieldsV1, type Path } from './fieldpath.js'
import { goJsonString } from './go-text.js'
import { isObject, type Json } from './json.js'
import { updaterUpdate, type UpdaterContext } from './updater.js'

export type ManagedFieldsOperation = 'Apply' | 'Update'

/** One metadata.managedFields entry, fields in Kubernetes' order. */
export interface ManagedFieldsEntry {
  manager?: string
  operation?: ManagedFieldsOperation
  apiVersion?: string
  time?: string
  fieldsType?: string
  fieldsV1?: FieldsV1
  subresource?: string
}

export interface VersionedSet {
  readonly set: FieldSet
  readonly apiVersion: string
  /** Owned through Apply (not Update). */
  readonly applied: boolean
}

/** Decoded managed fields: sets and times by manager identifier. */
export interface Managed {
  readonly fields: Map<string, VersionedSet>
  readonly times: Map<string, string | undefined>
}

export function emptyManaged(): Managed {
  return { fields: new Map(), times: new Map() }
}

export function copyManaged(m: Managed): Managed {
  return { fields: new Map(m.fields), times: new Map(m.times) }
}

/** kube-apiserver's DefaultMaxUpdateManagers. */
export const MAX_UPDATE_MANAGERS = 10

const ANCIENT_CHANGES = 'ancient-changes'

/**
 * BuildManagerIdentifier: the entry as JSON without its time and fields (and without
 * apiVersion for Apply, whose ownership does not depend on the version).
 */
export function managerIdentifier(entry: { manager?: string; operation: ManagedFieldsOperation; apiVersion?: string; subresource?: string }): string {
  const parts: string[] = []
  if (entry.manager) parts.push(`"manager":${goJsonString(entry.manager)}`)
  parts.push(`"operation":${goJsonString(entry.operation)}`)
  if (entry.operation === 'Update' && entry.apiVersion) parts.push(`"apiVersion":${goJsonString(entry.apiVersion)}`)
  if (entry.subresource) parts.push(`"subresource":${goJsonString(entry.subresource)}`)
  return `{${parts.join(',')}}`
}

interface IdentifierParts {
  manager?: string
  operation?: ManagedFieldsOperation
  apiVersion?: string
  subresource?: string
}

export function parseIdentifier(identifier: string): IdentifierParts {
  return JSON.parse(identifier) as IdentifierParts
}

/** metav1.Time's encoding: RFC 3339 in UTC, whole seconds. */
export function formatTime(now: Date): string {
  return now.toISOString().replace(/\.\d+Z$/, 'Z')
}

function unixSeconds(time: string | undefined): number {
  if (time === undefined) return 0
  const ms = Date.parse(time)
  return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000)
}

/** DecodeManagedFields; throws on an entry kube-apiserver would not accept. */
export function decodeManagedFields(entries: unknown): Managed {
  const managed = emptyManaged()
  if (entries === undefined || entries === null) return managed
  if (!Array.isArray(entries)) throw new Error('managedFields must be a list')
  entries.forEach((raw: unknown, i) => {
    const e = (isObject(raw) ? raw : {}) as ManagedFieldsEntry
    if (e.operation !== 'Apply' && e.operation !== 'Update') throw new Error('operation must be `Apply` or `Update`')
    if (typeof e.apiVersion !== 'string' || e.apiVersion.length < 1) throw new Error('apiVersion must not be empty')
    if (e.fieldsType === undefined || e.fieldsType === '') throw new Error(`missing fieldsType in managed fields entry ${i}`)
    if (e.fieldsType !== 'FieldsV1') throw new Error(`invalid fieldsType ${JSON.stringify(e.fieldsType)} in managed fields entry ${i}`)
    const id = managerIdentifier({ manager: e.manager, operation: e.operation, apiVersion: e.apiVersion, subresource: e.subresource })
    managed.fields.set(id, { set: FieldSet.fromFieldsV1(e.fieldsV1 ?? {}), apiVersion: e.apiVersion, applied: e.operation === 'Apply' })
    managed.times.set(id, e.time)
  })
  return managed
}

/** EncodeObjectManagedFields: the sorted entries, or undefined when nobody owns anything. */
export function encodeManagedFields(managed: Managed): ManagedFieldsEntry[] | undefined {
  if (managed.fields.size === 0) return undefined
  const entries: ManagedFieldsEntry[] = []
  for (const [id, vs] of managed.fields) {
    const parts = parseIdentifier(id)
    const entry: ManagedFieldsEntry = {}
    if (parts.manager) entry.manager = parts.manager
    entry.operation = vs.applied ? 'Apply' : 'Update'
    entry.apiVersion = vs.apiVersion
    const time = managed.times.get(id)
    if (time !== undefined) entry.time = time
    entry.fieldsType = 'FieldsV1'
    entry.fieldsV1 = vs.set.toFieldsV1()
    if (parts.subresource) entry.subresource = parts.subresource
    entries.push(entry)
  }
  const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)
  return entries.sort(
    (p, q) =>
      cmp(p.operation ?? '', q.operation ?? '') ||
      unixSeconds(p.time) - unixSeconds(q.time) ||
      cmp(p.manager ?? '', q.manager ?? '') ||
      cmp(p.apiVersion ?? '', q.apiVersion ?? '') ||
      cmp(p.subresource ?? '', q.subresource ?? ''),
  )
}

const STRIPPED: FieldSet = FieldSet.of(
  [fieldElement('apiVersion')],
  [fieldElement('kind')],
  [fieldElement('metadata')],
  ...['name', 'namespace', 'creationTimestamp', 'selfLink', 'uid', 'clusterName', 'generation', 'managedFields', 'resourceVersion'].map((f) => [fieldElement('metadata'), fieldElement(f)]),
)

/** stripMetaManager: the applying or updating manager never owns the object's identity fields. */
export function stripIdentityFields(managed: Managed, id: string): void {
  const vs = managed.fields.get(id)
  if (vs === undefined) return
  const set = vs.set.difference(STRIPPED)
  if (set.empty()) managed.fields.delete(id)
  else managed.fields.set(id, { ...vs, set })
}

/** capManagersManager: folds the oldest Update managers beyond the cap into "ancient-changes". */
export function capUpdateManagers(managed: Managed, max = MAX_UPDATE_MANAGERS): void {
  const updaters = [...managed.fields].filter(([, vs]) => !vs.applied).map(([id]) => id)
  if (updaters.length <= max) return
  updaters.sort((a, b) => unixSeconds(managed.times.get(a)) - unixSeconds(managed.times.get(b)) || (a < b ? -1 : a > b ? 1 : 0))
  const firstOfVersion = new Map<string, string>()
  let length = updaters.length
  for (let i = 0; i < updaters.length && length > max; i++) {
    const id = updaters[i] as string
    const vs = managed.fields.get(id) as VersionedSet
    const time = managed.times.get(id)
    const bucket = managerIdentifier({ manager: ANCIENT_CHANGES, operation: 'Update', apiVersion: vs.apiVersion })
    const first = firstOfVersion.get(vs.apiVersion)
    if (first === undefined) {
      firstOfVersion.set(vs.apiVersion, id)
      continue
    }
    if (!managed.fields.has(bucket)) {
      const firstSet = managed.fields.get(first) as VersionedSet
      managed.fields.delete(first)
      managed.fields.set(bucket, firstSet)
    }
    const bucketSet = managed.fields.get(bucket) as VersionedSet
    managed.fields.set(bucket, { set: vs.set.union(bucketSet.set), apiVersion: vs.apiVersion, applied: vs.applied })
    managed.fields.delete(id)
    length--
    managed.times.set(bucket, time)
  }
}

/** Field paths (lists of field names) to a FieldSet, e.g. [['status']] for a resource's reset fields. */
export function pathsToSet(paths: readonly (readonly string[])[] | undefined): FieldSet | undefined {
  if (paths === undefined || paths.length === 0) return undefined
  return FieldSet.of(...paths.map((p): Path => p.map(fieldElement)))
}

/**
 * The reset fields most strategies declare: `status` on the main resource of a kind
 * with a status subresource, `spec` on its /status. Some reset more (the apps/v1
 * workloads also reset metadata.labels on /status); the registry's strategy knows.
 */
export function commonResetFields(resource: { readonly subresources: readonly string[] }, subresource?: string): string[][] {
  if (subresource === 'status') return [['spec']]
  if (subresource === undefined && resource.subresources.includes('status')) return [['status']]
  return []
}

export function schemaFor(apiVersion: string, kind: string | undefined): SchemaNode {
  return patchMetaFor(apiVersion, kind ?? '')?.schema ?? { kind: 'untyped' }
}

export interface RecordOptions {
  /** `status`, `scale`...: the entry records it, and ownership comes from the live object only. */
  readonly subresource?: string
  /**
   * Fields the resource's strategy resets on this endpoint (`[['status']]` for the main
   * resource of a kind with a status subresource): nobody gains or loses them here.
   */
  readonly resetFields?: readonly (readonly string[])[]
  /** Kind of the endpoint; default the new object's kind. */
  readonly kind?: string
}

function isResetRequest(managedFields: unknown): boolean {
  if (!Array.isArray(managedFields)) return false
  if (managedFields.length === 0) return true
  return managedFields.length === 1 && isObject(managedFields[0]) && Object.keys(managedFields[0]).length === 0
}

function decodeOrEmpty(entries: unknown): Managed {
  try {
    return decodeManagedFields(entries)
  } catch {
    return emptyManaged()
  }
}

function metadataOf(obj: KubeObject | undefined): Record<string, unknown> {
  return isObject(obj?.metadata) ? obj.metadata : {}
}

/** The object without metadata.managedFields: a shallow view sharing everything else. */
export function withoutManagedFields(obj: KubeObject): KubeObject {
  if (!isObject(obj.metadata) || !Object.hasOwn(obj.metadata, 'managedFields')) return obj
  const { managedFields: _dropped, ...metadata } = obj.metadata
  return { ...obj, metadata }
}

/** Sets (or, with none, removes) metadata.managedFields on an object the caller owns. */
export function setManagedFields(obj: KubeObject, entries: ManagedFieldsEntry[] | undefined): void {
  const metadata = isObject(obj.metadata) ? obj.metadata : {}
  delete metadata.managedFields
  if (entries !== undefined) metadata.managedFields = entries
  obj.metadata = metadata
}

/**
 * The manager name kube-apiserver records for a write: the fieldManager parameter, or
 * else the User-Agent up to its first slash (`kubectl/v1.32.4 (linux/amd64) ...` → `kubectl`).
 */
export function managerOrUserAgent(fieldManager: string | undefined, userAgent: string | undefined): string {
  if (fieldManager) return fieldManager
  return (userAgent ?? '').split('/')[0] ?? ''
}

/**
 * Records a create (old undefined), update or non-apply patch in metadata.managedFields
 * as operation Update (FieldManager.UpdateNoErrors). `updated` may carry managedFields of
 * its own: valid ones replace the live ones, `[]` clears them. An existing object without
 * managed fields stays untracked. Inputs are not changed; the result is a new object with
 * a new metadata that shares every other value with `updated`.
 */
export function recordUpdate(old: KubeObject | undefined, updated: KubeObject, manager: string, apiVersion: string, now: Date, options: RecordOptions = {}): KubeObject {
  let managed: Managed
  if (options.subresource) {
    managed = decodeOrEmpty(metadataOf(old).managedFields)
  } else {
    const requested = metadataOf(updated).managedFields
    if (isResetRequest(requested)) {
      managed = emptyManaged()
    } else {
      managed = decodeOrEmpty(requested)
      if (managed.fields.size === 0) managed = decodeOrEmpty(metadataOf(old).managedFields)
    }
  }
  const result: KubeObject = { ...updated, metadata: { ...metadataOf(updated) } }
  setManagedFields(result, undefined)
  // skipNonAppliedManager: objects that never had managed fields are not tracked on update.
  if (managed.fields.size === 0 && old !== undefined) return result
  try {
    const ctx: UpdaterContext = { schema: schemaFor(apiVersion, options.kind ?? updated.kind), version: apiVersion, ignore: pathsToSet(options.resetFields) }
    recordUpdateInto(ctx, managed, withoutManagedFields(old ?? {}) as Json, result as Json, manager, now, options.subresource)
    setManagedFields(result, encodeManagedFields(managed))
  } catch {
    // UpdateNoErrors: a failure to track leaves the object untracked, never fails the write.
    setManagedFields(result, undefined)
  }
  return result
}

/**
 * The Update pipeline below the request handling: capManagers ∘ buildManagerInfo ∘
 * managedFieldsUpdater ∘ stripMeta ∘ structured Update. Changes `managed` in place.
 */
export function recordUpdateInto(ctx: UpdaterContext, managed: Managed, old: Json, updated: Json, manager: string, now: Date, subresource: string | undefined): void {
  const id = managerIdentifier({ manager: manager || 'unknown', operation: 'Update', apiVersion: ctx.version, subresource })
  const self = 'current-operation'
  updaterUpdate(ctx, old, updated, managed.fields, self)
  stripIdentityFields(managed, self)
  const vs = managed.fields.get(self)
  if (vs !== undefined) {
    managed.fields.delete(self)
    const previous = managed.fields.get(id)
    managed.fields.set(id, previous === undefined ? vs : { set: vs.set.union(previous.set), apiVersion: vs.apiVersion, applied: vs.applied })
    managed.times.set(id, formatTime(now))
  }
  capUpdateManagers(managed)
}
