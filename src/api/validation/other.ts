// The smaller kinds of the other API groups: coordination.k8s.io Lease,
// networking.k8s.io Ingress and IngressClass, scheduling.k8s.io PriorityClass,
// storage.k8s.io StorageClass, rbac.authorization.k8s.io roles and bindings, and
// autoscaling/v2 HorizontalPodAutoscaler (each group's validation package).
import { arr, isRecord, num, rec, recs, semanticEqual, str, type Json } from '../json.js'
import { child, fieldErrors as fe, index, type FieldError } from './errors.js'
import { goQuote, GoText } from './go-format.js'
import { FIELD_IMMUTABLE, validateLabelSelector, validateObjectMeta, validateObjectMetaUpdate, validateQualifiedName } from './meta.js'
import {
  byteLength,
  HTTP_PATH_FORMAT,
  isDNS1123Subdomain,
  isHTTPPath,
  isValidPortName,
  isValidPortNum,
  isWildcardDNS1123Subdomain,
  nameIsDNS1035Label,
  nameIsDNSSubdomain,
  nameIsPathSegment,
  parseIP,
  regexError,
} from './names.js'
import { quantityAt } from './resources.js'

// ---- Lease

export function validateLease(obj: Json): FieldError[] {
  const errs = validateObjectMeta(obj.metadata, true, nameIsDNSSubdomain)
  const spec = rec(obj.spec)
  const duration = num(spec.leaseDurationSeconds)
  if (duration !== undefined && duration <= 0) errs.push(fe.invalid(child('spec', 'leaseDurationSeconds'), duration, 'must be greater than 0'))
  const transitions = num(spec.leaseTransitions)
  if (transitions !== undefined && transitions < 0) errs.push(fe.invalid(child('spec', 'leaseTransitions'), transitions, 'must be greater than or equal to 0'))
  return errs
}

export function validateLeaseUpdate(n: Json, o: Json): FieldError[] {
  return [...validateObjectMetaUpdate(n.metadata, o.metadata), ...validateLease(n)]
}

// ---- Ingress and IngressClass

const PATH_TYPES = ['Exact', 'ImplementationSpecific', 'Prefix']
const INVALID_PATH_SEQUENCES = ['//', '/./', '/../', '%2f', '%2F']
const INVALID_PATH_SUFFIXES = ['/..', '/.']

function validateIngressBackend(backend: Json, path: string): FieldError[] {
  const hasResource = isRecord(backend.resource)
  const hasService = isRecord(backend.service)
  if (hasResource && hasService) return [fe.invalid(path, '', 'cannot set both resource and service backends')]
  if (hasResource) {
    const r = rec(backend.resource)
    const errs: FieldError[] = []
    if (str(r.kind) === '') errs.push(fe.required(child(path, 'resource', 'kind'), ''))
    if (str(r.name) === '') errs.push(fe.required(child(path, 'resource', 'name'), ''))
    return errs
  }
  if (!hasService) return [fe.invalid(path, '', 'resource or service backend is required')]
  const svc = rec(backend.service)
  const errs: FieldError[] = []
  const name = str(svc.name)
  if (name === '') errs.push(fe.required(child(path, 'service', 'name'), ''))
  else for (const m of nameIsDNS1035Label(name, false)) errs.push(fe.invalid(child(path, 'service', 'name'), name, m))
  const port = rec(svc.port)
  const portName = str(port.name)
  const portNumber = num(port.number) ?? 0
  if (portName !== '' && portNumber !== 0) errs.push(fe.invalid(path, '', 'cannot set both port name & port number'))
  else if (portName !== '') for (const m of isValidPortName(portName)) errs.push(fe.invalid(child(path, 'service', 'port', 'name'), portName, m))
  else if (portNumber !== 0) for (const m of isValidPortNum(portNumber)) errs.push(fe.invalid(child(path, 'service', 'port', 'number'), portNumber, m))
  else errs.push(fe.required(path, 'port name or number is required'))
  return errs
}

function validateHTTPIngressPath(p: Json, path: string): FieldError[] {
  if (p.pathType == null) return [fe.required(child(path, 'pathType'), 'pathType must be specified')]
  const errs: FieldError[] = []
  const pathType = str(p.pathType)
  const value = str(p.path)
  if (pathType === 'Exact' || pathType === 'Prefix') {
    if (!value.startsWith('/')) errs.push(fe.invalid(child(path, 'path'), value, 'must be an absolute path'))
    if (value !== '') {
      for (const seq of INVALID_PATH_SEQUENCES) if (value.includes(seq)) errs.push(fe.invalid(child(path, 'path'), value, `must not contain '${seq}'`))
      for (const suffix of INVALID_PATH_SUFFIXES) if (value.endsWith(suffix)) errs.push(fe.invalid(child(path, 'path'), value, `cannot end with '${suffix}'`))
    }
  } else if (pathType === 'ImplementationSpecific') {
    if (value !== '' && !value.startsWith('/')) errs.push(fe.invalid(child(path, 'path'), value, 'must be an absolute path'))
  } else {
    errs.push(fe.notSupported(child(path, 'pathType'), pathType, PATH_TYPES))
  }
  errs.push(...validateIngressBackend(rec(p.backend), child(path, 'backend')))
  return errs
}

function validateIngressSpec(spec: Json): FieldError[] {
  const errs: FieldError[] = []
  const rules = recs(spec.rules)
  if (rules.length === 0 && !isRecord(spec.defaultBackend)) {
    errs.push(fe.invalid('spec', new GoText('[]networking.IngressRule(nil)'), 'either `defaultBackend` or `rules` must be specified'))
  }
  if (isRecord(spec.defaultBackend)) errs.push(...validateIngressBackend(spec.defaultBackend, child('spec', 'defaultBackend')))
  rules.forEach((rule, i) => {
    const p = index(child('spec', 'rules'), i)
    const host = str(rule.host)
    if (host !== '') {
      if (parseIP(host) !== undefined) errs.push(fe.invalid(child(p, 'host'), host, 'must be a DNS name, not an IP address'))
      const msgs = host.includes('*') ? isWildcardDNS1123Subdomain(host) : isDNS1123Subdomain(host)
      for (const m of msgs) errs.push(fe.invalid(child(p, 'host'), host, m))
    }
    if (isRecord(rule.http)) {
      const paths = recs(rule.http.paths)
      if (paths.length === 0) errs.push(fe.required(child(p, 'http', 'paths'), ''))
      paths.forEach((hp, j) => errs.push(...validateHTTPIngressPath(hp, index(child(p, 'http', 'paths'), j))))
    }
  })
  recs(spec.tls).forEach((tls, i) => {
    arr(tls.hosts).forEach((h, j) => {
      const host = str(h)
      const msgs = host.includes('*') ? isWildcardDNS1123Subdomain(host) : isDNS1123Subdomain(host)
      for (const m of msgs) errs.push(fe.invalid(index(child(index(child('spec', 'tls'), i), 'hosts'), j), host, m))
    })
  })
  if (spec.ingressClassName != null) {
    const cls = str(spec.ingressClassName)
    for (const m of nameIsDNSSubdomain(cls, false)) errs.push(fe.invalid(child('spec', 'ingressClassName'), cls, m))
  }
  return errs
}

export function validateIngress(obj: Json): FieldError[] {
  return [...validateObjectMeta(obj.metadata, true, nameIsDNSSubdomain), ...validateIngressSpec(rec(obj.spec))]
}

export function validateIngressUpdate(n: Json, o: Json): FieldError[] {
  return [...validateObjectMetaUpdate(n.metadata, o.metadata), ...validateIngressSpec(rec(n.spec))]
}

const MAX_CONTROLLER_LENGTH = 250

function validateIngressClassSpec(spec: Json): FieldError[] {
  const errs: FieldError[] = []
  const p = child('spec', 'controller')
  const controller = str(spec.controller)
  if (byteLength(controller) > MAX_CONTROLLER_LENGTH) errs.push(fe.tooLong(p, MAX_CONTROLLER_LENGTH))
  // IsDomainPrefixedPath.
  if (controller === '') {
    errs.push(fe.required(p, ''))
  } else {
    const slash = controller.indexOf('/')
    const host = slash < 0 ? controller : controller.slice(0, slash)
    const rest = slash < 0 ? '' : controller.slice(slash + 1)
    if (slash < 0 || host === '' || rest === '') {
      errs.push(fe.invalid(p, controller, 'must be a domain-prefixed path (such as "acme.io/foo")'))
    } else {
      for (const m of isDNS1123Subdomain(host)) errs.push(fe.invalid(p, host, m))
      if (!isHTTPPath(rest)) errs.push(fe.invalid(p, rest, regexError('Invalid path', HTTP_PATH_FORMAT)))
    }
  }
  const params = spec.parameters
  if (isRecord(params)) {
    const pp = child('spec', 'parameters')
    if (str(params.kind) === '') errs.push(fe.required(child(pp, 'kind'), ''))
    if (str(params.name) === '') errs.push(fe.required(child(pp, 'name'), ''))
    const scope = str(params.scope)
    if (params.scope != null && scope !== 'Cluster' && scope !== 'Namespace') errs.push(fe.notSupported(child(pp, 'scope'), scope, ['Cluster', 'Namespace']))
    if (scope === 'Namespace' && str(params.namespace) === '') errs.push(fe.required(child(pp, 'namespace'), '`parameters.scope` is set to "Namespace"'))
    if (scope === 'Cluster' && params.namespace != null) errs.push(fe.forbidden(child(pp, 'namespace'), '`parameter.scope` is set to "Cluster"'))
  }
  return errs
}

export function validateIngressClass(obj: Json): FieldError[] {
  return [...validateObjectMeta(obj.metadata, false, nameIsDNSSubdomain), ...validateIngressClassSpec(rec(obj.spec))]
}

export function validateIngressClassUpdate(n: Json, o: Json): FieldError[] {
  const errs = [...validateObjectMetaUpdate(n.metadata, o.metadata), ...validateIngressClassSpec(rec(n.spec))]
  const nc = str(rec(n.spec).controller)
  if (nc !== str(rec(o.spec).controller)) errs.push(fe.invalid(child('spec', 'controller'), nc, FIELD_IMMUTABLE))
  return errs
}

// ---- PriorityClass

const HIGHEST_USER_PRIORITY = 1000000000
const SYSTEM_PRIORITY_CLASSES: Record<string, number> = { 'system-node-critical': 2000001000, 'system-cluster-critical': 2000000000 }

export function validatePriorityClass(obj: Json): FieldError[] {
  const errs = validateObjectMeta(obj.metadata, false, nameIsDNSSubdomain)
  const name = str(rec(obj.metadata).name)
  const value = num(obj.value) ?? 0
  if (name.startsWith('system-')) {
    let problem: string | undefined
    if (!(name in SYSTEM_PRIORITY_CLASSES)) problem = `${name} is not a known system priority class`
    else if (SYSTEM_PRIORITY_CLASSES[name] !== value) problem = `value of ${name} PriorityClass must be ${SYSTEM_PRIORITY_CLASSES[name]}`
    else if (obj.globalDefault === true) problem = `globalDefault of ${name} PriorityClass must be false`
    if (problem !== undefined) {
      errs.push(fe.forbidden(child('metadata', 'name'), `priority class names with 'system-' prefix are reserved for system use only. error: ${problem}`))
    }
  } else if (value > HIGHEST_USER_PRIORITY) {
    errs.push(fe.forbidden('value', `maximum allowed value of a user defined priority is ${HIGHEST_USER_PRIORITY}`))
  }
  if (obj.preemptionPolicy != null) {
    const pp = str(obj.preemptionPolicy)
    if (pp === '') errs.push(fe.required('preemptionPolicy', ''))
    else if (pp !== 'PreemptLowerPriority' && pp !== 'Never') errs.push(fe.notSupported('preemptionPolicy', pp, ['PreemptLowerPriority', 'Never']))
  }
  return errs
}

export function validatePriorityClassUpdate(n: Json, o: Json): FieldError[] {
  const errs = validateObjectMetaUpdate(n.metadata, o.metadata)
  if ((num(n.value) ?? 0) !== (num(o.value) ?? 0)) errs.push(fe.forbidden('value', 'may not be changed in an update.'))
  if (!semanticEqual(n.preemptionPolicy, o.preemptionPolicy)) errs.push(fe.invalid('preemptionPolicy', n.preemptionPolicy ?? null, FIELD_IMMUTABLE))
  return errs
}

// ---- StorageClass

const SC_RECLAIM_POLICIES = ['Delete', 'Retain']
const BINDING_MODES = ['Immediate', 'WaitForFirstConsumer']

export function validateStorageClass(obj: Json): FieldError[] {
  const errs = validateObjectMeta(obj.metadata, false, nameIsDNSSubdomain)
  const provisioner = str(obj.provisioner)
  if (provisioner === '') errs.push(fe.required('provisioner', provisioner))
  else errs.push(...validateQualifiedName(provisioner.toLowerCase(), 'provisioner'))
  const params = rec(obj.parameters)
  if (Object.keys(params).length > 512) {
    errs.push(fe.tooLong('parameters', 512))
  } else {
    let total = 0
    for (const [k, v] of Object.entries(params)) {
      if (k === '') errs.push(fe.invalid('parameters', k, 'field can not be empty.'))
      total += byteLength(k) + byteLength(str(v))
    }
    if (total > 256 * 1024) errs.push(fe.tooLong('parameters', 256 * 1024))
  }
  const reclaim = str(obj.reclaimPolicy)
  if (reclaim !== '' && !SC_RECLAIM_POLICIES.includes(reclaim)) errs.push(fe.notSupported('reclaimPolicy', reclaim, SC_RECLAIM_POLICIES))
  if (obj.volumeBindingMode == null) errs.push(fe.required('volumeBindingMode', ''))
  else if (!BINDING_MODES.includes(str(obj.volumeBindingMode))) errs.push(fe.notSupported('volumeBindingMode', str(obj.volumeBindingMode), BINDING_MODES))
  return errs
}

export function validateStorageClassUpdate(n: Json, o: Json): FieldError[] {
  const errs = validateObjectMetaUpdate(n.metadata, o.metadata)
  if (!semanticEqual(n.parameters, o.parameters)) errs.push(fe.forbidden('parameters', 'updates to parameters are forbidden.'))
  if (str(n.provisioner) !== str(o.provisioner)) errs.push(fe.forbidden('provisioner', 'updates to provisioner are forbidden.'))
  if (str(n.reclaimPolicy) !== str(o.reclaimPolicy)) errs.push(fe.forbidden('reclaimPolicy', 'updates to reclaimPolicy are forbidden.'))
  if (!semanticEqual(n.volumeBindingMode, o.volumeBindingMode)) errs.push(fe.invalid('volumeBindingMode', n.volumeBindingMode ?? null, FIELD_IMMUTABLE))
  return errs
}

// ---- RBAC

const RBAC_GROUP = 'rbac.authorization.k8s.io'

function validatePolicyRule(rule: Json, namespaced: boolean, path: string): FieldError[] {
  const errs: FieldError[] = []
  if (arr(rule.verbs).length === 0) errs.push(fe.required(child(path, 'verbs'), 'verbs must contain at least one value'))
  const urls = arr(rule.nonResourceURLs).map(str)
  if (urls.length > 0) {
    const value = new GoText(`[]string{${urls.map(goQuote).join(', ')}}`)
    if (namespaced) errs.push(fe.invalid(child(path, 'nonResourceURLs'), value, 'namespaced rules cannot apply to non-resource URLs'))
    if (arr(rule.apiGroups).length > 0 || arr(rule.resources).length > 0 || arr(rule.resourceNames).length > 0) {
      errs.push(fe.invalid(child(path, 'nonResourceURLs'), value, 'rules cannot apply to both regular resources and non-resource URLs'))
    }
    return errs
  }
  if (arr(rule.apiGroups).length === 0) errs.push(fe.required(child(path, 'apiGroups'), 'resource rules must supply at least one api group'))
  if (arr(rule.resources).length === 0) errs.push(fe.required(child(path, 'resources'), 'resource rules must supply at least one resource'))
  return errs
}

export function validateRole(obj: Json, namespaced: boolean): FieldError[] {
  const errs = validateObjectMeta(obj.metadata, namespaced, nameIsPathSegment)
  recs(obj.rules).forEach((r, i) => errs.push(...validatePolicyRule(r, namespaced, index('rules', i))))
  if (!namespaced && obj.aggregationRule != null) {
    const selectors = recs(rec(obj.aggregationRule).clusterRoleSelectors)
    if (selectors.length === 0) errs.push(fe.required('aggregationRule', 'at least one clusterRoleSelector required if aggregationRule is non-nil'))
    selectors.forEach((s, i) => errs.push(...validateLabelSelector(s, index(child('aggregationRule', 'clusterRoleSelectors'), i))))
  }
  return errs
}

export function validateRoleUpdate(n: Json, o: Json, namespaced: boolean): FieldError[] {
  return [...validateRole(n, namespaced), ...validateObjectMetaUpdate(n.metadata, o.metadata)]
}

function validateSubject(s: Json, namespaced: boolean, path: string): FieldError[] {
  const errs: FieldError[] = []
  const name = str(s.name)
  if (name === '') errs.push(fe.required(child(path, 'name'), ''))
  const apiGroup = str(s.apiGroup)
  switch (str(s.kind)) {
    case 'ServiceAccount':
      if (name !== '') for (const m of nameIsDNSSubdomain(name, false)) errs.push(fe.invalid(child(path, 'name'), name, m))
      if (apiGroup !== '') errs.push(fe.notSupported(child(path, 'apiGroup'), apiGroup, ['']))
      if (!namespaced && str(s.namespace) === '') errs.push(fe.required(child(path, 'namespace'), ''))
      break
    case 'User':
    case 'Group':
      if (apiGroup !== RBAC_GROUP) errs.push(fe.notSupported(child(path, 'apiGroup'), apiGroup, [RBAC_GROUP]))
      break
    default:
      errs.push(fe.notSupported(child(path, 'kind'), str(s.kind), ['ServiceAccount', 'User', 'Group']))
  }
  return errs
}

export function validateRoleBinding(obj: Json, namespaced: boolean): FieldError[] {
  const errs = validateObjectMeta(obj.metadata, namespaced, nameIsPathSegment)
  const ref = rec(obj.roleRef)
  if (str(ref.apiGroup) !== RBAC_GROUP) errs.push(fe.notSupported(child('roleRef', 'apiGroup'), str(ref.apiGroup), [RBAC_GROUP]))
  const kinds = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole']
  if (!kinds.includes(str(ref.kind))) errs.push(fe.notSupported(child('roleRef', 'kind'), str(ref.kind), kinds))
  const name = str(ref.name)
  if (name === '') errs.push(fe.required(child('roleRef', 'name'), ''))
  else for (const m of nameIsPathSegment(name, false)) errs.push(fe.invalid(child('roleRef', 'name'), name, m))
  recs(obj.subjects).forEach((s, i) => errs.push(...validateSubject(s, namespaced, index('subjects', i))))
  return errs
}

export function validateRoleBindingUpdate(n: Json, o: Json, namespaced: boolean): FieldError[] {
  const errs = [...validateRoleBinding(n, namespaced), ...validateObjectMetaUpdate(n.metadata, o.metadata)]
  const nr = rec(n.roleRef)
  if (!semanticEqual(nr, rec(o.roleRef))) {
    const text = new GoText(`rbac.RoleRef{APIGroup:${goQuote(str(nr.apiGroup))}, Kind:${goQuote(str(nr.kind))}, Name:${goQuote(str(nr.name))}}`)
    errs.push(fe.invalid('roleRef', text, 'cannot change roleRef'))
  }
  return errs
}

// ---- HorizontalPodAutoscaler (autoscaling/v2)

const METRIC_TYPES = ['ContainerResource', 'External', 'Object', 'Pods', 'Resource']
const TARGET_TYPES = ['AverageValue', 'Utilization', 'Value']

function validateCrossVersionObjectReference(ref: Json, path: string): FieldError[] {
  const errs: FieldError[] = []
  for (const k of ['kind', 'name']) {
    const v = str(ref[k])
    if (v === '') errs.push(fe.required(child(path, k), ''))
    else for (const m of nameIsPathSegment(v, false)) errs.push(fe.invalid(child(path, k), v, m))
  }
  return errs
}

function validateMetricTarget(target: Json, path: string): FieldError[] {
  const errs: FieldError[] = []
  const type = str(target.type)
  if (type === '') errs.push(fe.required(child(path, 'type'), 'must specify a metric target type'))
  else if (!TARGET_TYPES.includes(type)) errs.push(fe.notSupported(child(path, 'type'), type, TARGET_TYPES))
  if (target.averageUtilization != null && (num(target.averageUtilization) ?? 0) < 1) {
    errs.push(fe.invalid(child(path, 'averageUtilization'), num(target.averageUtilization) ?? 0, 'must be greater than 0'))
  }
  for (const k of ['value', 'averageValue']) {
    if (target[k] == null) continue
    const q = quantityAt(target[k], child(path, k), errs)
    if (q !== undefined && q.sign() <= 0) errs.push(fe.invalid(child(path, k), q.toString(), 'must be positive'))
  }
  return errs
}

function validateMetrics(metrics: unknown, path: string): FieldError[] {
  const errs: FieldError[] = []
  recs(metrics).forEach((m, i) => {
    const p = index(path, i)
    const type = str(m.type)
    if (type === '') {
      errs.push(fe.required(child(p, 'type'), 'must specify a metric source type'))
      return
    }
    if (!METRIC_TYPES.includes(type)) {
      errs.push(fe.notSupported(child(p, 'type'), type, METRIC_TYPES))
      return
    }
    const field = type.charAt(0).toLowerCase() + type.slice(1)
    const source = m[field]
    if (!isRecord(source)) {
      errs.push(fe.required(child(p, field), `must populate information for the given metric source (${goQuote(type)})`))
      return
    }
    if ((type === 'Resource' || type === 'ContainerResource') && str(source.name) === '') errs.push(fe.required(child(p, field, 'name'), 'must specify a resource name'))
    if (type === 'ContainerResource' && str(source.container) === '') errs.push(fe.required(child(p, field, 'container'), 'must specify a container'))
    if (isRecord(source.target)) errs.push(...validateMetricTarget(source.target, child(p, field, 'target')))
    else errs.push(fe.required(child(p, field, 'target'), 'must specify a metric target'))
  })
  return errs
}

function validateHPASpec(spec: Json): FieldError[] {
  const errs: FieldError[] = []
  const min = num(spec.minReplicas)
  const max = num(spec.maxReplicas) ?? 0
  if (min !== undefined && min < 1) errs.push(fe.invalid(child('spec', 'minReplicas'), min, 'must be greater than or equal to 1'))
  if (max < 1) errs.push(fe.invalid(child('spec', 'maxReplicas'), max, 'must be greater than 0'))
  if (min !== undefined && max < min) errs.push(fe.invalid(child('spec', 'maxReplicas'), max, 'must be greater than or equal to `minReplicas`'))
  errs.push(...validateCrossVersionObjectReference(rec(spec.scaleTargetRef), child('spec', 'scaleTargetRef')))
  errs.push(...validateMetrics(spec.metrics, child('spec', 'metrics')))
  return errs
}

export function validateHorizontalPodAutoscaler(obj: Json): FieldError[] {
  return [...validateObjectMeta(obj.metadata, true, nameIsDNSSubdomain), ...validateHPASpec(rec(obj.spec))]
}

export function validateHorizontalPodAutoscalerUpdate(n: Json, o: Json): FieldError[] {
  return [...validateObjectMetaUpdate(n.metadata, o.metadata), ...validateHPASpec(rec(n.spec))]
}
