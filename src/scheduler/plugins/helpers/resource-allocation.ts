// The part NodeResourcesFit's scoring and BalancedAllocation share (upstream's
// resourceAllocationScorer): for each configured resource, the node's allocatable and
// what it would have requested with the pod on it. Scoring uses "non-zero" requests
// (a container without a CPU or memory request counts as 100m / 200Mi) unless the
// scorer asks for the actual requests, as BalancedAllocation does. An extended
// resource the pod does not request, or one the node does not have, is left out.
import type { NodeInfo, Resource } from '../../framework/node-info.js'

export interface ResourceSpec {
  readonly name: string
  readonly weight: number
}

export const DEFAULT_RESOURCES: readonly ResourceSpec[] = [
  { name: 'cpu', weight: 1 },
  { name: 'memory', weight: 1 },
]

export function resourceAmount(r: Resource, name: string): number {
  switch (name) {
    case 'cpu':
      return r.milliCPU
    case 'memory':
      return r.memory
    case 'ephemeral-storage':
      return r.ephemeralStorage
    case 'pods':
      return r.pods
    default:
      return r.scalar.get(name) ?? 0
  }
}

/** The pod's request of each resource, as scoring counts it. */
export function podRequestList(resources: readonly ResourceSpec[], requests: Resource, nonZero: Resource, useRequested: boolean): number[] {
  return resources.map((r) => resourceAmount(useRequested || (r.name !== 'cpu' && r.name !== 'memory') ? requests : nonZero, r.name))
}

// Resource kinds, resolved once per plugin so the per-node loop switches on small ints.
const Kind = {
  Cpu: 0,
  Memory: 1,
  EphemeralStorage: 2,
  /** Extended resources and hugepages: scored only when the pod asks and the node has some. */
  Scalar: 3,
  /** `pods` is not a scored resource upstream: always left out. */
  Other: 4,
} as const
type Kind = (typeof Kind)[keyof typeof Kind]

function kindOf(name: string): Kind {
  switch (name) {
    case 'cpu':
      return Kind.Cpu
    case 'memory':
      return Kind.Memory
    case 'ephemeral-storage':
      return Kind.EphemeralStorage
    case 'pods':
      return Kind.Other
    default:
      return Kind.Scalar
  }
}

/**
 * Per node: the allocatable and the would-be requested amount of each configured
 * resource (0/0 for one left out), written into two arrays reused across nodes.
 * Upstream reads ephemeral storage and extended resources from the actual requests
 * even when CPU and memory use the non-zero ones.
 */
export class AllocationTable {
  readonly allocatable: number[]
  readonly requested: number[]
  private readonly kinds: Kind[]

  constructor(
    readonly resources: readonly ResourceSpec[],
    private readonly useRequested: boolean,
  ) {
    this.kinds = resources.map((r) => kindOf(r.name))
    this.allocatable = new Array<number>(resources.length).fill(0)
    this.requested = new Array<number>(resources.length).fill(0)
  }

  fill(podRequests: readonly number[], node: NodeInfo): void {
    const used = this.useRequested ? node.requested : node.nonZeroRequested
    const alloc = node.allocatable
    for (let i = 0; i < this.kinds.length; i++) {
      const podRequest = podRequests[i]
      let a = 0
      let r = 0
      switch (this.kinds[i]) {
        case Kind.Cpu:
          a = alloc.milliCPU
          r = used.milliCPU
          break
        case Kind.Memory:
          a = alloc.memory
          r = used.memory
          break
        case Kind.EphemeralStorage:
          a = alloc.ephemeralStorage
          r = node.requested.ephemeralStorage
          break
        case Kind.Scalar:
          if (podRequest !== 0) {
            const name = this.resources[i].name
            a = alloc.scalar.get(name) ?? 0
            r = node.requested.scalar.get(name) ?? 0
          }
          break
      }
      if (a === 0) {
        this.allocatable[i] = 0
        this.requested[i] = 0
      } else {
        this.allocatable[i] = a
        this.requested[i] = r + podRequest
      }
    }
  }
}
