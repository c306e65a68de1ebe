// ObjectMeta, labels, annotations and label selectors: apimachinery's api/validation
// and meta/v1/validation, with the core group's finalizer rule on top.
import { arr, isRecord, num, rec, recs, str, type Json } from '../json.js'
import { child, fieldErrors as fe, index, type FieldError } from './errors.js'
import { goQuote, goStringSlice, GoText } from './go-format.js'
import { byteLength, isQualifiedName, isValidLabelValue, nameIsDNSLabel, type NameValidator } from './names.js'

export const FIELD_IMMUTABLE = 'field is immutable'
export const IS_NEGATIVE = 'must be greater than or equal to 0'
export const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024

export function validateNonnegative(value: number | undefined, path: string): FieldError[] {
  return value !== undefined && value < 0 ? [fe.invalid(path, value, IS_NEGATIVE)] : []
}

/** ValidateImmutableField over decoded JSON (semantic equality is the caller's). */
export function immutable(equal: boolean, newValue: unknown, path: string): FieldError[] {
  return equal ? [] : [fe.invalid(path, newValue, FIELD_IMMUTABLE)]
}

export function validateQualifiedName(value: string, path: string): FieldError[] {
  return isQualifiedName(value).map((m) => fe.invalid(path, value, m))
}

export function validateLabelName(name: string, path: string): FieldError[] {
  return isQualifiedName(name).map((m) => fe.invalid(path, name, m))
}

/** ValidateLabels: every key a qualified name, every value a label value. */
export function validateLabels(labels: unknown, path: string): FieldError[] {
  const errs: FieldError[] = []
  if (labels === undefined || labels === null) return errs
  if (!isRecord(labels)) return [fe.typeInvalid(path, labels, 'must be a map of string keys to string values')]
  for (const [k, v] of Object.entries(labels)) {
    errs.push(...validateLabelName(k, path))
    if (typeof v !== 'string') {
      errs.push(fe.typeInvalid(path, v, `value of ${goQuote(k)} must be a string`))
      continue
    }
    for (const m of isValidLabelValue(v)) errs.push(fe.invalid(path, v, m))
  }
  return errs
}

export function validateAnnotations(annotations: unknown, path: string): FieldError[] {
  const errs: FieldError[] = []
  if (annotations === undefined || annotations === null) return errs
  if (!isRecord(annotations)) return [fe.typeInvalid(path, annotations, 'must be a map of string keys to string values')]
  let total = 0
  for (const [k, v] of Object.entries(annotations)) {
    for (const m of isQualifiedName(k.toLowerCase())) errs.push(fe.invalid(path, k, m))
    if (typeof v !== 'string') errs.push(fe.typeInvalid(path, v, `value of ${goQuote(k)} must be a string`))
    total += byteLength(k) + byteLength(str(v))
  }
  if (total > TOTAL_ANNOTATION_SIZE_LIMIT) errs.push(fe.tooLong(path, TOTAL_ANNOTATION_SIZE_LIMIT))
  return errs
}

export interface LabelSelectorOptions {
  allowInvalidLabelValueInSelector?: boolean
}

/** ValidateLabelSelector (nothing to check for a missing selector). */
export function validateLabelSelector(selector: unknown, path: string, opts: LabelSelectorOptions = {}): FieldError[] {
  if (selector === undefined || selector === null) return []
  const ps = rec(selector)
  const errs = validateLabels(ps.matchLabels, child(path, 'matchLabels'))
  recs(ps.matchExpressions).forEach((expr, i) => {
    const p = index(child(path, 'matchExpressions'), i)
    const values = arr(expr.values)
    switch (str(expr.operator)) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) errs.push(fe.required(child(p, 'values'), "must be specified when `operator` is 'In' or 'NotIn'"))
        break
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0) errs.push(fe.forbidden(child(p, 'values'), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
        break
      default:
        errs.push(fe.invalid(child(p, 'operator'), str(expr.operator), 'not a valid selector operator'))
    }
    errs.push(...validateLabelName(str(expr.key), child(p, 'key')))
    if (!opts.allowInvalidLabelValueInSelector) {
      values.forEach((v, vi) => {
        for (const m of isValidLabelValue(str(v))) errs.push(fe.invalid(index(child(p, 'values'), vi), str(v), m))
      })
    }
  })
  return errs
}

// ---- owner references and finalizers

function ownerReferenceText(ref: Json): string {
  const ptrBool = (v: unknown): string => (typeof v === 'boolean' ? `(*bool)(${v})` : '(*bool)(nil)')
  return (
    `v1.OwnerReference{APIVersion:${goQuote(str(ref.apiVersion))}, Kind:${goQuote(str(ref.kind))}, Name:${goQuote(str(ref.name))}, ` +
    `UID:${goQuote(str(ref.uid))}, Controller:${ptrBool(ref.controller)}, BlockOwnerDeletion:${ptrBool(ref.blockOwnerDeletion)}}`
  )
}

// schema.ParseGroupVersion: "", "v1", "group/version"; anything else is an error.
function parseGroupVersion(apiVersion: string): { group: string; version: string } | undefined {
  if (apiVersion === '') return { group: '', version: '' }
  const parts = apiVersion.split('/')
  if (parts.length === 1) return apiVersion === 'v1' ? { group: '', version: 'v1' } : { group: '', version: apiVersion }
  if (parts.length === 2) return { group: parts[0], version: parts[1] }
  return undefined
}

export function validateOwnerReferences(refs: unknown, path: string): FieldError[] {
  const errs: FieldError[] = []
  let firstController = ''
  for (const ref of recs(refs)) {
    const gv = parseGroupVersion(str(ref.apiVersion)) ?? { group: '', version: '' }
    if (gv.version === '') errs.push(fe.invalid(child(path, 'apiVersion'), str(ref.apiVersion), 'version must not be empty'))
    if (str(ref.kind) === '') errs.push(fe.invalid(child(path, 'kind'), str(ref.kind), 'kind must not be empty'))
    if (str(ref.name) === '') errs.push(fe.invalid(child(path, 'name'), str(ref.name), 'name must not be empty'))
    if (str(ref.uid) === '') errs.push(fe.invalid(child(path, 'uid'), str(ref.uid), 'uid must not be empty'))
    if (gv.group === '' && gv.version === 'v1' && str(ref.kind) === 'Event') {
      errs.push(fe.invalid(path, new GoText(ownerReferenceText(ref)), '/v1, Kind=Event is disallowed from being an owner'))
    }
    if (ref.controller === true) {
      const name = `${str(ref.kind)}/${str(ref.name)}`
      if (firstController !== '') {
        const all = new GoText(`[]v1.OwnerReference{${recs(refs).map(ownerReferenceText).join(', ')}}`)
        errs.push(fe.invalid(path, all, `Only one reference can have Controller set to true. Found "true" in references for ${firstController} and ${name}`))
      } else {
        firstController = name
      }
    }
  }
  return errs
}

const STANDARD_FINALIZERS = new Set(['kubernetes', 'orphan', 'foregroundDeletion'])

export function validateFinalizers(finalizers: unknown, path: string): FieldError[] {
  const list = arr(finalizers).map(str)
  const errs: FieldError[] = []
  for (const f of list) errs.push(...validateQualifiedName(f, path))
  if (list.includes('orphan') && list.includes('foregroundDeletion')) {
    errs.push(fe.invalid(path, goStringSlice(list), 'finalizer orphan and foregroundDeletion cannot be both set'))
  }
  return errs
}

/** The core group's extra rule: a finalizer without a '/' must be a standard one. */
export function validateKubeFinalizerName(name: string, path: string): FieldError[] {
  if (name.split('/').length === 1 && !STANDARD_FINALIZERS.has(name)) {
    return [fe.invalid(path, name, 'name is neither a standard finalizer name nor is it fully qualified')]
  }
  return []
}

function validateManagedFields(entries: unknown, path: string): FieldError[] {
  const errs: FieldError[] = []
  recs(entries).forEach((e, i) => {
    const p = index(path, i)
    const op = str(e.operation)
    if (op !== 'Apply' && op !== 'Update') errs.push(fe.invalid(child(p, 'operation'), op, 'must be `Apply` or `Update`'))
    const ft = str(e.fieldsType)
    if (ft !== '' && ft !== 'FieldsV1') errs.push(fe.invalid(child(p, 'fieldsType'), ft, 'must be `FieldsV1`'))
  })
  return errs
}

// ---- ObjectMeta

/**
 * apimachinery's ValidateObjectMeta: name (with `nameFn`), generateName, namespace,
 * generation, labels, annotations, owner references, finalizers, managed fields.
 */
export function validateGenericObjectMeta(metadata: unknown, requiresNamespace: boolean, nameFn: NameValidator, path = 'metadata'): FieldError[] {
  const m = rec(metadata)
  const errs: FieldError[] = []
  const generateName = str(m.generateName)
  if (generateName !== '') for (const msg of nameFn(generateName, true)) errs.push(fe.invalid(child(path, 'generateName'), generateName, msg))
  const name = str(m.name)
  if (name === '') errs.push(fe.required(child(path, 'name'), 'name or generateName is required'))
  else for (const msg of nameFn(name, false)) errs.push(fe.invalid(child(path, 'name'), name, msg))
  const namespace = str(m.namespace)
  if (requiresNamespace) {
    if (namespace === '') errs.push(fe.required(child(path, 'namespace'), ''))
    else for (const msg of nameIsDNSLabel(namespace, false)) errs.push(fe.invalid(child(path, 'namespace'), namespace, msg))
  } else if (namespace !== '') {
    errs.push(fe.forbidden(child(path, 'namespace'), 'not allowed on this type'))
  }
  errs.push(...validateNonnegative(num(m.generation), child(path, 'generation')))
  errs.push(...validateLabels(m.labels, child(path, 'labels')))
  errs.push(...validateAnnotations(m.annotations, child(path, 'annotations')))
  errs.push(...validateOwnerReferences(m.ownerReferences, child(path, 'ownerReferences')))
  errs.push(...validateFinalizers(m.finalizers, child(path, 'finalizers')))
  errs.push(...validateManagedFields(m.managedFields, child(path, 'managedFields')))
  return errs
}

/** ValidateObjectMeta as every API group calls it: the generic checks plus the finalizer-name rule. */
export function validateObjectMeta(metadata: unknown, requiresNamespace: boolean, nameFn: NameValidator, path = 'metadata'): FieldError[] {
  const errs = validateGenericObjectMeta(metadata, requiresNamespace, nameFn, path)
  arr(rec(metadata).finalizers).forEach((f, i) => errs.push(...validateKubeFinalizerName(str(f), index(child(path, 'finalizers'), i))))
  return errs
}

/** A metav1.Time as Go's time.Time String() prints it (UTC), or null. */
function goTime(v: unknown): GoText | null {
  if (typeof v !== 'string' || v === '') return null
  const d = new Date(v)
  if (Number.isNaN(d.getTime())) return new GoText(v)
  const iso = d.toISOString()
  return new GoText(`${iso.slice(0, 10)} ${iso.slice(11, 19)} +0000 UTC`)
}

/** apimachinery's ValidateObjectMetaUpdate (what the generic registry checks on every update). */
export function validateGenericObjectMetaUpdate(newMeta: unknown, oldMeta: unknown, path = 'metadata'): FieldError[] {
  const n = rec(newMeta)
  const o = rec(oldMeta)
  const errs: FieldError[] = []
  if (typeof o.deletionTimestamp === 'string' && o.deletionTimestamp !== '') {
    const old = new Set(arr(o.finalizers).map(str))
    const extra = [...new Set(arr(n.finalizers).map(str))].filter((f) => !old.has(f)).sort()
    if (extra.length > 0) {
      errs.push(fe.forbidden(child(path, 'finalizers'), `no new finalizers can be added if the object is being deleted, found new finalizers ${goStringSlice(extra).text}`))
    }
  }
  if (str(n.resourceVersion) === '') errs.push(fe.invalid(child(path, 'resourceVersion'), str(n.resourceVersion), 'must be specified for an update'))
  const newGen = num(n.generation) ?? 0
  if (newGen < (num(o.generation) ?? 0)) errs.push(fe.invalid(child(path, 'generation'), newGen, 'must not be decremented'))
  errs.push(...immutable(str(n.name) === str(o.name), str(n.name), child(path, 'name')))
  errs.push(...immutable(str(n.namespace) === str(o.namespace), str(n.namespace), child(path, 'namespace')))
  errs.push(...immutable(str(n.uid) === str(o.uid), str(n.uid), child(path, 'uid')))
  errs.push(...immutable(str(n.creationTimestamp) === str(o.creationTimestamp), goTime(n.creationTimestamp) ?? new GoText('0001-01-01 00:00:00 +0000 UTC'), child(path, 'creationTimestamp')))
  errs.push(...immutable(str(n.deletionTimestamp) === str(o.deletionTimestamp), goTime(n.deletionTimestamp), child(path, 'deletionTimestamp')))
  errs.push(...immutable(n.deletionGracePeriodSeconds === o.deletionGracePeriodSeconds || (n.deletionGracePeriodSeconds == null && o.deletionGracePeriodSeconds == null), n.deletionGracePeriodSeconds ?? null, child(path, 'deletionGracePeriodSeconds')))
  errs.push(...validateLabels(n.labels, child(path, 'labels')))
  errs.push(...validateAnnotations(n.annotations, child(path, 'annotations')))
  errs.push(...validateOwnerReferences(n.ownerReferences, child(path, 'ownerReferences')))
  errs.push(...validateManagedFields(n.managedFields, child(path, 'managedFields')))
  return errs
}

/** ValidateObjectMetaUpdate of the core group: the generic checks plus the finalizer-name rule. */
export function validateObjectMetaUpdate(newMeta: unknown, oldMeta: unknown, path = 'metadata'): FieldError[] {
  const errs = validateGenericObjectMetaUpdate(newMeta, oldMeta, path)
  arr(rec(newMeta).finalizers).forEach((f, i) => errs.push(...validateKubeFinalizerName(str(f), index(child(path, 'finalizers'), i))))
  return errs
}
