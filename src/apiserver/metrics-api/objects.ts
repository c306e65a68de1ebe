// NodeMetrics and PodMetrics (metrics.k8s.io/v1beta1) as metrics-server serves them:
// the same JSON shapes and key order, quantities in their canonical form (CPU in
// DecimalSI from nanocores, `12345n`, `250m`; memory in BinarySI from bytes, `4567Ki`),
// `timestamp` the end of the window (RFC 3339, seconds), `window` a Go duration, and
// the Tables `kubectl get` asks for (Name, cpu, memory, Window).
import { Quantity } from '../../api/quantity.js'
import { metaTime } from '../../api/time.js'
import type { KubeObject } from '../watch-cache/types.js'
import type { PodUsageRecord, Usage, UsageRecord } from './record.js'

export const METRICS_GROUP = 'metrics.k8s.io'
export const METRICS_VERSION = 'v1beta1'
export const METRICS_API_VERSION = `${METRICS_GROUP}/${METRICS_VERSION}`

type Json = Record<string, unknown>

/** Go's time.Duration.String() for a whole number of milliseconds: `15s`, `15.002s`, `1m0s`, `500ms`, `0s`. */
export function goDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms))
  if (total === 0) return '0s'
  if (total < 1000) return `${total}ms`
  const h = Math.floor(total / 3_600_000)
  const m = Math.floor((total % 3_600_000) / 60_000)
  const rest = total % 60_000
  const whole = Math.floor(rest / 1000)
  const frac = rest % 1000
  const s = frac === 0 ? `${whole}s` : `${whole}.${String(frac).padStart(3, '0').replace(/0+$/, '')}s`
  if (h > 0) return `${h}h${m}m${s}`
  if (m > 0) return `${m}m${s}`
  return s
}

/** metrics-server's usage list: cpu as DecimalSI nanocores, memory as BinarySI bytes. */
export function usageList(u: Usage): { cpu: string; memory: string } {
  return {
    cpu: Quantity.fromNanos(BigInt(Math.max(0, Math.round(u.cpuNanoCores))), 'DecimalSI').toString(),
    memory: Quantity.fromValue(BigInt(Math.max(0, Math.round(u.memoryBytes))), 'BinarySI').toString(),
  }
}

function meta(obj: KubeObject): Json {
  return (obj.metadata ?? {}) as Json
}

function labelsOf(obj: KubeObject): Record<string, string> | undefined {
  const l = meta(obj).labels
  return l !== null && typeof l === 'object' && Object.keys(l).length > 0 ? { ...(l as Record<string, string>) } : undefined
}

/** The NodeMetrics of a Node (its labels) from its report; `now` is the creationTimestamp, as metrics-server sets it. */
export function nodeMetrics(node: KubeObject, r: UsageRecord, now: Date): Json {
  const labels = labelsOf(node)
  return {
    kind: 'NodeMetrics',
    apiVersion: METRICS_API_VERSION,
    metadata: { name: String(meta(node).name), creationTimestamp: metaTime(now), ...(labels === undefined ? {} : { labels }) },
    timestamp: metaTime(new Date(r.timestampMs)),
    window: goDuration(r.windowMs),
    usage: usageList(r.usage),
  }
}

/** The PodMetrics of a Pod (its labels) from its entry in its node's report. */
export function podMetrics(pod: KubeObject, p: PodUsageRecord, r: UsageRecord, now: Date): Json {
  const labels = labelsOf(pod)
  const m = meta(pod)
  return {
    kind: 'PodMetrics',
    apiVersion: METRICS_API_VERSION,
    metadata: { name: String(m.name), namespace: String(m.namespace), creationTimestamp: metaTime(now), ...(labels === undefined ? {} : { labels }) },
    timestamp: metaTime(new Date(r.timestampMs)),
    window: goDuration(p.windowMs),
    containers: p.containers.map((c) => ({ name: c.name, usage: usageList(c.usage) })),
  }
}

export function metricsList(kind: 'NodeMetrics' | 'PodMetrics', items: Json[]): Json {
  return { kind: `${kind}List`, apiVersion: METRICS_API_VERSION, metadata: {}, items }
}

/** The Table of metrics-server's ConvertToTable: Name, cpu, memory (a pod's summed over its containers), Window. */
export function metricsTable(items: Json[], includeObject: 'None' | 'Metadata' | 'Object', noHeaders = false): Json {
  const rows = items.map((item) => {
    const usage = podOrNodeUsage(item)
    const object = includeObject === 'None' ? null : includeObject === 'Object' ? item : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: item.metadata }
    return { cells: [String((item.metadata as Json).name), usage.cpu, usage.memory, item.window], object }
  })
  const columnDefinitions = noHeaders
    ? []
    : [
        { name: 'Name', type: 'string', format: 'name', description: 'Name of the resource', priority: 0 },
        { name: 'cpu', type: 'string', format: 'quantity', description: '', priority: 0 },
        { name: 'memory', type: 'string', format: 'quantity', description: '', priority: 0 },
        { name: 'Window', type: 'string', format: 'duration', description: '', priority: 0 },
      ]
  return { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: {}, columnDefinitions, rows }
}

function podOrNodeUsage(item: Json): { cpu: string; memory: string } {
  if (item.usage !== undefined) return item.usage as { cpu: string; memory: string }
  let cpu = Quantity.fromNanos(0n, 'DecimalSI')
  let memory = Quantity.fromNanos(0n, 'BinarySI')
  for (const c of (item.containers ?? []) as { usage: { cpu: string; memory: string } }[]) {
    cpu = cpu.add(Quantity.parse(c.usage.cpu))
    memory = memory.add(Quantity.parse(c.usage.memory))
  }
  return { cpu: cpu.toString(), memory: memory.toString() }
}
