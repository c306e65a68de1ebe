// The HPA controller against a real API server (in process, memory storage) with
// usage it is told: it scales a Deployment through the scale subresource within the
// legacy and behavior limits, writes status and conditions as kubectl describes
// them, records Events, and reports what it cannot do (no target, no requests,
// custom metrics, a target at zero) without scaling.
/* eslint-disable @typescript-eslint/no-explicit-any -- objects are read by path in assertions */
import t, { type Test } from 'tap'
import { metaTime } from '../../../src/api/time.js'
import type { KubeObject, RestClient } from '../../../src/client/index.js'
import { horizontalPodAutoscalerControllerWith } from '../../../src/controllers/podautoscaler/controller.js'
import type { MetricsSource, ResourceMetrics } from '../../../src/controllers/podautoscaler/metrics-source.js'
import { DEPLOYMENTS, EVENTS, eventually, HORIZONTAL_POD_AUTOSCALERS, PODS, startCluster } from '../helpers.js'

const NS = 'default'

/** Usage the test sets, in millicores per pod name. */
class FakeMetrics implements MetricsSource {
  readonly usage = new Map<string, number>()
  calls = 0
  async resourceMetric(): Promise<ResourceMetrics> {
    this.calls++
    if (this.usage.size === 0) throw new Error('no metrics returned from resource metrics API')
    const now = Date.now()
    return { metrics: new Map([...this.usage].map(([name, value]) => [name, { value, timestampMs: now, windowMs: 1000 }])), timestampMs: now }
  }
}

async function setup(t: Test) {
  const metrics = new FakeMetrics()
  const hpa = horizontalPodAutoscalerControllerWith({ syncPeriodMs: 200, metrics, downscaleStabilizationMs: 1500 })
  const { client } = await startCluster(t, ['horizontalpodautoscaling'], { horizontalpodautoscaling: hpa })
  return { client, metrics }
}

function deployment(name: string, replicas: number): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NS },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', image: 'x' }] } },
    },
  }
}

/** A running pod, ready since long ago, requesting `cpu` (none when undefined). */
async function runningPod(client: RestClient, name: string, app: string, cpu: string | undefined): Promise<void> {
  const created = await client.resource(PODS, NS).create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, labels: { app } },
    spec: { containers: [{ name: 'main', image: 'x', ...(cpu === undefined ? {} : { resources: { requests: { cpu } } }) }] },
  })
  const long = metaTime(new Date(Date.now() - 3_600_000))
  await client.resource(PODS, NS).updateStatus({
    ...created,
    status: { phase: 'Running', startTime: long, conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: long }] },
  })
}

function hpaObject(name: string, target: string, extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name, namespace: NS },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: target },
      minReplicas: 1,
      maxReplicas: 5,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
      ...extra,
    },
  }
}

const replicasOf = async (client: RestClient, name: string): Promise<number> => Number(((await client.resource(DEPLOYMENTS, NS).get(name)).spec as any).replicas)
const hpaStatus = async (client: RestClient, name: string): Promise<any> => (await client.resource(HORIZONTAL_POD_AUTOSCALERS, NS).get(name)).status ?? {}
const condition = (status: any, type: string): any => (status.conditions ?? []).find((c: any) => c.type === type)
const eventsOf = async (client: RestClient, name: string): Promise<any[]> =>
  ((await client.resource(EVENTS, NS).list()).items as any[]).filter((e) => e.involvedObject?.kind === 'HorizontalPodAutoscaler' && e.involvedObject?.name === name)

t.test('scales up within the legacy rate, to maxReplicas, and reports it', async (t) => {
  const { client, metrics } = await setup(t)
  await client.resource(DEPLOYMENTS, NS).create(deployment('web', 2))
  await runningPod(client, 'web-a', 'web', '100m')
  await runningPod(client, 'web-b', 'web', '100m')
  metrics.usage.set('web-a', 150).set('web-b', 150)
  await client.resource(HORIZONTAL_POD_AUTOSCALERS, NS).create(hpaObject('web', 'web'))

  // 150% of requests against 50%: the metrics ask for 6; one sync may at most double (or reach 4).
  await eventually('the first rescale to 4', async () => ((await replicasOf(client, 'web')) === 4 ? true : undefined), 20_000)
  const first = await eventually('status of the rescale', async () => {
    const s = await hpaStatus(client, 'web')
    return s.desiredReplicas === 4 ? s : undefined
  })
  t.equal(first.currentReplicas, 2)
  t.ok(first.lastScaleTime, 'lastScaleTime is set')
  t.same(first.currentMetrics, [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 150, averageValue: '150m' } } }])
  t.match(condition(first, 'AbleToScale'), { status: 'True', reason: 'SucceededRescale', message: 'the HPA controller was able to update the target scale to 4' })
  t.match(condition(first, 'ScalingActive'), { status: 'True', reason: 'ValidMetricFound', message: 'the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)' })
  t.match(condition(first, 'ScalingLimited'), { status: 'True', reason: 'ScaleUpLimit' })

  // The next sync: from 4 the rate allows 8, maxReplicas 5 does not.
  await eventually('maxReplicas', async () => ((await replicasOf(client, 'web')) === 5 ? true : undefined), 20_000)
  const capped = await eventually('TooManyReplicas', async () => {
    const s = await hpaStatus(client, 'web')
    return condition(s, 'ScalingLimited')?.reason === 'TooManyReplicas' ? s : undefined
  })
  t.equal(capped.desiredReplicas, 5)
  // Events are recorded in the background: wait for both.
  const events = await eventually('both rescale Events', async () => {
    const evs = await eventsOf(client, 'web')
    return evs.filter((e) => e.reason === 'SuccessfulRescale').length >= 2 ? evs : undefined
  })
  const rescales = events.filter((e) => e.reason === 'SuccessfulRescale').map((e) => e.message)
  t.ok(rescales.includes('New size: 4; reason: cpu resource utilization (percentage of request) above target'), rescales.join('\n'))
  t.ok(rescales.includes('New size: 5; reason: cpu resource utilization (percentage of request) above target'), rescales.join('\n'))
  t.ok(events.every((e) => e.source?.component === 'horizontal-pod-autoscaler'), 'events come from horizontal-pod-autoscaler')

  // Usage falls to 10%: after the 1.5 s downscale window the HPA scales down to what the
  // two measured pods need (the three without pods are not counted).
  metrics.usage.set('web-a', 10).set('web-b', 10)
  await eventually('the scale-down', async () => ((await replicasOf(client, 'web')) === 1 ? true : undefined), 20_000)
  const down = await eventually('the scale-down Event', async () => {
    const messages = (await eventsOf(client, 'web')).map((e) => e.message)
    return messages.includes('New size: 1; reason: All metrics below target') ? messages : undefined
  })
  t.ok(down.includes('New size: 1; reason: All metrics below target'))
})

t.test('spec.behavior: one pod per period up, no scale-down window', async (t) => {
  const { client, metrics } = await setup(t)
  await client.resource(DEPLOYMENTS, NS).create(deployment('api', 1))
  await runningPod(client, 'api-a', 'api', '100m')
  metrics.usage.set('api-a', 400)
  const behavior = {
    scaleUp: { stabilizationWindowSeconds: 0, policies: [{ type: 'Pods', value: 1, periodSeconds: 2 }] },
    scaleDown: { stabilizationWindowSeconds: 0, policies: [{ type: 'Percent', value: 100, periodSeconds: 1 }] },
  }
  await client.resource(HORIZONTAL_POD_AUTOSCALERS, NS).create(hpaObject('api', 'api', { behavior }))
  const stored = await client.resource(HORIZONTAL_POD_AUTOSCALERS, NS).get('api')
  t.equal((stored.spec as any).behavior.scaleUp.selectPolicy, 'Max', 'the API filled in the behavior defaults')

  await eventually('3 replicas', async () => ((await replicasOf(client, 'api')) >= 3 ? true : undefined), 20_000)
  const limited = condition(await hpaStatus(client, 'api'), 'ScalingLimited')
  t.ok(limited !== undefined, 'ScalingLimited is reported')
  // 400% of the request asks for 8 (5 at most); the policy lets one pod in per 2 s.
  const sizes = (await eventually('two rescale Events', async () => {
    const evs = await eventsOf(client, 'api')
    return evs.filter((e) => e.reason === 'SuccessfulRescale').length >= 2 ? evs : undefined
  }))
    .filter((e) => e.reason === 'SuccessfulRescale')
    .map((e) => Number(/New size: (\d+)/.exec(e.message)?.[1]))
    .sort()
  t.same(sizes, Array.from({ length: sizes.length }, (_, i) => i + 2), `one pod at a time: ${sizes.join(', ')}`)

  metrics.usage.set('api-a', 5)
  await eventually('straight back to 1 (no window)', async () => ((await replicasOf(client, 'api')) === 1 ? true : undefined), 20_000)
})

t.test('what it cannot do it reports, and scales nothing', async (t) => {
  const { client, metrics } = await setup(t)
  await client.resource(DEPLOYMENTS, NS).create(deployment('norequests', 2))
  await runningPod(client, 'norequests-a', 'norequests', undefined)
  await client.resource(DEPLOYMENTS, NS).create(deployment('zero', 0))
  await client.resource(DEPLOYMENTS, NS).create(deployment('custom', 2))
  metrics.usage.set('norequests-a', 500)

  const hpas = client.resource(HORIZONTAL_POD_AUTOSCALERS, NS)
  await hpas.create(hpaObject('missing', 'nope'))
  await hpas.create(hpaObject('norequests', 'norequests'))
  await hpas.create(hpaObject('zero', 'zero'))
  await hpas.create(hpaObject('custom', 'custom', { metrics: [{ type: 'Pods', pods: { metric: { name: 'requests_per_second' }, target: { type: 'AverageValue', averageValue: '10' } } }] }))
  await hpas.create(hpaObject('badkind', 'x', { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Gadget', name: 'x' } }))

  const missing = await eventually('missing target reported', async () => condition(await hpaStatus(client, 'missing'), 'AbleToScale'))
  t.match(missing, { status: 'False', reason: 'FailedGetScale', message: /^the HPA controller was unable to get the target's current scale: .*not found/ })
  const badkind = await eventually('unknown kind reported', async () => condition(await hpaStatus(client, 'badkind'), 'AbleToScale'))
  t.match(badkind, { status: 'False', reason: 'FailedGetScale', message: /no matches for kind "Gadget" in group "apps"/ })

  const noreq = await eventually('missing requests reported', async () => condition(await hpaStatus(client, 'norequests'), 'ScalingActive'))
  t.match(noreq, { status: 'False', reason: 'FailedGetResourceMetric', message: 'the HPA was unable to compute the replica count: failed to get cpu utilization: missing request for cpu in container main of Pod norequests-a' })

  const zero = await eventually('scaling disabled at 0', async () => condition(await hpaStatus(client, 'zero'), 'ScalingActive'))
  t.match(zero, { status: 'False', reason: 'ScalingDisabled', message: 'scaling is disabled since the replica count of the target is zero' })

  const custom = await eventually('custom metrics reported', async () => condition(await hpaStatus(client, 'custom'), 'ScalingActive'))
  t.match(custom, { status: 'False', reason: 'FailedGetPodsMetric', message: /custom\.metrics\.k8s\.io/ })

  const wanted = ['missing:FailedGetScale', 'norequests:FailedGetResourceMetric', 'norequests:FailedComputeMetricsReplicas', 'custom:FailedGetPodsMetric']
  const reasons = await eventually('the warning Events', async () => {
    const seen = new Set((await client.resource(EVENTS, NS).list()).items.map((e: any) => `${e.involvedObject?.name}:${e.reason}`))
    return wanted.every((w) => seen.has(w)) ? seen : undefined
  })
  for (const want of wanted) {
    t.ok(reasons.has(want), `event ${want}`)
  }
  t.equal(await replicasOf(client, 'norequests'), 2, 'nothing scaled')
  t.equal(await replicasOf(client, 'zero'), 0)
  t.equal(await replicasOf(client, 'custom'), 2)
})
