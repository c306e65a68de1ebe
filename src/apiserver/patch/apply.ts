// Server-side apply (`application/apply-patch+yaml`) as kube-apiserver's field manager
// runs it: the body is a full or partial object in YAML or JSON; it is merged into the
// live object (or, when there is none, becomes the new one) and the manager's entry in
// metadata.managedFields becomes exactly the fields it applied. Changing a field another
// manager owns is a 409 Conflict naming the manager and field, unless forced, which
// moves the ownership. Also as upstream:
//   - an object whose fields nobody owns yet gets a "before-first-apply" Update entry
//     for its current fields first;
//   - for the manager `kubectl` (kubectl apply --server-side), conflicts on fields whose
//     value the last-applied-configuration annotation still matches are forced, and an
//     existing annotation is rewritten from the applied configuration.
// Pure: the result is computed from the inputs; nothing is written.

import { parseAllDocuments } from 'yaml'
import type { KubeObject } from '../watch-cache/types.js'
import { PatchError, badRequest, unclassified } from './errors.js'
import { pathToString, type FieldSet } from './fieldpath.js'
import { goJsonMarshal, jsonKindWord } from './go-text.js'
import { cloneJson, isObject, jsonEqual, type Json } from './json.js'
import {
  copyManaged,
  decodeManagedFields,
  encodeManagedFields,
  formatTime,
  managerIdentifier,
  parseIdentifier,
  pathsToSet,
  recordUpdateInto,
  schemaFor,
  stripIdentityFields,
  setManagedFields,
  withoutManagedFields,
  type Managed,
} from './managed-fields.js'
import { compareObjects, toFieldSet, validateApplied } from './typed.js'
import { ConflictError, updaterApply, type UpdaterContext } from './updater.js'

export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration'

export interface ApplyOptions {
  /** The fieldManager parameter (required for apply). */
  readonly manager: string
  readonly force?: boolean
  /** The endpoint's group/version: `apps/v1`. */
  readonly apiVersion: string
  /** The endpoint's kind: `Deployment`. */
  readonly kind: string
  readonly now: Date
  readonly subresource?: string
  /** Fields the strategy resets on this endpoint, e.g. [['status']]; nobody owns them here. */
  readonly resetFields?: readonly (readonly string[])[]
}

export interface ApplyConflict {
  /** Manager as Kubernetes prints it: `"kubectl-client-side-apply" using apps/v1`. */
  readonly manager: string
  /** Field path as Kubernetes prints it: `.spec.replicas`. */
  readonly field: string
}

export type ApplyResult =
  | { readonly object: KubeObject; readonly changed: boolean; readonly conflicts?: undefined; readonly error?: undefined }
  | { readonly object?: undefined; readonly changed?: undefined; readonly conflicts: readonly ApplyConflict[]; readonly error: PatchError }

/** Decodes an apply body (YAML 1.1 or JSON, the first document) to an object, as sigs.k8s.io/yaml does. */
export function decodeApplyBody(body: string | Uint8Array): Record<string, unknown> {
  const text = typeof body === 'string' ? body : new TextDecoder().decode(body)
  let value: unknown = null
  try {
    const docs = parseAllDocuments(text, { version: '1.1', uniqueKeys: false })
    const first = docs[0]
    if (first !== undefined) {
      const error = first.errors[0]
      if (error !== undefined) throw error
      value = first.toJS({ maxAliasCount: 100 })
    }
  } catch (err) {
    const line = (err as { linePos?: { line: number }[] }).linePos?.[0]?.line
    const detail = err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err)
    throw badRequest(`error decoding YAML: error converting YAML to JSON: yaml: ${line !== undefined ? `line ${line}: ` : ''}${detail}`)
  }
  if (value === null || value === undefined) return {}
  if (!isObject(value)) throw badRequest(`error decoding YAML: json: cannot unmarshal ${jsonKindWord(value)} into Go value of type map[string]interface {}`)
  return value
}

// GroupVersionKind.String(): `apps/v1, Kind=Deployment`, `/v1, Kind=Pod` for the core group.
function gvkString(apiVersion: unknown, kind: unknown): string {
  const av = typeof apiVersion === 'string' ? apiVersion : ''
  const parts = av.split('/')
  const [group, version] = parts.length === 2 ? parts : parts.length === 1 ? ['', parts[0]] : ['', '']
  return `${group}/${version}, Kind=${typeof kind === 'string' ? kind : ''}`
}

function metadataOf(obj: Record<string, unknown> | undefined): Record<string, unknown> {
  return isObject(obj?.metadata) ? obj.metadata : {}
}

// What decoding into the Go type leaves: a null field is an unset one. Copies, since
// the merge shares values with the live object and the configuration.
function withoutNulls(v: Json): Json {
  if (Array.isArray(v)) return v.map(withoutNulls)
  if (!isObject(v)) return v
  const out: { [key: string]: Json } = {}
  for (const [k, child] of Object.entries(v as { [key: string]: Json })) if (child !== null) out[k] = withoutNulls(child)
  return out
}

function printManager(identifier: string): string {
  const parts = parseIdentifier(identifier)
  let out = JSON.stringify(parts.manager ?? '')
  if (parts.subresource) out += ` with subresource ${JSON.stringify(parts.subresource)}`
  if (parts.operation === 'Update') out += ` using ${parts.apiVersion ?? ''}`
  return out
}

/** The 409 kube-apiserver answers for apply conflicts (NewConflictError). */
export function conflictError(conflicts: ReadonlyMap<string, FieldSet>): { conflicts: ApplyConflict[]; error: PatchError } {
  const managers = [...conflicts.keys()].sort()
  const list: { id: string; field: string }[] = []
  for (const id of managers) for (const path of (conflicts.get(id) as FieldSet).paths()) list.push({ id, field: pathToString(path) })
  let message: string
  if (list.length === 1) {
    const only = list[0] as { id: string; field: string }
    message = `Apply failed with 1 conflict: conflict with ${printManager(only.id)}: ${only.field}`
  } else {
    const lines: string[] = []
    for (const id of managers) {
      lines.push(`conflicts with ${printManager(id)}:`)
      for (const c of list) if (c.id === id) lines.push(`- ${c.field}`)
    }
    message = `Apply failed with ${list.length} conflicts: ${lines.join('\n')}`
  }
  const causes = list.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with ${printManager(c.id)}`, field: c.field }))
  return {
    conflicts: list.map((c) => ({ manager: printManager(c.id), field: c.field })),
    error: new PatchError(409, 'Conflict', message, { causes }),
  }
}

// lastAppliedManager: the fields whose live value still equals the last-applied one.
function fieldsStillAsLastApplied(ctx: UpdaterContext, live: Record<string, unknown>): FieldSet | undefined {
  const annotations = metadataOf(live).annotations
  const lastApplied = isObject(annotations) ? annotations[LAST_APPLIED_ANNOTATION] : undefined
  if (typeof lastApplied !== 'string' || lastApplied === '') return undefined
  let obj: unknown
  try {
    obj = JSON.parse(lastApplied)
  } catch {
    return undefined
  }
  if (!isObject(obj) || obj.apiVersion !== ctx.version) return undefined
  if (validateApplied(obj as Json, ctx.schema).length > 0) return undefined
  const set = toFieldSet(obj as Json, ctx.schema)
  const c = compareObjects(obj as Json, live as Json, ctx.schema)
  return set.difference(c.modified).difference(c.added).difference(c.removed)
}

function withoutAllowed(conflicts: ReadonlyMap<string, FieldSet>, allowed: FieldSet): Map<string, FieldSet> {
  const out = new Map<string, FieldSet>()
  for (const [id, set] of conflicts) {
    const rest = set.difference(allowed)
    if (!rest.empty()) out.set(id, rest)
  }
  return out
}

function allIn(conflicts: ReadonlyMap<string, FieldSet>, allowed: FieldSet): boolean {
  return [...conflicts.values()].every((set) => set.difference(allowed).empty())
}

// lastAppliedUpdater: the annotation becomes the applied configuration without it.
function setLastApplied(obj: KubeObject, config: Record<string, unknown>): void {
  const configCopy = cloneJson(config)
  const configMeta = metadataOf(configCopy)
  if (isObject(configMeta.annotations)) delete configMeta.annotations[LAST_APPLIED_ANNOTATION]
  const meta = isObject(obj.metadata) ? obj.metadata : {}
  const annotations = isObject(meta.annotations) ? meta.annotations : {}
  annotations[LAST_APPLIED_ANNOTATION] = `${goJsonMarshal(configCopy)}\n`
  meta.annotations = annotations
  obj.metadata = meta
}

function applyOnce(ctx: UpdaterContext, live: Record<string, unknown>, config: Record<string, unknown>, liveManaged: Managed, options: ApplyOptions, force: boolean): { object: Record<string, unknown>; managed: Managed } {
  const managed = copyManaged(liveManaged)
  // skipNonAppliedManager: fields set before anyone applied belong to "before-first-apply".
  if (managed.fields.size === 0) recordUpdateInto(ctx, managed, {}, live as Json, 'before-first-apply', options.now, options.subresource)
  const id = managerIdentifier({ manager: options.manager, operation: 'Apply', subresource: options.subresource })
  const next = updaterApply(ctx, live as Json, config as Json, managed.fields, id, force)
  stripIdentityFields(managed, id)
  if (next === undefined) return { object: cloneJson(live), managed }
  managed.times.set(id, formatTime(options.now))
  return { object: withoutNulls(next) as Record<string, unknown>, managed }
}

/**
 * Applies a configuration (decoded object or YAML/JSON body) to the live object, or
 * to nothing for a create. Returns the new object with its managedFields, or the
 * conflicts and the 409 to answer with. Throws PatchError for other failures.
 */
export function serverSideApply(live: KubeObject | undefined, applied: KubeObject | string | Uint8Array, options: ApplyOptions): ApplyResult {
  if (options.manager === '') {
    throw new PatchError(422, 'Invalid', 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch', {
      causes: [{ reason: 'FieldValueRequired', message: 'Required value: is required for apply patch', field: 'fieldManager' }],
    })
  }
  const config = typeof applied === 'string' || applied instanceof Uint8Array ? decodeApplyBody(applied) : cloneJson(applied)
  if (config.apiVersion !== options.apiVersion || config.kind !== options.kind) {
    throw badRequest(`invalid object type: ${gvkString(config.apiVersion, config.kind)}`)
  }
  if (metadataOf(config).managedFields !== undefined && metadataOf(config).managedFields !== null) {
    throw badRequest('metadata.managedFields must be nil')
  }
  const ctx: UpdaterContext = { schema: schemaFor(options.apiVersion, options.kind), version: options.apiVersion, ignore: pathsToSet(options.resetFields) }
  const problems = validateApplied(config as Json, ctx.schema)
  if (problems.length > 0) {
    const meta = metadataOf(config)
    const where = `${typeof meta.namespace === 'string' ? meta.namespace : ''}/${typeof meta.name === 'string' ? meta.name : ''}; ${gvkString(config.apiVersion, config.kind)}`
    const detail = problems.length === 1 ? problems[0] : `errors:\n  ${problems.join('\n  ')}`
    throw unclassified(`failed to create typed patch object (${where}): ${detail}`)
  }

  // Read only: the result is always a fresh copy.
  const liveObject: Record<string, unknown> = live === undefined ? {} : withoutManagedFields(live)
  let liveManaged: Managed
  try {
    liveManaged = decodeManagedFields(metadataOf(live).managedFields)
  } catch (err) {
    throw unclassified(`failed to decode managed fields: ${err instanceof Error ? err.message : String(err)}`)
  }

  let outcome: { object: Record<string, unknown>; managed: Managed }
  try {
    outcome = applyOnce(ctx, liveObject, config, liveManaged, options, options.force === true)
  } catch (err) {
    if (!(err instanceof ConflictError)) throw err
    let conflicts: ReadonlyMap<string, FieldSet> = err.conflicts
    const allowed = options.manager === 'kubectl' ? fieldsStillAsLastApplied(ctx, liveObject) : undefined
    if (allowed === undefined || !allIn(conflicts, allowed)) {
      if (allowed !== undefined) conflicts = withoutAllowed(conflicts, allowed)
      return conflictError(conflicts)
    }
    outcome = applyOnce(ctx, liveObject, config, liveManaged, options, true)
  }

  const object = outcome.object as KubeObject
  setManagedFields(object, encodeManagedFields(outcome.managed))
  const annotations = metadataOf(object).annotations
  if (options.manager === 'kubectl' && isObject(annotations) && typeof annotations[LAST_APPLIED_ANNOTATION] === 'string' && annotations[LAST_APPLIED_ANNOTATION] !== '') {
    setLastApplied(object, config)
  }
  return { object, changed: live === undefined || !jsonEqual(object as Json, live as Json) }
}
