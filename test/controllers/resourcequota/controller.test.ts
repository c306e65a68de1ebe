// The ResourceQuota controller against a real API server, whose quota admission
// charges writes as they happen: the controller's recounts agree with what admission
// enforces, correct a status.used that drifted (written wrong here on purpose, which
// admission alone would keep), follow spec changes, give usage back at once when a
// pod is deleted or succeeds, or a Service drops a node port, and honour scopes.
/* eslint-disable @typescript-eslint/no-explicit-any -- objects are read by path in assertions */
import t, { type Test } from 'tap'
import { findResource } from '../../../src/api/resources.js'
import { ApiError, type KubeObject, type RestClient } from '../../../src/client/index.js'
import { resourceQuotaControllerWith, type ResourceQuotaControllerOptions } from '../../../src/controllers/resourcequota/controller.js'
import { CONFIGMAPS, DEPLOYMENTS, eventually, NAMESPACES, PODS, RESOURCE_QUOTAS, SERVICES, startCluster } from '../helpers.js'
import { configMap, pod, priorityScope, quota, service } from './fixtures.js'

const PRIORITY_CLASSES = findResource('scheduling.k8s.io', 'v1', 'priorityclasses')!
const NS = 'team'

async function cluster(t: Test, opts: ResourceQuotaControllerOptions = {}): Promise<RestClient> {
  const { client } = await startCluster(t, ['resourcequota'], { resourcequota: resourceQuotaControllerWith(opts) })
  await client.resource(NAMESPACES).create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } })
  return client
}

async function status(client: RestClient, name: string): Promise<{ hard?: Record<string, string>; used?: Record<string, string> }> {
  return ((await client.resource(RESOURCE_QUOTAS, NS).get(name)).status ?? {}) as any
}

/** Waits until the quota's status.used is exactly `used`. */
async function usedIs(t: Test, client: RestClient, name: string, used: Record<string, string>, what: string): Promise<void> {
  const sorted = (u: Record<string, string> | undefined): string => JSON.stringify(Object.entries(u ?? {}).sort(([a], [b]) => (a < b ? -1 : 1)))
  const want = sorted(used)
  let last = ''
  try {
    await eventually(`${name} used ${want}`, async () => {
      last = sorted((await status(client, name)).used)
      return last === want ? true : undefined
    })
  } catch (err) {
    throw new Error(`${String(err)}; last seen ${last}`, { cause: err })
  }
  t.pass(what)
}

/** Writes a wrong status.used, as a lost charge or release would leave it. */
async function drift(client: RestClient, name: string, used: Record<string, string>): Promise<void> {
  const q = await client.resource(RESOURCE_QUOTAS, NS).get(name)
  await client.resource(RESOURCE_QUOTAS, NS).updateStatus({ ...q, status: { ...(q.status as object), used } })
}

async function createPod(client: RestClient, p: KubeObject): Promise<void> {
  await client.resource(PODS, NS).create(p)
}

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p
  } catch (err) {
    if (err instanceof ApiError && err.code === 403) return err.message
    throw err
  }
  throw new Error('the write was admitted')
}

async function setPhase(client: RestClient, name: string, phase: string): Promise<void> {
  const fresh = await client.resource(PODS, NS).get(name)
  await client.resource(PODS, NS).updateStatus({ ...fresh, status: { ...(fresh.status as object), phase } })
}

const deployment = (name: string): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name },
  spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', image: 'busybox' }] } } },
})

const sized = (name: string, cpu: string, extra: Parameters<typeof pod>[1] = {}): KubeObject =>
  pod(name, { requests: { cpu, memory: '64Mi' }, limits: { cpu, memory: '128Mi' }, ...extra })

t.test('a quota counts pods, compute, object counts and node ports, and a spec change recounts all of it', async (t) => {
  const client = await cluster(t)
  await createPod(client, sized('a', '250m'))
  await createPod(client, sized('b', '250m'))
  for (const c of ['c1', 'c2']) await client.resource(CONFIGMAPS, NS).create(configMap(c))
  await client.resource(SERVICES, NS).create(service('np', 'NodePort', 2))
  await client.resource(SERVICES, NS).create(service('lb', 'LoadBalancer', 1))
  await client.resource(SERVICES, NS).create(service('ip', 'ClusterIP', 3))
  for (const d of ['d1', 'd2']) await client.resource(DEPLOYMENTS, NS).create(deployment(d))

  const hard = { 'count/configmaps': '10', 'count/deployments.apps': '5', 'limits.memory': '1Gi', pods: '10', 'requests.cpu': '2', 'services.nodeports': '5' }
  await client.resource(RESOURCE_QUOTAS, NS).create(quota('all', hard))
  const truth = { 'count/configmaps': '2', 'count/deployments.apps': '2', 'limits.memory': '256Mi', pods: '2', 'requests.cpu': '500m', 'services.nodeports': '3' }
  await usedIs(t, client, 'all', truth, 'usage counted')
  t.strictSame((await status(client, 'all')).hard, hard, 'status.hard mirrors spec.hard')

  await drift(client, 'all', { 'count/configmaps': '7', 'count/deployments.apps': '7', 'limits.memory': '7', pods: '7', 'requests.cpu': '7', 'services.nodeports': '7' })
  const q = await client.resource(RESOURCE_QUOTAS, NS).get('all')
  const newHard = { ...hard, pods: '12', 'count/secrets': '4' }
  await client.resource(RESOURCE_QUOTAS, NS).update({ ...q, spec: { hard: newHard } })
  await usedIs(t, client, 'all', { ...truth, 'count/secrets': '0' }, 'the spec change recounted every resource, not only the new one')
  t.strictSame((await status(client, 'all')).hard, Object.fromEntries(Object.entries(newHard).sort()), 'status.hard follows')

  // Deployments are watched only because this quota names them; their deletes recount it too.
  await drift(client, 'all', { ...truth, 'count/secrets': '0', 'count/deployments.apps': '5' })
  await client.resource(DEPLOYMENTS, NS).delete('d1')
  await usedIs(t, client, 'all', { ...truth, 'count/secrets': '0', 'count/deployments.apps': '1' }, 'a deleted Deployment recounts the quota')
})

t.test('usage agrees with admission: up to the limit, then refused; a pod that succeeds frees its compute at once', async (t) => {
  const client = await cluster(t)
  await client.resource(RESOURCE_QUOTAS, NS).create(quota('compute', { 'count/pods': '5', pods: '3', 'requests.cpu': '1' }))
  await usedIs(t, client, 'compute', { 'count/pods': '0', pods: '0', 'requests.cpu': '0' }, 'empty namespace')
  await createPod(client, sized('a', '500m'))
  await createPod(client, sized('b', '500m'))
  t.equal(
    await refusal(createPod(client, sized('c', '500m'))),
    'pods "c" is forbidden: exceeded quota: compute, requested: requests.cpu=500m, used: requests.cpu=1, limited: requests.cpu=1',
  )
  await usedIs(t, client, 'compute', { 'count/pods': '2', pods: '2', 'requests.cpu': '1' }, 'at the limit')

  await setPhase(client, 'a', 'Succeeded')
  await usedIs(t, client, 'compute', { 'count/pods': '2', pods: '1', 'requests.cpu': '500m' }, 'a succeeded pod counts as an object only')
  await createPod(client, sized('c', '500m'))
  t.pass('the freed compute is admitted again')
  await usedIs(t, client, 'compute', { 'count/pods': '3', pods: '2', 'requests.cpu': '1' }, 'and charged')
  t.match(await refusal(createPod(client, sized('d', '100m'))), /exceeded quota: compute/, 'the limit holds')
})

t.test('deleting a pod, or a Service dropping a node port, gives usage back at once, counted afresh', async (t) => {
  // The full recount runs every 5 minutes: only the quick path can finish this test.
  const client = await cluster(t)
  await client.resource(RESOURCE_QUOTAS, NS).create(quota('q', { pods: '5', 'requests.cpu': '5', 'services.nodeports': '5' }))
  await createPod(client, sized('a', '1'))
  await createPod(client, sized('b', '1'))
  await client.resource(SERVICES, NS).create(service('np', 'NodePort', 2))
  await usedIs(t, client, 'q', { pods: '2', 'requests.cpu': '2', 'services.nodeports': '2' }, 'charged')

  await drift(client, 'q', { pods: '4', 'requests.cpu': '4', 'services.nodeports': '4' })
  await client.resource(PODS, NS).delete('a')
  await usedIs(t, client, 'q', { pods: '1', 'requests.cpu': '1', 'services.nodeports': '2' }, 'the delete recounted the quota')

  const svc = await client.resource(SERVICES, NS).get('np')
  const spec = svc.spec as any
  // (Our apiserver cannot yet turn a NodePort Service into ClusterIP: it keeps the old
  // node ports on update. Dropping a port gives one back just the same.)
  await client.resource(SERVICES, NS).update({ ...svc, spec: { ...spec, ports: spec.ports.slice(0, 1) } })
  await usedIs(t, client, 'q', { pods: '1', 'requests.cpu': '1', 'services.nodeports': '1' }, 'a node port given back')
})

t.test('scopes and the PriorityClass scope selector decide what each quota counts', async (t) => {
  const client = await cluster(t, { syncPeriodMs: 1000 })
  for (const [name, value] of [['high', 1000], ['low', 10]] as const) {
    await client.resource(PRIORITY_CLASSES).create({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value })
  }
  const quotas: [string, Record<string, string>, Record<string, unknown>][] = [
    ['terminating', { pods: '10' }, { scopes: ['Terminating'] }],
    ['not-terminating', { pods: '10' }, { scopes: ['NotTerminating'] }],
    ['best-effort', { pods: '10' }, { scopes: ['BestEffort'] }],
    ['not-best-effort', { pods: '10', 'requests.cpu': '2' }, { scopes: ['NotBestEffort'] }],
    ['high', { pods: '10' }, priorityScope('In', ['high'])],
    ['not-high', { pods: '10' }, priorityScope('NotIn', ['high'])],
  ]
  for (const [name, hard, spec] of quotas) await client.resource(RESOURCE_QUOTAS, NS).create(quota(name, hard, spec))
  await createPod(client, sized('batch', '100m', { activeDeadlineSeconds: 600 }))
  await createPod(client, sized('web', '300m', { priorityClassName: 'low' }))
  await createPod(client, pod('idle'))
  await createPod(client, pod('urgent', { priorityClassName: 'high' }))

  const truth: Record<string, Record<string, string>> = {
    terminating: { pods: '1' },
    'not-terminating': { pods: '3' },
    'best-effort': { pods: '2' },
    'not-best-effort': { pods: '2', 'requests.cpu': '400m' },
    high: { pods: '1' },
    'not-high': { pods: '3' },
  }
  for (const [name, used] of Object.entries(truth)) await usedIs(t, client, name, used, `${name} as admitted`)
  for (const [name, used] of Object.entries(truth)) await drift(client, name, Object.fromEntries(Object.keys(used).map((k) => [k, '9'])))
  for (const [name, used] of Object.entries(truth)) await usedIs(t, client, name, used, `${name} recounted by the periodic sync`)
})
