// The HPA's view of metrics.k8s.io (upstream's resource metrics client): the usage of
// one resource for the pods a selector picks, summed over each pod's containers or
// taken from one container, in milli-units, with when and over what window it was
// measured. Custom and external metrics APIs are not served here; asking for them is
// an error the HPA reports in its conditions, as upstream does when no adapter is
// installed.
import { type Json, rec, recs } from '../../api/json.js'
import { parseGoDuration } from '../../api/go-duration.js'
import { tryParseQuantity } from '../../api/quantity.js'
import { METRICS_RESOURCES } from '../../api/resources.js'
import { errorMessage, type KubeObject, type RestClient } from '../../client/index.js'
import type { PodMetric, PodMetricsInfo } from './replica-calculator.js'

export interface ResourceMetrics {
  metrics: PodMetricsInfo
  /** The first sample's time (the HPA logs it with its proposal). */
  timestampMs: number
}

export interface MetricsSource {
  /** Usage of `resource` by the pods of `namespace` matching `selector`; `container` '' means the whole pod. */
  resourceMetric(namespace: string, selector: string, resource: string, container: string): Promise<ResourceMetrics>
}

const POD_METRICS = METRICS_RESOURCES.find((r) => r.plural === 'pods')!


function sampleOf(item: KubeObject & Json): Omit<PodMetric, 'value'> {
  const t = Date.parse(String(item.timestamp ?? ''))
  let windowMs = 0
  try {
    windowMs = parseGoDuration(String(item.window ?? '0'))
  } catch {
    // A window we cannot read: treat the sample as instantaneous.
  }
  return { timestampMs: Number.isNaN(t) ? 0 : t, windowMs }
}

function usageMilli(usage: unknown, resource: string): number | undefined {
  return tryParseQuantity(rec(usage)[resource])?.milliValue()
}

/** Each pod's summed usage; a pod with a container lacking the resource, or with no containers, has no sample. */
export function podMetricsInfo(items: readonly (KubeObject & Json)[], resource: string): PodMetricsInfo {
  const out: PodMetricsInfo = new Map()
  for (const item of items) {
    const containers = recs(item.containers)
    let sum = 0
    let missing = containers.length === 0
    for (const c of containers) {
      const v = usageMilli(c.usage, resource)
      if (v === undefined) {
        missing = true
        break
      }
      sum += v
    }
    if (!missing) out.set(item.metadata?.name ?? '', { value: sum, ...sampleOf(item) })
  }
  return out
}

/** One container's usage per pod; every pod must report that container. */
export function containerMetricsInfo(items: readonly (KubeObject & Json)[], resource: string, container: string): PodMetricsInfo {
  const out: PodMetricsInfo = new Map()
  for (const item of items) {
    const c = recs(item.containers).find((x) => x.name === container)
    if (c === undefined) throw new Error(`container ${container} not present in metrics for pod ${item.metadata?.namespace ?? ''}/${item.metadata?.name ?? ''}`)
    const v = usageMilli(c.usage, resource)
    if (v !== undefined) out.set(item.metadata?.name ?? '', { value: v, ...sampleOf(item) })
  }
  return out
}

/** Reads PodMetrics through the API (every master serves metrics.k8s.io). */
export class ApiMetricsSource implements MetricsSource {
  constructor(private readonly client: RestClient) {}

  async resourceMetric(namespace: string, selector: string, resource: string, container: string): Promise<ResourceMetrics> {
    let items: (KubeObject & Json)[]
    try {
      const list = await this.client.resource(POD_METRICS, namespace).list({ labelSelector: selector })
      items = list.items as (KubeObject & Json)[]
    } catch (err) {
      throw new Error(`unable to fetch metrics from resource metrics API: ${errorMessage(err)}`, { cause: err })
    }
    if (items.length === 0) throw new Error('no metrics returned from resource metrics API')
    let metrics: PodMetricsInfo
    if (container === '') metrics = podMetricsInfo(items, resource)
    else {
      try {
        metrics = containerMetricsInfo(items, resource, container)
      } catch (err) {
        throw new Error(`failed to get container metrics: ${errorMessage(err)}`, { cause: err })
      }
    }
    return { metrics, timestampMs: sampleOf(items[0]!).timestampMs }
  }
}
