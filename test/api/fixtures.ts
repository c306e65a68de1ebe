// Shared fixtures for the API layer tests: served resources by kind, minimal valid
// objects (defaulted as the API server would), and a compact view of field errors.
import { applyDefaults, jobSelectorDefaults } from '../../src/api/defaults.js'
import type { Json } from '../../src/api/json.js'
import { RESOURCES, type ResourceType } from '../../src/api/resources.js'
import { errorString, type FieldError } from '../../src/api/validation/errors.js'
import { validateCreate, validateUpdate } from '../../src/api/validation/index.js'

export function rt(kind: string): ResourceType {
  const r = RESOURCES.find((x) => x.kind === kind)
  if (r === undefined) throw new Error(`no served kind ${kind}`)
  return r
}

/** `field: body` lines, as the aggregate message lists them. */
export function lines(errs: FieldError[]): string[] {
  return errs.map(errorString)
}

/** Defaults `obj` as kube-apiserver would on create, then validates it. */
export function createErrors(kind: string, obj: Json): string[] {
  const r = rt(kind)
  applyDefaults(r, obj)
  if (kind === 'Job') jobSelectorDefaults(obj, String((obj.metadata as Json | undefined)?.uid ?? ''))
  return lines(validateCreate(r, obj))
}

/** Defaults `next` as an update and validates it against `old` (already stored). */
export function updateErrors(kind: string, old: Json, next: Json): string[] {
  const r = rt(kind)
  applyDefaults(r, next, { create: false })
  return lines(validateUpdate(r, old, next))
}

export const RFC1123_SUBDOMAIN =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
export const RFC1123_LABEL =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
export const DNS1035_LABEL =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
export const NAME_PART =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
export const LABEL_VALUE =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"

export function pod(extra: Json = {}): Json {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'default', uid: 'u-1', resourceVersion: '5' },
    spec: { containers: [{ name: 'app', image: 'nginx:1.25' }] },
    ...extra,
  }
}

export function template(labels: Record<string, string> = { app: 'web' }, spec: Json = {}): Json {
  return { metadata: { labels }, spec: { containers: [{ name: 'app', image: 'nginx:1.25' }], ...spec } }
}

export function deployment(spec: Json = {}): Json {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', uid: 'u-2', resourceVersion: '7' },
    spec: { selector: { matchLabels: { app: 'web' } }, template: template(), ...spec },
  }
}

export function clone<T>(v: T): T {
  return structuredClone(v)
}
