// Resource names and quantities: container resource requirements, quota and limit
// range resource names, and the quantity rules (non-negative, integer resources).
import { isRecord } from '../json.js'
import { Quantity, QuantityError } from '../quantity.js'
import { child, fieldErrors as fe, key, type FieldError } from './errors.js'
import { isQualifiedName } from './names.js'

const STANDARD_CONTAINER_RESOURCES = new Set(['cpu', 'memory', 'ephemeral-storage'])
const STANDARD_RESOURCES = new Set([
  'cpu', 'memory', 'ephemeral-storage', 'requests.cpu', 'requests.memory', 'requests.ephemeral-storage', 'limits.cpu',
  'limits.memory', 'limits.ephemeral-storage', 'pods', 'resourcequotas', 'services', 'replicationcontrollers', 'secrets',
  'configmaps', 'persistentvolumeclaims', 'storage', 'requests.storage', 'services.nodeports', 'services.loadbalancers',
])
const STANDARD_QUOTA_RESOURCES = new Set([
  'cpu', 'memory', 'ephemeral-storage', 'requests.cpu', 'requests.memory', 'requests.storage', 'requests.ephemeral-storage',
  'limits.cpu', 'limits.memory', 'limits.ephemeral-storage', 'pods', 'resourcequotas', 'services', 'replicationcontrollers',
  'secrets', 'persistentvolumeclaims', 'configmaps', 'services.nodeports', 'services.loadbalancers',
])
const INTEGER_RESOURCES = new Set([
  'pods', 'resourcequotas', 'services', 'replicationcontrollers', 'secrets', 'configmaps', 'persistentvolumeclaims',
  'services.nodeports', 'services.loadbalancers',
])

export const isHugePageResourceName = (name: string): boolean => name.startsWith('hugepages-')
const isQuotaHugePageResourceName = (name: string): boolean => name.startsWith('hugepages-') || name.startsWith('requests.hugepages-')
export const isNativeResource = (name: string): boolean => !name.includes('/') || name.includes('kubernetes.io/')

export function isExtendedResourceName(name: string): boolean {
  if (isNativeResource(name) || name.startsWith('requests.')) return false
  return isQualifiedName('requests.' + name).length === 0
}

export const isOvercommitAllowed = (name: string): boolean => isNativeResource(name) && !isHugePageResourceName(name)
const isIntegerResourceName = (name: string): boolean => INTEGER_RESOURCES.has(name) || isExtendedResourceName(name)

/** Parses a quantity field, reporting a value Kubernetes could not decode. */
export function quantityAt(v: unknown, path: string, errs: FieldError[]): Quantity | undefined {
  if (typeof v !== 'string' && typeof v !== 'number') {
    errs.push(fe.typeInvalid(path, v, 'must be a quantity string'))
    return undefined
  }
  try {
    return Quantity.parse(v)
  } catch (e) {
    errs.push(fe.invalid(path, typeof v === 'number' ? String(v) : v, e instanceof QuantityError ? e.message : String(e)))
    return undefined
  }
}

export function validateResourceName(name: string, path: string): FieldError[] {
  const errs = isQualifiedName(name).map((m) => fe.invalid(path, name, m))
  if (errs.length > 0) return errs
  if (name.split('/').length === 1 && !STANDARD_RESOURCES.has(name) && !isQuotaHugePageResourceName(name)) {
    return [fe.invalid(path, name, 'must be a standard resource type or fully qualified')]
  }
  return []
}

export function validateContainerResourceName(name: string, path: string): FieldError[] {
  const errs = validateResourceName(name, path)
  if (name.split('/').length === 1) {
    if (!STANDARD_CONTAINER_RESOURCES.has(name) && !isHugePageResourceName(name)) errs.push(fe.invalid(path, name, 'must be a standard resource for containers'))
  } else if (!isNativeResource(name) && !isExtendedResourceName(name)) {
    errs.push(fe.invalid(path, name, "doesn't follow extended resource name standard"))
  }
  return errs
}

export function validateResourceQuotaResourceName(name: string, path: string): FieldError[] {
  const errs = validateResourceName(name, path)
  if (name.split('/').length === 1 && !STANDARD_QUOTA_RESOURCES.has(name)) errs.push(fe.invalid(path, name, 'must be a standard resource for quota'))
  return errs
}

export function validateNonnegativeQuantity(q: Quantity, path: string): FieldError[] {
  return q.sign() < 0 ? [fe.invalid(path, q.toString(), 'must be greater than or equal to 0')] : []
}

export function validatePositiveQuantityValue(q: Quantity, path: string): FieldError[] {
  return q.sign() <= 0 ? [fe.invalid(path, q.toString(), 'must be greater than zero')] : []
}

export function validateResourceQuantityValue(resource: string, q: Quantity, path: string): FieldError[] {
  const errs = validateNonnegativeQuantity(q, path)
  if (isIntegerResourceName(resource) && q.milliValue() % 1000 !== 0) errs.push(fe.invalid(path, q.toString(), 'must be an integer'))
  return errs
}

/** Validates a resource list (`limits`, `hard`, ...), returning the parsed quantities. */
export function parseResourceList(list: unknown, path: string, errs: FieldError[]): Map<string, Quantity> {
  const out = new Map<string, Quantity>()
  if (list === undefined || list === null) return out
  if (!isRecord(list)) {
    errs.push(fe.typeInvalid(path, list, 'must be a map of resource names to quantities'))
    return out
  }
  for (const [name, v] of Object.entries(list)) {
    const q = quantityAt(v, key(path, name), errs)
    if (q !== undefined) out.set(name, q)
  }
  return out
}

/** ValidateResourceRequirements for a container (or a pod's overhead as limits). */
export function validateResourceRequirements(resources: unknown, path: string): FieldError[] {
  const errs: FieldError[] = []
  const r = isRecord(resources) ? resources : {}
  const limPath = child(path, 'limits')
  const reqPath = child(path, 'requests')
  const limits = parseResourceList(r.limits, limPath, errs)
  const requests = parseResourceList(r.requests, reqPath, errs)
  let limCpuMem = false
  let reqCpuMem = false
  let hugePages = false
  for (const [name, q] of limits) {
    const p = key(limPath, name)
    errs.push(...validateContainerResourceName(name, p), ...validateResourceQuantityValue(name, q, p))
    if (isHugePageResourceName(name)) hugePages = true
    if (name === 'cpu' || name === 'memory') limCpuMem = true
  }
  for (const [name, q] of requests) {
    const p = key(reqPath, name)
    errs.push(...validateContainerResourceName(name, p), ...validateResourceQuantityValue(name, q, p))
    const limit = limits.get(name)
    if (limit !== undefined) {
      if (q.cmp(limit) !== 0 && !isOvercommitAllowed(name)) {
        errs.push(fe.invalid(reqPath, q.toString(), `must be equal to ${name} limit of ${limit.toString()}`))
      } else if (q.cmp(limit) > 0) {
        errs.push(fe.invalid(reqPath, q.toString(), `must be less than or equal to ${name} limit of ${limit.toString()}`))
      }
    } else if (!isOvercommitAllowed(name)) {
      errs.push(fe.required(limPath, 'Limit must be set for non overcommitable resources'))
    }
    if (isHugePageResourceName(name)) hugePages = true
    if (name === 'cpu' || name === 'memory') reqCpuMem = true
  }
  if (!limCpuMem && !reqCpuMem && hugePages) errs.push(fe.forbidden(path, 'HugePages require cpu or memory'))
  return errs
}
