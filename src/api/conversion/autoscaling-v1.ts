// autoscaling/v1 ⇔ autoscaling/v2 HorizontalPodAutoscaler, as kube-apiserver converts
// them (pkg/apis/autoscaling/v1/conversion.go). v1 knows one metric, the target CPU
// utilization; everything else v2 has travels in annotations so that a v1 client which
// reads an object and writes it back loses nothing:
//
//   autoscaling.alpha.kubernetes.io/metrics          the other metrics, as v1 MetricSpecs
//   autoscaling.alpha.kubernetes.io/current-metrics  status.currentMetrics, as v1 MetricStatuses
//   autoscaling.alpha.kubernetes.io/behavior         spec.behavior, in Go's internal field names
//   autoscaling.alpha.kubernetes.io/conditions       status.conditions
//
// The v1 MetricSpec/MetricStatus shapes are the old v2beta1 ones (targetAverageValue,
// metricName, …). Fields Go declares without a pointer come out as their zero value
// (a Quantity as "0"), as Go's encoding writes them. Upstream's quirks are kept: the
// CPU metric goes last when converting back, and an Object/External metric gains a
// zero value it did not have.
//
// Pure functions over plain JSON; the caller owns apiVersion/kind checks and errors.
import { isRecord, type Json } from '../json.js'

export const METRICS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/metrics'
export const CURRENT_METRICS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/current-metrics'
export const BEHAVIOR_ANNOTATION = 'autoscaling.alpha.kubernetes.io/behavior'
export const CONDITIONS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/conditions'

const ROUND_TRIP = [METRICS_ANNOTATION, BEHAVIOR_ANNOTATION, CURRENT_METRICS_ANNOTATION, CONDITIONS_ANNOTATION]

/** autoscaling/v1 formerly applied this target in the controller; conversion makes it explicit. */
export const DEFAULT_CPU_UTILIZATION = 80

/** An annotation that does not decode as what it carries (upstream: the conversion's json error). */
export class ConversionError extends Error {
  override name = 'ConversionError'
}

const present = (v: unknown): boolean => v !== undefined && v !== null
const obj = (v: unknown): Json => (isRecord(v) ? v : {})
const zeroQuantity = (v: unknown): unknown => (present(v) ? v : '0')

/** Copies `from[key]` to `to[as]` when set (a Go pointer field, `omitempty`). */
function copyIf(to: Json, as: string, from: Json, key: string = as): void {
  if (present(from[key])) to[as] = from[key]
}

function crossVersionRef(r: unknown): Json {
  const ref = obj(r)
  const out: Json = { kind: ref.kind ?? '', name: ref.name ?? '' }
  copyIf(out, 'apiVersion', ref)
  return out
}

function isCpuResource(m: Json): boolean {
  return m.type === 'Resource' && obj(m.resource).name === 'cpu'
}

function isCpuUtilization(m: Json): boolean {
  return isCpuResource(m) && present(obj(obj(m.resource).target).averageUtilization)
}

// ---- metric sources: v2 ⇔ the v1 (v2beta1-shaped) form of the annotation ----

function metricSpecToV1(m: Json): Json {
  const out: Json = { type: m.type ?? '' }
  if (present(m.object)) {
    const o = obj(m.object)
    const target = obj(o.target)
    const metric = obj(o.metric)
    const v: Json = { target: crossVersionRef(o.describedObject), metricName: metric.name ?? '', targetValue: zeroQuantity(target.value) }
    copyIf(v, 'selector', metric)
    copyIf(v, 'averageValue', target)
    out.object = v
  }
  if (present(m.pods)) {
    const p = obj(m.pods)
    const metric = obj(p.metric)
    const v: Json = { metricName: metric.name ?? '', targetAverageValue: zeroQuantity(obj(p.target).averageValue) }
    copyIf(v, 'selector', metric)
    out.pods = v
  }
  for (const key of ['resource', 'containerResource'] as const) {
    if (!present(m[key])) continue
    const r = obj(m[key])
    const target = obj(r.target)
    const v: Json = { name: r.name ?? '' }
    copyIf(v, 'targetAverageUtilization', target, 'averageUtilization')
    copyIf(v, 'targetAverageValue', target, 'averageValue')
    if (key === 'containerResource') v.container = r.container ?? ''
    out[key] = v
  }
  if (present(m.external)) {
    const e = obj(m.external)
    const target = obj(e.target)
    const metric = obj(e.metric)
    const v: Json = { metricName: metric.name ?? '' }
    copyIf(v, 'metricSelector', metric, 'selector')
    copyIf(v, 'targetValue', target, 'value')
    copyIf(v, 'targetAverageValue', target, 'averageValue')
    out.external = v
  }
  return out
}

function identifier(src: Json, nameKey: string, selectorKey: string): Json {
  const id: Json = { name: src[nameKey] ?? '' }
  copyIf(id, 'selector', src, selectorKey)
  return id
}

function metricSpecFromV1(m: Json): Json {
  const out: Json = { type: m.type ?? '' }
  if (present(m.object)) {
    const o = obj(m.object)
    // Value is always set (Go takes the address of a non-pointer field).
    const target: Json = { type: present(o.averageValue) ? 'AverageValue' : 'Value', value: zeroQuantity(o.targetValue) }
    copyIf(target, 'averageValue', o)
    out.object = { describedObject: crossVersionRef(o.target), target, metric: identifier(o, 'metricName', 'selector') }
  }
  if (present(m.pods)) {
    const p = obj(m.pods)
    out.pods = { metric: identifier(p, 'metricName', 'selector'), target: { type: 'AverageValue', averageValue: zeroQuantity(p.targetAverageValue) } }
  }
  for (const key of ['resource', 'containerResource'] as const) {
    if (!present(m[key])) continue
    const r = obj(m[key])
    const target: Json = { type: present(r.targetAverageUtilization) ? 'Utilization' : 'AverageValue' }
    copyIf(target, 'averageValue', r, 'targetAverageValue')
    copyIf(target, 'averageUtilization', r, 'targetAverageUtilization')
    out[key] = key === 'containerResource' ? { name: r.name ?? '', target, container: r.container ?? '' } : { name: r.name ?? '', target }
  }
  if (present(m.external)) {
    const e = obj(m.external)
    const target: Json = { type: present(e.targetValue) ? 'Value' : 'AverageValue' }
    copyIf(target, 'value', e, 'targetValue')
    copyIf(target, 'averageValue', e, 'targetAverageValue')
    out.external = { metric: identifier(e, 'metricName', 'metricSelector'), target }
  }
  return out
}

function metricStatusToV1(m: Json): Json {
  const out: Json = { type: m.type ?? '' }
  if (present(m.object)) {
    const o = obj(m.object)
    const current = obj(o.current)
    const metric = obj(o.metric)
    const v: Json = { target: crossVersionRef(o.describedObject), metricName: metric.name ?? '', currentValue: zeroQuantity(current.value) }
    copyIf(v, 'selector', metric)
    copyIf(v, 'averageValue', current)
    out.object = v
  }
  if (present(m.pods)) {
    const p = obj(m.pods)
    const metric = obj(p.metric)
    const v: Json = { metricName: metric.name ?? '', currentAverageValue: zeroQuantity(obj(p.current).averageValue) }
    copyIf(v, 'selector', metric)
    out.pods = v
  }
  for (const key of ['resource', 'containerResource'] as const) {
    if (!present(m[key])) continue
    const r = obj(m[key])
    const current = obj(r.current)
    const v: Json = { name: r.name ?? '' }
    copyIf(v, 'currentAverageUtilization', current, 'averageUtilization')
    v.currentAverageValue = zeroQuantity(current.averageValue)
    if (key === 'containerResource') v.container = r.container ?? ''
    out[key] = v
  }
  if (present(m.external)) {
    const e = obj(m.external)
    const current = obj(e.current)
    const metric = obj(e.metric)
    const v: Json = { metricName: metric.name ?? '' }
    copyIf(v, 'metricSelector', metric, 'selector')
    v.currentValue = zeroQuantity(current.value)
    copyIf(v, 'currentAverageValue', current, 'averageValue')
    out.external = v
  }
  return out
}

function metricStatusFromV1(m: Json): Json {
  const out: Json = { type: m.type ?? '' }
  if (present(m.object)) {
    const o = obj(m.object)
    const current: Json = { value: zeroQuantity(o.currentValue) }
    copyIf(current, 'averageValue', o)
    out.object = { metric: identifier(o, 'metricName', 'selector'), current, describedObject: crossVersionRef(o.target) }
  }
  if (present(m.pods)) {
    const p = obj(m.pods)
    out.pods = { metric: identifier(p, 'metricName', 'selector'), current: { averageValue: zeroQuantity(p.currentAverageValue) } }
  }
  for (const key of ['resource', 'containerResource'] as const) {
    if (!present(m[key])) continue
    const r = obj(m[key])
    const current: Json = { averageValue: zeroQuantity(r.currentAverageValue) }
    copyIf(current, 'averageUtilization', r, 'currentAverageUtilization')
    out[key] = key === 'containerResource' ? { name: r.name ?? '', current, container: r.container ?? '' } : { name: r.name ?? '', current }
  }
  if (present(m.external)) {
    const e = obj(m.external)
    const current: Json = { value: zeroQuantity(e.currentValue) }
    copyIf(current, 'averageValue', e, 'currentAverageValue')
    out.external = { metric: identifier(e, 'metricName', 'metricSelector'), current }
  }
  return out
}

// ---- behavior: upstream marshals its internal type, which has no json tags ----

const RULE_FIELDS = [
  ['stabilizationWindowSeconds', 'StabilizationWindowSeconds'],
  ['selectPolicy', 'SelectPolicy'],
] as const
const POLICY_FIELDS = [
  ['type', 'Type', ''],
  ['value', 'Value', 0],
  ['periodSeconds', 'PeriodSeconds', 0],
] as const

function rulesToGo(r: unknown): unknown {
  if (!isRecord(r)) return null
  const out: Json = {}
  for (const [json, go] of RULE_FIELDS) out[go] = r[json] ?? null
  out.Policies = Array.isArray(r.policies) ? r.policies.map((p) => Object.fromEntries(POLICY_FIELDS.map(([json, go, zero]) => [go, obj(p)[json] ?? zero]))) : null
  return out
}

/** A field as Go's encoding/json finds it: the exact key, else one equal ignoring case. */
function goField(o: Json, name: string): unknown {
  if (name in o) return o[name]
  const lower = name.toLowerCase()
  const key = Object.keys(o).find((k) => k.toLowerCase() === lower)
  return key === undefined ? undefined : o[key]
}

function rulesFromGo(r: unknown): Json | undefined {
  if (!isRecord(r)) return undefined
  const out: Json = {}
  for (const [json, go] of RULE_FIELDS) {
    const v = goField(r, go)
    if (present(v)) out[json] = v
  }
  const policies = goField(r, 'Policies')
  if (Array.isArray(policies)) out.policies = policies.map((p) => Object.fromEntries(POLICY_FIELDS.map(([json, go, zero]) => [json, goField(obj(p), go) ?? zero])))
  return out
}

/** spec.behavior from the annotation; undefined when it does not decode or is empty (upstream ignores both). */
function behaviorFromAnnotation(text: string): Json | undefined {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    return undefined
  }
  if (!isRecord(v)) return undefined
  const out: Json = {}
  const up = rulesFromGo(goField(v, 'ScaleUp'))
  const down = rulesFromGo(goField(v, 'ScaleDown'))
  if (up !== undefined) out.scaleUp = up
  if (down !== undefined) out.scaleDown = down
  return Object.keys(out).length === 0 ? undefined : out
}

// ---- annotations ----

function annotationsOf(o: Json): Record<string, string> {
  return { ...(obj(obj(o.metadata).annotations) as Record<string, string>) }
}

function withAnnotations(meta: Json, annotations: Record<string, string>): Json {
  const out: Json = { ...meta }
  if (Object.keys(annotations).length > 0) out.annotations = annotations
  else delete out.annotations
  return out
}

function decodeList(annotations: Record<string, string>, key: string): Json[] | undefined {
  const text = annotations[key]
  if (text === undefined) return undefined
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch (err) {
    throw new ConversionError(`annotation ${key}: ${(err as Error).message}`)
  }
  // Go unmarshals `null` into a nil slice.
  if (v === null) return []
  if (!Array.isArray(v) || v.some((x) => x !== null && !isRecord(x))) throw new ConversionError(`annotation ${key}: want a JSON array of objects`)
  return v.map(obj)
}

// ---- the object ----

/** The autoscaling/v1 form of a stored autoscaling/v2 HorizontalPodAutoscaler. */
export function hpaToV1(v2: Json): Json {
  const spec = obj(v2.spec)
  const status = obj(v2.status)
  const metrics = Array.isArray(spec.metrics) ? spec.metrics.map(obj) : []
  const currentMetrics = Array.isArray(status.currentMetrics) ? status.currentMetrics.map(obj) : []
  const conditions = Array.isArray(status.conditions) ? status.conditions : []

  const outSpec: Json = { scaleTargetRef: crossVersionRef(spec.scaleTargetRef) }
  copyIf(outSpec, 'minReplicas', spec)
  outSpec.maxReplicas = spec.maxReplicas ?? 0
  // The first CPU resource metric decides, whatever its target type.
  const cpu = metrics.find(isCpuResource)
  if (cpu !== undefined) copyIf(outSpec, 'targetCPUUtilizationPercentage', obj(obj(cpu.resource).target), 'averageUtilization')

  const outStatus: Json = {}
  copyIf(outStatus, 'observedGeneration', status)
  copyIf(outStatus, 'lastScaleTime', status)
  outStatus.currentReplicas = status.currentReplicas ?? 0
  outStatus.desiredReplicas = status.desiredReplicas ?? 0
  // Upstream's loop has no break: the last CPU utilization wins.
  for (const m of currentMetrics) {
    if (isCpuResource(m)) copyIf(outStatus, 'currentCPUUtilizationPercentage', obj(obj(m.resource).current), 'averageUtilization')
  }

  const annotations = annotationsOf(v2)
  for (const k of ROUND_TRIP) delete annotations[k]
  const others = metrics.filter((m) => !isCpuUtilization(m))
  if (others.length > 0) annotations[METRICS_ANNOTATION] = JSON.stringify(others.map(metricSpecToV1))
  if (currentMetrics.length > 0) annotations[CURRENT_METRICS_ANNOTATION] = JSON.stringify(currentMetrics.map(metricStatusToV1))
  if (present(spec.behavior)) {
    const b = obj(spec.behavior)
    annotations[BEHAVIOR_ANNOTATION] = JSON.stringify({ ScaleUp: rulesToGo(b.scaleUp), ScaleDown: rulesToGo(b.scaleDown) })
  }
  if (conditions.length > 0) annotations[CONDITIONS_ANNOTATION] = JSON.stringify(conditions)

  return { ...v2, apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: withAnnotations(obj(v2.metadata), annotations), spec: outSpec, status: outStatus }
}

/**
 * The autoscaling/v2 object an autoscaling/v1 HorizontalPodAutoscaler stands for.
 * Throws ConversionError when a round-trip annotation does not decode.
 */
export function hpaFromV1(v1: Json): Json {
  const spec = obj(v1.spec)
  const status = obj(v1.status)
  const annotations = annotationsOf(v1)

  const outSpec: Json = { scaleTargetRef: crossVersionRef(spec.scaleTargetRef) }
  copyIf(outSpec, 'minReplicas', spec)
  outSpec.maxReplicas = spec.maxReplicas ?? 0
  let metrics: Json[] = []
  if (present(spec.targetCPUUtilizationPercentage)) {
    metrics.push({ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: spec.targetCPUUtilizationPercentage } } })
  }
  const others = decodeList(annotations, METRICS_ANNOTATION)
  // The CPU metric of the spec goes after the annotation's, as upstream orders them.
  if (others !== undefined) metrics = [...others.map(metricSpecFromV1), ...metrics]
  if (metrics.length === 0) {
    metrics.push({ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: DEFAULT_CPU_UTILIZATION } } })
  }
  outSpec.metrics = metrics
  const behavior = annotations[BEHAVIOR_ANNOTATION] === undefined ? undefined : behaviorFromAnnotation(annotations[BEHAVIOR_ANNOTATION])
  if (behavior !== undefined) outSpec.behavior = behavior

  const outStatus: Json = {}
  copyIf(outStatus, 'observedGeneration', status)
  copyIf(outStatus, 'lastScaleTime', status)
  // v2's currentReplicas is `omitempty`, desiredReplicas is not.
  if (present(status.currentReplicas) && status.currentReplicas !== 0) outStatus.currentReplicas = status.currentReplicas
  outStatus.desiredReplicas = status.desiredReplicas ?? 0
  // The annotation's statuses have more than the percentage: they win.
  const current = decodeList(annotations, CURRENT_METRICS_ANNOTATION)
  if (current !== undefined) {
    if (current.length > 0) outStatus.currentMetrics = current.map(metricStatusFromV1)
  } else if (present(status.currentCPUUtilizationPercentage)) {
    outStatus.currentMetrics = [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: status.currentCPUUtilizationPercentage } } }]
  }
  const conditions = decodeList(annotations, CONDITIONS_ANNOTATION)
  if (conditions !== undefined && conditions.length > 0) outStatus.conditions = conditions

  for (const k of ROUND_TRIP) delete annotations[k]
  return { ...v1, apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: withAnnotations(obj(v1.metadata), annotations), spec: outSpec, status: outStatus }
}
