// metrics.k8s.io end to end in one process: two masters over one store, hollow
// kubelets reporting through master A every 300 ms, and the API read from master B
// (a report is visible on every master). Also discovery, selectors, NotFound and
// MethodNotAllowed answers, and ReportResourceUsage's refusals over gRPC.
import t from 'tap'
import { MemoryStorage } from '../../src/apiserver/storage/memory.js'
import { ApiError } from '../../src/client/errors.js'
import { HollowUsageSource } from '../../src/kubelet/usage/index.js'
import { client as nodeClient, startMaster } from '../apiserver/node-grpc/helpers/masters.js'
import { createPod, type Env, eventually, podObject, startNode } from '../kubelet/helpers.js'

type Json = Record<string, unknown>

const storage = new MemoryStorage()
const a = await startMaster(t, storage)
const b = await startMaster(t, storage)
const port = await b.api.listen({ host: '127.0.0.1', port: 0 })
const base = `http://127.0.0.1:${port}`
const env: Env = { master: a, client: nodeClient(t, [a.address]) }

async function get(path: string, accept = 'application/json'): Promise<{ status: number; body: Json; type: string | null }> {
  const res = await fetch(base + path, { headers: { accept } })
  return { status: res.status, body: (await res.json()) as Json, type: res.headers.get('content-type') }
}

const usage = (intervalMs: number) => ({ usage: { source: new HollowUsageSource(), intervalMs } })
await startNode(t, env, 'worker-1', { kubelet: usage(300) })
await startNode(t, env, 'worker-2', { kubelet: usage(300) })

await createPod(env, { ...podObject('web', 'worker-1', { annotations: { 'hollow.raftplane.io/cpu-usage': '250m', 'hollow.raftplane.io/memory-usage': '64Mi' } }), metadata: { name: 'web', labels: { app: 'web' }, annotations: { 'hollow.raftplane.io/cpu-usage': '250m', 'hollow.raftplane.io/memory-usage': '64Mi' } } })
await createPod(
  env,
  {
    ...podObject('db', 'worker-2', { containers: [{ name: 'db', image: 'postgres' }, { name: 'exporter', image: 'exp' }] }),
    metadata: { name: 'db', labels: { app: 'db' }, annotations: { 'hollow.raftplane.io/cpu-usage': '1', 'hollow.raftplane.io/memory-usage.exporter': '10Mi' } },
  },
)
await createPod(env, podObject('quiet', 'worker-2'), 'kube-system')

t.test('discovery lists metrics.k8s.io/v1beta1, aggregated and not', async (t) => {
  const agg = await get('/apis', 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json')
  const group = (agg.body.items as Json[]).find((g) => (g.metadata as Json).name === 'metrics.k8s.io')
  t.ok(group, 'in the aggregated /apis')
  const v = (group!.versions as Json[])[0]!
  t.equal(v.version, 'v1beta1')
  t.same(
    (v.resources as Json[]).map((r) => [r.resource, (r.responseKind as Json).kind, r.scope, r.verbs]),
    [
      ['nodes', 'NodeMetrics', 'Cluster', ['get', 'list']],
      ['pods', 'PodMetrics', 'Namespaced', ['get', 'list']],
    ],
  )
  const groups = (await get('/apis')).body.groups as Json[]
  t.same(groups.find((g) => g.name === 'metrics.k8s.io'), { name: 'metrics.k8s.io', versions: [{ groupVersion: 'metrics.k8s.io/v1beta1', version: 'v1beta1' }], preferredVersion: { groupVersion: 'metrics.k8s.io/v1beta1', version: 'v1beta1' } })
  t.same((await get('/apis/metrics.k8s.io/v1beta1')).body, {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: 'metrics.k8s.io/v1beta1',
    resources: [
      { name: 'nodes', singularName: 'node', namespaced: false, kind: 'NodeMetrics', verbs: ['get', 'list'] },
      { name: 'pods', singularName: '', namespaced: true, kind: 'PodMetrics', verbs: ['get', 'list'] },
    ],
  })
})

t.test('pods: the annotated usage, read on another master than the one the kubelets report to', async (t) => {
  const list = await eventually('pod metrics of web and db', async () => {
    const r = await get('/apis/metrics.k8s.io/v1beta1/namespaces/default/pods')
    return (r.body.items as Json[]).length === 2 ? r : undefined
  })
  t.equal(list.status, 200)
  t.equal(list.type, 'application/json')
  t.equal(list.body.kind, 'PodMetricsList')
  t.equal(list.body.apiVersion, 'metrics.k8s.io/v1beta1')
  const items = list.body.items as Json[]
  t.same(items.map((i) => (i.metadata as Json).name), ['db', 'web'], 'sorted by name')
  const [db, web] = items as [Json, Json]
  t.same(web.containers, [{ name: 'c', usage: { cpu: '250m', memory: '64Mi' } }])
  t.same((web.metadata as Json).labels, { app: 'web' })
  t.equal((web.metadata as Json).namespace, 'default')
  t.match(web.window, /^\d+(\.\d+)?m?s$/, 'a Go duration, e.g. 300ms')
  t.match(web.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
  t.same(db.containers, [
    { name: 'db', usage: { cpu: '1', memory: '4Mi' } },
    { name: 'exporter', usage: { cpu: '1', memory: '10Mi' } },
  ])
  const one = await get('/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/web')
  t.equal(one.body.kind, 'PodMetrics')
  t.same(one.body.containers, web.containers)
  const all = await eventually('kube-system/quiet too', async () => {
    const r = await get('/apis/metrics.k8s.io/v1beta1/pods')
    return (r.body.items as Json[]).length === 3 ? r : undefined
  })
  t.same((all.body.items as Json[]).map((i) => `${(i.metadata as Json).namespace}/${(i.metadata as Json).name}`), ['default/db', 'default/web', 'kube-system/quiet'])
  t.same((all.body.items as Json[])[2]!.containers, [{ name: 'c', usage: { cpu: '1m', memory: '4Mi' } }], 'the defaults')
})

t.test('pods: label and field selectors select Pods', async (t) => {
  const names = async (q: string) => ((await get(`/apis/metrics.k8s.io/v1beta1/namespaces/default/pods?${q}`)).body.items as Json[]).map((i) => (i.metadata as Json).name)
  t.same(await names('labelSelector=app%3Dweb'), ['web'])
  t.same(await names('labelSelector=app+in+(db,web)'), ['db', 'web'])
  t.same(await names('fieldSelector=metadata.name%3Ddb'), ['db'])
  t.same(await names('fieldSelector=metadata.name!%3Ddb&labelSelector=app'), ['web'])
  const bad = await get('/apis/metrics.k8s.io/v1beta1/namespaces/default/pods?labelSelector=app%3D%3D%3D')
  t.equal(bad.status, 400)
  t.equal(bad.body.reason, 'BadRequest')
})

t.test('nodes: node usage is the base plus its pods', async (t) => {
  const list = await eventually('both nodes', async () => {
    const r = await get('/apis/metrics.k8s.io/v1beta1/nodes')
    return (r.body.items as Json[]).length === 2 ? r : undefined
  })
  t.equal(list.body.kind, 'NodeMetricsList')
  const [w1, w2] = list.body.items as [Json, Json]
  t.equal((w1.metadata as Json).name, 'worker-1')
  t.equal((w2.metadata as Json).name, 'worker-2')
  t.equal(((w1.metadata as Json).labels as Json)['kubernetes.io/hostname'], 'worker-1')
  // The db pod's two containers use 1 core each; the quiet pod 1m; the node's base 50m.
  t.same(
    await eventually('worker-2 with all its pods', async () => {
      const r = await get('/apis/metrics.k8s.io/v1beta1/nodes/worker-2')
      return (r.body.usage as Json).cpu === '2051m' ? r.body.usage : undefined
    }),
    { cpu: '2051m', memory: `${256 + 4 + 10 + 4}Mi` },
  )
  t.same((w1.usage as Json).memory, `${256 + 64}Mi`)
  t.same(((await get('/apis/metrics.k8s.io/v1beta1/nodes?labelSelector=kubernetes.io%2Fhostname%3Dworker-2')).body.items as Json[]).map((i) => (i.metadata as Json).name), ['worker-2'])
  t.same(((await get('/apis/metrics.k8s.io/v1beta1/nodes?fieldSelector=metadata.name%3Dworker-2')).body.items as Json[]).map((i) => (i.metadata as Json).name), ['worker-2'])
  const table = await get('/apis/metrics.k8s.io/v1beta1/nodes', 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json')
  t.equal(table.body.kind, 'Table')
  t.same(((table.body.rows as Json[])[0]!.cells as unknown[])[0], 'worker-1')
})

t.test('NotFound and MethodNotAllowed as metrics-server and kube-apiserver answer', async (t) => {
  const missingPod = await get('/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/nope')
  t.equal(missingPod.status, 404)
  t.equal(missingPod.body.message, 'pods "nope" not found')
  await createPod(env, podObject('unbound', 'nowhere'))
  const noUsage = await get('/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/unbound')
  t.equal(noUsage.status, 404)
  t.same(noUsage.body, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'podmetrics.metrics.k8s.io "default/unbound" not found',
    reason: 'NotFound',
    details: { name: 'default/unbound', group: 'metrics.k8s.io', kind: 'podmetrics' },
    code: 404,
  })
  t.equal((await get('/apis/metrics.k8s.io/v1beta1/nodes/nope')).body.message, 'node "nope" not found')
  t.equal((await get('/apis/metrics.k8s.io/v1beta1/namespaces/default/nodes')).status, 404)
  t.equal((await get('/apis/metrics.k8s.io/v1beta2/nodes')).status, 404)
  t.equal((await get('/apis/metrics.k8s.io/v1beta1/services')).status, 404)
  t.equal((await get('/apis/metrics.k8s.io/v1beta1/nodes?watch=true')).status, 405)
  const post = await fetch(`${base}/apis/metrics.k8s.io/v1beta1/nodes`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })
  t.equal(post.status, 405)
  t.equal((await get('/apis/metrics.k8s.io/v1beta1/nodes', 'application/vnd.kubernetes.protobuf')).status, 406)
})

t.test('ReportResourceUsage refuses unknown nodes and malformed reports', async (t) => {
  const report = { nodeName: 'ghost', timestampMs: Date.now(), intervalMs: 15_000, windowMs: 15_000, node: { cpuNanoCores: 1, memoryWorkingSetBytes: 1 }, pods: [] }
  const err = await env.client.reportResourceUsage(report).catch((e: unknown) => e)
  t.ok(err instanceof ApiError)
  t.equal((err as ApiError).code, 404)
  t.equal((err as ApiError).message, 'nodes "ghost" not found')
  const bad = await env.client
    .reportResourceUsage({ ...report, nodeName: 'worker-1', windowMs: 0, pods: [{ namespace: 'default', name: '', uid: '', windowMs: 1, containers: [{ name: 'c', usage: { cpuNanoCores: 1, memoryWorkingSetBytes: 1 } }] }] })
    .catch((e: unknown) => e)
  t.equal((bad as ApiError).code, 400)
  t.equal((bad as ApiError).message, 'invalid resource usage report of node worker-1: window_ms: Invalid value: 0: must be greater than 0; pods[0].name: Required value')
})
