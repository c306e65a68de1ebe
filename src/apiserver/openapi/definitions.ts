// The type schemas both OpenAPI documents are built from: the generated definitions
// (scripts/gen-openapi.ts) plus what neither source package carries — the patch
// strategies, merge keys and list/map types of src/api/patch-meta.ts, and the
// group-version-kinds of the API machinery types every group uses.
import { isAtomicDefinition, openApiExtensions, patchMetaDefinitions, patchMetaForDefinition } from '../../api/patch-meta.js'
import { servedGroups } from '../../api/resources.js'
import { DEFINITIONS } from './generated/definitions.js'
import { convertedDefinitions } from '../versions/schemas.js'

/** An OpenAPI schema object (v2 spelling: `$ref: '#/definitions/<name>'`). */
export interface Schema {
  type?: string
  format?: string
  description?: string
  $ref?: string
  items?: Schema
  additionalProperties?: Schema | boolean
  properties?: Record<string, Schema>
  required?: string[]
  allOf?: Schema[]
  oneOf?: Schema[]
  default?: unknown
  enum?: unknown[]
  uniqueItems?: boolean
  [extension: `x-${string}`]: unknown
}

export interface GroupVersionKind {
  group: string
  kind: string
  version: string
}

export const META = 'io.k8s.apimachinery.pkg.apis.meta.v1'
export const V2_REF_PREFIX = '#/definitions/'

/** `io.k8s.api.core.v1.Pod` from `#/definitions/io.k8s.api.core.v1.Pod`. */
export function refName(ref: string): string {
  return ref.slice(ref.lastIndexOf('/') + 1)
}

export function ref(name: string): Schema {
  return { $ref: `${V2_REF_PREFIX}${name}` }
}

/** The OpenAPI definition of a catalog kind: `io.k8s.api.apps.v1.Deployment`. */
export function definitionName(group: string, version: string, kind: string): string {
  const pkg = group === '' ? 'core' : group.split('.')[0]!
  return `io.k8s.api.${pkg}.${version}.${kind}`
}

// Types that every group version serves under its own apiVersion, as kube-apiserver
// lists them (core v1 and each group's versions).
const SHARED_KINDS = ['DeleteOptions', 'WatchEvent']
const CORE_ONLY_KINDS = ['Status', 'APIResourceList', 'APIGroup', 'APIGroupList', 'APIVersions']

function addMetaKinds(defs: Map<string, Schema>): void {
  const gvs = servedGroups().sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : 0))
  for (const kind of SHARED_KINDS) {
    const def = defs.get(`${META}.${kind}`)
    if (def !== undefined) def['x-kubernetes-group-version-kind'] = gvs.map((g) => ({ group: g.group, kind, version: g.version }))
  }
  for (const kind of CORE_ONLY_KINDS) {
    const def = defs.get(`${META}.${kind}`)
    if (def !== undefined) def['x-kubernetes-group-version-kind'] = [{ group: '', kind, version: 'v1' }]
  }
}

function addPatchMeta(defs: Map<string, Schema>): void {
  for (const name of patchMetaDefinitions()) {
    const def = defs.get(name)
    if (def === undefined) continue
    if (isAtomicDefinition(name)) def['x-kubernetes-map-type'] = 'atomic'
    for (const [field, meta] of patchMetaForDefinition(name)) {
      const prop = def.properties?.[field]
      if (prop !== undefined) Object.assign(prop, openApiExtensions(meta))
    }
  }
}

let cache: ReadonlyMap<string, Schema> | undefined

/** Every definition by name; built on first use and shared (treat as read-only). */
export function definitions(): ReadonlyMap<string, Schema> {
  if (cache === undefined) {
    const defs = new Map<string, Schema>()
    for (const [name, json] of Object.entries(DEFINITIONS)) defs.set(name, JSON.parse(json) as Schema)
    // autoscaling/v1 HorizontalPodAutoscaler, served by conversion (../versions/).
    for (const [name, def] of convertedDefinitions(defs)) defs.set(name, def)
    addMetaKinds(defs)
    addPatchMeta(defs)
    cache = defs
  }
  return cache
}

/** The definition names a set of schemas refers to, transitively (the roots included). */
export function closure(roots: Iterable<string>, defs: ReadonlyMap<string, Schema> = definitions()): Set<string> {
  const seen = new Set<string>()
  const visit = (s: Schema | boolean | undefined): void => {
    if (s === undefined || typeof s === 'boolean') return
    if (s.$ref !== undefined) add(refName(s.$ref))
    visit(s.items)
    visit(s.additionalProperties)
    for (const p of Object.values(s.properties ?? {})) visit(p)
    for (const p of s.allOf ?? []) visit(p)
  }
  const add = (name: string): void => {
    if (seen.has(name)) return
    seen.add(name)
    visit(defs.get(name))
  }
  for (const r of roots) add(r)
  return seen
}
