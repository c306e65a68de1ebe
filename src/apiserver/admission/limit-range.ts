// LimitRanger admission (Kubernetes' plugin/pkg/admission/limitranger): a new pod's
// containers get the namespace's LimitRange defaults for the requests and limits they
// leave out, then pods and claims are held to each LimitRange's min, max and
// maxLimitRequestRatio for Containers, Pods and PersistentVolumeClaims, refused with
// Kubernetes' own messages (`pods "p" is forbidden: maximum cpu usage per Container is
// 500m, but limit is 1`).
import { Quantity, tryParseQuantity } from '../../api/quantity.js'
import type { ResourceType } from '../../api/resources.js'
import { formatFieldErrors, validateCreate } from '../../api/validation/index.js'
import { semanticEqual } from '../../api/json.js'
import { computePodQOS } from '../../api/validation/pod.js'
import { invalid } from '../status.js'
import type { KubeObject } from '../watch-cache/types.js'
import { admissionForbidden, aggregate } from './forbidden.js'
import type { NamespaceObjects } from './namespace-objects.js'
import { containerList, containers, initContainers, podLimits, podRequests, resourceField } from '../../api/pod-resources.js'
import { parseResourceList, type ResourceList } from '../../api/resource-list.js'

type Json = Record<string, unknown>

const ANNOTATION = 'kubernetes.io/limit-ranger'
const MAX_MILLI_VALUE = ((1n << 63n) - 1n) / 1000n

function rec(v: unknown): Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {}
}

function limitItems(lr: KubeObject): Json[] {
  const limits = rec(lr.spec).limits
  return Array.isArray(limits) ? limits.map(rec) : []
}

function quantities(item: Json, field: string): [string, Quantity][] {
  const out: [string, Quantity][] = []
  for (const [k, v] of Object.entries(rec(item[field]))) {
    const q = tryParseQuantity(v)
    if (q !== undefined) out.push([k, q])
  }
  return out
}

// ---- defaults (the mutating half)

/** The default requests and limits of a LimitRange's Container items, as stored text. */
function containerDefaults(lr: KubeObject): { requests: Json; limits: Json } {
  const requests: Json = {}
  const limits: Json = {}
  for (const item of limitItems(lr)) {
    if (item.type !== 'Container') continue
    Object.assign(requests, rec(item.defaultRequest))
    Object.assign(limits, rec(item.default))
  }
  return { requests, limits }
}

/** Fills what a container leaves out; returns the annotation parts (`cpu, memory request for container web`). */
function mergeContainer(c: Json, defaults: { requests: Json; limits: Json }, what: string, notes: string[]): void {
  const fill = (which: 'requests' | 'limits'): string[] => {
    const present = resourceField(c, which)
    const missing = Object.keys(defaults[which]).filter((k) => !(k in present))
    if (missing.length === 0) return []
    const target = resourceField(c, which, true)
    for (const k of missing) target[k] = defaults[which][k]
    return missing.sort()
  }
  const setLimits = fill('limits')
  const setRequests = fill('requests')
  if (setRequests.length > 0) notes.push(`${setRequests.join(', ')} request for ${what} ${String(c.name ?? '')}`)
  if (setLimits.length > 0) notes.push(`${setLimits.join(', ')} limit for ${what} ${String(c.name ?? '')}`)
}

/** Applies one LimitRange's defaults to a pod; true when it changed anything. */
function applyDefaults(lr: KubeObject, pod: KubeObject): boolean {
  const defaults = containerDefaults(lr)
  const notes: string[] = []
  for (const c of containers(pod)) mergeContainer(c, defaults, 'container', notes)
  for (const c of initContainers(pod)) mergeContainer(c, defaults, 'init container', notes)
  if (notes.length === 0) return false
  const meta = (pod.metadata ??= {})
  meta.annotations = { ...rec(meta.annotations), [ANNOTATION]: `LimitRanger plugin set: ${notes.join('; ')}` }
  return true
}

// ---- constraints (the validating half)

/** Request, limit and enforced value at one precision: milli-units unless one is too large for them. */
function comparable(req: Quantity | undefined, lim: Quantity | undefined, enforced: Quantity): [bigint, bigint, bigint] {
  const qs = [req, lim, enforced]
  const values = qs.map((q) => q?.scaledBig(0) ?? 0n)
  if (values.every((v) => v <= MAX_MILLI_VALUE)) return qs.map((q) => q?.scaledBig(-3) ?? 0n) as [bigint, bigint, bigint]
  return values as [bigint, bigint, bigint]
}

function minConstraint(type: string, name: string, enforced: Quantity, requests: ResourceList, limits: ResourceList): string | undefined {
  const req = requests.get(name)
  const lim = limits.get(name)
  const [r, l, e] = comparable(req, lim, enforced)
  if (req === undefined) return `minimum ${name} usage per ${type} is ${enforced.toString()}.  No request is specified`
  if (r < e) return `minimum ${name} usage per ${type} is ${enforced.toString()}, but request is ${req.toString()}`
  if (lim !== undefined && l < e) return `minimum ${name} usage per ${type} is ${enforced.toString()}, but limit is ${lim.toString()}`
  return undefined
}

function maxConstraint(type: string, name: string, enforced: Quantity, requests: ResourceList, limits: ResourceList): string | undefined {
  const req = requests.get(name)
  const lim = limits.get(name)
  const [r, l, e] = comparable(req, lim, enforced)
  if (lim === undefined) return `maximum ${name} usage per ${type} is ${enforced.toString()}.  No limit is specified`
  if (l > e) return `maximum ${name} usage per ${type} is ${enforced.toString()}, but limit is ${lim.toString()}`
  if (req !== undefined && r > e) return `maximum ${name} usage per ${type} is ${enforced.toString()}, but request is ${req.toString()}`
  return undefined
}

/** max for a kind that has only requests (a claim's storage). */
function maxRequestConstraint(type: string, name: string, enforced: Quantity, requests: ResourceList): string | undefined {
  const req = requests.get(name)
  const [r, , e] = comparable(req, undefined, enforced)
  if (req === undefined) return `maximum ${name} usage per ${type} is ${enforced.toString()}.  No request is specified`
  if (r > e) return `maximum ${name} usage per ${type} is ${enforced.toString()}, but request is ${req.toString()}`
  return undefined
}

function ratioConstraint(type: string, name: string, enforced: Quantity, requests: ResourceList, limits: ResourceList): string | undefined {
  const req = requests.get(name)
  const lim = limits.get(name)
  const [r, l] = comparable(req, lim, enforced)
  if (req === undefined || r === 0n) return `${name} max limit to request ratio per ${type} is ${enforced.toString()}, but no request is specified or request is 0`
  if (lim === undefined || l === 0n) return `${name} max limit to request ratio per ${type} is ${enforced.toString()}, but no limit is specified or limit is 0`
  const observed = Number(l) / Number(r)
  let compared = observed
  let allowed = Number(enforced.scaledBig(0))
  if (enforced.scaledBig(0) <= MAX_MILLI_VALUE) {
    compared = observed * 1000
    allowed = Number(enforced.scaledBig(-3))
  }
  if (compared > allowed) return `${name} max limit to request ratio per ${type} is ${enforced.toString()}, but provided ratio is ${observed.toFixed(6)}`
  return undefined
}

function checkItem(item: Json, type: string, requests: ResourceList, limits: ResourceList, errs: string[]): void {
  const push = (e: string | undefined): void => {
    if (e !== undefined) errs.push(e)
  }
  for (const [k, q] of quantities(item, 'min')) push(minConstraint(type, k, q, requests, limits))
  for (const [k, q] of quantities(item, 'max')) push(maxConstraint(type, k, q, requests, limits))
  for (const [k, q] of quantities(item, 'maxLimitRequestRatio')) push(ratioConstraint(type, k, q, requests, limits))
}

function validatePod(lr: KubeObject, pod: KubeObject): string[] {
  const errs: string[] = []
  for (const item of limitItems(lr)) {
    if (item.type === 'Container') {
      for (const c of [...containers(pod), ...initContainers(pod)]) {
        checkItem(item, 'Container', containerList(c, 'requests'), containerList(c, 'limits'), errs)
      }
    } else if (item.type === 'Pod') {
      checkItem(item, 'Pod', podRequests(pod, { overhead: false }), podLimits(pod, { overhead: false }), errs)
    }
  }
  return errs
}

function validateClaim(lr: KubeObject, pvc: KubeObject): string[] {
  const errs: string[] = []
  const requests = parseResourceList(rec(rec(rec(pvc.spec).resources).requests))
  for (const item of limitItems(lr)) {
    if (item.type !== 'PersistentVolumeClaim') continue
    // A claim's limits are not the user's to set: min and max apply to its requests.
    for (const [k, q] of quantities(item, 'min')) {
      const e = minConstraint('PersistentVolumeClaim', k, q, requests, new Map())
      if (e !== undefined) errs.push(e)
    }
    for (const [k, q] of quantities(item, 'max')) {
      const e = maxRequestConstraint('PersistentVolumeClaim', k, q, requests)
      if (e !== undefined) errs.push(e)
    }
  }
  return errs
}

// ---- the plugin

export class LimitRanger {
  constructor(private readonly limitRanges: NamespaceObjects) {}

  async admit(op: 'CREATE' | 'UPDATE' | 'DELETE', rt: ResourceType, obj: KubeObject, old: KubeObject | undefined): Promise<void> {
    if (rt.group !== '' || op === 'DELETE') return
    const isPod = rt.kind === 'Pod'
    // A pod's containers cannot change after creation, so only its create is checked.
    if (!(isPod && op === 'CREATE') && rt.kind !== 'PersistentVolumeClaim') return
    if (old !== undefined && rec(old.metadata).deletionTimestamp != null) return
    // Kubernetes leaves subresource writes alone; an unchanged spec is how a claim's
    // status write looks here (it must not be refused under a LimitRange made later).
    if (old !== undefined && semanticEqual(obj.spec, old.spec)) return
    const meta = rec(obj.metadata)
    const namespace = String(meta.namespace ?? '')
    if (namespace === '') return
    const ranges = await this.limitRanges.list(namespace)
    if (ranges.length === 0) return
    const name = String(meta.name ?? meta.generateName ?? '')
    if (isPod) {
      let changed = false
      for (const lr of ranges) changed = applyDefaults(lr, obj) || changed
      if (changed) this.revalidate(rt, obj, name)
    }
    for (const lr of ranges) {
      const errs = isPod ? validatePod(lr, obj) : validateClaim(lr, obj)
      if (errs.length > 0) throw admissionForbidden(rt, name, aggregate(errs))
    }
  }

  /**
   * Kubernetes validates a pod after mutating admission: a default limit below the
   * container's own request makes the pod invalid. Its QoS class moves with the defaults.
   */
  private revalidate(rt: ResourceType, pod: KubeObject, name: string): void {
    const status = rec(pod.status)
    if (status.qosClass !== undefined) status.qosClass = computePodQOS(pod)
    const errs = validateCreate(rt, pod)
    if (errs.length === 0) return
    throw invalid(
      rt.kind,
      rt.group,
      name,
      formatFieldErrors(rt, name, errs),
      errs.map((e) => ({ reason: e.type, message: e.message, field: e.field })),
    )
  }
}
