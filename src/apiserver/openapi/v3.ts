// /openapi/v3: one OpenAPI 3.0 document per group version (plus the small discovery
// and version documents), each carrying only the schemas its paths reach, and an
// index pointing at them by hash. kubectl 1.32 reads these for `explain`, to learn
// whether PATCH takes fieldValidation, and for the merge keys of client-side apply.
//
// Schemas follow kube-apiserver 1.32's v3 spelling: a field that refers to another type
// and has its own description is `allOf: [{$ref}]` beside that description (kubectl
// explain prints both), and IntOrString and Quantity are `oneOf` their two wire types.
import { servedGroups } from '../../api/resources.js'
import { closure, definitions, refName, type Schema } from './definitions.js'
import { discoveryPaths, groupVersionPaths, type Operation, type PathItem } from './operations.js'
import type { Parameter } from './parameters.js'
import { OPENAPI_TITLE } from './v2.js'

const V3_REF_PREFIX = '#/components/schemas/'
const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString'
const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity'

function refV3(ref: string): string {
  return `${V3_REF_PREFIX}${refName(ref)}`
}

/** A v2 schema in v3 spelling (a copy). */
export function schemaV3(s: Schema): Schema {
  const out: Schema = {}
  for (const [key, value] of Object.entries(s)) {
    if (key === '$ref') continue
    if (key === 'items') out.items = schemaV3(value as Schema)
    else if (key === 'additionalProperties') out.additionalProperties = typeof value === 'boolean' ? value : schemaV3(value as Schema)
    else if (key === 'properties') out.properties = Object.fromEntries(Object.entries(value as Record<string, Schema>).map(([k, v]) => [k, schemaV3(v)]))
    else if (key === 'allOf' || key === 'oneOf') out[key] = (value as Schema[]).map(schemaV3)
    else (out as Record<string, unknown>)[key] = value
  }
  if (s.$ref === undefined) return out
  // A bare reference stays one; anything beside it (a description, x-kubernetes-*)
  // moves next to an allOf, which is where OpenAPI 3.0 lets it count.
  if (Object.keys(out).length === 0) return { $ref: refV3(s.$ref) }
  return { allOf: [{ $ref: refV3(s.$ref) }], ...out }
}

function definitionV3(name: string, def: Schema): Schema {
  if (name === INT_OR_STRING) return { description: def.description, format: 'int-or-string', oneOf: [{ type: 'integer' }, { type: 'string' }] }
  if (name === QUANTITY) return { description: def.description, oneOf: [{ type: 'string' }, { type: 'number' }] }
  return schemaV3(def)
}

function parameterV3(p: Parameter): Record<string, unknown> {
  return { name: p.name, in: p.in, description: p.description, ...(p.required === true ? { required: true } : {}), schema: { type: p.type, uniqueItems: true } }
}

function content(types: string[], schema: Schema): Record<string, { schema: Schema }> {
  return Object.fromEntries(types.map((t) => [t, { schema: schemaV3(schema) }]))
}

function operationV3(op: Operation): Record<string, unknown> {
  const responses: Record<string, unknown> = {}
  for (const r of op.responses) {
    responses[r.code] = r.schema === undefined ? { description: r.description } : { description: r.description, content: content(op.produces, r.schema) }
  }
  const body = op.body === undefined ? undefined : { content: content(op.consumes ?? ['*/*'], op.body), ...(op.method !== 'delete' ? { required: true } : {}) }
  return {
    tags: [op.tag],
    description: op.description,
    operationId: op.operationId,
    ...(op.parameters.length > 0 ? { parameters: op.parameters.map(parameterV3) } : {}),
    ...(body !== undefined ? { requestBody: body } : {}),
    responses,
    ...(op.action !== undefined ? { 'x-kubernetes-action': op.action } : {}),
    ...(op.gvk !== undefined ? { 'x-kubernetes-group-version-kind': op.gvk } : {}),
  }
}

function pathItemV3(item: PathItem): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const op of item.operations) out[op.method] = operationV3(op)
  if (item.parameters.length > 0) out.parameters = item.parameters.map(parameterV3)
  return out
}

function referencedDefinitions(items: PathItem[]): string[] {
  const roots = new Set<string>()
  for (const item of items) {
    for (const op of item.operations) {
      for (const s of [op.body, ...op.responses.map((r) => r.schema)]) if (s?.$ref !== undefined) roots.add(refName(s.$ref))
    }
  }
  return [...closure(roots)].sort()
}

/** One v3 document over some paths, with the schemas they reach. */
export function buildOpenApiV3(items: PathItem[], version: string): Record<string, unknown> {
  const defs = definitions()
  const paths: Record<string, unknown> = {}
  for (const item of [...items].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) paths[item.path] = pathItemV3(item)
  const schemas: Record<string, Schema> = {}
  for (const name of referencedDefinitions(items)) schemas[name] = definitionV3(name, defs.get(name)!)
  return {
    openapi: '3.0.0',
    info: { title: OPENAPI_TITLE, version },
    paths,
    components: {
      schemas,
      securitySchemes: { BearerToken: { type: 'apiKey', description: 'Bearer Token authentication', name: 'authorization', in: 'header' } },
    },
  }
}

/**
 * A builder for every v3 document by its index key: `api/v1`, `apis/apps/v1`, … and the
 * discovery ones (`api`, `apis`, `apis/<group>`, `version`).
 */
export function openApiV3Builders(version: string): Map<string, () => Record<string, unknown>> {
  const out = new Map<string, () => Record<string, unknown>>()
  for (const [key, item] of discoveryPaths()) out.set(key, () => buildOpenApiV3([item], version))
  for (const { group, version: v } of servedGroups()) {
    out.set(group === '' ? `api/${v}` : `apis/${group}/${v}`, () => buildOpenApiV3(groupVersionPaths(group, v), version))
  }
  return out
}
