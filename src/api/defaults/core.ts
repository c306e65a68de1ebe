// Defaults for the non-pod core/v1 kinds and the other API groups' small kinds, as
// their SetDefaults_* functions, plus what their registries fill in on create (a
// Service's IP family fields, a Namespace's `kubernetes` finalizer).
import { arr, ensureRecord, isRecord, rec, recs, setDefault, str, strMap, type Json } from '../json.js'
import { isIPv6 } from '../validation/names.js'
import { defaultPVCSpec, defaultResourceList } from './pod.js'

function blank(o: Json, k: string): boolean {
  return o[k] === undefined || o[k] === null || o[k] === ''
}

// service.ExternallyAccessible
function externallyAccessible(spec: Json): boolean {
  return spec.type === 'LoadBalancer' || spec.type === 'NodePort' || (spec.type === 'ClusterIP' && arr(spec.externalIPs).length > 0)
}

export function defaultService(obj: Json, create: boolean): void {
  const spec = ensureRecord(obj, 'spec')
  if (blank(spec, 'sessionAffinity')) spec.sessionAffinity = 'None'
  if (spec.sessionAffinity === 'None') delete spec.sessionAffinityConfig
  if (spec.sessionAffinity === 'ClientIP') {
    const timeout = rec(rec(spec.sessionAffinityConfig).clientIP).timeoutSeconds
    if (timeout === undefined || timeout === null) spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: 10800 } }
  }
  if (blank(spec, 'type')) spec.type = 'ClusterIP'
  for (const p of recs(spec.ports)) {
    if (blank(p, 'protocol')) p.protocol = 'TCP'
    if (p.targetPort === undefined || p.targetPort === null || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port
  }
  if (externallyAccessible(spec) && blank(spec, 'externalTrafficPolicy')) spec.externalTrafficPolicy = 'Cluster'
  if (spec.internalTrafficPolicy == null && (spec.type === 'NodePort' || spec.type === 'LoadBalancer' || spec.type === 'ClusterIP')) {
    spec.internalTrafficPolicy = 'Cluster'
  }
  if (spec.type === 'LoadBalancer') setDefault(spec, 'allocateLoadBalancerNodePorts', true)
  if (create) defaultServiceIPFields(spec)
}

// The registry's normalizeClusterIPs and IP family initialization on create, for a
// single-stack IPv4 cluster (clusterIP allocation itself is the registry's job).
function defaultServiceIPFields(spec: Json): void {
  if (spec.type === 'ExternalName') return
  const clusterIP = str(spec.clusterIP)
  if (clusterIP !== '' && arr(spec.clusterIPs).length === 0) spec.clusterIPs = [clusterIP]
  const headless = clusterIP === 'None'
  if (blank(spec, 'ipFamilyPolicy')) {
    // Headless services without a selector are dual-stack capable by design.
    spec.ipFamilyPolicy = headless && Object.keys(rec(spec.selector)).length === 0 ? 'RequireDualStack' : 'SingleStack'
  }
  if (arr(spec.ipFamilies).length === 0) spec.ipFamilies = [!headless && isIPv6(clusterIP) ? 'IPv6' : 'IPv4']
}

export function defaultNamespace(obj: Json, create: boolean): void {
  const meta = ensureRecord(obj, 'metadata')
  const name = str(meta.name)
  if (name !== '') ensureRecord(meta, 'labels')['kubernetes.io/metadata.name'] = name
  const status = ensureRecord(obj, 'status')
  if (blank(status, 'phase')) status.phase = 'Active'
  // Never for a namespace being deleted: its finalizers only shrink from then on.
  if (create && str(meta.deletionTimestamp) === '') {
    const spec = ensureRecord(obj, 'spec')
    const finalizers = arr(spec.finalizers)
    if (!finalizers.includes('kubernetes')) spec.finalizers = [...finalizers, 'kubernetes']
  }
}

/** v1 Secrets: type Opaque, and stringData merged into data (it is write-only). */
export function defaultSecret(obj: Json): void {
  if (blank(obj, 'type')) obj.type = 'Opaque'
  if (isRecord(obj.stringData)) {
    const entries = Object.entries(strMap(obj.stringData))
    if (entries.length > 0) {
      const data = ensureRecord(obj, 'data')
      for (const [k, v] of entries) data[k] = Buffer.from(v, 'utf8').toString('base64')
    }
    delete obj.stringData
  }
}

export function defaultPersistentVolume(obj: Json): void {
  const spec = ensureRecord(obj, 'spec')
  const status = ensureRecord(obj, 'status')
  if (blank(status, 'phase')) status.phase = 'Pending'
  if (blank(spec, 'persistentVolumeReclaimPolicy')) spec.persistentVolumeReclaimPolicy = 'Retain'
  setDefault(spec, 'volumeMode', 'Filesystem')
  defaultResourceList(spec.capacity)
  if (isRecord(spec.hostPath)) setDefault(spec.hostPath, 'type', '')
}

export function defaultPersistentVolumeClaim(obj: Json): void {
  defaultPVCSpec(ensureRecord(obj, 'spec'))
  const status = ensureRecord(obj, 'status')
  if (blank(status, 'phase')) status.phase = 'Pending'
  defaultResourceList(status.capacity)
}

export function defaultNode(obj: Json): void {
  const status = rec(obj.status)
  defaultResourceList(status.capacity)
  defaultResourceList(status.allocatable)
  if (isRecord(status.capacity) && status.allocatable == null) status.allocatable = { ...status.capacity }
}

export function defaultEndpoints(obj: Json): void {
  for (const subset of recs(obj.subsets)) for (const p of recs(subset.ports)) if (blank(p, 'protocol')) p.protocol = 'TCP'
}

export function defaultLimitRange(obj: Json): void {
  for (const item of recs(rec(obj.spec).limits)) {
    for (const k of ['max', 'min', 'default', 'defaultRequest', 'maxLimitRequestRatio']) defaultResourceList(item[k])
    if (item.type !== 'Container') continue
    const dflt = ensureRecord(item, 'default')
    const dfltRequest = ensureRecord(item, 'defaultRequest')
    // Limits default to the max, requests to the default limit, then to the min.
    for (const [k, v] of Object.entries(rec(item.max))) if (!(k in dflt)) dflt[k] = v
    for (const [k, v] of Object.entries(dflt)) if (!(k in dfltRequest)) dfltRequest[k] = v
    for (const [k, v] of Object.entries(rec(item.min))) if (!(k in dfltRequest)) dfltRequest[k] = v
  }
}

export function defaultResourceQuota(obj: Json): void {
  defaultResourceList(rec(obj.spec).hard)
  defaultResourceList(rec(obj.status).hard)
  defaultResourceList(rec(obj.status).used)
}

export function defaultEndpointSlice(obj: Json): void {
  for (const p of recs(obj.ports)) {
    setDefault(p, 'name', '')
    setDefault(p, 'protocol', 'TCP')
  }
}

export function defaultIngressClass(obj: Json): void {
  const params = rec(obj.spec).parameters
  if (isRecord(params)) setDefault(params, 'scope', 'Cluster')
}

export function defaultStorageClass(obj: Json): void {
  setDefault(obj, 'reclaimPolicy', 'Delete')
  setDefault(obj, 'volumeBindingMode', 'Immediate')
}

export function defaultPriorityClass(obj: Json): void {
  setDefault(obj, 'preemptionPolicy', 'PreemptLowerPriority')
}

const RBAC_GROUP = 'rbac.authorization.k8s.io'

export function defaultRoleBinding(obj: Json): void {
  const roleRef = rec(obj.roleRef)
  if (isRecord(obj.roleRef) && blank(roleRef, 'apiGroup')) roleRef.apiGroup = RBAC_GROUP
  for (const s of recs(obj.subjects)) {
    if (!blank(s, 'apiGroup')) continue
    if (s.kind === 'ServiceAccount') s.apiGroup = ''
    else if (s.kind === 'User' || s.kind === 'Group') s.apiGroup = RBAC_GROUP
  }
}
