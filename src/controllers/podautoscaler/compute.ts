// The replicas an HPA's metrics ask for (upstream's computeReplicasForMetrics): one
// proposal per metric, the highest wins; each metric's current value goes into
// status.currentMetrics. A metric that cannot be read is reported (an Event and the
// ScalingActive condition) and skipped; only when none can be read does the sync fail.
import { type Json, rec } from '../../api/json.js'
import { Quantity, tryParseQuantity } from '../../api/quantity.js'
import { parseSelector } from '../../api/labels.js'
import { errorMessage, type KubeObject } from '../../client/index.js'
import type { MetricsSource } from './metrics-source.js'
import { averageValueReplicas, type CalculatorSettings, utilizationReplicas } from './replica-calculator.js'


export interface HpaCondition {
  type: 'AbleToScale' | 'ScalingActive' | 'ScalingLimited'
  status: 'True' | 'False'
  reason: string
  message: string
}

export interface MetricsOutcome {
  /** The highest proposal; undefined when no metric could be read. */
  replicas?: number
  /** What the winning proposal was based on ("cpu resource utilization (percentage of request)"). */
  metricName: string
  /** status.currentMetrics, one per spec (an empty object for a metric that could not be read). */
  statuses: Json[]
  /** The ScalingActive condition to set. */
  condition: HpaCondition
  /** The first metric's error, when none could be read. */
  error?: string
  /** Warning Events to record (reason, message). */
  events: [string, string][]
}

export interface ComputeInput {
  namespace: string
  metrics: readonly Json[]
  /** The scale subresource's spec.replicas and status.selector. */
  specReplicas: number
  selector: string
  /** Every pod in the namespace (the selector is applied here). */
  pods: readonly KubeObject[]
  source: MetricsSource
  settings: CalculatorSettings
  now: number
}

const milliQuantity = (milli: number): string => Quantity.fromMilli(milli).toString()

function unableCondition(reason: string, err: string): HpaCondition {
  return { type: 'ScalingActive', status: 'False', reason, message: `the HPA was unable to compute the replica count: ${err}` }
}

interface Proposal {
  replicas: number
  name: string
  status: Json
}

class MetricError extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message)
  }
}

export async function computeReplicasForMetrics(input: ComputeInput): Promise<MetricsOutcome> {
  const events: [string, string][] = []
  if (input.selector === '') {
    events.push(['SelectorRequired', 'selector is required'])
    const condition: HpaCondition = { type: 'ScalingActive', status: 'False', reason: 'InvalidSelector', message: "the HPA target's scale is missing a selector" }
    return { metricName: '', statuses: [], condition, error: 'selector is required', events }
  }
  let selected: KubeObject[]
  try {
    const selector = parseSelector(input.selector)
    selected = input.pods.filter((p) => p.metadata?.namespace === input.namespace && selector.matches(p.metadata?.labels ?? {}))
  } catch (err) {
    const msg = `couldn't convert selector into a corresponding internal selector object: ${errorMessage(err)}`
    events.push(['InvalidSelector', msg])
    return { metricName: '', statuses: [], condition: { type: 'ScalingActive', status: 'False', reason: 'InvalidSelector', message: msg }, error: msg, events }
  }

  const statuses: Json[] = input.metrics.map(() => ({}))
  let best: Proposal | undefined
  let firstError: MetricError | undefined
  let invalid = 0
  for (const [i, spec] of input.metrics.entries()) {
    try {
      const p = await proposal(spec, input, selected)
      statuses[i] = p.status
      if (best === undefined || p.replicas > best.replicas) best = p
    } catch (err) {
      const e = err instanceof MetricError ? err : new MetricError('FailedGetResourceMetric', errorMessage(err))
      events.push([e.reason, e.message])
      firstError ??= e
      invalid++
    }
  }
  if (invalid >= input.metrics.length || best === undefined) {
    const e = firstError ?? new MetricError('InvalidMetricSourceType', 'no metrics')
    return {
      metricName: '',
      statuses,
      condition: unableCondition(e.reason, e.message),
      error: `invalid metrics (${invalid} invalid out of ${input.metrics.length}), first error is: ${e.message}`,
      events,
    }
  }
  return {
    replicas: best.replicas,
    metricName: best.name,
    statuses,
    condition: { type: 'ScalingActive', status: 'True', reason: 'ValidMetricFound', message: `the HPA was able to successfully calculate a replica count from ${best.name}` },
    events,
  }
}

async function proposal(spec: Json, input: ComputeInput, pods: readonly KubeObject[]): Promise<Proposal> {
  const type = String(spec.type ?? '')
  switch (type) {
    case 'Resource':
      return resourceProposal(rec(spec.resource), '', input, pods)
    case 'ContainerResource': {
      const source = rec(spec.containerResource)
      return resourceProposal(source, String(source.container ?? ''), input, pods)
    }
    case 'Pods':
      throw new MetricError('FailedGetPodsMetric', `unable to get metric ${String(rec(rec(spec.pods).metric).name ?? '')}: no custom metrics API (custom.metrics.k8s.io) is served`)
    case 'Object':
      throw new MetricError('FailedGetObjectMetric', `unable to get metric ${String(rec(rec(spec.object).metric).name ?? '')}: no custom metrics API (custom.metrics.k8s.io) is served`)
    case 'External':
      throw new MetricError('FailedGetExternalMetric', `unable to get external metric ${String(rec(rec(spec.external).metric).name ?? '')}: no external metrics API (external.metrics.k8s.io) is served`)
    default:
      throw new MetricError('InvalidMetricSourceType', `unknown metric source type "${type}"`)
  }
}

async function resourceProposal(source: Json, container: string, input: ComputeInput, pods: readonly KubeObject[]): Promise<Proposal> {
  const containerScoped = container !== ''
  const reason = containerScoped ? 'FailedGetContainerResourceMetric' : 'FailedGetResourceMetric'
  const name = String(source.name ?? '')
  const target = rec(source.target)
  const statusOf = (current: Json): Json =>
    containerScoped
      ? { type: 'ContainerResource', containerResource: { name, container, current } }
      : { type: 'Resource', resource: { name, current } }
  const read = async () => {
    try {
      return (await input.source.resourceMetric(input.namespace, input.selector, name, container)).metrics
    } catch (err) {
      throw new MetricError(reason, `failed to get ${name} utilization: unable to get metrics for resource ${name}: ${errorMessage(err)}`)
    }
  }
  const calc = { currentReplicas: input.specReplicas, resource: name, container, pods, settings: input.settings, now: input.now }

  const averageValue = tryParseQuantity(target.averageValue)
  if (averageValue !== undefined) {
    const metrics = await read()
    try {
      const r = averageValueReplicas({ ...calc, metrics }, averageValue.milliValue())
      return { replicas: r.replicas, name: `${name} resource`, status: statusOf({ averageValue: milliQuantity(r.usage) }) }
    } catch (err) {
      throw new MetricError(reason, `failed to get ${name} utilization: ${errorMessage(err)}`)
    }
  }
  if (typeof target.averageUtilization !== 'number') {
    throw new MetricError(reason, 'invalid resource metric source: neither an average utilization target nor an average value target was set')
  }
  const metrics = await read()
  try {
    const r = utilizationReplicas({ ...calc, metrics }, target.averageUtilization)
    return {
      replicas: r.replicas,
      name: `${name} resource utilization (percentage of request)`,
      status: statusOf({ averageUtilization: r.utilization, averageValue: milliQuantity(r.rawAverage) }),
    }
  } catch (err) {
    throw new MetricError(reason, `failed to get ${name} utilization: ${errorMessage(err)}`)
  }
}
