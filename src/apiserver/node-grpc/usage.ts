// ReportResourceUsage's request checked and turned into the stored record
// (../metrics-api/record.ts). Every problem is listed in one 400 BadRequest
// (INVALID_ARGUMENT), each with the field it is about, so a kubelet's bug reads plainly.
import type { ContainerUsageRecord, PodUsageRecord, Usage, UsageRecord } from '../metrics-api/record.js'
import { USAGE_API_VERSION, USAGE_KIND } from '../metrics-api/record.js'
import { badRequest } from '../status.js'
import type { ReportResourceUsageRequest, ResourceUsageMessage } from './proto.js'

/** The longest report interval a kubelet may announce (its record lives twice that). */
export const MAX_INTERVAL_MS = 3_600_000

class Problems {
  readonly list: string[] = []

  add(field: string, message: string): void {
    this.list.push(`${field}: ${message}`)
  }

  /** A uint64 as a number; past 2^53 the value is refused rather than rounded. */
  count(field: string, v: string | number | undefined): number {
    const text = String(v ?? '')
    if (!/^\d+$/.test(text)) {
      this.add(field, `Invalid value: ${JSON.stringify(text)}: must be a non-negative integer`)
      return 0
    }
    const n = Number(text)
    if (!Number.isSafeInteger(n)) {
      this.add(field, `Invalid value: ${text}: must be at most ${Number.MAX_SAFE_INTEGER}`)
      return 0
    }
    return n
  }

  positive(field: string, v: number, max?: number): number {
    if (!Number.isInteger(v) || v <= 0) this.add(field, `Invalid value: ${v}: must be greater than 0`)
    else if (max !== undefined && v > max) this.add(field, `Invalid value: ${v}: must be at most ${max}`)
    return v
  }

  required(field: string, v: string): string {
    if (v === '') this.add(field, 'Required value')
    return v
  }

  usage(field: string, u: ResourceUsageMessage | null | undefined): Usage {
    if (u === null || u === undefined) {
      this.add(field, 'Required value')
      return { cpuNanoCores: 0, memoryBytes: 0 }
    }
    return { cpuNanoCores: this.count(`${field}.cpu_nano_cores`, u.cpu_nano_cores), memoryBytes: this.count(`${field}.memory_working_set_bytes`, u.memory_working_set_bytes) }
  }
}

/** The record to store for a report, or a 400 ApiError naming every bad field. */
export function usageRecordOf(req: ReportResourceUsageRequest): Omit<UsageRecord, 'receivedMs'> {
  const p = new Problems()
  const nodeName = p.required('node_name', req.node_name)
  const timestampMs = p.count('timestamp_ms', req.timestamp_ms)
  if (timestampMs === 0 && p.list.every((m) => !m.startsWith('timestamp_ms'))) p.add('timestamp_ms', 'Required value')
  const intervalMs = p.positive('interval_ms', req.interval_ms, MAX_INTERVAL_MS)
  const windowMs = p.positive('window_ms', req.window_ms)
  const usage = p.usage('node', req.node)
  const seen = new Set<string>()
  const pods: PodUsageRecord[] = (req.pods ?? []).map((pod, i) => {
    const at = `pods[${i}]`
    const namespace = p.required(`${at}.namespace`, pod.namespace)
    const name = p.required(`${at}.name`, pod.name)
    const id = `${namespace}/${name}/${pod.uid}`
    if (namespace !== '' && name !== '' && seen.has(id)) p.add(at, `Duplicate value: pod ${namespace}/${name}${pod.uid === '' ? '' : ` (uid ${pod.uid})`} is reported twice`)
    seen.add(id)
    const podWindow = p.positive(`${at}.window_ms`, pod.window_ms)
    if ((pod.containers ?? []).length === 0) p.add(`${at}.containers`, 'Required value: a pod is reported with its running containers')
    const names = new Set<string>()
    const containers: ContainerUsageRecord[] = (pod.containers ?? []).map((c, j) => {
      const cat = `${at}.containers[${j}]`
      const cname = p.required(`${cat}.name`, c.name)
      if (cname !== '' && names.has(cname)) p.add(`${cat}.name`, `Duplicate value: ${JSON.stringify(cname)}`)
      names.add(cname)
      return { name: cname, usage: p.usage(`${cat}.usage`, c.usage) }
    })
    return { namespace, name, uid: pod.uid, windowMs: podWindow, containers }
  })
  if (p.list.length > 0) {
    const shown = p.list.slice(0, 10).join('; ') + (p.list.length > 10 ? `; and ${p.list.length - 10} more` : '')
    throw badRequest(`invalid resource usage report${nodeName === '' ? '' : ` of node ${nodeName}`}: ${shown}`)
  }
  return { apiVersion: USAGE_API_VERSION, kind: USAGE_KIND, metadata: { name: nodeName }, timestampMs, intervalMs, windowMs, usage, pods }
}
