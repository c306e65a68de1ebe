// The quota controller's pure parts, without a server: counting a quota's usage with
// the admission evaluators (scopes, terminal pods, object counts, upstream quantity
// formats), the status it should have and when it is written, which quotas go ahead
// of routine recounts, and which object updates give usage back at once.
import t from 'tap'
import { evaluatorFor, type Evaluator } from '../../../src/api/quota/evaluators.js'
import { calculateUsage, countedNames } from '../../../src/api/quota/usage.js'
import { Quantity } from '../../../src/api/quantity.js'
import { toJson } from '../../../src/api/resource-list.js'
import type { KubeObject } from '../../../src/client/index.js'
import { lowersUsage, usageChange } from '../../../src/controllers/resourcequota/replenishment.js'
import { needsPriority, nextStatus } from '../../../src/controllers/resourcequota/status.js'
import { CONFIGMAPS, PODS, SERVICES } from '../../../src/controllers/util/resources.js'
import { configMap, pod, priorityScope, quota, service } from './fixtures.js'

const NOW = new Date('2025-01-01T00:00:00Z')
const PODS_EV = evaluatorFor(PODS)!
const SERVICES_EV = evaluatorFor(SERVICES)!

function count(q: KubeObject, objects: Record<string, KubeObject[]>): Record<string, string> {
  const of = (ev: Evaluator): KubeObject[] => objects[ev.rt.plural] ?? []
  return toJson(calculateUsage(q, of, NOW))
}

const compute = { requests: { cpu: '250m', memory: '64Mi' }, limits: { cpu: '500m', memory: '128Mi' } }

t.test('compute, object counts and service ports are counted as admission charges them', async (t) => {
  const q = quota('q', {
    pods: '10',
    'requests.cpu': '4',
    'limits.memory': '2Gi',
    'count/configmaps': '5',
    configmaps: '5',
    'services.nodeports': '4',
    'services.loadbalancers': '1',
    'count/deployments.apps': '3',
  })
  const used = count(q, {
    pods: [pod('a', compute), pod('b', compute), pod('done', { ...compute, phase: 'Succeeded' }), pod('failed', { ...compute, phase: 'Failed' })],
    configmaps: [configMap('c1'), configMap('c2')],
    services: [service('np', 'NodePort', 2), service('lb', 'LoadBalancer', 1), service('ip', 'ClusterIP', 3)],
  })
  t.strictSame(used, {
    configmaps: '2',
    'count/configmaps': '2',
    'count/deployments.apps': '0',
    'limits.memory': '256Mi',
    pods: '2',
    'requests.cpu': '500m',
    'services.loadbalancers': '1',
    'services.nodeports': '3',
  })
})

t.test('a resource nothing counts is left to what was recorded; nothing counted reads 0', async (t) => {
  const q = quota('q', { 'requests.cpu': '1', 'example.com/unknown': '3' })
  t.strictSame(count(q, {}), { 'requests.cpu': '0' })
  t.strictSame(countedNames(['requests.cpu', 'example.com/unknown', 'count/secrets']), ['requests.cpu', 'count/secrets'])
})

t.test('a pod past its deletion grace period no longer counts toward compute, but still as an object', async (t) => {
  const q = quota('q', { pods: '5', 'count/pods': '5', 'requests.cpu': '2' })
  const stuck = pod('stuck', compute)
  stuck.metadata!.deletionTimestamp = '2024-12-31T23:59:00Z'
  stuck.metadata!.deletionGracePeriodSeconds = 30
  const leaving = pod('leaving', compute)
  leaving.metadata!.deletionTimestamp = '2024-12-31T23:59:50Z'
  leaving.metadata!.deletionGracePeriodSeconds = 30
  t.strictSame(count(q, { pods: [stuck, leaving] }), { 'count/pods': '2', pods: '1', 'requests.cpu': '250m' })
})

t.test('scopes: Terminating, NotTerminating, BestEffort, NotBestEffort', async (t) => {
  const pods = [pod('batch', { ...compute, activeDeadlineSeconds: 60 }), pod('web', compute), pod('be'), pod('be-batch', { activeDeadlineSeconds: 10 })]
  t.strictSame(count(quota('t', { pods: '9' }, { scopes: ['Terminating'] }), { pods }), { pods: '2' })
  t.strictSame(count(quota('nt', { pods: '9', 'requests.cpu': '9' }, { scopes: ['NotTerminating'] }), { pods }), { pods: '2', 'requests.cpu': '250m' })
  t.strictSame(count(quota('be', { pods: '9' }, { scopes: ['BestEffort'] }), { pods }), { pods: '2' })
  t.strictSame(count(quota('nbe', { pods: '9', 'limits.memory': '9Gi' }, { scopes: ['NotBestEffort'] }), { pods }), { 'limits.memory': '256Mi', pods: '2' })
  t.strictSame(count(quota('both', { pods: '9' }, { scopes: ['NotTerminating', 'BestEffort'] }), { pods }), { pods: '1' }, 'every scope must match')
})

t.test('scope selector: PriorityClass In, NotIn, Exists, DoesNotExist', async (t) => {
  const pods = [pod('hi', { priorityClassName: 'high' }), pod('lo', { priorityClassName: 'low' }), pod('none')]
  t.strictSame(count(quota('in', { pods: '9' }, priorityScope('In', ['high'])), { pods }), { pods: '1' })
  t.strictSame(count(quota('notin', { pods: '9' }, priorityScope('NotIn', ['high'])), { pods }), { pods: '2' })
  t.strictSame(count(quota('exists', { pods: '9' }, priorityScope('Exists')), { pods }), { pods: '2' })
  t.strictSame(count(quota('dne', { pods: '9' }, priorityScope('DoesNotExist')), { pods }), { pods: '1' })
})

t.test('sums take the format of the first object counted, as upstream Quantity.Add', async (t) => {
  const q = quota('q', { 'requests.memory': '10Gi', 'requests.cpu': '10' })
  const pods = [pod('a', { requests: { memory: '1Gi', cpu: '1' } }), pod('b', { requests: { memory: '512Mi', cpu: '500m' } })]
  t.strictSame(count(q, { pods }), { 'requests.cpu': '1500m', 'requests.memory': '1536Mi' })
  const decimalFirst = [pod('a', { requests: { memory: '1G' } }), pod('b', { requests: { memory: '1Gi' } })]
  t.strictSame(count(quota('q', { 'requests.memory': '10Gi' }), { pods: decimalFirst }), { 'requests.memory': '2073741824' })
})

t.test('status: hard mirrors spec.hard, used covers every hard name, written only when it changes', async (t) => {
  const q = quota('q', { pods: '2', 'example.com/unknown': '1' })
  const counted = new Map([['pods', Quantity.fromValue(1)]])
  const first = nextStatus(q, counted)
  t.strictSame(first, { hard: { 'example.com/unknown': '1', pods: '2' }, used: { pods: '1' } }, 'a first status')

  const settled = { ...q, status: { hard: { pods: '2', 'example.com/unknown': '1' }, used: { pods: '1', 'example.com/unknown': '1', stale: '4' } } }
  t.strictSame(nextStatus(settled, counted), { hard: { 'example.com/unknown': '1', pods: '2' }, used: { 'example.com/unknown': '1', pods: '1' } }, 'names no longer hard are dropped; uncountable ones keep their recorded usage')
  const clean = { ...q, status: { hard: { pods: '2', 'example.com/unknown': '1' }, used: { pods: '1', 'example.com/unknown': '1' } } }
  t.equal(nextStatus(clean, counted), undefined, 'nothing to write')
  const equalNotSame = { ...q, spec: { hard: { pods: '2', 'example.com/unknown': '1000m' } }, status: clean.status }
  t.equal(nextStatus(equalNotSame, counted), undefined, 'quantities compare by value')
  const edited = { ...clean, spec: { hard: { pods: '3', 'example.com/unknown': '1' } } }
  t.strictSame(nextStatus(edited, counted)?.hard, { 'example.com/unknown': '1', pods: '3' }, 'a spec change is mirrored')
})

t.test('priority: status behind the spec, or a countable hard name without usage', async (t) => {
  const q = quota('q', { pods: '2', 'example.com/unknown': '1' })
  t.ok(needsPriority(q), 'no status yet')
  t.ok(needsPriority({ ...q, status: { hard: { pods: '1', 'example.com/unknown': '1' }, used: { pods: '0' } } }), 'hard not mirrored')
  t.ok(needsPriority({ ...q, status: { hard: { pods: '2', 'example.com/unknown': '1' }, used: {} } }), 'pods usage missing')
  t.notOk(needsPriority({ ...q, status: { hard: { pods: '2', 'example.com/unknown': '1' }, used: { pods: '0' } } }), 'only an uncountable name lacks usage')
})

t.test('replenishment: updates that give usage back, and only to the quotas that counted it', async (t) => {
  const compute = quota('compute', { 'requests.cpu': '4', pods: '4' })
  const objects = quota('objects', { 'count/pods': '4' })
  const running: KubeObject = { ...pod('p', { requests: { cpu: '1' }, limits: { cpu: '1' } }), metadata: { name: 'p', namespace: 'ns' } }
  const succeeded = { ...running, status: { phase: 'Succeeded' } }
  const change = usageChange(PODS_EV, running, succeeded, NOW)
  t.ok(lowersUsage(compute, PODS_EV, change), 'a pod reaching Succeeded frees compute')
  t.notOk(lowersUsage(objects, PODS_EV, change), 'but stays one pod object')
  t.notOk(lowersUsage(compute, PODS_EV, usageChange(PODS_EV, succeeded, running, NOW)), 'an increase is admission’s to charge')
  t.notOk(lowersUsage(compute, PODS_EV, usageChange(PODS_EV, running, { ...running, metadata: { ...running.metadata, labels: { a: 'b' } } }, NOW)), 'a label change gives nothing back')

  const notTerminating = quota('nt', { pods: '4' }, { scopes: ['NotTerminating'] })
  const bounded = { ...running, spec: { ...(running.spec as object), activeDeadlineSeconds: 30 } }
  t.ok(lowersUsage(notTerminating, PODS_EV, usageChange(PODS_EV, running, bounded, NOW)), 'leaving a scope gives its usage back')

  const svcQuota = quota('svc', { 'services.nodeports': '4', services: '4' })
  const np = service('s', 'NodePort', 2)
  t.ok(lowersUsage(svcQuota, SERVICES_EV, usageChange(SERVICES_EV, np, service('s', 'ClusterIP', 2), NOW)), 'a NodePort Service turned ClusterIP frees its node ports')
  t.notOk(lowersUsage(svcQuota, SERVICES_EV, usageChange(SERVICES_EV, service('s', 'ClusterIP', 2), np, NOW)))
  t.notOk(lowersUsage(svcQuota, evaluatorFor(CONFIGMAPS)!, usageChange(evaluatorFor(CONFIGMAPS)!, configMap('a'), configMap('a'), NOW)), 'a kind the quota does not count')
})
