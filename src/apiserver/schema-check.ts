// Decoding checks against the OpenAPI schema of a kind, as kube-apiserver's typed
// decoder applies them: a value of the wrong JSON type is always a 400 (Go's
// `json: cannot unmarshal …` text), and fields the type does not have are reported
// per `fieldValidation` — Strict rejects, Warn (the default) answers with Warning
// headers, Ignore drops nothing and says nothing.
import type { ResourceType } from '../api/resources.js'
import { definitionName, definitions, refName, type Schema } from './openapi/definitions.js'

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore'

export interface SchemaProblems {
  /** The first type mismatch, as Go's encoding/json words it. */
  typeError?: string
  /** `unknown field "spec.foo"`, in document order. */
  unknown: string[]
}

const ANY_TYPES = new Set([
  'io.k8s.apimachinery.pkg.runtime.RawExtension',
  'io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1',
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON',
])

function goType(s: Schema, defName: string | undefined): string {
  if (defName === 'io.k8s.apimachinery.pkg.api.resource.Quantity') return 'resource.Quantity'
  if (defName === 'io.k8s.apimachinery.pkg.util.intstr.IntOrString') return 'intstr.IntOrString'
  if (defName === 'io.k8s.apimachinery.pkg.apis.meta.v1.Time' || defName === 'io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime') return 'v1.Time'
  if (defName !== undefined) return `v1.${defName.slice(defName.lastIndexOf('.') + 1)}`
  switch (s.type) {
    case 'integer':
      return s.format === 'int64' ? 'int64' : 'int32'
    case 'number':
      return 'float64'
    case 'boolean':
      return 'bool'
    case 'string':
      return 'string'
    case 'array':
      return `[]${s.items === undefined ? 'interface {}' : goType(s.items, s.items.$ref === undefined ? undefined : refName(s.items.$ref))}`
    default:
      return s.additionalProperties !== undefined ? 'map[string]string' : 'interface {}'
  }
}

/** How Go's encoding/json names a JSON value in an UnmarshalTypeError. */
function jsonKind(v: unknown, into: Schema): string {
  if (Array.isArray(v)) return 'array'
  // A fraction into an integer names the number itself.
  if (typeof v === 'number') return into.type === 'integer' && !Number.isInteger(v) ? `number ${v}` : 'number'
  if (typeof v === 'object') return 'object'
  return typeof v === 'boolean' ? 'bool' : typeof v
}

class Checker {
  readonly problems: SchemaProblems = { unknown: [] }
  private readonly defs = definitions()

  constructor(private readonly collectUnknown: boolean) {}

  private resolve(s: Schema): { schema: Schema; name: string | undefined } {
    let name: string | undefined
    let cur = s
    for (let i = 0; i < 8 && cur.$ref !== undefined; i++) {
      name = refName(cur.$ref)
      const next = this.defs.get(name)
      if (next === undefined) return { schema: {}, name }
      cur = next
    }
    if (cur.allOf !== undefined && cur.allOf.length === 1 && cur.properties === undefined) return this.resolve(cur.allOf[0]!)
    return { schema: cur, name }
  }

  private mismatch(v: unknown, s: Schema, defName: string | undefined, struct: string, path: string): void {
    if (this.problems.typeError !== undefined) return
    const kind = jsonKind(v, s)
    const where = path === '' ? '' : ` into Go struct field ${struct}.${path}`
    this.problems.typeError = `json: cannot unmarshal ${kind}${where === '' ? ' into Go value' : where} of type ${goType(s, defName)}`
  }

  check(v: unknown, s: Schema, struct: string, path: string): void {
    if (v === null || v === undefined || this.problems.typeError !== undefined) return
    const { schema, name } = this.resolve(s)
    if (name !== undefined && ANY_TYPES.has(name)) return
    if (name === 'io.k8s.apimachinery.pkg.util.intstr.IntOrString' || schema.format === 'int-or-string') {
      if (typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v))) return
      return this.mismatch(v, schema, name, struct, path)
    }
    if (name === 'io.k8s.apimachinery.pkg.api.resource.Quantity') {
      if (typeof v === 'string' || typeof v === 'number') return
      return this.mismatch(v, schema, name, struct, path)
    }
    const childStruct = name !== undefined ? name.slice(name.lastIndexOf('.') + 1) : struct
    switch (schema.type) {
      case 'integer':
        if (typeof v !== 'number' || !Number.isInteger(v)) this.mismatch(v, schema, name, struct, path)
        return
      case 'number':
        if (typeof v !== 'number') this.mismatch(v, schema, name, struct, path)
        return
      case 'boolean':
        if (typeof v !== 'boolean') this.mismatch(v, schema, name, struct, path)
        return
      case 'string':
        if (typeof v !== 'string') this.mismatch(v, schema, name, struct, path)
        return
      case 'array':
        if (!Array.isArray(v)) return this.mismatch(v, schema, name, struct, path)
        if (schema.items !== undefined) v.forEach((item, i) => this.check(item, schema.items!, childStruct, `${path}[${i}]`))
        return
    }
    if (schema.properties !== undefined || schema.type === 'object' || schema.additionalProperties !== undefined) {
      if (typeof v !== 'object' || Array.isArray(v)) return this.mismatch(v, schema, name, struct, path)
      const obj = v as Record<string, unknown>
      const props = schema.properties
      const extra = schema.additionalProperties
      for (const [k, val] of Object.entries(obj)) {
        const sub = path === '' ? k : `${path}.${k}`
        const p = props?.[k]
        if (p !== undefined) this.check(val, p, childStruct, sub)
        else if (extra !== undefined && typeof extra === 'object') this.check(val, extra, childStruct, sub)
        else if (props !== undefined && extra === undefined && this.collectUnknown) this.problems.unknown.push(`unknown field "${sub}"`)
      }
    }
  }
}

/** The problems decoding `obj` as the resource's kind would report. */
export function checkSchema(rt: ResourceType, obj: unknown, collectUnknown: boolean): SchemaProblems {
  const name = definitionName(rt.group, rt.version, rt.kind)
  const root = definitions().get(name)
  const c = new Checker(collectUnknown)
  if (root !== undefined) c.check(obj, { $ref: `#/definitions/${name}` }, rt.kind, '')
  return c.problems
}

export function parseFieldValidation(v: string | null): FieldValidation {
  if (v === null || v === '') return 'Warn'
  if (v === 'Strict' || v === 'Warn' || v === 'Ignore') return v
  throw new Error(`fieldValidation: invalid value "${v}": must be one of Ignore, Warn, Strict`)
}
