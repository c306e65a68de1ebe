// From two snapshots of cumulative counters to the usage a report carries (as
// metrics-server computes it from two scrapes): CPU in nanocores = CPU time used
// between the two points / the time between them; memory = the working set of the
// newer point.
//
// The older point of a container is its point in the previous snapshot when the same
// instance was there (same start time, time moved on, the counter did not go back);
// for an instance that started since, its start (CPU time 0 then), once it has run at
// least `minWindowMs` (a shorter window says little) and no longer than `maxWindowMs`
// (a container of unknown history, e.g. after a kubelet restart, would otherwise report
// its lifetime average). Without either, the container has no usage yet — and a pod is
// reported only when each of its running containers has, since a partial pod would
// mislead the HorizontalPodAutoscaler. A pod's window is its longest container window.
import type { ResourceUsage, ResourceUsageReport } from '../../client/node-grpc.js'
import type { PodUsagePoints, UsagePoint, UsageSnapshot } from './types.js'

export interface RateOptions {
  minWindowMs: number
  maxWindowMs: number
}

export interface Rate {
  usage: ResourceUsage
  windowMs: number
}

/** The usage between `prev` (the same counter earlier, if any) and `cur`; undefined when there is none yet. */
export function rateBetween(prev: (UsagePoint & { timestampMs: number }) | undefined, cur: UsagePoint & { timestampMs: number }, o: RateOptions): Rate | undefined {
  let fromMs: number
  let fromCpu: number
  if (prev !== undefined && prev.startTimeMs === cur.startTimeMs && prev.timestampMs < cur.timestampMs && prev.usageCoreNanoSeconds <= cur.usageCoreNanoSeconds) {
    fromMs = prev.timestampMs
    fromCpu = prev.usageCoreNanoSeconds
  } else {
    const sinceStart = cur.timestampMs - cur.startTimeMs
    if (sinceStart < o.minWindowMs || sinceStart > o.maxWindowMs) return undefined
    fromMs = cur.startTimeMs
    fromCpu = 0
  }
  const windowMs = cur.timestampMs - fromMs
  if (windowMs <= 0) return undefined
  const cpuNanoCores = Math.round(((cur.usageCoreNanoSeconds - fromCpu) * 1000) / windowMs)
  return { usage: { cpuNanoCores: Math.max(0, cpuNanoCores), memoryWorkingSetBytes: Math.max(0, Math.round(cur.workingSetBytes)) }, windowMs }
}

function podKey(p: Pick<PodUsagePoints, 'namespace' | 'name' | 'uid'>): string {
  return `${p.namespace}/${p.name}/${p.uid}`
}

/**
 * The report for the window ending at `cur` (`prev`: the snapshot before, if any);
 * undefined when not even the node has usage yet.
 */
export function usageReport(nodeName: string, intervalMs: number, prev: UsageSnapshot | undefined, cur: UsageSnapshot, o: RateOptions): ResourceUsageReport | undefined {
  const at = <T extends UsagePoint>(p: T | undefined, ts: number) => (p === undefined ? undefined : { ...p, timestampMs: ts })
  const node = rateBetween(at(prev?.node, prev?.timestampMs ?? 0), { ...cur.node, timestampMs: cur.timestampMs }, o)
  if (node === undefined) return undefined
  const before = new Map<string, PodUsagePoints>()
  for (const p of prev?.pods ?? []) before.set(podKey(p), p)
  const pods: ResourceUsageReport['pods'] = []
  for (const pod of cur.pods) {
    if (pod.containers.length === 0) continue
    const old = before.get(podKey(pod))
    const containers: ResourceUsageReport['pods'][number]['containers'] = []
    let windowMs = 0
    for (const c of pod.containers) {
      const p = old?.containers.find((x) => x.name === c.name)
      const r = rateBetween(at(p, prev?.timestampMs ?? 0), { ...c, timestampMs: cur.timestampMs }, o)
      if (r === undefined) break
      containers.push({ name: c.name, usage: r.usage })
      windowMs = Math.max(windowMs, r.windowMs)
    }
    if (containers.length !== pod.containers.length) continue
    pods.push({ namespace: pod.namespace, name: pod.name, uid: pod.uid, windowMs, containers })
  }
  return { nodeName, timestampMs: cur.timestampMs, intervalMs, windowMs: node.windowMs, node: node.usage, pods }
}
