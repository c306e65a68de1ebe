// Field selectors as apimachinery's pkg/fields parses them (`=`, `==`, `!=`, terms joined
// by commas, `\` escapes), and the per-resource field labels kube-apiserver 1.32
// accepts (the scheme's field label conversion funcs) and matches against
// (each registry's selectable fields).
import { RESOURCES, type ResourceType } from './resources.js'
import { bool, int, rec, recs, str, type Json } from './json.js'
import { goQuote } from './validation/go-format.js'

export type FieldOperator = '=' | '==' | '!='

export interface FieldRequirement {
  readonly field: string
  readonly operator: FieldOperator
  readonly value: string
}

export type Fields = Readonly<Record<string, string>>

export interface FieldSelector {
  /** Terms in the order the parser keeps them (sorted as raw term text). */
  readonly requirements: readonly FieldRequirement[]
  matches(fields: Fields): boolean
  empty(): boolean
  toString(): string
  /** The value `field` must equal for the selector to match, if it pins one. */
  requiresExactMatch(field: string): string | undefined
}

/** A selector the API server rejects (400 BadRequest); the message is Kubernetes' own. */
export class FieldSelectorError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'FieldSelectorError'
  }
}

// ---- syntax

/** fields.EscapeValue: `\`, `,` and `=` are escaped in values. */
export function escapeValue(s: string): string {
  return s.replace(/[\\,=]/g, (c) => '\\' + c)
}

function unescapeValue(s: string): string {
  if (!/[\\,=]/.test(s)) return s
  let out = ''
  let inSlash = false
  for (const c of s) {
    if (inSlash) {
      if (c !== '\\' && c !== ',' && c !== '=') throw new FieldSelectorError(`invalid field selector: invalid escape sequence: \\${c}`)
      out += c
      inSlash = false
      continue
    }
    if (c === '\\') inSlash = true
    // Go prints the offending rune with %v, i.e. as its number.
    else if (c === ',' || c === '=') throw new FieldSelectorError(`invalid field selector: unescaped character in value: ${c.codePointAt(0)}`)
    else out += c
  }
  if (inSlash) throw new FieldSelectorError('invalid field selector: invalid escape sequence: \\')
  return out
}

function splitTerms(selector: string): string[] {
  if (selector.length === 0) return []
  const terms: string[] = []
  let start = 0
  let inSlash = false
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i]
    if (inSlash) inSlash = false
    else if (c === '\\') inSlash = true
    else if (c === ',') {
      terms.push(selector.slice(start, i))
      start = i + 1
    }
  }
  terms.push(selector.slice(start))
  return terms
}

const TERM_OPERATORS: FieldOperator[] = ['!=', '==', '=']

function splitTerm(term: string): [string, FieldOperator, string] | undefined {
  for (let i = 0; i < term.length; i++) {
    for (const op of TERM_OPERATORS) {
      if (term.startsWith(op, i)) return [term.slice(0, i), op, term.slice(i + op.length)]
    }
  }
  return undefined
}

function makeSelector(reqs: FieldRequirement[]): FieldSelector {
  return {
    requirements: reqs,
    matches: (fields) => reqs.every((r) => ((fields[r.field] ?? '') === r.value) === (r.operator !== '!=')),
    empty: () => reqs.length === 0,
    toString: () => reqs.map((r) => `${r.field}${r.operator === '!=' ? '!=' : '='}${escapeValue(r.value)}`).join(','),
    requiresExactMatch: (field) => reqs.find((r) => r.field === field && r.operator !== '!=')?.value,
  }
}

/** Rewrites a field label into the one the server matches on, or throws (a conversion func). */
export type FieldLabelConversion = (label: string, value: string) => [string, string]

/** fields.ParseSelector (with an optional conversion, as ParseAndTransformSelector). */
export function parseFieldSelector(selector: string, convert?: FieldLabelConversion): FieldSelector {
  const parts = splitTerms(selector).sort()
  const reqs: FieldRequirement[] = []
  for (const part of parts) {
    if (part === '') continue
    const split = splitTerm(part)
    if (split === undefined) throw new FieldSelectorError(`invalid selector: '${selector}'; can't understand '${part}'`)
    const [lhs, op, rhs] = split
    reqs.push({ field: lhs, operator: op, value: unescapeValue(rhs) })
  }
  if (convert === undefined) return makeSelector(reqs)
  const converted: FieldRequirement[] = []
  for (const r of reqs) {
    const [field, value] = convert(r.field, r.value)
    if (field !== '' || value !== '') converted.push({ field, operator: r.operator, value })
  }
  return makeSelector(converted)
}

// ---- per-resource field labels

type Getter = (obj: Json) => string

const meta = (obj: Json): Json => rec(obj.metadata)
const spec = (obj: Json): Json => rec(obj.spec)
const status = (obj: Json): Json => rec(obj.status)

interface ResourceFields {
  /** The labels the conversion func accepts (besides metadata.*), and their values. */
  fields: Record<string, Getter>
  /** Which metadata labels the conversion func accepts. */
  metaLabels: string[]
  /** Label aliases the conversion rewrites (pods accept the v1 `spec.host`). */
  aliases?: Record<string, string>
  /** How the conversion func words a rejection. */
  reject: (label: string) => string
}

const notSupported = (label: string): string => `field label not supported: ${label}`

const FIELDS: Record<string, ResourceFields> = {
  '/pods': {
    metaLabels: ['metadata.name', 'metadata.namespace'],
    aliases: { 'spec.host': 'spec.nodeName' },
    reject: notSupported,
    fields: {
      'spec.nodeName': (o) => str(spec(o).nodeName),
      'spec.restartPolicy': (o) => str(spec(o).restartPolicy),
      'spec.schedulerName': (o) => str(spec(o).schedulerName),
      'spec.serviceAccountName': (o) => str(spec(o).serviceAccountName),
      'spec.hostNetwork': (o) => String(bool(spec(o).hostNetwork)),
      'status.phase': (o) => str(status(o).phase),
      // The registry only selects on the first pod IP; status.podIPs is accepted but
      // not among the pod's selectable fields, so it reads as empty.
      'status.podIP': (o) => str(recs(status(o).podIPs)[0]?.ip ?? status(o).podIP),
      'status.podIPs': () => '',
      'status.nominatedNodeName': (o) => str(status(o).nominatedNodeName),
    },
  },
  '/nodes': {
    metaLabels: ['metadata.name'],
    reject: notSupported,
    fields: { 'spec.unschedulable': (o) => String(bool(spec(o).unschedulable)) },
  },
  '/replicationcontrollers': {
    metaLabels: ['metadata.name', 'metadata.namespace'],
    reject: notSupported,
    fields: { 'status.replicas': (o) => String(int(status(o).replicas)) },
  },
  '/events': {
    metaLabels: ['metadata.name', 'metadata.namespace'],
    reject: notSupported,
    fields: {
      'involvedObject.kind': (o) => str(rec(o.involvedObject).kind),
      'involvedObject.namespace': (o) => str(rec(o.involvedObject).namespace),
      'involvedObject.name': (o) => str(rec(o.involvedObject).name),
      'involvedObject.uid': (o) => str(rec(o.involvedObject).uid),
      'involvedObject.apiVersion': (o) => str(rec(o.involvedObject).apiVersion),
      'involvedObject.resourceVersion': (o) => str(rec(o.involvedObject).resourceVersion),
      'involvedObject.fieldPath': (o) => str(rec(o.involvedObject).fieldPath),
      reason: (o) => str(o.reason),
      reportingComponent: (o) => str(o.reportingComponent),
      source: (o) => str(rec(o.source).component),
      type: (o) => str(o.type),
    },
  },
  '/namespaces': {
    metaLabels: ['metadata.name'],
    reject: notSupported,
    fields: { 'status.phase': (o) => str(status(o).phase) },
  },
  '/secrets': {
    metaLabels: ['metadata.name', 'metadata.namespace'],
    reject: notSupported,
    fields: { type: (o) => str(o.type) },
  },
  '/services': {
    metaLabels: ['metadata.name', 'metadata.namespace'],
    reject: notSupported,
    fields: { 'spec.clusterIP': (o) => str(spec(o).clusterIP), 'spec.type': (o) => str(spec(o).type) },
  },
  'batch/jobs': {
    metaLabels: ['metadata.name', 'metadata.namespace'],
    reject: (label) => `field label ${goQuote(label)} not supported for batchv1.Job`,
    fields: { 'status.successful': (o) => String(int(status(o).succeeded)) },
  },
}

// Kinds without a conversion func fall back to runtime.DefaultMetaV1FieldSelectorConversion.
const DEFAULT_FIELDS: ResourceFields = {
  metaLabels: ['metadata.name', 'metadata.namespace'],
  reject: (label) => `${goQuote(label)} is not a known field selector: only "metadata.name", "metadata.namespace"`,
  fields: {},
}

// ReplicaSets keep status.replicas among their selectable fields, but apps/v1 registers
// no conversion for it, so selecting on it is rejected like any unknown label.
const EXTRA_SELECTABLE: Record<string, Record<string, Getter>> = {
  'apps/replicasets': { 'status.replicas': (o) => String(int(status(o).replicas)) },
}

type ResourceRef = Pick<ResourceType, 'group' | 'plural'> & Partial<Pick<ResourceType, 'namespaced'>>

function refOf(resource: ResourceRef | string): { id: string; namespaced: boolean } {
  if (typeof resource !== 'string') return { id: `${resource.group}/${resource.plural}`, namespaced: resource.namespaced ?? true }
  const dot = resource.indexOf('.')
  const plural = dot < 0 ? resource : resource.slice(0, dot)
  const group = dot < 0 ? '' : resource.slice(dot + 1)
  const served = RESOURCES.find((r) => r.group === group && r.plural === plural)
  return { id: `${group}/${plural}`, namespaced: served?.namespaced ?? true }
}


/** The field labels a resource's list/watch accepts in fieldSelector. */
export function supportedFieldLabels(resource: ResourceRef | string): string[] {
  const rf = FIELDS[refOf(resource).id] ?? DEFAULT_FIELDS
  return [...rf.metaLabels, ...Object.keys(rf.fields)]
}

// The getter of every selectable field of a resource, as the registry's GetAttrs
// computes them (cluster-scoped objects have no metadata.namespace field: it reads "").
function selectableGetters(resource: ResourceRef | string): Map<string, Getter> {
  const { id, namespaced } = refOf(resource)
  const getters = new Map<string, Getter>([['metadata.name', (o) => str(meta(o).name)]])
  if (namespaced) getters.set('metadata.namespace', (o) => str(meta(o).namespace))
  for (const [label, get] of Object.entries({ ...(FIELDS[id]?.fields ?? {}), ...(EXTRA_SELECTABLE[id] ?? {}) })) getters.set(label, get)
  return getters
}

/** The selectable fields of one object. */
export function objectFields(resource: ResourceRef | string, obj: Json): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [label, get] of selectableGetters(resource)) out[label] = get(obj)
  return out
}

/** The conversion func kube-apiserver applies to a resource's field selector labels. */
export function fieldLabelConversion(resource: ResourceRef | string): FieldLabelConversion {
  const rf = FIELDS[refOf(resource).id] ?? DEFAULT_FIELDS
  return (label, value) => {
    const alias = rf.aliases?.[label]
    if (alias !== undefined) return [alias, value]
    if (rf.metaLabels.includes(label) || Object.prototype.hasOwnProperty.call(rf.fields, label)) return [label, value]
    throw new FieldSelectorError(rf.reject(label))
  }
}

export interface FieldMatcher {
  readonly selector: FieldSelector
  /** Whether an object of the resource satisfies the selector. */
  matches(obj: Json): boolean
}

/**
 * Parses `selector` for listing/watching `resource` (a ResourceType, or `pods`,
 * `jobs.batch`): throws FieldSelectorError with kube-apiserver's text for bad syntax
 * or unsupported labels (`field label not supported: spec.foo`).
 */
export function fieldMatcher(resource: ResourceRef | string, selector: string): FieldMatcher {
  const parsed = parseFieldSelector(selector, fieldLabelConversion(resource))
  // Read only the fields the selector names: this runs for every object of a list or watch.
  const getters = selectableGetters(resource)
  const terms = parsed.requirements.map((r) => ({ get: getters.get(r.field) ?? (() => ''), value: r.value, equal: r.operator !== '!=' }))
  return {
    selector: parsed,
    matches: (obj) => terms.every((term) => (term.get(obj) === term.value) === term.equal),
  }
}
