// What the scheduler knows of a pod and of a node, computed once and updated
// incrementally (upstream's framework.PodInfo and NodeInfo): a pod's effective
// requests and host ports; a node's allocatable, the sum of its pods' requests, the
// ports in use and which of its pods carry (anti-)affinity terms. Plugins only read
// these; the scheduler cache adds and removes pods (assumed ones included).
import { podRequests } from '../../api/pod-resources.js'
import { rec, recs, str } from '../../api/json.js'
import { tryParseQuantity } from '../../api/quantity.js'
import type { ResourceList } from '../../api/resource-list.js'
import type { Node, Pod } from './types.js'

/** Resource amounts in the units plugins compare: milli-CPU, bytes, pod count, extended resources. */
export interface Resource {
  milliCPU: number
  memory: number
  ephemeralStorage: number
  pods: number
  /** Extended resources (`example.com/gpu`, hugepages-*): whole units. */
  scalar: Map<string, number>
}

export function emptyResource(): Resource {
  return { milliCPU: 0, memory: 0, ephemeralStorage: 0, pods: 0, scalar: new Map() }
}

/** What upstream assumes a container with no request uses, for scoring only (not for fit). */
export const DEFAULT_MILLI_CPU_REQUEST = 100
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024

export function resourceFromList(list: ResourceList): Resource {
  const r = emptyResource()
  for (const [name, q] of list) {
    switch (name) {
      case 'cpu':
        r.milliCPU = q.milliValue()
        break
      case 'memory':
        r.memory = q.value()
        break
      case 'ephemeral-storage':
        r.ephemeralStorage = q.value()
        break
      case 'pods':
        r.pods = q.value()
        break
      default:
        if (name.includes('/') || name.startsWith('hugepages-')) r.scalar.set(name, q.value())
    }
  }
  return r
}

function resourceFromJson(v: unknown): Resource {
  const list: ResourceList = new Map()
  for (const [k, raw] of Object.entries(rec(v))) {
    const q = tryParseQuantity(raw)
    if (q !== undefined) list.set(k, q)
  }
  return resourceFromList(list)
}

function addResource(into: Resource, r: Resource, sign: 1 | -1): void {
  into.milliCPU += sign * r.milliCPU
  into.memory += sign * r.memory
  into.ephemeralStorage += sign * r.ephemeralStorage
  into.pods += sign * r.pods
  for (const [k, v] of r.scalar) {
    const next = (into.scalar.get(k) ?? 0) + sign * v
    if (next === 0) into.scalar.delete(k)
    else into.scalar.set(k, next)
  }
}

function copyResource(into: Resource, from: Resource): void {
  into.milliCPU = from.milliCPU
  into.memory = from.memory
  into.ephemeralStorage = from.ephemeralStorage
  into.pods = from.pods
  into.scalar.clear()
  for (const [k, v] of from.scalar) into.scalar.set(k, v)
}

export interface HostPort {
  /** '0.0.0.0' when the pod did not name one. */
  ip: string
  protocol: string
  port: number
}

export class PodInfo {
  readonly key: string
  readonly namespace: string
  readonly name: string
  readonly uid: string
  readonly labels: Readonly<Record<string, string>>
  /** Effective requests (containers, init containers, overhead), `pods` = 1. */
  readonly requests: Resource
  /** As `requests`, with upstream's defaults for unset CPU and memory: what scoring balances. */
  readonly nonZeroRequests: Resource
  readonly hostPorts: readonly HostPort[]
  /** spec.priority (set by admission from the PriorityClass), 0 when unset. */
  readonly priority: number
  /** The pod has podAffinity or podAntiAffinity terms (required or preferred). */
  readonly hasAffinity: boolean
  readonly hasRequiredAntiAffinity: boolean

  constructor(readonly pod: Pod) {
    const meta = rec(pod.metadata)
    const spec = rec(pod.spec)
    this.namespace = str(meta.namespace)
    this.name = str(meta.name)
    this.key = `${this.namespace}/${this.name}`
    this.uid = str(meta.uid)
    this.labels = (meta.labels ?? {}) as Record<string, string>
    this.requests = resourceFromList(podRequests(pod, { overhead: true }))
    this.requests.pods = 1
    this.nonZeroRequests = {
      ...this.requests,
      scalar: new Map(this.requests.scalar),
      milliCPU: nonZero(pod, 'cpu', this.requests.milliCPU, DEFAULT_MILLI_CPU_REQUEST),
      memory: nonZero(pod, 'memory', this.requests.memory, DEFAULT_MEMORY_REQUEST),
    }
    const ports: HostPort[] = []
    for (const c of [...recs(spec.initContainers), ...recs(spec.containers)]) {
      for (const p of recs(c.ports)) {
        const hostPort = Number(p.hostPort ?? 0)
        if (hostPort > 0) ports.push({ ip: str(p.hostIP) || '0.0.0.0', protocol: str(p.protocol) || 'TCP', port: hostPort })
      }
    }
    this.hostPorts = ports
    this.priority = typeof spec.priority === 'number' ? spec.priority : 0
    const aff = rec(spec.affinity)
    const pa = rec(aff.podAffinity)
    const paa = rec(aff.podAntiAffinity)
    const terms = (x: Record<string, unknown>, k: string) => recs(x[k]).length > 0
    this.hasRequiredAntiAffinity = terms(paa, 'requiredDuringSchedulingIgnoredDuringExecution')
    this.hasAffinity =
      this.hasRequiredAntiAffinity ||
      terms(paa, 'preferredDuringSchedulingIgnoredDuringExecution') ||
      terms(pa, 'requiredDuringSchedulingIgnoredDuringExecution') ||
      terms(pa, 'preferredDuringSchedulingIgnoredDuringExecution')
  }
}

/** Upstream's non-zero request: per container, an unset request counts as the default. */
function nonZero(pod: Pod, resource: 'cpu' | 'memory', total: number, dflt: number): number {
  const spec = rec(pod.spec)
  let sum = 0
  for (const c of recs(spec.containers)) {
    const q = tryParseQuantity(rec(rec(c.resources).requests)[resource])
    if (q === undefined) sum += dflt
    else sum += resource === 'cpu' ? q.milliValue() : q.value()
  }
  return Math.max(sum, total)
}

export class NodeInfo {
  node: Node
  name: string
  allocatable: Resource
  /** Sum of the requests of every pod on the node (assumed ones included). */
  readonly requested: Resource = emptyResource()
  readonly nonZeroRequested: Resource = emptyResource()
  readonly pods = new Map<string, PodInfo>()
  /** `protocol/port` → host IPs using it. */
  readonly usedPorts = new Map<string, Set<string>>()
  /** Pods with affinity terms, and those with required anti-affinity (subsets of `pods`). */
  readonly podsWithAffinity = new Map<string, PodInfo>()
  readonly podsWithRequiredAntiAffinity = new Map<string, PodInfo>()
  /** Bumped on every change: lets the cache copy only what changed into a snapshot. */
  generation = 0

  /** `allocatable`: already parsed from this node (clone passes it, to skip parsing quantities again). */
  constructor(node: Node, allocatable?: Resource) {
    this.node = node
    this.name = str(rec(node.metadata).name)
    this.allocatable = allocatable ?? resourceFromJson(rec(node.status).allocatable)
  }

  setNode(node: Node): void {
    this.node = node
    this.name = str(rec(node.metadata).name)
    this.allocatable = resourceFromJson(rec(node.status).allocatable)
    this.generation++
  }

  get labels(): Readonly<Record<string, string>> {
    return (rec(this.node.metadata).labels ?? {}) as Record<string, string>
  }

  addPod(p: PodInfo): void {
    if (this.pods.has(p.key)) this.removePod(p.key)
    this.pods.set(p.key, p)
    addResource(this.requested, p.requests, 1)
    addResource(this.nonZeroRequested, p.nonZeroRequests, 1)
    for (const hp of p.hostPorts) {
      const k = `${hp.protocol}/${hp.port}`
      let ips = this.usedPorts.get(k)
      if (ips === undefined) this.usedPorts.set(k, (ips = new Set()))
      ips.add(hp.ip)
    }
    if (p.hasAffinity) this.podsWithAffinity.set(p.key, p)
    if (p.hasRequiredAntiAffinity) this.podsWithRequiredAntiAffinity.set(p.key, p)
    this.generation++
  }

  /** Returns false when the pod was not on this node. */
  removePod(key: string): boolean {
    const p = this.pods.get(key)
    if (p === undefined) return false
    this.pods.delete(key)
    addResource(this.requested, p.requests, -1)
    addResource(this.nonZeroRequested, p.nonZeroRequests, -1)
    for (const hp of p.hostPorts) {
      const k = `${hp.protocol}/${hp.port}`
      const ips = this.usedPorts.get(k)
      // Two pods may not share a port on one IP, so removing the IP is exact.
      ips?.delete(hp.ip)
      if (ips?.size === 0) this.usedPorts.delete(k)
    }
    this.podsWithAffinity.delete(key)
    this.podsWithRequiredAntiAffinity.delete(key)
    this.generation++
    return true
  }

  /** A copy that later changes to this one do not affect (pods are shared, immutable infos). */
  clone(): NodeInfo {
    // Copies the sums and maps rather than re-adding every pod: the cache clones a
    // node on every change while pods are being assumed.
    const c = new NodeInfo(this.node, this.allocatable)
    copyResource(c.requested, this.requested)
    copyResource(c.nonZeroRequested, this.nonZeroRequested)
    for (const [k, p] of this.pods) c.pods.set(k, p)
    for (const [k, ips] of this.usedPorts) c.usedPorts.set(k, new Set(ips))
    for (const [k, p] of this.podsWithAffinity) c.podsWithAffinity.set(k, p)
    for (const [k, p] of this.podsWithRequiredAntiAffinity) c.podsWithRequiredAntiAffinity.set(k, p)
    c.generation = this.generation
    return c
  }
}
