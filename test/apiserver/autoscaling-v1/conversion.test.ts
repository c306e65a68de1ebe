// autoscaling/v1 ⇔ autoscaling/v2 HorizontalPodAutoscaler conversion (upstream's
// pkg/apis/autoscaling/v1/conversion.go): the CPU target is v1's own field, the rest
// travels in annotations and comes back unchanged.
import t from 'tap'
import {
  BEHAVIOR_ANNOTATION,
  CONDITIONS_ANNOTATION,
  ConversionError,
  CURRENT_METRICS_ANNOTATION,
  hpaFromV1,
  hpaToV1,
  METRICS_ANNOTATION,
} from '../../../src/api/conversion/autoscaling-v1.js'
import type { Json } from '../../../src/api/json.js'

const ref = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }

// Every metric source, each in a form upstream's conversion keeps exactly; the CPU
// utilization metric last (converting back puts it after the annotation's metrics).
const v2: Json = {
  apiVersion: 'autoscaling/v2',
  kind: 'HorizontalPodAutoscaler',
  metadata: { name: 'web', namespace: 'default', uid: 'u1', resourceVersion: '7', generation: 3, labels: { app: 'web' }, annotations: { team: 'a' } },
  spec: {
    scaleTargetRef: ref,
    minReplicas: 2,
    maxReplicas: 10,
    metrics: [
      { type: 'Pods', pods: { metric: { name: 'qps', selector: { matchLabels: { x: 'y' } } }, target: { type: 'AverageValue', averageValue: '1k' } } },
      { type: 'Object', object: { describedObject: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'main' }, metric: { name: 'rps' }, target: { type: 'Value', value: '10' } } },
      { type: 'External', external: { metric: { name: 'queue', selector: { matchLabels: { q: 'jobs' } } }, target: { type: 'AverageValue', averageValue: '30' } } },
      { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '500Mi' } } },
      { type: 'ContainerResource', containerResource: { name: 'cpu', container: 'app', target: { type: 'Utilization', averageUtilization: 60 } } },
      { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } },
    ],
    behavior: {
      scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }] },
      scaleDown: { stabilizationWindowSeconds: 300, selectPolicy: 'Min', policies: [{ type: 'Percent', value: 10, periodSeconds: 60 }] },
    },
  },
  status: {
    observedGeneration: 3,
    lastScaleTime: '2026-01-01T00:00:00Z',
    currentReplicas: 3,
    desiredReplicas: 4,
    currentMetrics: [
      { type: 'Pods', pods: { metric: { name: 'qps' }, current: { averageValue: '900' } } },
      { type: 'Object', object: { describedObject: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'main' }, metric: { name: 'rps' }, current: { value: '12' } } },
      { type: 'External', external: { metric: { name: 'queue' }, current: { value: '0', averageValue: '25' } } },
      { type: 'Resource', resource: { name: 'cpu', current: { averageValue: '120m', averageUtilization: 61 } } },
    ],
    conditions: [
      { type: 'AbleToScale', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z', reason: 'ReadyForNewScale', message: 'recommended size matches current size' },
      { type: 'ScalingActive', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z', reason: 'ValidMetricFound', message: 'ok' },
    ],
  },
}

const annotation = (o: Json, key: string): unknown => JSON.parse(((o.metadata as Json).annotations as Record<string, string>)[key]!)

t.test('v2 → v1: the CPU target is the field, the rest goes to annotations', async (t) => {
  const v1 = hpaToV1(structuredClone(v2))
  t.equal(v1.apiVersion, 'autoscaling/v1')
  t.same(v1.spec, { scaleTargetRef: ref, minReplicas: 2, maxReplicas: 10, targetCPUUtilizationPercentage: 50 })
  t.same(v1.status, { observedGeneration: 3, lastScaleTime: '2026-01-01T00:00:00Z', currentReplicas: 3, desiredReplicas: 4, currentCPUUtilizationPercentage: 61 })
  t.equal(((v1.metadata as Json).annotations as Json).team, 'a', 'other annotations kept')
  const metrics = annotation(v1, METRICS_ANNOTATION) as Json[]
  t.equal(metrics.length, 5, 'every metric but the CPU utilization one')
  t.same(metrics[0], { type: 'Pods', pods: { metricName: 'qps', targetAverageValue: '1k', selector: { matchLabels: { x: 'y' } } } })
  t.same(metrics[1], { type: 'Object', object: { target: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'main' }, metricName: 'rps', targetValue: '10' } })
  t.same(metrics[2], { type: 'External', external: { metricName: 'queue', metricSelector: { matchLabels: { q: 'jobs' } }, targetAverageValue: '30' } })
  t.same(metrics[3], { type: 'Resource', resource: { name: 'memory', targetAverageValue: '500Mi' } })
  t.same(metrics[4], { type: 'ContainerResource', containerResource: { name: 'cpu', targetAverageUtilization: 60, container: 'app' } })
  const current = annotation(v1, CURRENT_METRICS_ANNOTATION) as Json[]
  t.same(current[3], { type: 'Resource', resource: { name: 'cpu', currentAverageUtilization: 61, currentAverageValue: '120m' } })
  t.same(annotation(v1, BEHAVIOR_ANNOTATION), {
    ScaleUp: { StabilizationWindowSeconds: 0, SelectPolicy: 'Max', Policies: [{ Type: 'Pods', Value: 4, PeriodSeconds: 15 }, { Type: 'Percent', Value: 100, PeriodSeconds: 15 }] },
    ScaleDown: { StabilizationWindowSeconds: 300, SelectPolicy: 'Min', Policies: [{ Type: 'Percent', Value: 10, PeriodSeconds: 60 }] },
  }, "Go's internal field names, as upstream writes them")
  t.same(annotation(v1, CONDITIONS_ANNOTATION), (v2.status as Json).conditions)
})

t.test('v2 → v1 → v2 is lossless', async (t) => {
  const original = structuredClone(v2)
  const back = hpaFromV1(hpaToV1(original))
  t.strictSame(back, v2)
  t.strictSame(original, v2, 'the input is not changed')
  t.strictSame(((back.metadata as Json).annotations as Json), { team: 'a' }, 'round-trip annotations dropped')
})

t.test('a v1 object converts to the expected v2', async (t) => {
  const v1: Json = {
    apiVersion: 'autoscaling/v1',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'web' },
    spec: { scaleTargetRef: { kind: 'Deployment', name: 'web', apiVersion: 'apps/v1' }, minReplicas: 1, maxReplicas: 4, targetCPUUtilizationPercentage: 50 },
    status: { currentReplicas: 2, desiredReplicas: 3, currentCPUUtilizationPercentage: 70 },
  }
  t.same(hpaFromV1(v1), {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'web' },
    spec: {
      scaleTargetRef: { kind: 'Deployment', name: 'web', apiVersion: 'apps/v1' },
      minReplicas: 1,
      maxReplicas: 4,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
    },
    status: { currentReplicas: 2, desiredReplicas: 3, currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 70 } } }] },
  })
})

t.test('no CPU target and no other metrics: the 80% default; the CPU metric goes after the annotated ones', async (t) => {
  const bare = hpaFromV1({ metadata: { name: 'a' }, spec: { scaleTargetRef: ref, maxReplicas: 3 } })
  t.same((bare.spec as Json).metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }])
  t.notOk('minReplicas' in (bare.spec as Json), 'minReplicas is left to defaulting')

  const mixed = hpaFromV1({
    metadata: { name: 'a', annotations: { [METRICS_ANNOTATION]: JSON.stringify([{ type: 'Resource', resource: { name: 'memory', targetAverageUtilization: 70 } }]) } },
    spec: { scaleTargetRef: ref, maxReplicas: 3, targetCPUUtilizationPercentage: 40 },
  })
  t.same((mixed.spec as Json).metrics, [
    { type: 'Resource', resource: { name: 'memory', target: { type: 'Utilization', averageUtilization: 70 } } },
    { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 40 } } },
  ])
  t.notOk('annotations' in (mixed.metadata as Json), 'an annotation map left empty is dropped')
})

t.test('the behavior annotation is read as Go reads it', async (t) => {
  const withBehavior = (text: string) => hpaFromV1({ metadata: { annotations: { [BEHAVIOR_ANNOTATION]: text } }, spec: { maxReplicas: 1 } }).spec as Json
  t.same(withBehavior('{"scaleup":{"stabilizationwindowseconds":5,"Policies":[{"type":"Pods","value":1,"periodseconds":10}]}}').behavior, {
    scaleUp: { stabilizationWindowSeconds: 5, policies: [{ type: 'Pods', value: 1, periodSeconds: 10 }] },
  }, 'keys match ignoring case')
  t.notOk('behavior' in withBehavior('not json'), 'an undecodable behavior is ignored, as upstream')
  t.notOk('behavior' in withBehavior('{}'), 'an empty behavior is none')
})

t.test('a round-trip annotation that does not decode is a conversion error', async (t) => {
  for (const key of [METRICS_ANNOTATION, CURRENT_METRICS_ANNOTATION, CONDITIONS_ANNOTATION]) {
    t.throws(() => hpaFromV1({ metadata: { annotations: { [key]: '{' } }, spec: {} }), ConversionError, key)
    t.throws(() => hpaFromV1({ metadata: { annotations: { [key]: '{"a":1}' } }, spec: {} }), ConversionError, `${key}: not an array`)
  }
})

t.test('a v2 object without status converts to a v1 with zero replica counts', async (t) => {
  const v1 = hpaToV1({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'a' }, spec: { scaleTargetRef: ref, maxReplicas: 2, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'AverageValue', averageValue: '100m' } } }] } })
  t.same(v1.status, { currentReplicas: 0, desiredReplicas: 0 })
  t.notOk('targetCPUUtilizationPercentage' in (v1.spec as Json), 'a CPU value target is not a percentage')
  t.same(annotation(v1, METRICS_ANNOTATION), [{ type: 'Resource', resource: { name: 'cpu', targetAverageValue: '100m' } }])
})
