// Pod volumes (core/validation ValidateVolumes): unique DNS-label names and exactly one
// volume source, with the checks of the sources this project runs (emptyDir, hostPath,
// configMap, secret, persistentVolumeClaim, downwardAPI, projected, ephemeral); other
// sources are counted but not inspected.
import { isRecord, num, rec, recs, str, type Json } from '../json.js'
import { child, fieldErrors as fe, index, type FieldError } from './errors.js'
import { validateDNS1123Label, validateLocalDescendingPath, validateObjectFieldSelector, validatePathNoBacksteps, validateResourceFieldSelector, VOLUME_FIELD_PATHS } from './containers.js'
import { nameIsDNSSubdomain } from './names.js'
import { quantityAt } from './resources.js'

// The sources in the order Go checks them, with the path segment each error uses
// (upstream spells a few differently from the JSON field).
const SOURCES: [string, string][] = [
  ['hostPath', 'hostPath'], ['gitRepo', 'gitRepo'], ['gcePersistentDisk', 'gcePersistentDisk'],
  ['awsElasticBlockStore', 'awsElasticBlockStore'], ['secret', 'secret'], ['nfs', 'nfs'], ['iscsi', 'iscsi'],
  ['glusterfs', 'glusterfs'], ['flocker', 'flocker'], ['persistentVolumeClaim', 'persistentVolumeClaim'], ['rbd', 'rbd'],
  ['cinder', 'cinder'], ['cephfs', 'cephFS'], ['quobyte', 'quobyte'], ['downwardAPI', 'downwarAPI'], ['fc', 'fc'],
  ['flexVolume', 'flexVolume'], ['configMap', 'configMap'], ['azureFile', 'azureFile'], ['vsphereVolume', 'vsphereVolume'],
  ['photonPersistentDisk', 'photonPersistentDisk'], ['portworxVolume', 'portworxVolume'], ['azureDisk', 'azureDisk'],
  ['storageos', 'storageos'], ['projected', 'projected'], ['scaleIO', 'scaleIO'], ['csi', 'csi'], ['ephemeral', 'ephemeral'],
  ['image', 'image'],
]

const HOST_PATH_TYPES = ['', 'BlockDevice', 'CharDevice', 'Directory', 'DirectoryOrCreate', 'File', 'FileOrCreate', 'Socket']
const FILE_MODE_ERROR = 'must be a number between 0 and 0777 (octal), both inclusive'

function validateMode(mode: unknown, path: string): FieldError[] {
  const m = num(mode)
  return m !== undefined && (m > 0o777 || m < 0) ? [fe.invalid(path, m, FILE_MODE_ERROR)] : []
}

// ValidateLocalNonReservedPath: relative, no '..' element, and not starting with '..'.
function validateLocalNonReservedPath(target: string, path: string): FieldError[] {
  const errs = validateLocalDescendingPath(target, path)
  if (target.startsWith('..') && !target.startsWith('../')) errs.push(fe.invalid(path, target, "must not start with '..'"))
  return errs
}

function validateKeyToPath(kp: Json, path: string): FieldError[] {
  const errs: FieldError[] = []
  if (str(kp.key) === '') errs.push(fe.required(child(path, 'key'), ''))
  if (str(kp.path) === '') errs.push(fe.required(child(path, 'path'), ''))
  errs.push(...validateLocalNonReservedPath(str(kp.path), child(path, 'path')))
  errs.push(...validateMode(kp.mode, child(path, 'mode')))
  return errs
}

function validateItems(items: unknown, path: string): FieldError[] {
  return recs(items).flatMap((kp, i) => validateKeyToPath(kp, index(path, i)))
}

function validateDownwardAPIFile(file: Json, path: string): FieldError[] {
  const errs: FieldError[] = []
  const p = str(file.path)
  if (p === '') errs.push(fe.required(child(path, 'path'), ''))
  errs.push(...validateLocalNonReservedPath(p, child(path, 'path')))
  if (isRecord(file.fieldRef)) {
    errs.push(...validateObjectFieldSelector(file.fieldRef, VOLUME_FIELD_PATHS, child(path, 'fieldRef')))
    if (isRecord(file.resourceFieldRef)) errs.push(fe.invalid(path, 'resource', 'fieldRef and resourceFieldRef can not be specified simultaneously'))
  } else if (isRecord(file.resourceFieldRef)) {
    errs.push(...validateResourceFieldSelector(file.resourceFieldRef, child(path, 'resourceFieldRef'), true))
  } else {
    errs.push(fe.required(path, 'one of fieldRef and resourceFieldRef is required'))
  }
  errs.push(...validateMode(file.mode, child(path, 'mode')))
  return errs
}

function validateSource(key: string, src: Json, path: string): FieldError[] {
  const errs: FieldError[] = []
  switch (key) {
    case 'hostPath': {
      const p = str(src.path)
      if (p === '') return [fe.required(child(path, 'path'), '')]
      errs.push(...validatePathNoBacksteps(p, child(path, 'path')))
      if (src.type != null && !HOST_PATH_TYPES.includes(str(src.type))) errs.push(fe.notSupported(child(path, 'type'), str(src.type), HOST_PATH_TYPES))
      break
    }
    case 'secret':
      if (str(src.secretName) === '') errs.push(fe.required(child(path, 'secretName'), ''))
      errs.push(...validateMode(src.defaultMode, child(path, 'defaultMode')), ...validateItems(src.items, child(path, 'items')))
      break
    case 'configMap':
      if (str(src.name) === '') errs.push(fe.required(child(path, 'name'), ''))
      errs.push(...validateMode(src.defaultMode, child(path, 'defaultMode')), ...validateItems(src.items, child(path, 'items')))
      break
    case 'persistentVolumeClaim':
      if (str(src.claimName) === '') errs.push(fe.required(child(path, 'claimName'), ''))
      break
    case 'downwardAPI':
      errs.push(...validateMode(src.defaultMode, child(path, 'defaultMode')))
      recs(src.items).forEach((f, i) => errs.push(...validateDownwardAPIFile(f, index(child(path, 'items'), i))))
      break
    case 'projected':
      errs.push(...validateMode(src.defaultMode, child(path, 'defaultMode')))
      recs(src.sources).forEach((s, i) => {
        const sp = index(child(path, 'sources'), i)
        if (isRecord(s.secret)) errs.push(...validateItems(s.secret.items, child(sp, 'secret', 'items')))
        if (isRecord(s.configMap)) errs.push(...validateItems(s.configMap.items, child(sp, 'configMap', 'items')))
        if (isRecord(s.downwardAPI)) recs(s.downwardAPI.items).forEach((f, fi) => errs.push(...validateDownwardAPIFile(f, index(child(sp, 'downwardAPI', 'items'), fi))))
        if (isRecord(s.serviceAccountToken)) {
          const exp = num(s.serviceAccountToken.expirationSeconds) ?? 0
          const tp = child(sp, 'serviceAccountToken')
          if (exp < 600) errs.push(fe.invalid(child(tp, 'expirationSeconds'), exp, 'may not specify a duration less than 10 minutes'))
          else if (exp > 1 << 32) errs.push(fe.invalid(child(tp, 'expirationSeconds'), exp, 'may not specify a duration larger than 2^32 seconds'))
          if (str(s.serviceAccountToken.path) === '') errs.push(fe.required(child(tp, 'path'), ''))
        }
      })
      break
    case 'ephemeral':
      if (!isRecord(src.volumeClaimTemplate)) errs.push(fe.required(child(path, 'volumeClaimTemplate'), ''))
      break
    case 'csi':
      if (str(src.driver) === '') errs.push(fe.required(child(path, 'driver'), ''))
      break
    case 'nfs':
      if (str(src.server) === '') errs.push(fe.required(child(path, 'server'), ''))
      if (str(src.path) === '') errs.push(fe.required(child(path, 'path'), ''))
      else if (!str(src.path).startsWith('/')) errs.push(fe.invalid(child(path, 'path'), str(src.path), 'must be an absolute path'))
      break
  }
  return errs
}

function validateVolumeSource(v: Json, path: string, podName: string): FieldError[] {
  const errs: FieldError[] = []
  let count = 0
  if (isRecord(v.emptyDir)) {
    count++
    if (v.emptyDir.sizeLimit != null) {
      const q = quantityAt(v.emptyDir.sizeLimit, child(path, 'emptyDir', 'sizeLimit'), errs)
      if (q !== undefined && q.sign() < 0) errs.push(fe.forbidden(child(path, 'emptyDir', 'sizeLimit'), 'SizeLimit field must be a valid resource quantity'))
    }
  }
  for (const [key, segment] of SOURCES) {
    if (!isRecord(v[key])) continue
    if (count > 0) {
      errs.push(fe.forbidden(child(path, segment), 'may not specify more than 1 volume type'))
      continue
    }
    count++
    errs.push(...validateSource(key, v[key] as Json, child(path, segment)))
    if (key === 'ephemeral' && podName !== '' && str(v.name) !== '') {
      const pvcName = `${podName}-${str(v.name)}`
      for (const m of nameIsDNSSubdomain(pvcName, false)) errs.push(fe.invalid(child(path, 'name'), str(v.name), `PVC name "${pvcName}": ${m}`))
    }
  }
  if (count === 0) errs.push(fe.required(path, 'must specify a volume type'))
  return errs
}

/** ValidateVolumes: returns the names of the valid volumes (for mounts to refer to). */
export function validateVolumes(volumes: unknown, podName: string, path: string, errs: FieldError[]): Set<string> {
  const names = new Set<string>()
  const ephemeralPVCs = new Set(recs(volumes).filter((v) => isRecord(v.ephemeral) && podName !== '').map((v) => `${podName}-${str(v.name)}`))
  recs(volumes).forEach((v, i) => {
    const p = index(path, i)
    const name = str(v.name)
    const el = validateVolumeSource(v, p, podName)
    if (name === '') el.push(fe.required(child(p, 'name'), ''))
    else el.push(...validateDNS1123Label(name, child(p, 'name')))
    if (names.has(name)) el.push(fe.duplicate(child(p, 'name'), name))
    if (el.length === 0) names.add(name)
    else errs.push(...el)
    const claimName = str(rec(v.persistentVolumeClaim).claimName)
    if (isRecord(v.persistentVolumeClaim) && ephemeralPVCs.has(claimName)) {
      errs.push(fe.invalid(child(p, 'persistentVolumeClaim', 'claimName'), claimName, 'must not reference a PVC that gets created for an ephemeral volume'))
    }
  })
  return names
}
