// Field errors as apimachinery's util/validation/field reports them, and the Status a
// kube-apiserver answers with when validation fails (422 Invalid).
import type { ResourceType } from '../resources.js'
import { formatBadValue, goQuote } from './go-format.js'

export type FieldErrorType =
  | 'FieldValueNotFound'
  | 'FieldValueRequired'
  | 'FieldValueDuplicate'
  | 'FieldValueInvalid'
  | 'FieldValueNotSupported'
  | 'FieldValueForbidden'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'InternalError'
  | 'FieldValueTypeInvalid'

export interface FieldError {
  type: FieldErrorType
  /** The field path, `spec.containers[0].name`. */
  field: string
  /** The error body as Kubernetes prints it: `Invalid value: "Foo": <detail>`. */
  message: string
  /** The explanation alone (may be empty). */
  detail: string
  /** The offending value, when the error carries one. */
  value?: unknown
}

const TYPE_TEXT: Record<FieldErrorType, string> = {
  FieldValueNotFound: 'Not found',
  FieldValueRequired: 'Required value',
  FieldValueDuplicate: 'Duplicate value',
  FieldValueInvalid: 'Invalid value',
  FieldValueNotSupported: 'Unsupported value',
  FieldValueForbidden: 'Forbidden',
  FieldValueTooLong: 'Too long',
  FieldValueTooMany: 'Too many',
  InternalError: 'Internal error',
  FieldValueTypeInvalid: 'Invalid value',
}

// Required, Forbidden, TooLong and Internal never print a value.
const VALUELESS = new Set<FieldErrorType>(['FieldValueRequired', 'FieldValueForbidden', 'FieldValueTooLong', 'InternalError'])

const OMIT = Symbol('omit value')

function make(type: FieldErrorType, field: string, value: unknown, detail: string): FieldError {
  let body = TYPE_TEXT[type]
  if (!VALUELESS.has(type) && value !== OMIT) body += `: ${formatBadValue(value)}`
  if (detail.length > 0) body += `: ${detail}`
  const err: FieldError = { type, field, message: body, detail }
  if (value !== OMIT && !VALUELESS.has(type)) err.value = value
  return err
}

export const fieldErrors = {
  required: (field: string, detail = ''): FieldError => make('FieldValueRequired', field, '', detail),
  invalid: (field: string, value: unknown, detail: string): FieldError => make('FieldValueInvalid', field, value, detail),
  notFound: (field: string, value: unknown): FieldError => make('FieldValueNotFound', field, value, ''),
  duplicate: (field: string, value: unknown): FieldError => make('FieldValueDuplicate', field, value, ''),
  forbidden: (field: string, detail: string): FieldError => make('FieldValueForbidden', field, '', detail),
  typeInvalid: (field: string, value: unknown, detail: string): FieldError => make('FieldValueTypeInvalid', field, value, detail),
  internal: (field: string, detail: string): FieldError => make('InternalError', field, null, detail),
  notSupported: (field: string, value: unknown, validValues: readonly string[]): FieldError =>
    make('FieldValueNotSupported', field, value, validValues.length > 0 ? 'supported values: ' + validValues.map(goQuote).join(', ') : ''),
  tooLong: (field: string, maxLength: number): FieldError =>
    make('FieldValueTooLong', field, '', maxLength >= 0 ? `may not be more than ${maxLength} bytes` : 'value is too long'),
  tooMany: (field: string, actual: number, max: number): FieldError =>
    make('FieldValueTooMany', field, actual >= 0 ? actual : OMIT, max >= 0 ? `must have at most ${max} items` : 'has too many items'),
  /** An error whose detail replaces the default (as code that sets Error.Detail afterwards). */
  withDetail: (err: FieldError, detail: string): FieldError => make(err.type, err.field, 'value' in err ? err.value : OMIT, detail),
}

// ---- paths (field.Path's String(): children joined by '.', indices and keys in brackets)

export function child(base: string, ...names: string[]): string {
  let p = base
  for (const n of names) p = p === '' ? n : `${p}.${n}`
  return p
}

export function index(base: string, i: number): string {
  return `${base}[${i}]`
}

export function key(base: string, k: string): string {
  return `${base}[${k}]`
}

/** `spec.selector: Required value` — one error as Go's Error() prints it. */
export function errorString(e: FieldError): string {
  return `${e.field}: ${e.message}`
}

// ---- the 422 Status

export interface StatusCause {
  reason: string
  message: string
  field: string
}

export interface InvalidStatus {
  kind: 'Status'
  apiVersion: 'v1'
  metadata: Record<string, never>
  status: 'Failure'
  message: string
  reason: 'Invalid'
  details: { name?: string; group?: string; kind: string; causes: StatusCause[] }
  code: 422
}

/** "Deployment.apps", or "Pod" for the core group (schema.GroupKind's String()). */
function qualifiedKind(resource: Pick<ResourceType, 'group' | 'kind'> | string): { group: string; kind: string; text: string } {
  if (typeof resource === 'string') {
    const dot = resource.indexOf('.')
    const kind = dot < 0 ? resource : resource.slice(0, dot)
    const group = dot < 0 ? '' : resource.slice(dot + 1)
    return { group, kind, text: resource }
  }
  return { group: resource.group, kind: resource.kind, text: resource.group === '' ? resource.kind : `${resource.kind}.${resource.group}` }
}

/** What formatting needs of a field error (other layers' error shapes fit too). */
export type FieldErrorLike = Pick<FieldError, 'field' | 'message'> & { type: string }

/** The aggregate error text: one message alone, several in brackets, duplicates dropped. */
export function aggregateMessage(errs: readonly FieldErrorLike[]): string {
  const seen = new Set<string>()
  const msgs: string[] = []
  for (const e of errs) {
    const m = `${e.field}: ${e.message}`
    if (seen.has(m)) continue
    seen.add(m)
    msgs.push(m)
  }
  if (msgs.length === 0) return ''
  return msgs.length === 1 ? msgs[0] : `[${msgs.join(', ')}]`
}

type KindRef = Pick<ResourceType, 'group' | 'kind'> | string

/**
 * The message kube-apiserver returns for invalid objects (apierrors.NewInvalid):
 * `Deployment.apps "web" is invalid: [spec.selector: Required value, ...]`.
 */
export function formatFieldErrors(resource: KindRef, name: string, errs: readonly FieldErrorLike[]): string {
  const qk = qualifiedKind(resource)
  const agg = aggregateMessage(errs)
  return agg === '' ? `${qk.text} ${goQuote(name)} is invalid` : `${qk.text} ${goQuote(name)} is invalid: ${agg}`
}

/** The Status details' causes: one per field error, duplicates kept as upstream does. */
export function statusCauses(errs: readonly FieldErrorLike[]): StatusCause[] {
  return errs.map((e) => ({ reason: e.type, message: e.message, field: e.field }))
}

/** The whole 422 Status object for invalid objects, as kube-apiserver sends it. */
export function invalidStatus(resource: KindRef, name: string, errs: readonly FieldErrorLike[]): InvalidStatus {
  const qk = qualifiedKind(resource)
  // Field order as Go marshals StatusDetails: name, group, kind, causes (empty ones omitted).
  const details: InvalidStatus['details'] = {
    ...(name !== '' ? { name } : {}),
    ...(qk.group !== '' ? { group: qk.group } : {}),
    kind: qk.kind,
    causes: statusCauses(errs),
  }
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: formatFieldErrors(resource, name, errs), reason: 'Invalid', details, code: 422 }
}
