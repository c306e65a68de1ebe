// The Node as the kubelet registers and reports it (kubelet_node_status.go and the
// nodestatus setters): labels (kubernetes.io/hostname, kubernetes.io/os,
// kubernetes.io/arch and their beta twins, then --node-labels), --register-with-taints,
// addresses (InternalIP, Hostname), capacity and allocatable, nodeInfo, the kubelet's
// port, and the conditions MemoryPressure, DiskPressure, PIDPressure and Ready with
// upstream's reasons and messages. A condition keeps its lastTransitionTime while its
// status stays; lastHeartbeatTime is the time of each report. This kubelet has no
// eviction manager, so the pressure conditions are always False. Pure.
import { toJson, type ResourceList } from '../api/resource-list.js'
import { metaTime } from '../api/time.js'
import type { Taint } from '../api/taints.js'
import type { KubeObject } from '../client/index.js'
import { KUBELET_VERSION, type MachineFacts } from './machine.js'
import type { Json, RuntimeHealth } from './runtime/types.js'

export const KUBELET_PORT = 10250

export interface NodeDescription {
  name: string
  /** The kubernetes.io/hostname label and the Hostname address. */
  hostname: string
  internalIP: string
  /** --node-labels (they win over the defaults, as upstream). */
  labels?: Readonly<Record<string, string>>
  /** --register-with-taints. */
  taints?: readonly Taint[]
  capacity: ResourceList
  allocatable: ResourceList
  machine: MachineFacts
  containerRuntimeVersion: string
  /** The port the kubelet's server listens on (status.daemonEndpoints). Default 10250. */
  kubeletPort?: number
}

export function nodeLabels(d: NodeDescription): Record<string, string> {
  return {
    'beta.kubernetes.io/arch': d.machine.architecture,
    'beta.kubernetes.io/os': 'linux',
    'kubernetes.io/arch': d.machine.architecture,
    'kubernetes.io/hostname': d.hostname,
    'kubernetes.io/os': 'linux',
    ...(d.labels ?? {}),
  }
}

interface ConditionSpec {
  type: string
  status: 'True' | 'False'
  reason: string
  message: string
}

function conditionSpecs(health: RuntimeHealth): ConditionSpec[] {
  return [
    { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available' },
    { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', message: 'kubelet has no disk pressure' },
    { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', message: 'kubelet has sufficient PID available' },
    health.ready
      ? { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }
      : { type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: health.message ?? 'container runtime is down' },
  ]
}

/** The node's conditions at `now`, transition times carried over from `previous` where the status stayed. */
export function nodeConditions(previous: readonly Json[], health: RuntimeHealth, now: Date): Json[] {
  const ts = metaTime(now)
  return conditionSpecs(health).map((c) => {
    const prev = previous.find((p) => p.type === c.type)
    const lastTransitionTime = prev !== undefined && prev.status === c.status && typeof prev.lastTransitionTime === 'string' ? prev.lastTransitionTime : ts
    return { type: c.type, status: c.status, lastHeartbeatTime: ts, lastTransitionTime, reason: c.reason, message: c.message }
  })
}

export function nodeStatus(d: NodeDescription, previousConditions: readonly Json[], health: RuntimeHealth, now: Date): Json {
  return {
    capacity: toJson(d.capacity),
    allocatable: toJson(d.allocatable),
    conditions: nodeConditions(previousConditions, health, now),
    addresses: [
      { type: 'InternalIP', address: d.internalIP },
      { type: 'Hostname', address: d.hostname },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: d.kubeletPort ?? KUBELET_PORT } },
    nodeInfo: {
      machineID: d.machine.machineID,
      systemUUID: d.machine.systemUUID,
      bootID: d.machine.bootID,
      kernelVersion: d.machine.kernelVersion,
      osImage: d.machine.osImage,
      containerRuntimeVersion: d.containerRuntimeVersion,
      kubeletVersion: KUBELET_VERSION,
      kubeProxyVersion: '',
      operatingSystem: 'linux',
      architecture: d.machine.architecture,
    },
  }
}

/** The Node a kubelet registers: what RegisterNode creates, or merges into the stored one. */
export function registrationNode(d: NodeDescription, status: Json): KubeObject {
  const spec: Json = {}
  if (d.taints !== undefined && d.taints.length > 0) spec.taints = d.taints.map((t) => ({ key: t.key, ...(t.value === '' ? {} : { value: t.value }), effect: t.effect }))
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: d.name,
      labels: nodeLabels(d),
      annotations: { 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' },
    },
    spec,
    status,
  }
}

function withoutHeartbeats(conditions: readonly Json[]): string {
  return JSON.stringify(
    conditions
      .map((c) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message, lastTransitionTime: c.lastTransitionTime }))
      .sort((a, b) => String(a.type).localeCompare(String(b.type))),
  )
}

/** Whether a report would tell the cluster something new (heartbeat times aside), as nodeStatusHasChanged. */
export function nodeStatusChanged(before: Json | undefined, after: Json): boolean {
  if (before === undefined) return true
  const strip = (s: Json): string => JSON.stringify({ ...s, conditions: undefined })
  if (strip(before) !== strip(after)) return true
  const conds = (s: Json): Json[] => (Array.isArray(s.conditions) ? (s.conditions as Json[]) : [])
  return withoutHeartbeats(conds(before)) !== withoutHeartbeats(conds(after))
}

/** The events a change of conditions is announced with (NodeHasSufficientMemory, NodeReady, NodeNotReady, …). */
export function conditionEvents(before: readonly Json[], after: readonly Json[]): { type: 'Normal'; reason: string }[] {
  const out: { type: 'Normal'; reason: string }[] = []
  for (const c of after) {
    const prev = before.find((p) => p.type === c.type)
    if (prev !== undefined && prev.status === c.status) continue
    let reason: string
    switch (c.type) {
      case 'MemoryPressure':
        reason = c.status === 'True' ? 'NodeHasInsufficientMemory' : 'NodeHasSufficientMemory'
        break
      case 'DiskPressure':
        reason = c.status === 'True' ? 'NodeHasDiskPressure' : 'NodeHasNoDiskPressure'
        break
      case 'PIDPressure':
        reason = c.status === 'True' ? 'NodeHasInsufficientPID' : 'NodeHasSufficientPID'
        break
      case 'Ready':
        reason = c.status === 'True' ? 'NodeReady' : 'NodeNotReady'
        break
      default:
        continue
    }
    out.push({ type: 'Normal', reason })
  }
  return out
}
