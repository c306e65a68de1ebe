// The replica arithmetic of one resource metric, case by case as upstream's
// replica calculator tests put it: plain scale up/down, tolerance, unready and
// pending pods, pods without samples, ignored pods, requests, containers and
// averageValue targets.
import t from 'tap'
import type { KubeObject } from '../../../src/client/index.js'
import {
  averageValueReplicas,
  DEFAULT_CALCULATOR_SETTINGS,
  type PodMetricsInfo,
  podRequests,
  utilizationReplicas,
} from '../../../src/controllers/podautoscaler/replica-calculator.js'

const NOW = Date.parse('2026-11-22T12:00:00Z')
const iso = (ms: number): string => new Date(ms).toISOString()
const MIN = 60_000

interface PodSpec {
  phase?: string
  ready?: 'True' | 'False' | 'none'
  /** ms before NOW the pod started; default 10 min. */
  startedAgo?: number
  /** ms before NOW the Ready condition last changed; default when it started. */
  transitionAgo?: number
  deleting?: boolean
  requests?: Record<string, string> | null
  sidecar?: Record<string, string>
}

function pod(name: string, s: PodSpec = {}): KubeObject {
  const startedAgo = s.startedAgo ?? 10 * MIN
  const ready = s.ready ?? 'True'
  const containers = [{ name: 'main', image: 'x', ...(s.requests === null ? {} : { resources: { requests: s.requests ?? { cpu: '1', memory: '100Mi' } } }) }]
  return {
    metadata: { name, namespace: 'default', labels: { app: 'web' }, ...(s.deleting === true ? { deletionTimestamp: iso(NOW) } : {}) },
    spec: {
      containers,
      ...(s.sidecar === undefined ? {} : { initContainers: [{ name: 'side', image: 'x', restartPolicy: 'Always', resources: { requests: s.sidecar } }] }),
    },
    status: {
      phase: s.phase ?? 'Running',
      startTime: iso(NOW - startedAgo),
      conditions: ready === 'none' ? [] : [{ type: 'Ready', status: ready, lastTransitionTime: iso(NOW - (s.transitionAgo ?? startedAgo)) }],
    },
  }
}

/** Samples in milli-units, taken a moment ago over a 15 s window. */
function samples(values: Record<string, number>): PodMetricsInfo {
  return new Map(Object.entries(values).map(([name, value]) => [name, { value, timestampMs: NOW - 1000, windowMs: 15_000 }]))
}

function calc(currentReplicas: number, pods: KubeObject[], metrics: PodMetricsInfo, resource = 'cpu', container = '') {
  return { currentReplicas, resource, container, pods, metrics, settings: DEFAULT_CALCULATOR_SETTINGS, now: NOW }
}

t.test('scale up: usage above the target by a ratio multiplies the ready pods', async (t) => {
  const pods = [pod('a'), pod('b'), pod('c')]
  const r = utilizationReplicas(calc(3, pods, samples({ a: 300, b: 500, c: 700 })), 30)
  t.same(r, { replicas: 5, utilization: 50, rawAverage: 500 })
})

t.test('scale down', async (t) => {
  const pods = ['a', 'b', 'c', 'd', 'e'].map((n) => pod(n))
  const r = utilizationReplicas(calc(5, pods, samples({ a: 100, b: 300, c: 500, d: 250, e: 250 })), 50)
  t.same(r, { replicas: 3, utilization: 28, rawAverage: 280 })
})

t.test('within the tolerance nothing changes', async (t) => {
  const pods = [pod('a'), pod('b'), pod('c')]
  t.equal(utilizationReplicas(calc(3, pods, samples({ a: 1010, b: 1030, c: 1020 })), 100).replicas, 3)
  // 12% above: outside the default 10% tolerance.
  t.equal(utilizationReplicas(calc(3, pods, samples({ a: 1120, b: 1120, c: 1120 })), 100).replicas, 4)
})

t.test('an unready pod counts as using nothing on a scale-up', async (t) => {
  // The first pod never became ready: its sample is dropped, and the scale-up is computed as if it used 0.
  const pods = [pod('a', { ready: 'False' }), pod('b'), pod('c')]
  const r = utilizationReplicas(calc(3, pods, samples({ a: 300, b: 500, c: 700 })), 30)
  t.same(r, { replicas: 4, utilization: 60, rawAverage: 600 })
})

t.test('pending pods are unready; a scale-down ignores them', async (t) => {
  const pods = [pod('a', { phase: 'Pending' }), pod('b'), pod('c')]
  const r = utilizationReplicas(calc(3, pods, samples({ b: 100, c: 100 })), 50)
  t.same(r, { replicas: 1, utilization: 10, rawAverage: 100 })
})

t.test('CPU samples of a starting pod count only a whole window after it became ready', async (t) => {
  // Started 1 min ago, ready 5 s ago: the 15 s window ending 1 s ago began before readiness.
  const starting = pod('a', { startedAgo: MIN, transitionAgo: 5000 })
  const pods = [starting, pod('b')]
  const r = utilizationReplicas(calc(2, pods, samples({ a: 2000, b: 500 })), 50)
  // Only b counts (500m of 1 CPU = 50%): no change, even though a burns CPU while it starts.
  t.same(r, { replicas: 2, utilization: 50, rawAverage: 500 })
  // Ready 30 s ago: the sample is a whole window later, and counts.
  const settled = pod('a', { startedAgo: MIN, transitionAgo: 30_000 })
  t.equal(utilizationReplicas(calc(2, [settled, pod('b')], samples({ a: 2000, b: 500 })), 50).replicas, 5)
})

t.test('a pod without a Ready condition or start time is unready for CPU, but counts for memory', async (t) => {
  const pods = [pod('a', { ready: 'none' }), pod('b')]
  const cpu = utilizationReplicas(calc(2, pods, samples({ a: 900, b: 900 })), 90)
  t.equal(cpu.utilization, 90, 'only b counts for CPU')
  const mem = 100 * 1024 * 1024 * 1000 // 100Mi in milli-bytes: 100% of the request
  const memory = utilizationReplicas(calc(2, pods, samples({ a: 2 * mem, b: 2 * mem }), 'memory'), 100)
  t.same(memory, { replicas: 4, utilization: 200, rawAverage: 2 * mem })
})

t.test('pods without samples: assumed to use their request on a scale-down, nothing on a scale-up', async (t) => {
  const four = ['a', 'b', 'c', 'd'].map((n) => pod(n))
  // Down: 10% of requests; the missing pod counted at 100% gives 32.5% → 3 pods, not 1.
  t.same(utilizationReplicas(calc(4, four, samples({ a: 100, b: 100, c: 100 })), 50), { replicas: 3, utilization: 10, rawAverage: 100 })
  // Up: 90% of requests; the missing pod counted at 0 gives 67.5% → 6 pods, not 8.
  t.same(utilizationReplicas(calc(4, four, samples({ a: 900, b: 900, c: 900 })), 50), { replicas: 6, utilization: 90, rawAverage: 900 })
  // Filling in the missing pod would turn a scale-up into a scale-down: nothing changes.
  const two = [pod('a'), pod('b')]
  t.equal(utilizationReplicas(calc(2, two, samples({ a: 600 })), 50).replicas, 2)
})

t.test('deleted and failed pods are ignored', async (t) => {
  const pods = [pod('a', { deleting: true }), pod('b', { phase: 'Failed' }), pod('c')]
  const r = utilizationReplicas(calc(3, pods, samples({ a: 5000, b: 5000, c: 500 })), 50)
  t.same(r, { replicas: 3, utilization: 50, rawAverage: 500 }, 'only c counts, at the target')
})

t.test('errors name what is missing', async (t) => {
  t.throws(() => utilizationReplicas(calc(1, [], samples({})), 50), /no pods returned by selector while calculating replica count/)
  t.throws(() => utilizationReplicas(calc(1, [pod('a', { phase: 'Pending' })], samples({ a: 1 })), 50), /did not receive metrics for targeted pods \(pods might be unready\)/)
  t.throws(() => utilizationReplicas(calc(1, [pod('a', { requests: null })], samples({ a: 100 })), 50), /missing request for cpu in container main of Pod a/)
  t.throws(() => podRequests([pod('a', { requests: { memory: '1Gi' } })], '', 'cpu'), /missing request for cpu in container main of Pod a/)
})

t.test('requests: sidecars count, one container when asked', async (t) => {
  const p = pod('a', { requests: { cpu: '250m' }, sidecar: { cpu: '50m' } })
  t.same([...podRequests([p], '', 'cpu')], [['a', 300]])
  t.same([...podRequests([p], 'main', 'cpu')], [['a', 250]])
  // ContainerResource: only main's request against main's usage.
  t.same(utilizationReplicas(calc(1, [p], samples({ a: 500 }), 'cpu', 'main'), 100), { replicas: 2, utilization: 200, rawAverage: 500 })
})

t.test('averageValue targets compare the average usage per pod', async (t) => {
  const pods = [pod('a'), pod('b'), pod('c')]
  t.same(averageValueReplicas(calc(3, pods, samples({ a: 100, b: 200, c: 300 })), 100), { replicas: 6, usage: 200 })
  t.same(averageValueReplicas(calc(3, pods, samples({ a: 100, b: 100, c: 100 })), 100), { replicas: 3, usage: 100 }, 'at target')
  // A missing pod counts as exactly the target on a scale-down.
  t.same(averageValueReplicas(calc(3, pods, samples({ a: 10, b: 10 })), 100), { replicas: 2, usage: 10 }, '(10 + 10 + 100) / 3 = 40 → 2 pods, not 1')
})
