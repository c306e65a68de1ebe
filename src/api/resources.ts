// The catalog of every resource the API server serves (SCOPE.md): group, version,
// kind, plural and the rest of what discovery, OpenAPI, routing and storage are
// derived from. Pure data; names, short names, categories and verbs as kube-apiserver
// 1.32 reports them, so `kubectl api-resources` reads the same.

export type Verb = 'create' | 'delete' | 'deletecollection' | 'get' | 'list' | 'patch' | 'update' | 'watch'

export type Subresource = 'status' | 'scale' | 'binding' | 'eviction' | 'log' | 'finalize'

export interface ResourceType {
  /** '' for the core (legacy) group served under /api/v1. */
  readonly group: string
  readonly version: string
  readonly kind: string
  /** URL path segment, lower-case plural: `deployments`. */
  readonly plural: string
  readonly singular: string
  readonly namespaced: boolean
  readonly shortNames: readonly string[]
  readonly categories: readonly string[]
  readonly verbs: readonly Verb[]
  readonly subresources: readonly Subresource[]
}

const ALL_VERBS: readonly Verb[] = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch']
const NO_COLLECTION_DELETE: readonly Verb[] = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch']

interface Entry {
  kind: string
  plural: string
  namespaced: boolean
  shortNames?: string[]
  categories?: string[]
  verbs?: readonly Verb[]
  subresources?: Subresource[]
  /** Default: the kind, lower-cased. */
  singular?: string
}

function groupVersion(group: string, version: string, entries: Entry[]): ResourceType[] {
  return entries.map((e) => ({
    group,
    version,
    kind: e.kind,
    plural: e.plural,
    singular: e.singular ?? e.kind.toLowerCase(),
    namespaced: e.namespaced,
    shortNames: e.shortNames ?? [],
    categories: e.categories ?? [],
    verbs: e.verbs ?? ALL_VERBS,
    subresources: e.subresources ?? [],
  }))
}

export const RESOURCES: readonly ResourceType[] = [
  ...groupVersion('', 'v1', [
    { kind: 'Namespace', plural: 'namespaces', namespaced: false, shortNames: ['ns'], verbs: NO_COLLECTION_DELETE, subresources: ['status', 'finalize'] },
    { kind: 'Pod', plural: 'pods', namespaced: true, shortNames: ['po'], categories: ['all'], subresources: ['status', 'binding', 'eviction', 'log'] },
    { kind: 'Node', plural: 'nodes', namespaced: false, shortNames: ['no'], subresources: ['status'] },
    { kind: 'Service', plural: 'services', namespaced: true, shortNames: ['svc'], categories: ['all'], subresources: ['status'] },
    { kind: 'Endpoints', plural: 'endpoints', namespaced: true, shortNames: ['ep'] },
    { kind: 'ConfigMap', plural: 'configmaps', namespaced: true, shortNames: ['cm'] },
    { kind: 'Secret', plural: 'secrets', namespaced: true },
    { kind: 'ServiceAccount', plural: 'serviceaccounts', namespaced: true, shortNames: ['sa'] },
    { kind: 'Event', plural: 'events', namespaced: true, shortNames: ['ev'] },
    { kind: 'PersistentVolume', plural: 'persistentvolumes', namespaced: false, shortNames: ['pv'], subresources: ['status'] },
    { kind: 'PersistentVolumeClaim', plural: 'persistentvolumeclaims', namespaced: true, shortNames: ['pvc'], subresources: ['status'] },
    { kind: 'ResourceQuota', plural: 'resourcequotas', namespaced: true, shortNames: ['quota'], subresources: ['status'] },
    { kind: 'LimitRange', plural: 'limitranges', namespaced: true, shortNames: ['limits'] },
    { kind: 'ReplicationController', plural: 'replicationcontrollers', namespaced: true, shortNames: ['rc'], categories: ['all'], subresources: ['status', 'scale'] },
  ]),
  ...groupVersion('apps', 'v1', [
    { kind: 'Deployment', plural: 'deployments', namespaced: true, shortNames: ['deploy'], categories: ['all'], subresources: ['status', 'scale'] },
    { kind: 'ReplicaSet', plural: 'replicasets', namespaced: true, shortNames: ['rs'], categories: ['all'], subresources: ['status', 'scale'] },
    { kind: 'DaemonSet', plural: 'daemonsets', namespaced: true, shortNames: ['ds'], categories: ['all'], subresources: ['status'] },
    { kind: 'StatefulSet', plural: 'statefulsets', namespaced: true, shortNames: ['sts'], categories: ['all'], subresources: ['status', 'scale'] },
    { kind: 'ControllerRevision', plural: 'controllerrevisions', namespaced: true },
  ]),
  ...groupVersion('batch', 'v1', [
    { kind: 'Job', plural: 'jobs', namespaced: true, categories: ['all'], subresources: ['status'] },
    { kind: 'CronJob', plural: 'cronjobs', namespaced: true, shortNames: ['cj'], categories: ['all'], subresources: ['status'] },
  ]),
  ...groupVersion('autoscaling', 'v2', [
    { kind: 'HorizontalPodAutoscaler', plural: 'horizontalpodautoscalers', namespaced: true, shortNames: ['hpa'], categories: ['all'], subresources: ['status'] },
  ]),
  ...groupVersion('coordination.k8s.io', 'v1', [{ kind: 'Lease', plural: 'leases', namespaced: true }]),
  ...groupVersion('discovery.k8s.io', 'v1', [{ kind: 'EndpointSlice', plural: 'endpointslices', namespaced: true }]),
  ...groupVersion('networking.k8s.io', 'v1', [
    { kind: 'Ingress', plural: 'ingresses', namespaced: true, shortNames: ['ing'], subresources: ['status'] },
    { kind: 'IngressClass', plural: 'ingressclasses', namespaced: false },
  ]),
  ...groupVersion('scheduling.k8s.io', 'v1', [{ kind: 'PriorityClass', plural: 'priorityclasses', namespaced: false, shortNames: ['pc'] }]),
  ...groupVersion('storage.k8s.io', 'v1', [{ kind: 'StorageClass', plural: 'storageclasses', namespaced: false, shortNames: ['sc'] }]),
  ...groupVersion('rbac.authorization.k8s.io', 'v1', [
    { kind: 'Role', plural: 'roles', namespaced: true },
    { kind: 'ClusterRole', plural: 'clusterroles', namespaced: false },
    { kind: 'RoleBinding', plural: 'rolebindings', namespaced: true },
    { kind: 'ClusterRoleBinding', plural: 'clusterrolebindings', namespaced: false },
  ]),
]

/**
 * Served but not stored: metrics.k8s.io, read-only usage from the kubelets' reports
 * (src/apiserver/metrics-api/). In discovery only (kubectl top looks for it there); no
 * registry store, OpenAPI or protobuf, and not in RESOURCES or findResource. Singular
 * names as metrics-server reports them (its pods storage has none).
 */
export const METRICS_RESOURCES: readonly ResourceType[] = groupVersion('metrics.k8s.io', 'v1beta1', [
  { kind: 'NodeMetrics', plural: 'nodes', namespaced: false, verbs: ['get', 'list'], singular: 'node' },
  { kind: 'PodMetrics', plural: 'pods', namespaced: true, verbs: ['get', 'list'], singular: '' },
])

/**
 * Served in a version other than the stored one and converted per request
 * (src/apiserver/versions/): autoscaling/v1 HorizontalPodAutoscalers over the stored
 * autoscaling/v2 objects, as kube-apiserver serves both. Not in RESOURCES or
 * findResource: storage, controllers and OpenAPI see only the stored version.
 */
export const CONVERTED_RESOURCES: readonly ResourceType[] = groupVersion('autoscaling', 'v1', [
  { kind: 'HorizontalPodAutoscaler', plural: 'horizontalpodautoscalers', namespaced: true, shortNames: ['hpa'], categories: ['all'], subresources: ['status'] },
])

/** Every resource discovery lists: the stored ones, METRICS_RESOURCES, then CONVERTED_RESOURCES. */
export const DISCOVERY_RESOURCES: readonly ResourceType[] = [...RESOURCES, ...METRICS_RESOURCES, ...CONVERTED_RESOURCES]

/** `apps/v1`, or `v1` for the core group. */
export function apiVersionOf(r: Pick<ResourceType, 'group' | 'version'>): string {
  return r.group === '' ? r.version : `${r.group}/${r.version}`
}

const byGroupPlural = new Map<string, ResourceType>()
const byApiVersionKind = new Map<string, ResourceType>()
for (const r of RESOURCES) {
  byGroupPlural.set(`${r.group}/${r.plural}`, r)
  byApiVersionKind.set(`${apiVersionOf(r)}/${r.kind}`, r)
}

/** The resource served at /api(s)/<group>/<version>/<plural>, if any. */
export function findResource(group: string, version: string, plural: string): ResourceType | undefined {
  const r = byGroupPlural.get(`${group}/${plural}`)
  return r !== undefined && r.version === version ? r : undefined
}

/** A resource of CONVERTED_RESOURCES served at /apis/<group>/<version>/<plural>, if any. */
export function findConvertedResource(group: string, version: string, plural: string): ResourceType | undefined {
  return CONVERTED_RESOURCES.find((r) => r.group === group && r.version === version && r.plural === plural)
}

/** The stored version of a resource (itself for one of RESOURCES). */
export function storedResourceOf(r: ResourceType): ResourceType | undefined {
  return byGroupPlural.get(`${r.group}/${r.plural}`)
}

/** The resource of an object's apiVersion + kind, if served. */
export function resourceForKind(apiVersion: string, kind: string): ResourceType | undefined {
  return byApiVersionKind.get(`${apiVersion}/${kind}`)
}

/** Every served group with its (single) version, core first, in discovery order. */
export function servedGroups(): { group: string; version: string }[] {
  const seen = new Map<string, string>()
  for (const r of RESOURCES) if (!seen.has(r.group)) seen.set(r.group, r.version)
  return [...seen].map(([group, version]) => ({ group, version }))
}

/**
 * Every group discovery lists (servedGroups() plus METRICS_RESOURCES' group): `version`
 * is the preferred one (the stored version), `versions` all served ones, preferred first.
 */
export function discoveryGroups(): { group: string; version: string; versions: string[] }[] {
  const seen = new Map<string, string[]>()
  for (const r of DISCOVERY_RESOURCES) {
    const versions = seen.get(r.group)
    if (versions === undefined) seen.set(r.group, [r.version])
    else if (!versions.includes(r.version)) versions.push(r.version)
  }
  return [...seen].map(([group, versions]) => ({ group, version: versions[0]!, versions }))
}

/**
 * Where objects of this resource live in the store: `/registry/<plural>/<namespace>/<name>`
 * (cluster-scoped: `/registry/<plural>/<name>`). Plurals are unique across the served groups.
 */
export function storagePrefix(r: ResourceType): string {
  return `/registry/${r.plural}/`
}
