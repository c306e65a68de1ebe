// Pod admission: whether a pod bound to this node may run here, checked by the
// kubelet itself before it starts anything (upstream's predicateAdmitHandler). A pod
// the scheduler placed with a stale view, or one created with spec.nodeName set by
// hand, is refused here and ends Failed with the reason of the first check that
// failed: PodOSSelectorNodeLabelDoesNotMatch / PodOSNotSupported, then the resources
// (OutOfpods, OutOfcpu, OutOfmemory, OutOfephemeral-storage, OutOf<extended>), then
// NodeAffinity, NodePorts and untolerated NoExecute taints (TaintToleration), with
// upstream's messages. Pure: the kubelet passes the pods it admitted before.
import { podRequiredNodeAffinity } from '../api/node-selector.js'
import { podRequests } from '../api/pod-resources.js'
import type { ResourceList } from '../api/resource-list.js'
import { findUntoleratedTaint, parseTolerations, type Taint } from '../api/taints.js'
import type { KubeObject } from '../client/index.js'
import type { Json } from './runtime/types.js'

export interface AdmissionNode {
  name: string
  labels: Readonly<Record<string, string>>
  taints: readonly Taint[]
  allocatable: ResourceList
}

export type AdmitResult = { admit: true } | { admit: false; reason: string; message: string }

const OS = 'linux'

function rec(v: unknown): Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {}
}

function recs(v: unknown): Json[] {
  return Array.isArray(v) ? v.map(rec) : []
}

function predicateFailure(name: string, desc: string): AdmitResult {
  return { admit: false, reason: name, message: `Predicate ${name} failed: ${desc}` }
}

function insufficient(resource: string, requested: bigint | number, used: bigint | number, capacity: bigint | number): AdmitResult {
  const reason = `OutOf${resource}`
  return { admit: false, reason, message: `Node didn't have enough resource: ${resource}, requested: ${requested}, used: ${used}, capacity: ${capacity}` }
}

/** The amount the messages and comparisons use: millicores for cpu, whole units otherwise. */
function amount(resource: string, list: ResourceList): bigint {
  const q = list.get(resource)
  if (q === undefined) return 0n
  return resource === 'cpu' ? q.scaledBig(-3) : q.scaledBig(0)
}

function sumRequests(pods: readonly KubeObject[]): ResourceList {
  const total: ResourceList = new Map()
  for (const p of pods) {
    for (const [k, q] of podRequests(p as Json, { overhead: true })) {
      const prev = total.get(k)
      total.set(k, prev === undefined ? q : prev.add(q))
    }
  }
  return total
}

const FIXED = ['cpu', 'memory', 'ephemeral-storage']

/** The first resource the pod does not fit in beside `others` (noderesources.Fits, in its order). */
function resourceFit(pod: KubeObject, node: AdmissionNode, others: readonly KubeObject[]): AdmitResult | undefined {
  const podsAllowed = amount('pods', node.allocatable)
  if (BigInt(others.length) + 1n > podsAllowed) return insufficient('pods', 1, others.length, podsAllowed)
  const want = podRequests(pod as Json, { overhead: true })
  const used = sumRequests(others)
  const names = [...FIXED, ...[...want.keys()].filter((k) => !FIXED.includes(k) && k !== 'pods').sort()]
  for (const name of names) {
    const requested = amount(name, want)
    if (requested <= 0n) continue
    // An extended resource the node does not know is left to the cluster (upstream drops it before the check).
    if (!FIXED.includes(name) && !node.allocatable.has(name)) continue
    const capacity = amount(name, node.allocatable)
    const inUse = amount(name, used)
    if (requested > capacity - inUse) return insufficient(name, requested, inUse, capacity)
  }
  return undefined
}

interface HostPort {
  protocol: string
  ip: string
  port: number
}

function hostPorts(pod: KubeObject): HostPort[] {
  const spec = rec(pod.spec)
  const out: HostPort[] = []
  for (const c of [...recs(spec.initContainers), ...recs(spec.containers)]) {
    for (const p of recs(c.ports)) {
      const port = typeof p.hostPort === 'number' ? p.hostPort : 0
      if (port <= 0) continue
      out.push({ protocol: typeof p.protocol === 'string' && p.protocol !== '' ? p.protocol : 'TCP', ip: typeof p.hostIP === 'string' && p.hostIP !== '' ? p.hostIP : '0.0.0.0', port })
    }
  }
  return out
}

function portsConflict(a: HostPort, b: HostPort): boolean {
  return a.port === b.port && a.protocol === b.protocol && (a.ip === b.ip || a.ip === '0.0.0.0' || b.ip === '0.0.0.0')
}

/** Whether `pod` may run on `node` beside the pods admitted before it (`others`, not terminal). */
export function admitPod(pod: KubeObject, node: AdmissionNode, others: readonly KubeObject[]): AdmitResult {
  const podOsLabel = pod.metadata?.labels?.['kubernetes.io/os']
  if (podOsLabel !== undefined && podOsLabel !== (node.labels['kubernetes.io/os'] ?? OS)) {
    return { admit: false, reason: 'PodOSSelectorNodeLabelDoesNotMatch', message: "Failed to admit pod as the `kubernetes.io/os` label doesn't match node label" }
  }
  const os = rec(rec(pod.spec).os).name
  if (typeof os === 'string' && os !== OS) return { admit: false, reason: 'PodOSNotSupported', message: "Failed to admit pod as the OS field doesn't match node OS" }

  const fit = resourceFit(pod, node, others)
  if (fit !== undefined) return fit
  if (!podRequiredNodeAffinity(pod).matches(node.labels, node.name)) return predicateFailure('NodeAffinity', "node(s) didn't match Pod's node affinity/selector")
  const nodeName = rec(pod.spec).nodeName
  if (typeof nodeName === 'string' && nodeName !== '' && nodeName !== node.name) return predicateFailure('NodeName', "node(s) didn't match the requested node name")
  const wanted = hostPorts(pod)
  if (wanted.length > 0) {
    const taken = others.flatMap(hostPorts)
    if (wanted.some((w) => taken.some((t) => portsConflict(w, t)))) return predicateFailure('NodePorts', "node(s) didn't have free ports for the requested pod ports")
  }
  const noExecute = node.taints.filter((t) => t.effect === 'NoExecute')
  if (findUntoleratedTaint(noExecute, parseTolerations(pod)) !== undefined) return predicateFailure('TaintToleration', "node(s) had taints that the pod didn't tolerate")
  return { admit: true }
}
