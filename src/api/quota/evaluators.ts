// What each kind of object counts against a ResourceQuota (Kubernetes'
// pkg/quota/v1/evaluator/core and the generic object-count evaluator): which quota
// resource names it answers for, which writes can change its usage, its usage, the
// quota scopes it falls in, and the pod rule that quota'd cpu/memory must be asked for.
//
// Pure functions over objects as JSON, shared by the apiserver's quota admission and
// the resource quota controller so both count exactly the same usage.
import { rec, type Json } from '../json.js'
import { Quantity } from '../quantity.js'
import { RESOURCES, type ResourceType } from '../resources.js'
import { computePodQOS } from '../validation/pod.js'
import { containerList, containers, initContainers, podLimits, podRequests, podSpec } from '../pod-resources.js'
import { parseResourceList, type ResourceList } from '../resource-list.js'

/** Any namespaced object as JSON (the apiserver's stored objects and the client's both fit). */
export type QuotaObject = Json

/** One requirement of a quota's scopes (spec.scopes as Exists, or spec.scopeSelector). */
export interface ScopeSelector {
  scopeName: string
  operator: string
  values: string[]
}

export interface Evaluator {
  readonly rt: ResourceType
  /** Whether this write can change the object's usage (the evaluator's Handles). */
  handles(op: 'CREATE' | 'UPDATE', obj: QuotaObject, old: QuotaObject | undefined): boolean
  /** Of a quota's resource names, the ones this evaluator counts. */
  matchingResources(names: readonly string[]): string[]
  matchesScope(sel: ScopeSelector, obj: QuotaObject): boolean
  /** Why the object may not be admitted under a quota that constrains `required`, if it may not. */
  constraints(required: readonly string[], obj: QuotaObject): string | undefined
  /**
   * What the object uses. `asCharged`: a pod's compute as it was charged at creation,
   * even when it has since reached a terminal phase (for releasing it on delete).
   */
  usage(obj: QuotaObject, now: Date, asCharged?: boolean): ResourceList
}

const one = (): Quantity => Quantity.fromValue(1)
const zero = (): Quantity => Quantity.fromValue(0)

/** `count/pods`, `count/deployments.apps`: the object-count name of a resource. */
export function objectCountName(rt: ResourceType): string {
  return rt.group === '' ? `count/${rt.plural}` : `count/${rt.plural}.${rt.group}`
}

function intersection(names: readonly string[], known: readonly string[]): string[] {
  return names.filter((n) => known.includes(n))
}

// ---- the generic object-count evaluator

function countEvaluator(rt: ResourceType, legacyName?: string): Evaluator {
  const names = [objectCountName(rt), ...(legacyName === undefined ? [] : [legacyName])]
  return {
    rt,
    handles: (op) => op === 'CREATE',
    matchingResources: (input) => intersection(input, names),
    matchesScope: () => false,
    constraints: () => undefined,
    usage: () => new Map(names.map((n) => [n, one()])),
  }
}

// ---- pods

const POD_RESOURCES = [
  'count/pods',
  'cpu',
  'memory',
  'ephemeral-storage',
  'requests.cpu',
  'requests.memory',
  'requests.ephemeral-storage',
  'limits.cpu',
  'limits.memory',
  'limits.ephemeral-storage',
  'pods',
]

// Kubernetes' historical rule: a quota on cpu or memory makes every container state it.
const MUST_SPECIFY = ['cpu', 'memory', 'requests.cpu', 'requests.memory', 'limits.cpu', 'limits.memory']

function isNative(name: string): boolean {
  return !name.includes('/') || name.includes('kubernetes.io/')
}

/** An extended resource a pod can request (`example.com/gpu`), quota'd as `requests.<name>`. */
function isExtendedResource(name: string): boolean {
  return !isNative(name) && !name.startsWith('requests.')
}

function isExtendedQuotaName(name: string): boolean {
  return !isNative(name) && name.startsWith('requests.')
}

/** The quota names a set of requests and limits fills (podComputeUsageHelper). */
function computeUsage(requests: ResourceList, limits: ResourceList): ResourceList {
  const out: ResourceList = new Map([['pods', one()]])
  for (const r of ['cpu', 'memory', 'ephemeral-storage']) {
    const req = requests.get(r)
    if (req !== undefined) {
      out.set(r, req)
      out.set(`requests.${r}`, req)
    }
    const lim = limits.get(r)
    if (lim !== undefined) out.set(`limits.${r}`, lim)
  }
  for (const [r, q] of requests) {
    if (r.startsWith('hugepages-')) {
      out.set(r, q)
      out.set(`requests.${r}`, q)
    }
    if (isExtendedResource(r)) out.set(`requests.${r}`, q)
  }
  return out
}

/** spec.activeDeadlineSeconds set: the pod ends on its own (the Terminating scope). */
function isTerminating(pod: QuotaObject): boolean {
  const ads = podSpec(pod).activeDeadlineSeconds
  return typeof ads === 'number' && ads >= 0
}

/** Whether a pod still counts: not terminal, and not stuck terminating past its grace period. */
function podCounts(pod: QuotaObject, now: Date): boolean {
  const phase = rec(pod.status).phase
  if (phase === 'Succeeded' || phase === 'Failed') return false
  const m = rec(pod.metadata)
  if (typeof m.deletionTimestamp === 'string' && typeof m.deletionGracePeriodSeconds === 'number') {
    const end = Date.parse(m.deletionTimestamp) + m.deletionGracePeriodSeconds * 1000
    if (now.getTime() > end) return false
  }
  return true
}

function affinityTermsCrossNamespaces(terms: unknown): boolean {
  return Array.isArray(terms) && terms.some((t) => {
    const term = rec(t).podAffinityTerm !== undefined ? rec(rec(t).podAffinityTerm) : rec(t)
    return (Array.isArray(term.namespaces) && term.namespaces.length > 0) || term.namespaceSelector != null
  })
}

function usesCrossNamespaceAffinity(pod: QuotaObject): boolean {
  const affinity = rec(podSpec(pod).affinity)
  return [affinity.podAffinity, affinity.podAntiAffinity].some((a) => {
    const x = rec(a)
    return affinityTermsCrossNamespaces(x.requiredDuringSchedulingIgnoredDuringExecution) || affinityTermsCrossNamespaces(x.preferredDuringSchedulingIgnoredDuringExecution)
  })
}

function priorityClassMatches(pod: QuotaObject, sel: ScopeSelector): boolean {
  const name = podSpec(pod).priorityClassName
  const has = typeof name === 'string' && name !== ''
  switch (sel.operator) {
    case 'Exists':
      return has
    case 'DoesNotExist':
      return !has
    case 'In':
      return has && sel.values.includes(name)
    case 'NotIn':
      return !has || !sel.values.includes(name)
    default:
      return false
  }
}

const podEvaluator = (rt: ResourceType): Evaluator => ({
  rt,
  handles: (op, obj, old) => op === 'CREATE' || (old !== undefined && isTerminating(obj) !== isTerminating(old)),
  matchingResources: (input) => [
    ...intersection(input, POD_RESOURCES),
    ...input.filter((n) => n.startsWith('hugepages-') || n.startsWith('requests.hugepages-') || isExtendedQuotaName(n)),
  ],
  matchesScope(sel, pod) {
    switch (sel.scopeName) {
      case 'Terminating':
        return isTerminating(pod)
      case 'NotTerminating':
        return !isTerminating(pod)
      case 'BestEffort':
        return computePodQOS(pod) === 'BestEffort'
      case 'NotBestEffort':
        return computePodQOS(pod) !== 'BestEffort'
      case 'PriorityClass':
        return priorityClassMatches(pod, sel)
      case 'CrossNamespacePodAffinity':
        return usesCrossNamespaceAffinity(pod)
      default:
        return false
    }
  },
  constraints(required, pod) {
    const wanted = required.filter((r) => MUST_SPECIFY.includes(r))
    if (wanted.length === 0) return undefined
    const missing = new Map<string, Set<string>>()
    for (const c of [...containers(pod), ...initContainers(pod)]) {
      const has = computeUsage(containerList(c, 'requests'), containerList(c, 'limits'))
      for (const r of wanted) {
        if (has.has(r)) continue
        const names = missing.get(r) ?? new Set<string>()
        names.add(String(c.name ?? ''))
        missing.set(r, names)
      }
    }
    if (missing.size === 0) return undefined
    const parts = [...missing.keys()].sort().map((r) => `${r} for: ${[...missing.get(r)!].sort().join(',')}`)
    return `must specify ${parts.join('; ')}`
  },
  usage(pod, now, asCharged = false) {
    // The object count covers every pod in storage; compute only the ones still running.
    const out: ResourceList = new Map([['count/pods', one()]])
    if (!asCharged && !podCounts(pod, now)) return out
    for (const [k, q] of computeUsage(podRequests(pod, { overhead: true }), podLimits(pod, { overhead: true }))) out.set(k, q)
    return out
  },
})

// ---- services

const SERVICE_RESOURCES = ['count/services', 'services', 'services.nodeports', 'services.loadbalancers']

const serviceEvaluator = (rt: ResourceType): Evaluator => ({
  rt,
  // A Service's type can change, and with it its node ports and load balancers.
  handles: () => true,
  matchingResources: (input) => intersection(input, SERVICE_RESOURCES),
  matchesScope: () => false,
  constraints: () => undefined,
  usage(svc) {
    const spec = rec(svc.spec)
    const ports = Array.isArray(spec.ports) ? spec.ports.length : 0
    const type = spec.type ?? 'ClusterIP'
    return new Map([
      ['count/services', one()],
      ['services', one()],
      ['services.loadbalancers', type === 'LoadBalancer' ? one() : zero()],
      ['services.nodeports', type === 'NodePort' || type === 'LoadBalancer' ? Quantity.fromValue(ports) : zero()],
    ])
  },
})

// ---- persistent volume claims

const PVC_RESOURCES = ['persistentvolumeclaims', 'count/persistentvolumeclaims', 'requests.storage']
const STORAGE_CLASS_SUFFIX = '.storageclass.storage.k8s.io/'

function storageClassOf(pvc: QuotaObject): string {
  const name = rec(pvc.spec).storageClassName
  if (typeof name === 'string' && name !== '') return name
  const beta = rec(rec(pvc.metadata).annotations)['volume.beta.kubernetes.io/storage-class']
  return typeof beta === 'string' ? beta : ''
}

const pvcEvaluator = (rt: ResourceType): Evaluator => ({
  rt,
  // A claim may grow (volume expansion).
  handles: () => true,
  matchingResources: (input) =>
    input.filter((n) => PVC_RESOURCES.includes(n) || n.endsWith(`${STORAGE_CLASS_SUFFIX}persistentvolumeclaims`) || n.endsWith(`${STORAGE_CLASS_SUFFIX}requests.storage`)),
  matchesScope: () => false,
  constraints: () => undefined,
  usage(pvc) {
    const sc = storageClassOf(pvc)
    const out: ResourceList = new Map([
      ['count/persistentvolumeclaims', one()],
      ['persistentvolumeclaims', one()],
    ])
    if (sc !== '') out.set(`${sc}${STORAGE_CLASS_SUFFIX}persistentvolumeclaims`, one())
    let storage = parseResourceList(rec(rec(pvc.spec).resources).requests).get('storage')
    // A failed expansion is still charged at the size the resizer allocated, if larger.
    const allocated = parseResourceList(rec(pvc.status).allocatedResources).get('storage')
    if (allocated !== undefined && (storage === undefined || allocated.cmp(storage) > 0)) storage = allocated
    if (storage !== undefined) {
      out.set('requests.storage', storage)
      if (sc !== '') out.set(`${sc}${STORAGE_CLASS_SUFFIX}requests.storage`, storage)
    }
    return out
  },
})

// ---- the registry

// Quota never counts these (kube-apiserver's default ignored resources among ours).
const IGNORED = new Set(['/events', 'events.k8s.io/events'])

// The kinds that also answer to their pre-`count/` name.
const LEGACY_COUNT_NAMES = new Set(['configmaps', 'secrets', 'replicationcontrollers', 'resourcequotas'])

function build(rt: ResourceType): Evaluator | undefined {
  if (!rt.namespaced || IGNORED.has(`${rt.group}/${rt.plural}`)) return undefined
  if (rt.group === '' && rt.plural === 'pods') return podEvaluator(rt)
  if (rt.group === '' && rt.plural === 'services') return serviceEvaluator(rt)
  if (rt.group === '' && rt.plural === 'persistentvolumeclaims') return pvcEvaluator(rt)
  if (rt.group === '' && LEGACY_COUNT_NAMES.has(rt.plural)) return countEvaluator(rt, rt.plural)
  return countEvaluator(rt)
}

const EVALUATORS = new Map<ResourceType, Evaluator>()
for (const rt of RESOURCES) {
  const ev = build(rt)
  if (ev !== undefined) EVALUATORS.set(rt, ev)
}

/** The evaluator of a resource's objects; undefined for what quota does not count. */
export function evaluatorFor(rt: ResourceType): Evaluator | undefined {
  return EVALUATORS.get(rt) ?? build(rt)
}

/** Every evaluator (to recount a quota from the objects in its namespace). */
export function allEvaluators(): Evaluator[] {
  return [...EVALUATORS.values()]
}
