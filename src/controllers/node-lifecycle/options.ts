// The node lifecycle and taint eviction controllers' settings, with
// kube-controller-manager 1.32's flag defaults, and the clock they run on. Every
// duration is an option so tests can shrink a 40 s grace period to 2 s, or drive
// time by hand with a FakeClock.
import { type Clock, realClock } from '../../client/index.js'

export interface NodeLifecycleOptions {
  /** --node-monitor-period: how often node health is checked. Default 5 s. */
  nodeMonitorPeriodMs?: number
  /** --node-monitor-grace-period: silence after which a node's conditions become Unknown. Default 40 s, the long-standing kube-controller-manager default (1.32 raises it to 50 s). */
  nodeMonitorGracePeriodMs?: number
  /** --node-startup-grace-period: the same for a node whose kubelet never posted a Ready condition. Default 60 s. */
  nodeStartupGracePeriodMs?: number
  /** --node-eviction-rate: NoExecute taints per second per healthy zone. Default 0.1. */
  nodeEvictionRate?: number
  /** --secondary-node-eviction-rate: the same in a partially disrupted large zone. Default 0.01. */
  secondaryNodeEvictionRate?: number
  /** --large-cluster-size-threshold: zones with more nodes use the secondary rate. Default 50. */
  largeClusterSizeThreshold?: number
  /** --unhealthy-zone-threshold: share of not-ready nodes (at least 3) that makes a zone partially disrupted. Default 0.55. */
  unhealthyZoneThreshold?: number
  /** How often the rate-limited NoExecute tainting queue is worked (upstream NodeEvictionPeriod). Default 100 ms. */
  evictionPassPeriodMs?: number
  /** Time source; its now() must be wall-clock milliseconds since the epoch (FakeClock(Date.now()) in tests). */
  clock?: Clock
}

export interface TaintEvictionOptions {
  /** Time source; its now() must be wall-clock milliseconds since the epoch. */
  clock?: Clock
}

export type ResolvedNodeLifecycleOptions = Required<NodeLifecycleOptions>

/**
 * The real clock in wall time: taints' timeAdded and conditions' timestamps are wall
 * times, and the controllers compare their own clock with them.
 */
export const wallClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => realClock.setTimeout(fn, ms),
}

export function resolveNodeLifecycleOptions(o: NodeLifecycleOptions = {}): ResolvedNodeLifecycleOptions {
  return {
    nodeMonitorPeriodMs: o.nodeMonitorPeriodMs ?? 5_000,
    nodeMonitorGracePeriodMs: o.nodeMonitorGracePeriodMs ?? 40_000,
    nodeStartupGracePeriodMs: o.nodeStartupGracePeriodMs ?? 60_000,
    nodeEvictionRate: o.nodeEvictionRate ?? 0.1,
    secondaryNodeEvictionRate: o.secondaryNodeEvictionRate ?? 0.01,
    largeClusterSizeThreshold: o.largeClusterSizeThreshold ?? 50,
    unhealthyZoneThreshold: o.unhealthyZoneThreshold ?? 0.55,
    evictionPassPeriodMs: o.evictionPassPeriodMs ?? 100,
    clock: o.clock ?? wallClock,
  }
}
