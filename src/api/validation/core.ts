// The remaining core/v1 kinds (core/validation): Namespace, Node, ConfigMap, Secret,
// ServiceAccount, PersistentVolume, PersistentVolumeClaim, ResourceQuota, LimitRange
// and Event.
import { arr, isRecord, rec, recs, semanticEqual, str, type Json } from '../json.js'
import type { Quantity } from '../quantity.js'
import { child, fieldErrors as fe, index, key, type FieldError } from './errors.js'
import { goStringSlice, goStringMap, GoText, goQuote } from './go-format.js'
import { validatePathNoBacksteps } from './containers.js'
import { validateLabelName, validateLabelSelector, validateObjectMeta, validateObjectMetaUpdate, validateQualifiedName, FIELD_IMMUTABLE } from './meta.js'
import { byteLength, isConfigMapKey, isDNS1123Subdomain, isValidLabelValue, nameIsDNSLabel, nameIsDNSSubdomain, parseCIDR, isIPv6 } from './names.js'
import {
  parseResourceList,
  quantityAt,
  validateContainerResourceName,
  validatePositiveQuantityValue,
  validateResourceName,
  validateResourceQuantityValue,
  validateResourceQuotaResourceName,
} from './resources.js'
import { validateTaintEffect } from './pod.js'

const MAX_SECRET_SIZE = 1024 * 1024

// ---- Namespace

const STANDARD_FINALIZERS = new Set(['kubernetes', 'orphan', 'foregroundDeletion'])

function validateFinalizerName(name: string, path: string): FieldError[] {
  const errs = validateQualifiedName(name, path)
  if (name.split('/').length === 1 && !STANDARD_FINALIZERS.has(name)) errs.push(fe.invalid(path, name, 'name is neither a standard finalizer name nor is it fully qualified'))
  return errs
}

export function validateNamespace(obj: Json): FieldError[] {
  const errs = validateObjectMeta(obj.metadata, false, nameIsDNSLabel)
  for (const f of arr(rec(obj.spec).finalizers)) errs.push(...validateFinalizerName(str(f), child('spec', 'finalizers')))
  return errs
}

export function validateNamespaceUpdate(n: Json, o: Json): FieldError[] {
  return validateObjectMetaUpdate(n.metadata, o.metadata)
}

export function validateNamespaceStatusUpdate(n: Json, o: Json): FieldError[] {
  const errs = validateObjectMetaUpdate(n.metadata, o.metadata)
  const phase = str(rec(n.status).phase)
  if (str(rec(n.metadata).deletionTimestamp) === '') {
    if (phase !== 'Active') errs.push(fe.invalid(child('status', 'Phase'), phase, "may only be 'Active' if `deletionTimestamp` is empty"))
  } else if (phase !== 'Terminating') {
    errs.push(fe.invalid(child('status', 'Phase'), phase, "may only be 'Terminating' if `deletionTimestamp` is not empty"))
  }
  return errs
}

/** The /finalize subresource: the new finalizer list must be valid names. */
export function validateNamespaceFinalizeUpdate(n: Json, o: Json): FieldError[] {
  const errs = validateObjectMetaUpdate(n.metadata, o.metadata)
  arr(rec(n.spec).finalizers).forEach((f, i) => errs.push(...validateFinalizerName(str(f), index(child('spec', 'finalizers'), i))))
  return errs
}

// ---- Node

function validateNodeTaints(taints: unknown, path: string): FieldError[] {
  const errs: FieldError[] = []
  const unique = new Map<string, Set<string>>()
  recs(taints).forEach((t, i) => {
    const p = index(path, i)
    const k = str(t.key)
    const effect = str(t.effect)
    errs.push(...validateLabelName(k, child(p, 'key')))
    const valueErrs = isValidLabelValue(str(t.value))
    if (valueErrs.length > 0) errs.push(fe.invalid(child(p, 'value'), str(t.value), valueErrs.join(';')))
    errs.push(...validateTaintEffect(effect, false, child(p, 'effect')))
    if (unique.get(effect)?.has(k)) {
      const text = new GoText(`core.Taint{Key:${goQuote(k)}, Value:${goQuote(str(t.value))}, Effect:${goQuote(effect)}, TimeAdded:<nil>}`)
      errs.push(fe.withDetail(fe.duplicate(p, text), 'taints must be unique by key and effect pair'))
      return
    }
    if (!unique.has(effect)) unique.set(effect, new Set())
    unique.get(effect)!.add(k)
  })
  return errs
}

function validateNodeResources(node: Json): FieldError[] {
  const errs: FieldError[] = []
  const status = rec(node.status)
  for (const k of ['capacity', 'allocatable']) {
    for (const [name, q] of parseResourceList(status[k], child('status', k), errs)) errs.push(...validateResourceQuantityValue(name, q, child('status', k, name)))
  }
  return errs
}

function validatePodCIDRs(spec: Json): FieldError[] {
  const cidrs = arr(spec.podCIDRs).map(str)
  if (cidrs.length === 0) return []
  const p = child('spec', 'podCIDRs')
  const errs: FieldError[] = []
  cidrs.forEach((c, i) => {
    if (parseCIDR(c) === undefined) errs.push(fe.invalid(index(p, i), c, 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)'))
  })
  if (cidrs.length > 1) {
    const dual = cidrs.length === 2 && cidrs.every((c) => parseCIDR(c) !== undefined) && isIPv6(cidrs[0].split('/')[0]) !== isIPv6(cidrs[1].split('/')[0])
    if (!dual || cidrs.length > 2) errs.push(fe.invalid(p, goStringSlice(cidrs), 'may specify no more than one CIDR for each IP family'))
    const seen = new Set<string>()
    cidrs.forEach((c, i) => {
      if (seen.has(c)) errs.push(fe.duplicate(index(p, i), c))
      seen.add(c)
    })
  }
  return errs
}

export function validateNode(obj: Json): FieldError[] {
  const errs = validateObjectMeta(obj.metadata, false, nameIsDNSSubdomain)
  const spec = rec(obj.spec)
  // Upstream reports taints under the metadata path.
  if (arr(spec.taints).length > 0) errs.push(...validateNodeTaints(spec.taints, child('metadata', 'taints')))
  errs.push(...validateNodeResources(obj))
  errs.push(...validatePodCIDRs(spec))
  return errs
}

export function validateNodeUpdate(n: Json, o: Json): FieldError[] {
  const errs = validateObjectMetaUpdate(n.metadata, o.metadata)
  errs.push(...validateNodeResources(n))
  const seen: Json[] = []
  recs(rec(n.status).addresses).forEach((a, i) => {
    if (seen.some((s) => semanticEqual(s, a))) errs.push(fe.duplicate(index(child('status', 'addresses'), i), new GoText(`core.NodeAddress{Type:${goQuote(str(a.type))}, Address:${goQuote(str(a.address))}}`)))
    seen.push(a)
  })
  const ns = rec(n.spec)
  const os = rec(o.spec)
  const oldCIDRs = arr(os.podCIDRs).map(str)
  const newCIDRs = arr(ns.podCIDRs).map(str)
  if (oldCIDRs.length > 0) {
    const msg = 'node updates may not change podCIDR except from "" to valid'
    if (oldCIDRs.length !== newCIDRs.length) errs.push(fe.forbidden(child('spec', 'podCIDRs'), msg))
    else oldCIDRs.forEach((c, i) => c !== newCIDRs[i] && errs.push(fe.forbidden(child('spec', 'podCIDRs'), msg)))
  }
  if (str(os.providerID) !== '' && str(os.providerID) !== str(ns.providerID)) {
    errs.push(fe.forbidden(child('spec', 'providerID'), 'node updates may not change providerID except from "" to valid'))
  }
  if (arr(ns.taints).length > 0) errs.push(...validateNodeTaints(ns.taints, child('metadata', 'taints')))
  if (str(ns.externalID) !== str(os.externalID)) errs.push(fe.forbidden(child('spec', 'externalID'), 'may not be updated'))
  return errs
}

// ---- ConfigMap and Secret

function validateDataKeys(data: unknown, path: string): FieldError[] {
  return Object.keys(rec(data)).flatMap((k) => isConfigMapKey(k).map((m) => fe.invalid(key(path, k), k, m)))
}

export function validateConfigMap(obj: Json): FieldError[] {
  const errs = validateObjectMeta(obj.metadata, true, nameIsDNSSubdomain)
  const data = rec(obj.data)
  const binary = rec(obj.binaryData)
  let total = 0
  for (const [k, v] of Object.entries(data)) {
    for (const m of isConfigMapKey(k)) errs.push(fe.invalid(key('data', k), k, m))
    if (k in binary) errs.push(fe.invalid(key('data', k), k, 'duplicate of key present in binaryData'))
    total += byteLength(str(v))
  }
  errs.push(...validateDataKeys(binary, 'binaryData'))
  for (const v of Object.values(binary)) total += base64Length(str(v))
  // field.NewPath("") prints as "[]" upstream.
  if (total > MAX_SECRET_SIZE) errs.push(fe.tooLong('[]', MAX_SECRET_SIZE))
  return errs
}

function immutableWhenSet(n: Json, o: Json, fields: string[]): FieldError[] {
  if (o.immutable !== true) return []
  const errs: FieldError[] = []
  if (n.immutable !== true) errs.push(fe.forbidden('immutable', 'field is immutable when `immutable` is set'))
  for (const f of fields) if (!semanticEqual(n[f], o[f])) errs.push(fe.forbidden(f, 'field is immutable when `immutable` is set'))
  return errs
}

export function validateConfigMapUpdate(n: Json, o: Json): FieldError[] {
  return [...validateObjectMetaUpdate(n.metadata, o.metadata), ...immutableWhenSet(n, o, ['data', 'binaryData']), ...validateConfigMap(n)]
}

function base64Length(s: string): number {
  return Buffer.from(s, 'base64').length
}

// Where Go's strict base64 decoder would stop, if anywhere.
function base64Error(s: string): string | undefined {
  const at = s.search(/[^A-Za-z0-9+/=]/)
  if (at >= 0) return `illegal base64 data at input byte ${at}`
  const pad = s.indexOf('=')
  if (pad >= 0 && !/^=*$/.test(s.slice(pad))) return `illegal base64 data at input byte ${pad}`
  if (s.length % 4 !== 0) return `illegal base64 data at input byte ${s.length - (s.length % 4)}`
  return undefined
}

const SECRET_REQUIRED_KEYS: Record<string, string[]> = {
  'kubernetes.io/tls': ['tls.crt', 'tls.key'],
}

export function validateSecret(obj: Json): FieldError[] {
  const errs = validateObjectMeta(obj.metadata, true, nameIsDNSSubdomain)
  const data = rec(obj.data)
  let total = 0
  for (const [k, v] of Object.entries(data)) {
    for (const m of isConfigMapKey(k)) errs.push(fe.invalid(key('data', k), k, m))
    const b64err = base64Error(str(v))
    if (b64err !== undefined) errs.push(fe.invalid(key('data', k), '<secret contents redacted>', b64err))
    total += base64Length(str(v))
  }
  if (total > MAX_SECRET_SIZE) errs.push(fe.tooLong('data', MAX_SECRET_SIZE))
  const type = str(obj.type)
  const decoded = (k: string): string => Buffer.from(str(data[k]), 'base64').toString('utf8')
  const jsonKey = (k: string): void => {
    if (!(k in data)) {
      errs.push(fe.required(key('data', k), ''))
      return
    }
    try {
      const v: unknown = JSON.parse(decoded(k))
      if (!isRecord(v)) throw new Error(`json: cannot unmarshal ${Array.isArray(v) ? 'array' : typeof v} into Go value of type map[string]interface {}`)
    } catch (e) {
      errs.push(fe.invalid(key('data', k), '<secret contents redacted>', (e as Error).message))
    }
  }
  switch (type) {
    case 'kubernetes.io/service-account-token':
      if (str(rec(rec(obj.metadata).annotations)['kubernetes.io/service-account.name']) === '') {
        errs.push(fe.required(key(child('metadata', 'annotations'), 'kubernetes.io/service-account.name'), ''))
      }
      break
    case 'kubernetes.io/dockercfg':
      jsonKey('.dockercfg')
      break
    case 'kubernetes.io/dockerconfigjson':
      jsonKey('.dockerconfigjson')
      break
    case 'kubernetes.io/basic-auth':
      if (!('username' in data) && !('password' in data)) errs.push(fe.required(key('data', 'username'), ''), fe.required(key('data', 'password'), ''))
      break
    case 'kubernetes.io/ssh-auth':
      if (base64Length(str(data['ssh-privatekey'])) === 0) errs.push(fe.required(key('data', 'ssh-privatekey'), ''))
      break
    default:
      for (const k of SECRET_REQUIRED_KEYS[type] ?? []) if (!(k in data)) errs.push(fe.required(key('data', k), ''))
  }
  return errs
}

export function validateSecretUpdate(n: Json, o: Json): FieldError[] {
  const errs = validateObjectMetaUpdate(n.metadata, o.metadata)
  if (str(n.type) !== str(o.type)) errs.push(fe.invalid('type', str(n.type), FIELD_IMMUTABLE))
  errs.push(...immutableWhenSet(n, o, ['data']), ...validateSecret(n))
  return errs
}

export function validateServiceAccount(obj: Json): FieldError[] {
  return validateObjectMeta(obj.metadata, true, nameIsDNSSubdomain)
}

export function validateServiceAccountUpdate(n: Json, o: Json): FieldError[] {
  return [...validateObjectMetaUpdate(n.metadata, o.metadata), ...validateServiceAccount(n)]
}

// ---- PersistentVolume and PersistentVolumeClaim

const ACCESS_MODES = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod']
const RECLAIM_POLICIES = ['Delete', 'Recycle', 'Retain']
const VOLUME_MODES = ['Block', 'Filesystem']

const PV_SOURCES: [string, string][] = [
  ['hostPath', 'hostPath'], ['gcePersistentDisk', 'gcePersistentDisk'], ['awsElasticBlockStore', 'awsElasticBlockStore'],
  ['glusterfs', 'glusterfs'], ['flocker', 'flocker'], ['nfs', 'nfs'], ['rbd', 'rbd'], ['quobyte', 'quobyte'], ['cephfs', 'cephFS'],
  ['iscsi', 'iscsi'], ['cinder', 'cinder'], ['fc', 'fc'], ['flexVolume', 'flexVolume'], ['azureFile', 'azureFile'],
  ['vsphereVolume', 'vsphereVolume'], ['photonPersistentDisk', 'photonPersistentDisk'], ['portworxVolume', 'portworxVolume'],
  ['azureDisk', 'azureDisk'], ['scaleIO', 'scaleIO'], ['local', 'local'], ['storageos', 'storageos'], ['csi', 'csi'],
]

function validateAccessModes(modes: unknown, path: string, errs: FieldError[]): void {
  let rwop = false
  let other = false
  for (const m of arr(modes).map(str)) {
    if (!ACCESS_MODES.includes(m)) errs.push(fe.notSupported(path, m, ACCESS_MODES))
    if (m === 'ReadWriteOncePod') rwop = true
    else if (ACCESS_MODES.includes(m)) other = true
  }
  if (rwop && other) errs.push(fe.forbidden(path, 'may not use ReadWriteOncePod with other access modes'))
}

function validatePVSpec(spec: Json): FieldError[] {
  const errs: FieldError[] = []
  const path = 'spec'
  if (arr(spec.accessModes).length === 0) errs.push(fe.required(child(path, 'accessModes'), ''))
  validateAccessModes(spec.accessModes, child(path, 'accessModes'), errs)
  const capacity = rec(spec.capacity)
  if (Object.keys(capacity).length === 0) errs.push(fe.required(child(path, 'capacity'), ''))
  if (!('storage' in capacity) || Object.keys(capacity).length > 1) errs.push(fe.notSupported(child(path, 'capacity'), goStringMap(capacity), ['storage']))
  for (const [name, q] of parseResourceList(spec.capacity, child(path, 'capacity'), errs)) {
    const p = key(child(path, 'capacity'), name)
    if (q.value() < 0) errs.push(fe.invalid(p, q.value(), 'must be a valid resource quantity'))
    errs.push(...validatePositiveQuantityValue(q, p))
  }
  const policy = str(spec.persistentVolumeReclaimPolicy)
  if (policy !== '' && !RECLAIM_POLICIES.includes(policy)) errs.push(fe.notSupported(child(path, 'persistentVolumeReclaimPolicy'), policy, RECLAIM_POLICIES))
  let count = 0
  for (const [k, segment] of PV_SOURCES) {
    if (!isRecord(spec[k])) continue
    if (count > 0) {
      errs.push(fe.forbidden(child(path, segment), 'may not specify more than 1 volume type'))
      continue
    }
    count++
    const src = spec[k] as Json
    if (k === 'hostPath' || k === 'local') {
      if (str(src.path) === '') errs.push(fe.required(child(path, segment, 'path'), ''))
      else errs.push(...validatePathNoBacksteps(str(src.path), child(path, segment, 'path')))
    } else if (k === 'nfs') {
      if (str(src.server) === '') errs.push(fe.required(child(path, segment, 'server'), ''))
      if (str(src.path) === '') errs.push(fe.required(child(path, segment, 'path'), ''))
    } else if (k === 'csi') {
      if (str(src.driver) === '') errs.push(fe.required(child(path, segment, 'driver'), ''))
      if (str(src.volumeHandle) === '') errs.push(fe.required(child(path, segment, 'volumeHandle'), ''))
    }
  }
  if (count === 0) errs.push(fe.required(path, 'must specify a volume type'))
  if (isRecord(spec.hostPath) && str(spec.hostPath.path).replace(/\/+$/, '') === '' && str(spec.hostPath.path) !== '' && policy === 'Recycle') {
    errs.push(fe.forbidden(child(path, 'persistentVolumeReclaimPolicy'), "may not be 'recycle' for a hostPath mount of '/'"))
  }
  const sc = str(spec.storageClassName)
  if (sc !== '') for (const m of nameIsDNSSubdomain(sc, false)) errs.push(fe.invalid(child(path, 'storageClassName'), sc, m))
  if (spec.volumeMode != null && !VOLUME_MODES.includes(str(spec.volumeMode))) errs.push(fe.notSupported(child(path, 'volumeMode'), str(spec.volumeMode), VOLUME_MODES))
  return errs
}

export function validatePersistentVolume(obj: Json): FieldError[] {
  return [...validateObjectMeta(obj.metadata, false, nameIsDNSSubdomain), ...validatePVSpec(rec(obj.spec))]
}

const PV_SOURCE_KEYS = new Set(PV_SOURCES.map(([k]) => k))

export function validatePersistentVolumeUpdate(n: Json, o: Json): FieldError[] {
  const errs = validatePersistentVolume(n)
  const source = (spec: Json): Json => Object.fromEntries(Object.entries(spec).filter(([k]) => PV_SOURCE_KEYS.has(k)))
  const ns = rec(n.spec)
  const os = rec(o.spec)
  if (!semanticEqual(source(ns), source(os))) {
    errs.push(fe.forbidden(child('spec', 'persistentvolumesource'), `spec.persistentvolumesource is immutable after creation\n${JSON.stringify(source(ns))}`))
  }
  if (!semanticEqual(ns.volumeMode, os.volumeMode)) errs.push(fe.invalid('volumeMode', ns.volumeMode ?? null, FIELD_IMMUTABLE))
  return errs
}

function validatePVCSpec(spec: Json, path: string): FieldError[] {
  const errs: FieldError[] = []
  if (arr(spec.accessModes).length === 0) errs.push(fe.required(child(path, 'accessModes'), 'at least 1 access mode is required'))
  if (spec.selector != null) errs.push(...validateLabelSelector(spec.selector, child(path, 'selector')))
  validateAccessModes(spec.accessModes, child(path, 'accessModes'), errs)
  const requests = rec(rec(spec.resources).requests)
  // Upstream keys the storage request directly under `resources`.
  const storagePath = key(child(path, 'resources'), 'storage')
  if (!('storage' in requests)) {
    errs.push(fe.required(storagePath, ''))
  } else {
    const q = quantityAt(requests.storage, storagePath, errs)
    if (q !== undefined) {
      const positive = validatePositiveQuantityValue(q, storagePath)
      errs.push(...(positive.length > 0 ? positive : validateResourceQuantityValue('storage', q, storagePath)))
    }
  }
  const sc = str(spec.storageClassName)
  if (sc !== '') for (const m of nameIsDNSSubdomain(sc, false)) errs.push(fe.invalid(child(path, 'storageClassName'), sc, m))
  if (spec.volumeMode != null && !VOLUME_MODES.includes(str(spec.volumeMode))) errs.push(fe.notSupported(child(path, 'volumeMode'), str(spec.volumeMode), VOLUME_MODES))
  return errs
}

export function validatePersistentVolumeClaim(obj: Json): FieldError[] {
  return [...validateObjectMeta(obj.metadata, true, nameIsDNSSubdomain), ...validatePVCSpec(rec(obj.spec), 'spec')]
}

const BETA_STORAGE_CLASS = 'volume.beta.kubernetes.io/storage-class'

export function validatePersistentVolumeClaimUpdate(n: Json, o: Json): FieldError[] {
  const errs = [...validateObjectMetaUpdate(n.metadata, o.metadata), ...validatePersistentVolumeClaim(n)]
  const newSpec: Json = structuredClone(rec(n.spec))
  const oldSpec: Json = structuredClone(rec(o.spec))
  if (str(oldSpec.volumeName) === '') oldSpec.volumeName = newSpec.volumeName
  const oldAnn = rec(rec(o.metadata).annotations)
  const newAnn = rec(rec(n.metadata).annotations)
  const upgradeFromAnnotation =
    BETA_STORAGE_CLASS in oldAnn && oldSpec.storageClassName == null && newSpec.storageClassName === oldAnn[BETA_STORAGE_CLASS] && (!(BETA_STORAGE_CLASS in newAnn) || newAnn[BETA_STORAGE_CLASS] === oldAnn[BETA_STORAGE_CLASS])
  if (upgradeFromAnnotation) {
    delete newSpec.storageClassName
  } else {
    if (str(newAnn[BETA_STORAGE_CLASS]) !== str(oldAnn[BETA_STORAGE_CLASS])) {
      errs.push(fe.invalid(child('metadata', 'annotations', BETA_STORAGE_CLASS), str(newAnn[BETA_STORAGE_CLASS]), FIELD_IMMUTABLE))
    }
    // A claim created without a class may be given one (retroactive default class).
    if (oldSpec.storageClassName == null && !(BETA_STORAGE_CLASS in oldAnn) && newSpec.storageClassName != null) oldSpec.storageClassName = newSpec.storageClassName
  }
  const bound = rec(n.status).phase === 'Bound'
  const newRequests = rec(rec(newSpec.resources).requests)
  const oldRequests = rec(rec(oldSpec.resources).requests)
  if (bound && isRecord(rec(newSpec.resources).requests)) newRequests.storage = oldRequests.storage
  if (bound && newSpec.volumeAttributesClassName != null) newSpec.volumeAttributesClassName = oldSpec.volumeAttributesClassName
  if (!semanticEqual(newSpec, oldSpec)) {
    errs.push(fe.forbidden('spec', `spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n${JSON.stringify(newSpec)}`))
  }
  const newSize = quantityAt(rec(rec(rec(n.spec).resources).requests).storage ?? '0', child('spec', 'resources', 'requests', 'storage'), [])
  const oldSize = quantityAt(rec(rec(rec(o.spec).resources).requests).storage ?? '0', child('spec', 'resources', 'requests', 'storage'), [])
  if (newSize !== undefined && oldSize !== undefined && newSize.cmp(oldSize) < 0) {
    errs.push(fe.forbidden(child('spec', 'resources', 'requests', 'storage'), 'field can not be less than previous value'))
  }
  if (!semanticEqual(rec(n.spec).volumeMode, rec(o.spec).volumeMode)) errs.push(fe.invalid('volumeMode', rec(n.spec).volumeMode ?? null, FIELD_IMMUTABLE))
  return errs
}

// ---- ResourceQuota and LimitRange

const QUOTA_SCOPES = ['BestEffort', 'CrossNamespacePodAffinity', 'NotBestEffort', 'NotTerminating', 'PriorityClass', 'Terminating']

function validateQuotaList(list: unknown, path: string): FieldError[] {
  const errs: FieldError[] = []
  for (const [name, q] of parseResourceList(list, path, errs)) {
    const p = key(path, name)
    errs.push(...validateResourceQuotaResourceName(name, p), ...validateResourceQuantityValue(name, q, p))
  }
  return errs
}

export function validateResourceQuota(obj: Json): FieldError[] {
  const errs = validateObjectMeta(obj.metadata, true, nameIsDNSSubdomain)
  const spec = rec(obj.spec)
  errs.push(...validateQuotaList(spec.hard, child('spec', 'hard')))
  for (const s of arr(spec.scopes)) if (!QUOTA_SCOPES.includes(str(s))) errs.push(fe.invalid(child('spec', 'scopes'), str(s), 'unsupported scope'))
  const status = rec(obj.status)
  errs.push(...validateQuotaList(status.hard, child('status', 'hard')), ...validateQuotaList(status.used, child('status', 'used')))
  return errs
}

export function validateResourceQuotaUpdate(n: Json, o: Json): FieldError[] {
  const errs = [...validateObjectMetaUpdate(n.metadata, o.metadata), ...validateQuotaList(rec(n.spec).hard, child('spec', 'hard'))]
  if (!semanticEqual(rec(n.spec).scopes, rec(o.spec).scopes)) errs.push(fe.invalid(child('spec', 'scopes'), goStringSlice(rec(n.spec).scopes), FIELD_IMMUTABLE))
  return errs
}

const LIMIT_TYPES = ['Pod', 'Container', 'PersistentVolumeClaim']

export function validateLimitRange(obj: Json): FieldError[] {
  const errs = validateObjectMeta(obj.metadata, true, nameIsDNSSubdomain)
  const seenTypes = new Set<string>()
  recs(rec(obj.spec).limits).forEach((limit, i) => {
    const p = index(child('spec', 'limits'), i)
    const type = str(limit.type)
    const typeErrs = validateQualifiedName(type, child(p, 'type'))
    if (typeErrs.length > 0) errs.push(...typeErrs)
    else if (type.split('/').length === 1 && !LIMIT_TYPES.includes(type)) errs.push(fe.invalid(child(p, 'type'), type, 'must be a standard limit type or fully qualified'))
    if (seenTypes.has(type)) errs.push(fe.duplicate(child(p, 'type'), type))
    seenTypes.add(type)
    const nameCheck = type === 'Pod' || type === 'Container' ? validateContainerResourceName : validateResourceName
    const lists = new Map<string, Map<string, Quantity>>()
    for (const k of ['max', 'min', 'default', 'defaultRequest', 'maxLimitRequestRatio']) {
      const parsed = parseResourceList(limit[k], child(p, k), errs)
      lists.set(k, parsed)
      for (const name of parsed.keys()) errs.push(...nameCheck(name, key(child(p, k), name)))
    }
    if (type === 'Pod') {
      if (lists.get('default')!.size > 0) errs.push(fe.forbidden(child(p, 'default'), "may not be specified when `type` is 'Pod'"))
      if (lists.get('defaultRequest')!.size > 0) errs.push(fe.forbidden(child(p, 'defaultRequest'), "may not be specified when `type` is 'Pod'"))
    }
    const min = lists.get('min')!
    const max = lists.get('max')!
    for (const [name, minQ] of min) {
      const maxQ = max.get(name)
      if (maxQ !== undefined && minQ.cmp(maxQ) > 0) {
        errs.push(fe.invalid(key(child(p, 'min'), name), minQ.toString(), `min value ${minQ.toString()} is greater than max value ${maxQ.toString()}`))
      }
    }
  })
  return errs
}

export function validateLimitRangeUpdate(n: Json, o: Json): FieldError[] {
  return [...validateObjectMetaUpdate(n.metadata, o.metadata), ...validateLimitRange(n)]
}

// ---- Event (core/v1: only the legacy checks apply to v1 requests)

export function validateEvent(obj: Json): FieldError[] {
  const errs: FieldError[] = []
  const ns = str(rec(obj.metadata).namespace)
  const involvedNs = str(rec(obj.involvedObject).namespace)
  const eventTime = str(obj.eventTime)
  if (eventTime === '') {
    if (involvedNs === '') {
      if (ns !== '' && ns !== 'default') errs.push(fe.invalid(child('involvedObject', 'namespace'), involvedNs, 'does not match event.namespace'))
    } else if (ns !== involvedNs) {
      errs.push(fe.invalid(child('involvedObject', 'namespace'), involvedNs, 'does not match event.namespace'))
    }
  } else {
    if (involvedNs === '' && ns !== 'default' && ns !== 'kube-system') errs.push(fe.invalid(child('involvedObject', 'namespace'), involvedNs, 'does not match event.namespace'))
    const controller = str(obj.reportingComponent)
    if (controller === '') errs.push(fe.required('reportingComponent', ''))
    errs.push(...validateQualifiedName(controller, 'reportingComponent'))
    const instance = str(obj.reportingInstance)
    if (instance === '') errs.push(fe.required('reportingInstance', ''))
    if (instance.length > 128) errs.push(fe.invalid('reportingInstance', '', 'can have at most 128 characters'))
    const action = str(obj.action)
    if (action === '') errs.push(fe.required('action', ''))
    if (action.length > 128) errs.push(fe.invalid('action', '', 'can have at most 128 characters'))
    const reason = str(obj.reason)
    if (reason === '') errs.push(fe.required('reason', ''))
    if (reason.length > 128) errs.push(fe.invalid('reason', '', 'can have at most 128 characters'))
    if (str(obj.message).length > 1024) errs.push(fe.invalid('message', '', 'can have at most 1024 characters'))
  }
  for (const m of isDNS1123Subdomain(ns)) errs.push(fe.invalid('namespace', ns, m))
  return errs
}

