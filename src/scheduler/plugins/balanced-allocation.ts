// NodeResourcesBalancedAllocation (score): prefers nodes whose CPU and memory would be
// used in similar proportions with the pod on them, so no node ends up with CPU left
// but no memory. Score = (1 - standard deviation of the requested fractions) * 100,
// from actual requests (not the non-zero defaults), as upstream.
import type { NodeInfo, PodInfo } from '../framework/node-info.js'
import { type CycleState, MAX_NODE_SCORE, type ScorePlugin } from '../framework/types.js'
import { AllocationTable, DEFAULT_RESOURCES, podRequestList, type ResourceSpec } from './helpers/resource-allocation.js'
import { NODE_RESOURCES_BALANCED_ALLOCATION } from './names.js'

export interface BalancedAllocationArgs {
  resources?: readonly ResourceSpec[]
}

export function balancedResourceScore(requested: readonly number[], allocatable: readonly number[]): number {
  let n = 0
  let total = 0
  let f0 = 0
  let f1 = 0
  for (let i = 0; i < requested.length; i++) {
    if (allocatable[i] === 0) continue
    const f = Math.min(requested[i] / allocatable[i], 1)
    if (n === 0) f0 = f
    else if (n === 1) f1 = f
    total += f
    n++
  }
  let std = 0
  if (n === 2) std = Math.abs((f0 - f1) / 2)
  else if (n > 2) {
    const mean = total / n
    let sum = 0
    for (let i = 0; i < requested.length; i++) {
      if (allocatable[i] === 0) continue
      const f = Math.min(requested[i] / allocatable[i], 1)
      sum += (f - mean) * (f - mean)
    }
    std = Math.sqrt(sum / n)
  }
  return Math.trunc((1 - std) * MAX_NODE_SCORE)
}

export class BalancedAllocation implements ScorePlugin {
  readonly name = NODE_RESOURCES_BALANCED_ALLOCATION
  readonly resources: readonly ResourceSpec[]
  private readonly key = `${NODE_RESOURCES_BALANCED_ALLOCATION}/preScore`
  private readonly table: AllocationTable

  constructor(args: BalancedAllocationArgs = {}) {
    this.resources = args.resources ?? DEFAULT_RESOURCES
    this.table = new AllocationTable(this.resources, true)
  }

  preScore(state: CycleState, pod: PodInfo): undefined {
    state.set(this.key, podRequestList(this.resources, pod.requests, pod.nonZeroRequests, true))
    return undefined
  }

  score(state: CycleState, pod: PodInfo, node: NodeInfo): number {
    let podRequests = state.get(this.key) as number[] | undefined
    if (podRequests === undefined) {
      podRequests = podRequestList(this.resources, pod.requests, pod.nonZeroRequests, true)
      state.set(this.key, podRequests)
    }
    this.table.fill(podRequests, node)
    return balancedResourceScore(this.table.requested, this.table.allocatable)
  }
}
