// Server-side field validation (`?fieldValidation=Strict|Warn`): the fields of an
// object that its kind's schema does not declare. Because /openapi/v3 tells kubectl the
// server takes fieldValidation, kubectl skips its own schema check and sends
// `fieldValidation=Strict` on create, update and patch; the server must then reject
// unknown fields itself, with the error kube-apiserver's strict decoder gives:
//
//   Deployment in version "v1" cannot be handled as a Deployment:
//   strict decoding error: unknown field "spec.bogus"
//
// Fields are named by JSON path, list elements by index: `spec.template.spec.containers[0].bogus`.
import { definitions, refName, type Schema } from './definitions.js'

let byKind: Map<string, string> | undefined

/** The definition name of an apiVersion + kind (`apps/v1` + `Deployment`), if known. */
export function definitionOfKind(apiVersion: string, kind: string): string | undefined {
  if (byKind === undefined) {
    byKind = new Map()
    for (const [name, def] of definitions()) {
      for (const gvk of (def['x-kubernetes-group-version-kind'] as { group: string; version: string; kind: string }[] | undefined) ?? []) {
        const av = gvk.group === '' ? gvk.version : `${gvk.group}/${gvk.version}`
        if (!byKind.has(`${av}/${gvk.kind}`)) byKind.set(`${av}/${gvk.kind}`, name)
      }
    }
  }
  return byKind.get(`${apiVersion}/${kind}`)
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function resolve(s: Schema, defs: ReadonlyMap<string, Schema>): Schema | undefined {
  let cur: Schema | undefined = s
  for (let depth = 0; cur !== undefined && depth < 8; depth++) {
    if (cur.$ref !== undefined) cur = defs.get(refName(cur.$ref))
    else if (cur.allOf?.length === 1) cur = cur.allOf[0]
    else return cur
  }
  return cur
}

function walk(value: unknown, schema: Schema, path: string, defs: ReadonlyMap<string, Schema>, out: string[]): void {
  const s = resolve(schema, defs)
  if (s === undefined || value === null || value === undefined) return
  if (Array.isArray(value)) {
    if (s.items !== undefined) value.forEach((v, i) => walk(v, s.items!, `${path}[${i}]`, defs, out))
    return
  }
  if (!isObject(value)) return
  const join = (key: string): string => (path === '' ? key : `${path}.${key}`)
  if (s.properties !== undefined) {
    for (const [key, v] of Object.entries(value)) {
      const prop = s.properties[key]
      if (prop === undefined) out.push(join(key))
      else walk(v, prop, join(key), defs, out)
    }
    return
  }
  // A map (labels, resources.limits, data); an object with neither properties nor
  // additionalProperties (FieldsV1, RawExtension) holds anything.
  if (typeof s.additionalProperties === 'object') {
    for (const [key, v] of Object.entries(value)) walk(v, s.additionalProperties, join(key), defs, out)
  }
}

/**
 * The JSON paths of fields in `obj` that its kind does not declare, in document order;
 * undefined when the kind has no schema here (then nothing can be said).
 */
export function unknownFields(apiVersion: string, kind: string, obj: unknown): string[] | undefined {
  const name = definitionOfKind(apiVersion, kind)
  if (name === undefined) return undefined
  const defs = definitions()
  const out: string[] = []
  walk(obj, defs.get(name)!, '', defs, out)
  return out
}

/**
 * kube-apiserver's message for a strict-decoding failure (400 BadRequest with
 * fieldValidation=Strict), e.g. `Deployment in version "v1" cannot be handled as a
 * Deployment: strict decoding error: unknown field "spec.bogus"`.
 */
export function strictDecodingMessage(apiVersion: string, kind: string, fields: readonly string[]): string {
  const version = apiVersion.slice(apiVersion.indexOf('/') + 1)
  const errors = fields.map((f) => `unknown field "${f}"`).join(', ')
  return `${kind} in version "${version}" cannot be handled as a ${kind}: strict decoding error: ${errors}`
}

/** The Warning header values (without the `299 - ` prefix) of fieldValidation=Warn. */
export function unknownFieldWarnings(fields: readonly string[]): string[] {
  return fields.map((f) => `unknown field "${f}"`)
}
