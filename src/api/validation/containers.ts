// Containers of a pod spec: names, images, ports, env, volume mounts, probes,
// lifecycle handlers, pull policy, resources and security context (core/validation).
import { arr, isRecord, num, rec, recs, str, type Json } from '../json.js'
import { child, fieldErrors as fe, index, type FieldError } from './errors.js'
import { validateNonnegative, validateQualifiedName } from './meta.js'
import {
  inclusiveRangeError,
  isConfigMapKey,
  isDNS1123Label,
  isHTTPHeaderName,
  isRelaxedEnvVarName,
  isValidPortName,
  isValidPortNum,
  nameIsDNSSubdomain,
} from './names.js'
import { quantityAt, validateResourceRequirements } from './resources.js'

export const SUPPORTED_PORT_PROTOCOLS = ['SCTP', 'TCP', 'UDP']

export function validateDNS1123Label(value: string, path: string): FieldError[] {
  return isDNS1123Label(value).map((m) => fe.invalid(path, value, m))
}

function validateContainerPorts(ports: unknown, path: string): FieldError[] {
  const errs: FieldError[] = []
  const names = new Set<string>()
  recs(ports).forEach((port, i) => {
    const p = index(path, i)
    const name = str(port.name)
    if (name !== '') {
      const msgs = isValidPortName(name)
      if (msgs.length > 0) for (const m of msgs) errs.push(fe.invalid(child(p, 'name'), name, m))
      else if (names.has(name)) errs.push(fe.duplicate(child(p, 'name'), name))
      else names.add(name)
    }
    const containerPort = num(port.containerPort) ?? 0
    if (containerPort === 0) errs.push(fe.required(child(p, 'containerPort'), ''))
    else for (const m of isValidPortNum(containerPort)) errs.push(fe.invalid(child(p, 'containerPort'), containerPort, m))
    const hostPort = num(port.hostPort) ?? 0
    if (hostPort !== 0) for (const m of isValidPortNum(hostPort)) errs.push(fe.invalid(child(p, 'hostPort'), hostPort, m))
    const protocol = str(port.protocol)
    if (protocol === '') errs.push(fe.required(child(p, 'protocol'), ''))
    else if (!SUPPORTED_PORT_PROTOCOLS.includes(protocol)) errs.push(fe.notSupported(child(p, 'protocol'), protocol, SUPPORTED_PORT_PROTOCOLS))
  })
  return errs
}

// Downward API field paths a pod's env may read (ConvertDownwardAPIFieldLabel + the env allow-list).
const DOWNWARD_API_LABELS = new Set([
  'metadata.annotations', 'metadata.labels', 'metadata.name', 'metadata.namespace', 'metadata.uid', 'spec.nodeName',
  'spec.restartPolicy', 'spec.serviceAccountName', 'spec.schedulerName', 'status.phase', 'status.hostIP', 'status.hostIPs',
  'status.podIP', 'status.podIPs',
])
export const ENV_FIELD_PATHS = [
  'metadata.name', 'metadata.namespace', 'metadata.uid', 'spec.nodeName', 'spec.serviceAccountName', 'status.hostIP',
  'status.hostIPs', 'status.podIP', 'status.podIPs',
]
export const VOLUME_FIELD_PATHS = ['metadata.annotations', 'metadata.labels', 'metadata.name', 'metadata.namespace', 'metadata.uid']

// fieldpath.SplitMaybeSubscriptedPath: `metadata.labels['app']`.
function splitSubscript(fieldPath: string): [string, string] | undefined {
  if (!fieldPath.endsWith("']")) return undefined
  const s = fieldPath.slice(0, -2)
  const at = s.indexOf("['")
  if (at <= 0) return undefined
  return [s.slice(0, at), s.slice(at + 2)]
}

export function validateObjectFieldSelector(fs: Json, allowed: readonly string[], path: string): FieldError[] {
  const apiVersion = str(fs.apiVersion)
  const fieldPath = str(fs.fieldPath)
  if (apiVersion === '') return [fe.required(child(path, 'apiVersion'), '')]
  if (fieldPath === '') return [fe.required(child(path, 'fieldPath'), '')]
  const sub = splitSubscript(fieldPath)
  if (apiVersion !== 'v1') return [fe.invalid(child(path, 'fieldPath'), fieldPath, `error converting fieldPath: unsupported pod version: ${apiVersion}`)]
  const label = sub !== undefined && (sub[0] === 'metadata.annotations' || sub[0] === 'metadata.labels') ? sub[0] : fieldPath
  if (!DOWNWARD_API_LABELS.has(label)) return [fe.invalid(child(path, 'fieldPath'), fieldPath, `error converting fieldPath: field label not supported: ${fieldPath}`)]
  if (sub !== undefined) {
    if (sub[0] === 'metadata.annotations') return validateQualifiedName(sub[1].toLowerCase(), path)
    if (sub[0] === 'metadata.labels') return validateQualifiedName(sub[1], path)
    return [fe.invalid(path, sub[0], 'does not support subscript')]
  }
  if (!allowed.includes(fieldPath)) return [fe.notSupported(child(path, 'fieldPath'), fieldPath, [...allowed].sort())]
  return []
}

const RESOURCE_FIELD_PATHS = ['limits.cpu', 'limits.ephemeral-storage', 'limits.memory', 'requests.cpu', 'requests.ephemeral-storage', 'requests.memory']

export function validateResourceFieldSelector(fs: Json, path: string, volume: boolean): FieldError[] {
  const errs: FieldError[] = []
  const resource = str(fs.resource)
  if (volume && str(fs.containerName) === '') errs.push(fe.required(child(path, 'containerName'), ''))
  else if (resource === '') errs.push(fe.required(child(path, 'resource'), ''))
  else if (!RESOURCE_FIELD_PATHS.includes(resource) && !resource.startsWith('limits.hugepages-') && !resource.startsWith('requests.hugepages-')) {
    errs.push(fe.notSupported(child(path, 'resource'), resource, RESOURCE_FIELD_PATHS))
  }
  if (fs.divisor !== undefined && fs.divisor !== null) {
    const d = quantityAt(fs.divisor, child(path, 'divisor'), errs)
    if (d !== undefined && !d.isZero()) {
      const text = d.toString()
      const memoryLike = ['1', '1k', '1M', '1G', '1T', '1P', '1E', '1Ki', '1Mi', '1Gi', '1Ti', '1Pi', '1Ei']
      const memoryList = '1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei'
      if ((resource === 'limits.cpu' || resource === 'requests.cpu') && text !== '1m' && text !== '1') {
        errs.push(fe.invalid(child(path, 'divisor'), resource, "only divisor's values 1m and 1 are supported with the cpu resource"))
      } else if ((resource === 'limits.memory' || resource === 'requests.memory') && !memoryLike.includes(text)) {
        errs.push(fe.invalid(child(path, 'divisor'), resource, `only divisor's values ${memoryList} are supported with the memory resource`))
      } else if ((resource === 'limits.ephemeral-storage' || resource === 'requests.ephemeral-storage') && !memoryLike.includes(text)) {
        errs.push(fe.invalid(child(path, 'divisor'), resource, `only divisor's values ${memoryList} are supported with the local ephemeral storage resource`))
      }
    }
  }
  return errs
}

function validateKeySelector(s: Json, path: string): FieldError[] {
  const errs: FieldError[] = []
  const name = str(s.name)
  for (const m of nameIsDNSSubdomain(name, false)) errs.push(fe.invalid(child(path, 'name'), name, m))
  const k = str(s.key)
  if (k === '') errs.push(fe.required(child(path, 'key'), ''))
  else for (const m of isConfigMapKey(k)) errs.push(fe.invalid(child(path, 'key'), k, m))
  return errs
}

function validateEnv(env: unknown, path: string): FieldError[] {
  const errs: FieldError[] = []
  recs(env).forEach((ev, i) => {
    const p = index(path, i)
    const name = str(ev.name)
    if (name === '') errs.push(fe.required(child(p, 'name'), ''))
    else for (const m of isRelaxedEnvVarName(name)) errs.push(fe.invalid(child(p, 'name'), name, m))
    if (!isRecord(ev.valueFrom)) return
    const vf = ev.valueFrom
    const vp = child(p, 'valueFrom')
    let sources = 0
    if (isRecord(vf.fieldRef)) {
      sources++
      errs.push(...validateObjectFieldSelector(vf.fieldRef, ENV_FIELD_PATHS, child(vp, 'fieldRef')))
    }
    if (isRecord(vf.resourceFieldRef)) {
      sources++
      errs.push(...validateResourceFieldSelector(vf.resourceFieldRef, child(vp, 'resourceFieldRef'), false))
    }
    if (isRecord(vf.configMapKeyRef)) {
      sources++
      errs.push(...validateKeySelector(vf.configMapKeyRef, child(vp, 'configMapKeyRef')))
    }
    if (isRecord(vf.secretKeyRef)) {
      sources++
      errs.push(...validateKeySelector(vf.secretKeyRef, child(vp, 'secretKeyRef')))
    }
    if (sources === 0) errs.push(fe.invalid(vp, '', 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`'))
    else if (str(ev.value) !== '') errs.push(fe.invalid(vp, '', 'may not be specified when `value` is not empty'))
    else if (sources > 1) errs.push(fe.invalid(vp, '', 'may not have more than one field specified at a time'))
  })
  return errs
}

function validateEnvFrom(envFrom: unknown, path: string): FieldError[] {
  const errs: FieldError[] = []
  recs(envFrom).forEach((ev, i) => {
    const p = index(path, i)
    const prefix = str(ev.prefix)
    if (prefix !== '') for (const m of isRelaxedEnvVarName(prefix)) errs.push(fe.invalid(child(p, 'prefix'), prefix, m))
    let sources = 0
    for (const k of ['configMapRef', 'secretRef']) {
      const ref = ev[k]
      if (!isRecord(ref)) continue
      sources++
      const name = str(ref.name)
      if (name === '') errs.push(fe.required(child(p, k, 'name'), ''))
      else for (const m of nameIsDNSSubdomain(name, true)) errs.push(fe.invalid(child(p, k, 'name'), name, m))
    }
    if (sources === 0) errs.push(fe.invalid(path, '', 'must specify one of: `configMapRef` or `secretRef`'))
    else if (sources > 1) errs.push(fe.invalid(path, '', 'may not have more than one field specified at a time'))
  })
  return errs
}

export function validateLocalDescendingPath(target: string, path: string): FieldError[] {
  const errs: FieldError[] = []
  if (target.startsWith('/')) errs.push(fe.invalid(path, target, 'must be a relative path'))
  errs.push(...validatePathNoBacksteps(target, path))
  return errs
}

export function validatePathNoBacksteps(target: string, path: string): FieldError[] {
  return target.split('/').includes('..') ? [fe.invalid(path, target, "must not contain '..'")] : []
}

function validateVolumeMounts(c: Json, volumes: ReadonlySet<string>, path: string): FieldError[] {
  const errs: FieldError[] = []
  const mountPoints = new Set<string>()
  const devices = new Map(recs(c.volumeDevices).map((d) => [str(d.name), str(d.devicePath)]))
  const devicePaths = new Set(devices.values())
  recs(c.volumeMounts).forEach((mnt, i) => {
    const p = index(path, i)
    const name = str(mnt.name)
    const mountPath = str(mnt.mountPath)
    if (name === '') errs.push(fe.required(child(p, 'name'), ''))
    if (!volumes.has(name)) errs.push(fe.notFound(child(p, 'name'), name))
    if (mountPath === '') errs.push(fe.required(child(p, 'mountPath'), ''))
    if (mountPoints.has(mountPath)) errs.push(fe.invalid(child(p, 'mountPath'), mountPath, 'must be unique'))
    mountPoints.add(mountPath)
    if (devices.has(name)) errs.push(fe.invalid(child(p, 'name'), name, 'must not already exist in volumeDevices'))
    if (devicePaths.has(mountPath)) errs.push(fe.invalid(child(p, 'mountPath'), mountPath, 'must not already exist as a path in volumeDevices'))
    const subPath = str(mnt.subPath)
    const subPathExpr = str(mnt.subPathExpr)
    // Upstream reports these under the list's path, not the item's.
    if (subPath !== '') errs.push(...validateLocalDescendingPath(subPath, child(path, 'subPath')))
    if (subPathExpr !== '') {
      if (subPath !== '') errs.push(fe.invalid(child(p, 'subPathExpr'), subPathExpr, 'subPathExpr and subPath are mutually exclusive'))
      errs.push(...validateLocalDescendingPath(subPathExpr, child(path, 'subPathExpr')))
    }
    const propagation = mnt.mountPropagation
    if (propagation !== undefined && propagation !== null) {
      const modes = ['Bidirectional', 'HostToContainer', 'None']
      if (!modes.includes(str(propagation))) errs.push(fe.notSupported(child(path, 'mountPropagation'), str(propagation), modes))
      else if (propagation === 'Bidirectional' && rec(c.securityContext).privileged !== true) {
        errs.push(fe.forbidden(child(path, 'mountPropagation'), 'Bidirectional mount propagation is available only to privileged containers'))
      }
    }
  })
  return errs
}

// ---- probes and handlers

function validatePortNumOrName(port: unknown, path: string): FieldError[] {
  if (typeof port === 'number') return isValidPortNum(port).map((m) => fe.invalid(path, port, m))
  if (typeof port === 'string') return isValidPortName(port).map((m) => fe.invalid(path, port, m))
  return [fe.internal(path, `unknown type: ${port === undefined ? 0 : typeof port}`)]
}

function validateHandler(h: Json, gracePeriod: number | undefined, path: string): FieldError[] {
  const errs: FieldError[] = []
  let handlers = 0
  const one = (k: string, check: (v: Json) => FieldError[]): void => {
    if (!isRecord(h[k])) return
    if (handlers > 0) {
      errs.push(fe.forbidden(child(path, k), 'may not specify more than 1 handler type'))
      return
    }
    handlers++
    errs.push(...check(h[k] as Json))
  }
  one('exec', (e) => (arr(e.command).length === 0 ? [fe.required(child(path, 'exec', 'command'), '')] : []))
  one('httpGet', (g) => {
    const p = child(path, 'httpGet')
    const out: FieldError[] = []
    if (str(g.path) === '') out.push(fe.required(child(p, 'path'), ''))
    out.push(...validatePortNumOrName(g.port, child(p, 'port')))
    if (g.scheme !== 'HTTP' && g.scheme !== 'HTTPS') out.push(fe.notSupported(child(p, 'scheme'), str(g.scheme), ['HTTP', 'HTTPS']))
    for (const header of recs(g.httpHeaders)) for (const m of isHTTPHeaderName(str(header.name))) out.push(fe.invalid(child(p, 'httpHeaders'), str(header.name), m))
    return out
  })
  one('tcpSocket', (t) => validatePortNumOrName(t.port, child(path, 'tcpSocket', 'port')))
  one('grpc', (g) => validatePortNumOrName(num(g.port) ?? 0, child(path, 'grpc', 'port')))
  one('sleep', (s) => {
    const seconds = num(s.seconds) ?? 0
    if (gracePeriod !== undefined && (seconds <= 0 || seconds > gracePeriod)) {
      return [fe.invalid(child(path, 'sleep'), seconds, `must be greater than 0 and less than terminationGracePeriodSeconds (${gracePeriod})`)]
    }
    return []
  })
  if (handlers === 0) errs.push(fe.required(path, 'must specify a handler type'))
  return errs
}

function validateProbe(probe: Json, gracePeriod: number | undefined, path: string, kind: 'liveness' | 'readiness' | 'startup'): FieldError[] {
  const errs = validateHandler(probe, gracePeriod, path)
  for (const k of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold']) {
    errs.push(...validateNonnegative(num(probe[k]), child(path, k)))
  }
  const tgps = num(probe.terminationGracePeriodSeconds)
  if (tgps !== undefined && tgps <= 0) errs.push(fe.invalid(child(path, 'terminationGracePeriodSeconds'), tgps, 'must be greater than 0'))
  if (kind !== 'readiness' && (num(probe.successThreshold) ?? 0) !== 1) errs.push(fe.invalid(child(path, 'successThreshold'), num(probe.successThreshold) ?? 0, 'must be 1'))
  if (kind === 'readiness' && probe.terminationGracePeriodSeconds != null) {
    errs.push(fe.invalid(child(path, 'terminationGracePeriodSeconds'), probe.terminationGracePeriodSeconds, 'must not be set for readinessProbes'))
  }
  return errs
}

function validateProbes(c: Json, gracePeriod: number | undefined, path: string): FieldError[] {
  const errs: FieldError[] = []
  if (isRecord(c.livenessProbe)) errs.push(...validateProbe(c.livenessProbe, gracePeriod, child(path, 'livenessProbe'), 'liveness'))
  if (isRecord(c.readinessProbe)) errs.push(...validateProbe(c.readinessProbe, gracePeriod, child(path, 'readinessProbe'), 'readiness'))
  if (isRecord(c.startupProbe)) errs.push(...validateProbe(c.startupProbe, gracePeriod, child(path, 'startupProbe'), 'startup'))
  return errs
}

function validateLifecycle(lifecycle: Json, gracePeriod: number | undefined, path: string): FieldError[] {
  const errs: FieldError[] = []
  if (isRecord(lifecycle.postStart)) errs.push(...validateHandler(lifecycle.postStart, gracePeriod, child(path, 'postStart')))
  if (isRecord(lifecycle.preStop)) errs.push(...validateHandler(lifecycle.preStop, gracePeriod, child(path, 'preStop')))
  return errs
}

function validateSecurityContext(sc: unknown, path: string): FieldError[] {
  if (!isRecord(sc)) return []
  const errs: FieldError[] = []
  const maxID = 2147483647
  for (const k of ['runAsUser', 'runAsGroup']) {
    const v = num(sc[k])
    if (v !== undefined && (v < 0 || v > maxID)) errs.push(fe.invalid(child(path, k), v, inclusiveRangeError(0, maxID)))
  }
  if (sc.allowPrivilegeEscalation === false) {
    if (sc.privileged === true) errs.push(fe.invalid(path, JSON.stringify(sc), 'cannot set `allowPrivilegeEscalation` to false and `privileged` to true'))
    for (const cap of arr(rec(sc.capabilities).add)) {
      if (cap === 'CAP_SYS_ADMIN') errs.push(fe.invalid(path, JSON.stringify(sc), 'cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN'))
    }
  }
  return errs
}

const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never']

function validateContainerCommon(c: Json, volumes: ReadonlySet<string>, path: string): FieldError[] {
  const errs: FieldError[] = []
  const name = str(c.name)
  if (name === '') errs.push(fe.required(child(path, 'name'), ''))
  else errs.push(...validateDNS1123Label(name, child(path, 'name')))
  if (str(c.image) === '') errs.push(fe.required(child(path, 'image'), ''))
  const tmp = str(c.terminationMessagePolicy)
  if (tmp === '') errs.push(fe.required(child(path, 'terminationMessagePolicy'), ''))
  else if (tmp !== 'File' && tmp !== 'FallbackToLogsOnError') errs.push(fe.notSupported(child(path, 'terminationMessagePolicy'), tmp, ['File', 'FallbackToLogsOnError']))
  errs.push(...validateContainerPorts(c.ports, child(path, 'ports')))
  errs.push(...validateEnv(c.env, child(path, 'env')))
  errs.push(...validateEnvFrom(c.envFrom, child(path, 'envFrom')))
  errs.push(...validateVolumeMounts(c, volumes, child(path, 'volumeMounts')))
  const pull = str(c.imagePullPolicy)
  if (pull === '') errs.push(fe.required(child(path, 'imagePullPolicy'), ''))
  else if (!PULL_POLICIES.includes(pull)) errs.push(fe.notSupported(child(path, 'imagePullPolicy'), pull, PULL_POLICIES))
  errs.push(...validateResourceRequirements(c.resources, child(path, 'resources')))
  errs.push(...validateSecurityContext(c.securityContext, child(path, 'securityContext')))
  return errs
}

// Two containers may not claim the same host port (per protocol and host IP).
function checkHostPortConflicts(containers: Json[], path: string, seen = new Set<string>()): FieldError[] {
  const errs: FieldError[] = []
  containers.forEach((c, ci) => {
    recs(c.ports).forEach((port, pi) => {
      const hostPort = num(port.hostPort) ?? 0
      if (hostPort === 0) return
      const k = `${str(port.protocol)}/${str(port.hostIP)}/${hostPort}`
      if (seen.has(k)) errs.push(fe.duplicate(child(index(child(index(path, ci), 'ports'), pi), 'hostPort'), k))
      else seen.add(k)
    })
  })
  return errs
}

export function validateContainers(containers: unknown, volumes: ReadonlySet<string>, gracePeriod: number | undefined, path: string): FieldError[] {
  const list = recs(containers)
  if (list.length === 0) return [fe.required(path, '')]
  const errs: FieldError[] = []
  const names = new Set<string>()
  list.forEach((c, i) => {
    const p = index(path, i)
    errs.push(...validateContainerCommon(c, volumes, p))
    const name = str(c.name)
    if (names.has(name)) errs.push(fe.duplicate(child(p, 'name'), name))
    else names.add(name)
    if (isRecord(c.lifecycle)) errs.push(...validateLifecycle(c.lifecycle, gracePeriod, child(p, 'lifecycle')))
    errs.push(...validateProbes(c, gracePeriod, p))
    if (c.restartPolicy != null) errs.push(fe.forbidden(child(p, 'restartPolicy'), 'may not be set for non-init containers'))
  })
  errs.push(...checkHostPortConflicts(list, path))
  return errs
}

export function validateInitContainers(initContainers: unknown, containers: unknown, volumes: ReadonlySet<string>, gracePeriod: number | undefined, path: string): FieldError[] {
  const errs: FieldError[] = []
  const names = new Set(recs(containers).map((c) => str(c.name)))
  recs(initContainers).forEach((c, i) => {
    const p = index(path, i)
    errs.push(...validateContainerCommon(c, volumes, p))
    let restartAlways = false
    if (c.restartPolicy != null) {
      const rp = str(c.restartPolicy)
      if (rp !== 'Always') errs.push(fe.notSupported(child(p, 'restartPolicy'), rp, ['Always']))
      restartAlways = rp === 'Always'
    }
    const name = str(c.name)
    if (names.has(name)) errs.push(fe.duplicate(child(p, 'name'), name))
    else if (name !== '') names.add(name)
    errs.push(...checkHostPortConflicts([c], path))
    if (restartAlways) {
      if (isRecord(c.lifecycle)) errs.push(...validateLifecycle(c.lifecycle, gracePeriod, child(p, 'lifecycle')))
      errs.push(...validateProbes(c, gracePeriod, p))
    } else {
      for (const k of ['lifecycle', 'livenessProbe', 'readinessProbe', 'startupProbe']) {
        if (c[k] != null) errs.push(fe.forbidden(child(p, k), 'may not be set for init containers without restartPolicy=Always'))
      }
    }
    if (arr(c.resizePolicy).length > 0) errs.push(fe.invalid(child(p, 'resizePolicy'), JSON.stringify(c.resizePolicy), 'must not be set for init containers'))
  })
  return errs
}
