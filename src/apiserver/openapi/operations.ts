// The REST operations of every served resource as OpenAPI describes them, in a form
// neutral between Swagger 2.0 and OpenAPI 3: one path item per URL with its methods,
// parameters, bodies and responses, named as kube-apiserver names them
// (listCoreV1NamespacedPod, patchAppsV1NamespacedDeploymentScale, …). Operations carry
// x-kubernetes-group-version-kind: kubectl finds a kind's PATCH operation by it to learn
// whether the server takes fieldValidation and strategic merge patches, and `kubectl
// explain` finds a resource's kind through its collection path.
import { RESOURCES, servedGroups, type ResourceType } from '../../api/resources.js'
import { subresourceKind } from '../discovery/api-resources.js'
import { definitionName, META, ref, type GroupVersionKind, type Schema } from './definitions.js'
import {
  CREATE_PARAMETERS,
  DELETE_COLLECTION_PARAMETERS,
  DELETE_PARAMETERS,
  LIST_PARAMETERS,
  LOG_PARAMETERS,
  PARAMETERS,
  PATCH_PARAMETERS,
  PATH_NAMESPACE,
  pathName,
  UPDATE_PARAMETERS,
  type Parameter,
} from './parameters.js'

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete'

export type Action = 'get' | 'list' | 'post' | 'put' | 'patch' | 'delete' | 'deletecollection' | 'watch' | 'watchlist'

export interface Response {
  code: string
  description: string
  schema?: Schema
}

export interface Operation {
  method: Method
  operationId: string
  description: string
  tag: string
  action?: Action
  gvk?: GroupVersionKind
  parameters: Parameter[]
  body?: Schema
  consumes?: string[]
  produces: string[]
  responses: Response[]
}

export interface PathItem {
  path: string
  parameters: Parameter[]
  operations: Operation[]
}

export const PATCH_CONTENT_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/apply-patch+yaml',
]
const JSON_ONLY = ['application/json']
const WATCH_PRODUCES = ['application/json', 'application/json;stream=watch']
const ANY = ['*/*']

const OK = (schema: Schema): Response => ({ code: '200', description: 'OK', schema })
const CREATED = (schema: Schema): Response => ({ code: '201', description: 'Created', schema })
const ACCEPTED = (schema: Schema): Response => ({ code: '202', description: 'Accepted', schema })
const UNAUTHORIZED: Response = { code: '401', description: 'Unauthorized' }

const STATUS = ref(`${META}.Status`)
const DELETE_OPTIONS = ref(`${META}.DeleteOptions`)
const PATCH = ref(`${META}.Patch`)
const WATCH_EVENT = ref(`${META}.WatchEvent`)

/** `CoreV1`, `AppsV1`, `RbacAuthorizationV1`: how operation ids name a group version. */
export function groupVersionId(group: string, version: string): string {
  const words = (group === '' ? 'core' : group.replace(/\.k8s\.io$/, '')).split('.')
  const name = words.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('')
  return `${name}${version.charAt(0).toUpperCase()}${version.slice(1)}`
}

/** `core_v1`, `rbacAuthorization_v1`: the tag of a group version's operations. */
export function groupVersionTag(group: string, version: string): string {
  const id = groupVersionId(group, version)
  const gv = id.slice(0, id.length - version.length)
  return `${gv.charAt(0).toLowerCase()}${gv.slice(1)}_${version}`
}

/** `/api/v1` or `/apis/<group>/<version>`. */
export function groupVersionRoot(group: string, version: string): string {
  return group === '' ? `/api/${version}` : `/apis/${group}/${version}`
}

function resourcePaths(rt: ResourceType): PathItem[] {
  const root = groupVersionRoot(rt.group, rt.version)
  const gv = groupVersionId(rt.group, rt.version)
  const tag = groupVersionTag(rt.group, rt.version)
  const scope = rt.namespaced ? 'Namespaced' : ''
  const gvk: GroupVersionKind = { group: rt.group, kind: rt.kind, version: rt.version }
  const obj = ref(definitionName(rt.group, rt.version, rt.kind))
  const list = ref(definitionName(rt.group, rt.version, `${rt.kind}List`))
  const has = (v: string): boolean => (rt.verbs as readonly string[]).includes(v)
  const nsParams = rt.namespaced ? [PATH_NAMESPACE] : []
  const collection = rt.namespaced ? `${root}/namespaces/{namespace}/${rt.plural}` : `${root}/${rt.plural}`
  const item = `${collection}/{name}`
  const nameParam = pathName(rt.kind)
  const op = (o: Omit<Operation, 'tag' | 'gvk'> & { gvk?: GroupVersionKind }): Operation => ({ tag, gvk, ...o })
  const items: PathItem[] = []

  const collectionOps: Operation[] = []
  if (has('list')) {
    collectionOps.push(
      op({
        method: 'get',
        operationId: `list${gv}${scope}${rt.kind}`,
        description: `list or watch objects of kind ${rt.kind}`,
        action: 'list',
        parameters: LIST_PARAMETERS,
        produces: WATCH_PRODUCES,
        responses: [OK(list), UNAUTHORIZED],
      }),
    )
  }
  if (has('create')) {
    collectionOps.push(
      op({
        method: 'post',
        operationId: `create${gv}${scope}${rt.kind}`,
        description: `create ${article(rt.kind)} ${rt.kind}`,
        action: 'post',
        parameters: CREATE_PARAMETERS,
        body: obj,
        consumes: ANY,
        produces: JSON_ONLY,
        responses: [OK(obj), CREATED(obj), ACCEPTED(obj), UNAUTHORIZED],
      }),
    )
  }
  if (has('deletecollection')) {
    collectionOps.push(
      op({
        method: 'delete',
        operationId: `delete${gv}Collection${scope}${rt.kind}`,
        description: `delete collection of ${rt.kind}`,
        action: 'deletecollection',
        parameters: DELETE_COLLECTION_PARAMETERS,
        body: DELETE_OPTIONS,
        consumes: ANY,
        produces: JSON_ONLY,
        responses: [OK(STATUS), UNAUTHORIZED],
      }),
    )
  }
  if (collectionOps.length > 0) items.push({ path: collection, parameters: [...nsParams, PARAMETERS.pretty], operations: collectionOps })

  const itemOps: Operation[] = []
  if (has('get')) {
    itemOps.push(
      op({
        method: 'get',
        operationId: `read${gv}${scope}${rt.kind}`,
        description: `read the specified ${rt.kind}`,
        action: 'get',
        parameters: [],
        produces: JSON_ONLY,
        responses: [OK(obj), UNAUTHORIZED],
      }),
    )
  }
  if (has('update')) itemOps.push(replaceOp(op, `replace${gv}${scope}${rt.kind}`, `replace the specified ${rt.kind}`, obj))
  if (has('patch')) itemOps.push(patchOp(op, `patch${gv}${scope}${rt.kind}`, `partially update the specified ${rt.kind}`, obj))
  if (has('delete')) {
    itemOps.push(
      op({
        method: 'delete',
        operationId: `delete${gv}${scope}${rt.kind}`,
        description: `delete ${article(rt.kind)} ${rt.kind}`,
        action: 'delete',
        parameters: DELETE_PARAMETERS,
        body: DELETE_OPTIONS,
        consumes: ANY,
        produces: JSON_ONLY,
        responses: [OK(STATUS), ACCEPTED(STATUS), UNAUTHORIZED],
      }),
    )
  }
  if (itemOps.length > 0) items.push({ path: item, parameters: [nameParam, ...nsParams, PARAMETERS.pretty], operations: itemOps })

  for (const sub of rt.subresources) items.push(subresourcePath(rt, sub, item, [nameParam, ...nsParams, PARAMETERS.pretty], op))

  if (rt.namespaced && has('list')) {
    items.push({
      path: `${root}/${rt.plural}`,
      parameters: [...LIST_PARAMETERS, PARAMETERS.pretty].sort(byName),
      operations: [
        op({
          method: 'get',
          operationId: `list${gv}${rt.kind}ForAllNamespaces`,
          description: `list or watch objects of kind ${rt.kind}`,
          action: 'list',
          parameters: [],
          produces: WATCH_PRODUCES,
          responses: [OK(list), UNAUTHORIZED],
        }),
      ],
    })
  }
  if (has('watch')) items.push(...watchPaths(rt, root, gv, nsParams, op))
  return items
}

type OpBuilder = (o: Omit<Operation, 'tag' | 'gvk'> & { gvk?: GroupVersionKind }) => Operation

function replaceOp(op: OpBuilder, operationId: string, description: string, obj: Schema, gvk?: GroupVersionKind): Operation {
  return op({
    method: 'put',
    operationId,
    description,
    action: 'put',
    ...(gvk !== undefined ? { gvk } : {}),
    parameters: UPDATE_PARAMETERS,
    body: obj,
    consumes: ANY,
    produces: JSON_ONLY,
    responses: [OK(obj), CREATED(obj), UNAUTHORIZED],
  })
}

function patchOp(op: OpBuilder, operationId: string, description: string, obj: Schema, gvk?: GroupVersionKind): Operation {
  return op({
    method: 'patch',
    operationId,
    description,
    action: 'patch',
    ...(gvk !== undefined ? { gvk } : {}),
    parameters: PATCH_PARAMETERS,
    body: PATCH,
    consumes: PATCH_CONTENT_TYPES,
    produces: JSON_ONLY,
    responses: [OK(obj), CREATED(obj), UNAUTHORIZED],
  })
}

function subresourcePath(rt: ResourceType, sub: ResourceType['subresources'][number], item: string, parameters: Parameter[], op: OpBuilder): PathItem {
  const gv = groupVersionId(rt.group, rt.version)
  const scope = rt.namespaced ? 'Namespaced' : ''
  const sk = subresourceKind(rt, sub)
  const group = sk.group ?? rt.group
  const version = sk.version ?? rt.version
  const gvk: GroupVersionKind = { group, kind: sk.kind, version }
  const body = ref(definitionName(group, version, sk.kind))
  const Sub = sub.charAt(0).toUpperCase() + sub.slice(1)
  const path = `${item}/${sub}`
  switch (sub) {
    case 'status':
    case 'scale':
      return {
        path,
        parameters,
        operations: [
          op({
            method: 'get',
            operationId: `read${gv}${scope}${rt.kind}${Sub}`,
            description: `read ${sub} of the specified ${rt.kind}`,
            action: 'get',
            gvk,
            parameters: [],
            produces: JSON_ONLY,
            responses: [OK(body), UNAUTHORIZED],
          }),
          replaceOp(op, `replace${gv}${scope}${rt.kind}${Sub}`, `replace ${sub} of the specified ${rt.kind}`, body, gvk),
          patchOp(op, `patch${gv}${scope}${rt.kind}${Sub}`, `partially update ${sub} of the specified ${rt.kind}`, body, gvk),
        ],
      }
    case 'finalize':
      return { path, parameters, operations: [replaceOp(op, `replace${gv}${scope}${rt.kind}${Sub}`, `replace ${sub} of the specified ${rt.kind}`, body, gvk)] }
    case 'binding':
    case 'eviction':
      return {
        path,
        parameters,
        operations: [
          op({
            method: 'post',
            operationId: `create${gv}${scope}${rt.kind}${Sub}`,
            description: `create ${sub} of ${article(rt.kind)} ${rt.kind}`,
            action: 'post',
            gvk,
            parameters: CREATE_PARAMETERS,
            body,
            consumes: ANY,
            produces: JSON_ONLY,
            responses: [OK(body), CREATED(body), ACCEPTED(body), UNAUTHORIZED],
          }),
        ],
      }
    case 'log':
      return {
        path,
        parameters,
        operations: [
          op({
            method: 'get',
            operationId: `read${gv}${scope}${rt.kind}Log`,
            description: `read log of the specified ${rt.kind}`,
            action: 'get',
            gvk,
            parameters: LOG_PARAMETERS,
            produces: ['text/plain', 'application/json'],
            responses: [OK({ type: 'string' }), UNAUTHORIZED],
          }),
        ],
      }
  }
}

function watchPaths(rt: ResourceType, root: string, gv: string, nsParams: Parameter[], op: OpBuilder): PathItem[] {
  const event = [OK(WATCH_EVENT), UNAUTHORIZED]
  const listParams = (extra: Parameter[]): Parameter[] => [...extra, ...[...LIST_PARAMETERS, PARAMETERS.pretty].sort(byName)]
  const single = (path: string, operationId: string): PathItem => ({
    path,
    parameters: listParams([pathName(rt.kind), ...nsParams]),
    operations: [
      op({
        method: 'get',
        operationId,
        description: `watch changes to an object of kind ${rt.kind}. deprecated: use the 'watch' parameter with a list operation instead, filtered to a single item with the 'fieldSelector' parameter.`,
        action: 'watch',
        parameters: [],
        produces: WATCH_PRODUCES,
        responses: event,
      }),
    ],
  })
  const many = (path: string, extra: Parameter[], operationId: string): PathItem => ({
    path,
    parameters: listParams(extra),
    operations: [
      op({
        method: 'get',
        operationId,
        description: `watch individual changes to a list of ${rt.kind}. deprecated: use the 'watch' parameter with a list operation instead.`,
        action: 'watchlist',
        parameters: [],
        produces: WATCH_PRODUCES,
        responses: event,
      }),
    ],
  })
  if (!rt.namespaced) {
    return [many(`${root}/watch/${rt.plural}`, [], `watch${gv}${rt.kind}List`), single(`${root}/watch/${rt.plural}/{name}`, `watch${gv}${rt.kind}`)]
  }
  return [
    many(`${root}/watch/${rt.plural}`, [], `watch${gv}${rt.kind}ListForAllNamespaces`),
    many(`${root}/watch/namespaces/{namespace}/${rt.plural}`, nsParams, `watch${gv}Namespaced${rt.kind}List`),
    single(`${root}/watch/namespaces/{namespace}/${rt.plural}/{name}`, `watch${gv}Namespaced${rt.kind}`),
  ]
}

function byName(a: Parameter, b: Parameter): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0
}

function article(kind: string): string {
  return /^[AEIOU]/.test(kind) ? 'an' : 'a'
}

/** `/api/v1/` or `/apis/<group>/<version>/`: the group version's resource list. */
function resourceListPath(group: string, version: string): PathItem {
  const tag = groupVersionTag(group, version)
  return {
    path: `${groupVersionRoot(group, version)}/`,
    parameters: [],
    operations: [
      {
        method: 'get',
        operationId: `get${groupVersionId(group, version)}APIResources`,
        description: 'get available resources',
        tag,
        parameters: [],
        consumes: JSON_ONLY,
        produces: JSON_ONLY,
        responses: [OK(ref(`${META}.APIResourceList`)), UNAUTHORIZED],
      },
    ],
  }
}

/** Every path of one group version, sorted by path. */
export function groupVersionPaths(group: string, version: string): PathItem[] {
  const items = [resourceListPath(group, version)]
  for (const rt of RESOURCES) if (rt.group === group && rt.version === version) items.push(...resourcePaths(rt))
  return items.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
}

function simpleGet(path: string, operationId: string, description: string, tag: string, schema: Schema): PathItem {
  return {
    path,
    parameters: [],
    operations: [{ method: 'get', operationId, description, tag, parameters: [], consumes: JSON_ONLY, produces: JSON_ONLY, responses: [OK(schema), UNAUTHORIZED] }],
  }
}

/**
 * The discovery and version paths, keyed as the OpenAPI v3 index names their documents:
 * `api` (/api/), `apis` (/apis/), `apis/<group>` (/apis/<group>/), `version` (/version/).
 */
export function discoveryPaths(): Map<string, PathItem> {
  const out = new Map<string, PathItem>()
  out.set('api', simpleGet('/api/', 'getCoreAPIVersions', 'get available API versions', 'core', ref(`${META}.APIVersions`)))
  out.set('apis', simpleGet('/apis/', 'getAPIVersions', 'get available API versions', 'apis', ref(`${META}.APIGroupList`)))
  for (const { group } of servedGroups()) {
    if (group === '') continue
    const id = groupVersionId(group, '')
    const tag = groupVersionTag(group, '').replace(/_$/, '')
    out.set(`apis/${group}`, simpleGet(`/apis/${group}/`, `get${id}APIGroup`, 'get information of a group', tag, ref(`${META}.APIGroup`)))
  }
  out.set('version', simpleGet('/version/', 'getCodeVersion', 'get the code version', 'version', ref('io.k8s.apimachinery.pkg.version.Info')))
  return out
}
