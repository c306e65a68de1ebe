// Builders for scheduler tests: nodes and pods as the API would hold them, NodeInfos
// with pods placed, a Snapshot over them, and a seeded PRNG.
import { NodeInfo, PodInfo } from '../../../src/scheduler/framework/node-info.js'
import { ListSnapshot } from '../../../src/scheduler/framework/list-snapshot.js'
import type { KubeObject } from '../../../src/client/types.js'
import type { CycleState, FilterPlugin, ScorePlugin, Status } from '../../../src/scheduler/framework/types.js'

export interface NodeSpec {
  name: string
  cpu?: string
  memory?: string
  pods?: number
  ephemeralStorage?: string
  extended?: Record<string, string>
  labels?: Record<string, string>
  taints?: { key: string; value?: string; effect: string }[]
  unschedulable?: boolean
}

export function makeNode(s: NodeSpec): KubeObject {
  const allocatable: Record<string, string> = { cpu: s.cpu ?? '4', memory: s.memory ?? '8Gi', pods: String(s.pods ?? 110), ...(s.extended ?? {}) }
  if (s.ephemeralStorage !== undefined) allocatable['ephemeral-storage'] = s.ephemeralStorage
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: s.name, labels: { 'kubernetes.io/hostname': s.name, ...(s.labels ?? {}) } },
    spec: { ...(s.taints === undefined ? {} : { taints: s.taints }), ...(s.unschedulable ? { unschedulable: true } : {}) },
    status: { allocatable, capacity: allocatable },
  }
}

export interface PodSpecOpts {
  name: string
  namespace?: string
  labels?: Record<string, string>
  cpu?: string
  memory?: string
  ephemeralStorage?: string
  extended?: Record<string, string>
  /** Container ports with hostPort. */
  hostPorts?: { port: number; ip?: string; protocol?: string }[]
  nodeSelector?: Record<string, string>
  affinity?: Record<string, unknown>
  tolerations?: Record<string, unknown>[]
  topologySpreadConstraints?: Record<string, unknown>[]
  nodeName?: string
  preemptionPolicy?: string
  deleting?: boolean
}

export function makePod(o: PodSpecOpts): KubeObject {
  const requests: Record<string, string> = {}
  if (o.cpu !== undefined) requests.cpu = o.cpu
  if (o.memory !== undefined) requests.memory = o.memory
  if (o.ephemeralStorage !== undefined) requests['ephemeral-storage'] = o.ephemeralStorage
  Object.assign(requests, o.extended ?? {})
  const container: Record<string, unknown> = { name: 'c', image: 'busybox', resources: Object.keys(requests).length === 0 ? {} : { requests } }
  if (o.hostPorts !== undefined) container.ports = o.hostPorts.map((p) => ({ containerPort: p.port, hostPort: p.port, ...(p.ip ? { hostIP: p.ip } : {}), ...(p.protocol ? { protocol: p.protocol } : {}) }))
  const spec: Record<string, unknown> = { containers: [container] }
  if (o.nodeSelector) spec.nodeSelector = o.nodeSelector
  if (o.affinity) spec.affinity = o.affinity
  if (o.tolerations) spec.tolerations = o.tolerations
  if (o.topologySpreadConstraints) spec.topologySpreadConstraints = o.topologySpreadConstraints
  if (o.nodeName) spec.nodeName = o.nodeName
  if (o.preemptionPolicy) spec.preemptionPolicy = o.preemptionPolicy
  const ns = o.namespace ?? 'default'
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: o.name, namespace: ns, uid: `uid-${ns}-${o.name}`, labels: o.labels ?? {}, ...(o.deleting ? { deletionTimestamp: '2024-01-01T00:00:00Z' } : {}) },
    spec,
  }
}

export const podInfo = (o: PodSpecOpts): PodInfo => new PodInfo(makePod(o))
export const nodeInfo = (s: NodeSpec, ...pods: PodSpecOpts[]): NodeInfo => {
  const n = new NodeInfo(makeNode(s))
  for (const p of pods) n.addPod(podInfo(p))
  return n
}

export function snapshotOf(nodes: NodeInfo[]): ListSnapshot {
  return new ListSnapshot(nodes)
}

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** The seed for a property test: SEED from the environment to replay one, else a fresh one. */
export function testSeed(): number {
  const env = process.env.SEED
  return env !== undefined && env !== '' ? Number(env) : Math.floor(Math.random() * 2 ** 31)
}

/**
 * PreFilter over `all` (default: just the node) then Filter on `node`: undefined when
 * it passes (or PreFilter skipped), else the Status (a PreFilter rejection included).
 */
export function runFilter(pl: FilterPlugin, pod: PodInfo, node: NodeInfo, all: NodeInfo[] = [node]): Status | undefined {
  const state: CycleState = new Map()
  const r = pl.preFilter?.(state, pod, snapshotOf(all))
  if (r !== undefined) {
    if ('skip' in r) return undefined
    if ('code' in r && r.code !== 'Success') return r
    if ('nodeNames' in r && !r.nodeNames.has(node.name)) return { code: 'UnschedulableAndUnresolvable', reasons: ['not in PreFilterResult'] }
  }
  const st = pl.filter(state, pod, node)
  return st === undefined || st.code === 'Success' ? undefined : st
}

/** Reasons of runFilter, or [] when the node passes. */
export function filterReasons(pl: FilterPlugin, pod: PodInfo, node: NodeInfo, all?: NodeInfo[]): string[] {
  return runFilter(pl, pod, node, all)?.reasons ?? []
}

/** PreScore, Score and NormalizeScore over `nodes` (the feasible ones), `all` the snapshot: undefined when PreScore skipped. */
export function runScore(pl: ScorePlugin, pod: PodInfo, nodes: NodeInfo[], all: NodeInfo[] = nodes): number[] | undefined {
  const state: CycleState = new Map()
  const r = pl.preScore?.(state, pod, nodes, snapshotOf(all))
  if (r !== undefined && r.skip) return undefined
  const scores = nodes.map((n) => pl.score(state, pod, n))
  pl.normalize?.(state, pod, scores)
  return scores
}
