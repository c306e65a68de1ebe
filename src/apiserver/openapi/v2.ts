// /openapi/v2: one Swagger 2.0 document with every path and definition, as
// kube-apiserver serves it; v2-protobuf.ts encodes it the way kubectl asks for it.
import { servedGroups } from '../../api/resources.js'
import { definitions, type Schema } from './definitions.js'
import { discoveryPaths, groupVersionPaths, type Operation, type PathItem } from './operations.js'
import type { Parameter } from './parameters.js'

export const OPENAPI_TITLE = 'Kubernetes'

function parameterV2(p: Parameter): Record<string, unknown> {
  return { uniqueItems: true, type: p.type, description: p.description, name: p.name, in: p.in, ...(p.required === true ? { required: true } : {}) }
}

function operationV2(op: Operation): Record<string, unknown> {
  const params: Record<string, unknown>[] = []
  if (op.body !== undefined) params.push({ name: 'body', in: 'body', required: op.method !== 'delete', schema: op.body })
  params.push(...op.parameters.map(parameterV2))
  const responses: Record<string, unknown> = {}
  for (const r of op.responses) responses[r.code] = r.schema === undefined ? { description: r.description } : { description: r.description, schema: r.schema }
  return {
    description: op.description,
    ...(op.consumes !== undefined ? { consumes: op.consumes } : {}),
    produces: op.produces,
    schemes: ['https'],
    tags: [op.tag],
    operationId: op.operationId,
    ...(params.length > 0 ? { parameters: params } : {}),
    responses,
    ...(op.action !== undefined ? { 'x-kubernetes-action': op.action } : {}),
    ...(op.gvk !== undefined ? { 'x-kubernetes-group-version-kind': op.gvk } : {}),
  }
}

export function pathItemV2(item: PathItem): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const op of item.operations) out[op.method] = operationV2(op)
  if (item.parameters.length > 0) out.parameters = item.parameters.map(parameterV2)
  return out
}

/** The whole Swagger 2.0 document. `version` is the server's gitVersion (v1.32.0-…). */
export function buildOpenApiV2(version: string): Record<string, unknown> {
  const items: PathItem[] = [...discoveryPaths().values()]
  for (const { group, version: v } of servedGroups()) items.push(...groupVersionPaths(group, v))
  items.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  const paths: Record<string, unknown> = {}
  for (const item of items) paths[item.path] = pathItemV2(item)
  const defs: Record<string, Schema> = {}
  for (const [name, def] of [...definitions()].sort(([a], [b]) => (a < b ? -1 : 1))) defs[name] = def
  return {
    swagger: '2.0',
    info: { title: OPENAPI_TITLE, version },
    paths,
    definitions: defs,
    securityDefinitions: { BearerToken: { description: 'Bearer Token authentication', type: 'apiKey', name: 'authorization', in: 'header' } },
    security: [{ BearerToken: [] }],
  }
}
