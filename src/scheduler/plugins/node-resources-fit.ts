// NodeResourcesFit: the filter that keeps a node from being over-committed (the pod's
// requests must fit in allocatable minus what the node's pods already request, and
// the node must have room for one more pod), and the score that spreads pods out
// (LeastAllocated, the default), packs them (MostAllocated), or follows a utilization
// curve (RequestedToCapacityRatio) — kube-scheduler's scoringStrategy.
import type { NodeInfo, PodInfo } from '../framework/node-info.js'
import { type CycleState, type FilterPlugin, MAX_NODE_SCORE, type ScorePlugin, type Status } from '../framework/types.js'
import { AllocationTable, DEFAULT_RESOURCES, podRequestList, type ResourceSpec } from './helpers/resource-allocation.js'
import { NODE_RESOURCES_FIT } from './names.js'

export type ScoringStrategyType = 'LeastAllocated' | 'MostAllocated' | 'RequestedToCapacityRatio'

export interface UtilizationShapePoint {
  /** 0..100 */
  utilization: number
  /** 0..10 */
  score: number
}

export interface NodeResourcesFitArgs {
  scoringStrategy?: {
    type?: ScoringStrategyType
    resources?: readonly ResourceSpec[]
    requestedToCapacityRatio?: { shape: readonly UtilizationShapePoint[] }
  }
  /** Extended resources the filter does not check (another component accounts for them). */
  ignoredResources?: readonly string[]
  /** Extended resource groups (the part before '/') the filter does not check. */
  ignoredResourceGroups?: readonly string[]
}

export const REASON_TOO_MANY_PODS = 'Too many pods'
export const REASON_INSUFFICIENT_CPU = 'Insufficient cpu'
export const REASON_INSUFFICIENT_MEMORY = 'Insufficient memory'
export const REASON_INSUFFICIENT_EPHEMERAL_STORAGE = 'Insufficient ephemeral-storage'

/** Upstream's MaxCustomPriorityScore and maxUtilization for RequestedToCapacityRatio shapes. */
const MAX_CUSTOM_PRIORITY_SCORE = 10
const MAX_UTILIZATION = 100

type Scorer = (requested: readonly number[], allocatable: readonly number[]) => number

function leastRequestedScore(requested: number, capacity: number): number {
  if (capacity === 0 || requested > capacity) return 0
  return Math.trunc(((capacity - requested) * MAX_NODE_SCORE) / capacity)
}

function mostRequestedScore(requested: number, capacity: number): number {
  if (capacity === 0) return 0
  // Pods without requests count the non-zero defaults, which can exceed capacity.
  if (requested > capacity) requested = capacity
  return Math.trunc((requested * MAX_NODE_SCORE) / capacity)
}

function weightedAverage(resources: readonly ResourceSpec[], each: (requested: number, capacity: number) => number): Scorer {
  return (requested, allocatable) => {
    let score = 0
    let weights = 0
    for (let i = 0; i < requested.length; i++) {
      if (allocatable[i] === 0) continue
      const w = resources[i].weight
      score += each(requested[i], allocatable[i]) * w
      weights += w
    }
    return weights === 0 ? 0 : Math.trunc(score / weights)
  }
}

/** Upstream's BuildBrokenLinearFunction over the shape, scores scaled from 0..10 to 0..100. */
function brokenLinear(shape: readonly UtilizationShapePoint[]): (p: number) => number {
  const pts = shape.map((s) => ({ u: s.utilization, s: s.score * (MAX_NODE_SCORE / MAX_CUSTOM_PRIORITY_SCORE) }))
  return (p) => {
    for (let i = 0; i < pts.length; i++) {
      if (p <= pts[i].u) {
        if (i === 0) return pts[0].s
        return pts[i - 1].s + Math.trunc(((pts[i].s - pts[i - 1].s) * (p - pts[i - 1].u)) / (pts[i].u - pts[i - 1].u))
      }
    }
    return pts[pts.length - 1].s
  }
}

function requestedToCapacityRatio(resources: readonly ResourceSpec[], shape: readonly UtilizationShapePoint[]): Scorer {
  const f = brokenLinear(shape)
  const each = (requested: number, capacity: number): number =>
    capacity === 0 || requested > capacity ? f(MAX_UTILIZATION) : f(Math.trunc((requested * MAX_UTILIZATION) / capacity))
  return (requested, allocatable) => {
    let score = 0
    let weights = 0
    for (let i = 0; i < requested.length; i++) {
      if (allocatable[i] === 0) continue
      const s = each(requested[i], allocatable[i])
      // Upstream counts a resource only when it scores above zero.
      if (s > 0) {
        score += s * resources[i].weight
        weights += resources[i].weight
      }
    }
    return weights === 0 ? 0 : Math.round(score / weights)
  }
}

interface FitScoreState {
  podRequests: number[]
}

export class NodeResourcesFit implements FilterPlugin, ScorePlugin {
  readonly name = NODE_RESOURCES_FIT
  readonly strategy: ScoringStrategyType
  readonly resources: readonly ResourceSpec[]
  private readonly scorer: Scorer
  private readonly ignored: ReadonlySet<string>
  private readonly ignoredGroups: ReadonlySet<string>
  /** One status per combination of reasons, so a full cluster does not allocate one per node. */
  private readonly byMask: (Status | undefined)[] = new Array<Status | undefined>(16)
  private readonly statuses = new Map<string, Status>()
  private readonly scoreKey = `${NODE_RESOURCES_FIT}/preScore`
  /** Scratch space reused across nodes: Score is called once per node, synchronously. */
  private readonly table: AllocationTable

  constructor(args: NodeResourcesFitArgs = {}) {
    const s = args.scoringStrategy ?? {}
    this.strategy = s.type ?? 'LeastAllocated'
    this.resources = s.resources ?? DEFAULT_RESOURCES
    switch (this.strategy) {
      case 'LeastAllocated':
        this.scorer = weightedAverage(this.resources, leastRequestedScore)
        break
      case 'MostAllocated':
        this.scorer = weightedAverage(this.resources, mostRequestedScore)
        break
      case 'RequestedToCapacityRatio':
        this.scorer = requestedToCapacityRatio(this.resources, s.requestedToCapacityRatio?.shape ?? [])
        break
    }
    this.ignored = new Set(args.ignoredResources ?? [])
    this.ignoredGroups = new Set(args.ignoredResourceGroups ?? [])
    this.table = new AllocationTable(this.resources, false)
  }

  filter(_state: CycleState, pod: PodInfo, node: NodeInfo): Status | undefined {
    const a = node.allocatable
    const used = node.requested
    const r = pod.requests
    // The common failures as bits, so a full cluster shares a handful of statuses.
    let mask = 0
    if (node.pods.size + 1 > a.pods) mask |= 1
    if (r.milliCPU === 0 && r.memory === 0 && r.ephemeralStorage === 0 && r.scalar.size === 0) return mask === 0 ? undefined : this.nativeStatus(mask)
    if (r.milliCPU > 0 && r.milliCPU > a.milliCPU - used.milliCPU) mask |= 2
    if (r.memory > 0 && r.memory > a.memory - used.memory) mask |= 4
    if (r.ephemeralStorage > 0 && r.ephemeralStorage > a.ephemeralStorage - used.ephemeralStorage) mask |= 8
    if (r.scalar.size === 0) return mask === 0 ? undefined : this.nativeStatus(mask)
    const reasons = insufficientResources(pod, node, this.ignored, this.ignoredGroups)
    if (reasons === undefined) return undefined
    const key = reasons.join('\n')
    let st = this.statuses.get(key)
    if (st === undefined) {
      st = { code: 'Unschedulable', reasons, plugin: NODE_RESOURCES_FIT }
      if (this.statuses.size < 1024) this.statuses.set(key, st)
    }
    return st
  }

  private nativeStatus(mask: number): Status {
    let st = this.byMask[mask]
    if (st === undefined) {
      const reasons: string[] = []
      if (mask & 1) reasons.push(REASON_TOO_MANY_PODS)
      if (mask & 2) reasons.push(REASON_INSUFFICIENT_CPU)
      if (mask & 4) reasons.push(REASON_INSUFFICIENT_MEMORY)
      if (mask & 8) reasons.push(REASON_INSUFFICIENT_EPHEMERAL_STORAGE)
      st = this.byMask[mask] = { code: 'Unschedulable', reasons, plugin: NODE_RESOURCES_FIT }
    }
    return st
  }

  preScore(state: CycleState, pod: PodInfo): undefined {
    const st: FitScoreState = { podRequests: podRequestList(this.resources, pod.requests, pod.nonZeroRequests, false) }
    state.set(this.scoreKey, st)
    return undefined
  }

  score(state: CycleState, pod: PodInfo, node: NodeInfo): number {
    let st = state.get(this.scoreKey) as FitScoreState | undefined
    if (st === undefined) {
      st = { podRequests: podRequestList(this.resources, pod.requests, pod.nonZeroRequests, false) }
      state.set(this.scoreKey, st)
    }
    this.table.fill(st.podRequests, node)
    return this.scorer(this.table.requested, this.table.allocatable)
  }
}

/** The reasons the pod does not fit (upstream's fitsRequest, in its order), or undefined when it fits. */
export function insufficientResources(
  pod: PodInfo,
  node: NodeInfo,
  ignored: ReadonlySet<string> = new Set(),
  ignoredGroups: ReadonlySet<string> = new Set(),
): string[] | undefined {
  let reasons: string[] | undefined
  const a = node.allocatable
  const used = node.requested
  const r = pod.requests
  if (node.pods.size + 1 > a.pods) (reasons ??= []).push(REASON_TOO_MANY_PODS)
  if (r.milliCPU === 0 && r.memory === 0 && r.ephemeralStorage === 0 && r.scalar.size === 0) return reasons
  if (r.milliCPU > 0 && r.milliCPU > a.milliCPU - used.milliCPU) (reasons ??= []).push(REASON_INSUFFICIENT_CPU)
  if (r.memory > 0 && r.memory > a.memory - used.memory) (reasons ??= []).push(REASON_INSUFFICIENT_MEMORY)
  if (r.ephemeralStorage > 0 && r.ephemeralStorage > a.ephemeralStorage - used.ephemeralStorage) (reasons ??= []).push(REASON_INSUFFICIENT_EPHEMERAL_STORAGE)
  for (const [name, q] of r.scalar) {
    if (q === 0) continue
    if (isExtendedResourceName(name) && (ignored.has(name) || ignoredGroups.has(name.split('/')[0]))) continue
    if (q > (a.scalar.get(name) ?? 0) - (used.scalar.get(name) ?? 0)) (reasons ??= []).push(`Insufficient ${name}`)
  }
  return reasons
}

/** Upstream's IsExtendedResourceName: a domain-prefixed name outside kubernetes.io (hugepages are native). */
function isExtendedResourceName(name: string): boolean {
  if (!name.includes('/')) return false
  const prefix = name.split('/')[0]
  return prefix !== 'kubernetes.io' && !prefix.endsWith('.kubernetes.io') && !name.startsWith('requests.')
}
