// The stored form of one node's resource usage report: one key per node under
// USAGE_PREFIX in the replicated store, replaced by each report and attached to a lease
// of twice the report interval (at least 5 s), so a node that stops reporting
// disappears from metrics.k8s.io by itself. Every master reads the same records, so
// `kubectl top` and the HorizontalPodAutoscaler see the same usage whichever master
// they ask and whichever master the kubelet talks to.
//
// Stored as JSON (object-like, so the watch cache keeps it as any other object):
//   {"apiVersion":"raftplane.io/v1","kind":"NodeResourceUsage","metadata":{"name":"node-1"},
//    "timestampMs":1735689600123,"receivedMs":1735689600131,"intervalMs":15000,"windowMs":15002,
//    "usage":{"cpuNanoCores":61250000,"memoryBytes":285212672},
//    "pods":[{"namespace":"default","name":"web-1","uid":"…","windowMs":15002,
//             "containers":[{"name":"web","usage":{"cpuNanoCores":250000000,"memoryBytes":67108864}}]}]}
// timestampMs: when the kubelet sampled (its clock); receivedMs: when the master stored
// it (the master's clock, for staleness); CPU in nanocores averaged over windowMs,
// memory the working set in bytes.

export const USAGE_PREFIX = '/registry/raftplane.io/resourceusage/'
export const USAGE_API_VERSION = 'raftplane.io/v1'
export const USAGE_KIND = 'NodeResourceUsage'

/** The shortest life of a record (a short report interval must not make usage flicker). */
export const MIN_TTL_SECONDS = 5

export interface Usage {
  cpuNanoCores: number
  memoryBytes: number
}

export interface ContainerUsageRecord {
  name: string
  usage: Usage
}

export interface PodUsageRecord {
  namespace: string
  name: string
  /** '' when the kubelet did not say. */
  uid: string
  windowMs: number
  containers: ContainerUsageRecord[]
}

export interface UsageRecord {
  apiVersion: typeof USAGE_API_VERSION
  kind: typeof USAGE_KIND
  metadata: { name: string }
  timestampMs: number
  receivedMs: number
  intervalMs: number
  windowMs: number
  usage: Usage
  pods: PodUsageRecord[]
}

export function usageKey(nodeName: string): string {
  return `${USAGE_PREFIX}${nodeName}`
}

/** How long a report lives in the store: twice the node's report interval, at least MIN_TTL_SECONDS. */
export function usageTtlSeconds(intervalMs: number): number {
  return Math.max(MIN_TTL_SECONDS, Math.ceil((2 * intervalMs) / 1000))
}

/**
 * Whether a record still counts at `nowMs` (master clock). The lease removes a stale
 * record within about a second of its TTL; this check makes the cut exact, and holds on
 * a store whose leases do not expire (the in-memory test store).
 */
export function isFresh(r: UsageRecord, nowMs: number): boolean {
  return nowMs <= r.receivedMs + usageTtlSeconds(r.intervalMs) * 1000
}

/** A stored value as a record, or undefined when it is not one (written by something else). */
export function asUsageRecord(obj: Record<string, unknown>): UsageRecord | undefined {
  if (obj.kind !== USAGE_KIND || obj.apiVersion !== USAGE_API_VERSION) return undefined
  const r = obj as unknown as UsageRecord
  if (typeof r.metadata?.name !== 'string' || !Array.isArray(r.pods) || typeof r.receivedMs !== 'number' || typeof r.intervalMs !== 'number') return undefined
  return r
}
