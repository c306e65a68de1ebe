// What the kubelet's usage reporter (./reporter.ts) asks of whatever measures usage:
// cumulative CPU time and the memory working set, per running container and for the
// whole node, at one instant (the role of cAdvisor behind the kubelet's resource
// metrics endpoint). Rates are computed from two snapshots (./rates.ts), so a source
// only reads counters.
import type { KubeObject } from '../../client/index.js'
import type { ContainerRecord } from '../runtime/types.js'

/** A pod the kubelet runs, with the runtime's records of its containers. */
export interface PodContainers {
  pod: KubeObject
  containers: readonly ContainerRecord[]
}

/** Counters of one container or of the node at a snapshot's instant. */
export interface UsagePoint {
  /** When the container (or node) started: its CPU time is 0 there (ms since the epoch). */
  startTimeMs: number
  /** CPU time used since the start, in core-nanoseconds (1 core busy for 1 s = 1e9). */
  usageCoreNanoSeconds: number
  /** The memory working set now, in bytes. */
  workingSetBytes: number
}

export interface ContainerUsagePoint extends UsagePoint {
  name: string
}

export interface PodUsagePoints {
  namespace: string
  name: string
  uid: string
  /** Running containers only. */
  containers: ContainerUsagePoint[]
}

export interface UsageSnapshot {
  /** The instant of every counter in it (ms since the epoch). */
  timestampMs: number
  node: UsagePoint
  pods: PodUsagePoints[]
}

export interface UsageSource {
  /** Counters now, for the node and for the running containers of `pods`. */
  snapshot(pods: readonly PodContainers[]): UsageSnapshot | Promise<UsageSnapshot>
}
