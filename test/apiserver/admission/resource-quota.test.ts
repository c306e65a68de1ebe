// ResourceQuota admission through real HTTP: usage charged to status.used before the
// object is written, refusals with Kubernetes' exact messages, no over-admission when
// two API servers (masters) admit concurrently, dry runs not charged, failed creates
// giving usage back (deletes are the resourcequota controller's), initial usage
// counted from existing objects.
import t, { type Test } from 'tap'
import { MemoryStorage } from '../../../src/apiserver/storage/memory.js'
import { call, createNamespace, detail, eventually, pod, slowReads, startServers, type Reply } from './helpers/servers.js'

function quota(name: string, hard: Record<string, string>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name }, spec: { hard, ...extra } }
}

async function createQuota(t: Test, url: string, ns: string, q: Record<string, unknown>): Promise<Reply> {
  const r = await call(url, 'POST', `/api/v1/namespaces/${ns}/resourcequotas`, q)
  t.equal(r.status, 201, detail(r))
  return r
}

async function used(url: string, ns: string, name: string): Promise<Record<string, string>> {
  return (await call(url, 'GET', `/api/v1/namespaces/${ns}/resourcequotas/${name}`)).body.status.used
}

const cpuPod = (name: string, cpu: string) => pod(name, { requests: { cpu }, limits: { cpu } })

t.test('compute quota: charge, refuse, must specify, release', async (t) => {
  const [{ url }] = await startServers(t)
  await createNamespace(t, url, 'q1')
  const created = await createQuota(t, url, 'q1', quota('compute', { 'requests.cpu': '2', pods: '10' }))
  t.same(created.body.status, { hard: { pods: '10', 'requests.cpu': '2' }, used: { pods: '0', 'requests.cpu': '0' } }, 'status.hard mirrors spec.hard, usage counted')

  const p1 = await call(url, 'POST', '/api/v1/namespaces/q1/pods', cpuPod('p1', '1'))
  t.equal(p1.status, 201, detail(p1))
  t.same(await used(url, 'q1', 'compute'), { pods: '1', 'requests.cpu': '1' }, 'charged before the pod was written')

  const p2 = await call(url, 'POST', '/api/v1/namespaces/q1/pods', cpuPod('p2', '2'))
  t.equal(p2.status, 403)
  t.equal(p2.body.reason, 'Forbidden')
  t.equal(p2.body.message, 'pods "p2" is forbidden: exceeded quota: compute, requested: requests.cpu=2, used: requests.cpu=1, limited: requests.cpu=2')
  t.same(p2.body.details, { name: 'p2', kind: 'pods' })

  const bare = await call(url, 'POST', '/api/v1/namespaces/q1/pods', pod('bare', { name: 'web' }, { name: 'side', requests: { cpu: '100m' } }))
  t.equal(bare.status, 403)
  t.equal(bare.body.message, 'pods "bare" is forbidden: failed quota: compute: must specify requests.cpu for: web')

  const p3 = await call(url, 'POST', '/api/v1/namespaces/q1/pods', cpuPod('p3', '500m'))
  t.equal(p3.status, 201, detail(p3))
  t.same(await used(url, 'q1', 'compute'), { pods: '2', 'requests.cpu': '1500m' })
  t.equal((await call(url, 'GET', '/api/v1/namespaces/q1/pods/p2')).status, 404, 'nothing of the refused pod was written')

  const dup = await call(url, 'POST', '/api/v1/namespaces/q1/pods', cpuPod('p3', '500m'))
  t.equal(dup.status, 409, 'a create that collides')
  t.same(await used(url, 'q1', 'compute'), { pods: '2', 'requests.cpu': '1500m' }, 'gives back what it was charged')

  const del = await call(url, 'DELETE', '/api/v1/namespaces/q1/pods/p1')
  t.equal(del.status, 200, detail(del))
  t.same(await used(url, 'q1', 'compute'), { pods: '2', 'requests.cpu': '1500m' }, 'a delete is given back by the resourcequota controller, not by admission')
})

t.test('dry run is checked but not charged', async (t) => {
  const [{ url }] = await startServers(t)
  await createNamespace(t, url, 'q2')
  await createQuota(t, url, 'q2', quota('pods', { pods: '1' }))
  const dry = await call(url, 'POST', '/api/v1/namespaces/q2/pods?dryRun=All', pod('d'))
  t.equal(dry.status, 201, detail(dry))
  t.same(await used(url, 'q2', 'pods'), { pods: '0' }, 'not charged')
  const real = await call(url, 'POST', '/api/v1/namespaces/q2/pods', pod('real'))
  t.equal(real.status, 201)
  const dry2 = await call(url, 'POST', '/api/v1/namespaces/q2/pods?dryRun=All', pod('d2'))
  t.equal(dry2.status, 403)
  t.equal(dry2.body.message, 'pods "d2" is forbidden: exceeded quota: pods, requested: pods=1, used: pods=1, limited: pods=1')
  t.same(await used(url, 'q2', 'pods'), { pods: '1' })
})

t.test('concurrent creates through two masters never overshoot', async (t) => {
  const [a, b] = await startServers(t, 2, slowReads(new MemoryStorage()))
  await createNamespace(t, a!.url, 'q3')
  await createQuota(t, a!.url, 'q3', quota('pods', { pods: '10' }))
  // The second master must know the namespace and the quota before it admits.
  t.ok(await eventually(async () => (await call(b!.url, 'GET', '/api/v1/namespaces/q3/resourcequotas?resourceVersion=0')).body.items.length === 1))
  const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => call((i % 2 === 0 ? a : b)!.url, 'POST', '/api/v1/namespaces/q3/pods', pod(`p${i}`))))
  const ok = replies.filter((r) => r.status === 201)
  const refused = replies.filter((r) => r.status === 403)
  t.equal(ok.length, 10, 'exactly the quota is admitted')
  t.same(replies.filter((r) => r.status !== 201 && r.status !== 403).map((r) => r.text), [], 'no other answers')
  t.equal(refused.length, 10, 'the rest is refused')
  for (const r of refused) t.match(r.body.message, /^pods "p\d+" is forbidden: exceeded quota: pods, requested: pods=1, used: pods=10, limited: pods=10$/)
  t.same(await used(a!.url, 'q3', 'pods'), { pods: '10' })
  const list = await call(b!.url, 'GET', '/api/v1/namespaces/q3/pods')
  t.equal(list.body.items.length, 10, 'and exactly that many pods are stored')
})

t.test('a new quota counts what is already there; terminal pods do not use compute', async (t) => {
  const [{ url }] = await startServers(t)
  await createNamespace(t, url, 'q4')
  for (const p of [cpuPod('a', '250m'), cpuPod('b', '250m'), cpuPod('done', '1')]) {
    t.equal((await call(url, 'POST', '/api/v1/namespaces/q4/pods', p)).status, 201)
  }
  const done = (await call(url, 'GET', '/api/v1/namespaces/q4/pods/done')).body
  done.status = { ...done.status, phase: 'Succeeded' }
  const st = await call(url, 'PUT', '/api/v1/namespaces/q4/pods/done/status', done)
  t.equal(st.status, 200, detail(st))
  t.equal((await call(url, 'POST', '/api/v1/namespaces/q4/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } })).status, 201)
  const q = await createQuota(
    t,
    url,
    'q4',
    quota('all', { pods: '5', 'count/pods': '5', 'requests.cpu': '4', 'limits.cpu': '4', memory: '1Gi', configmaps: '3', resourcequotas: '2', 'count/deployments.apps': '1' }),
  )
  t.same(q.body.status.used, {
    configmaps: '1',
    'count/deployments.apps': '0',
    'count/pods': '3',
    'limits.cpu': '500m',
    memory: '0',
    pods: '2',
    'requests.cpu': '500m',
    resourcequotas: '1',
  })

  // Editing spec.hard moves status.hard and counts only the resources that are new.
  const cur = (await call(url, 'GET', '/api/v1/namespaces/q4/resourcequotas/all')).body
  cur.spec.hard = { pods: '6', secrets: '4' }
  const upd = await call(url, 'PUT', '/api/v1/namespaces/q4/resourcequotas/all', cur)
  t.equal(upd.status, 200, detail(upd))
  t.same(upd.body.status, { hard: { pods: '6', secrets: '4' }, used: { pods: '2', secrets: '0' } })
})

t.test('object counts, services and scopes', async (t) => {
  const [{ url }] = await startServers(t)
  await createNamespace(t, url, 'q5')
  await createQuota(t, url, 'q5', quota('objects', { 'count/configmaps': '2', 'services.loadbalancers': '0', 'services.nodeports': '2' }))
  await createQuota(t, url, 'q5', quota('besteffort', { pods: '1' }, { scopes: ['BestEffort'] }))
  const cm = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name } })
  t.equal((await call(url, 'POST', '/api/v1/namespaces/q5/configmaps', cm('a'))).status, 201)
  t.equal((await call(url, 'POST', '/api/v1/namespaces/q5/configmaps', cm('b'))).status, 201)
  const third = await call(url, 'POST', '/api/v1/namespaces/q5/configmaps', cm('c'))
  t.equal(third.status, 403)
  t.equal(third.body.message, 'configmaps "c" is forbidden: exceeded quota: objects, requested: count/configmaps=1, used: count/configmaps=2, limited: count/configmaps=2')

  const svc = (name: string, type: string, ports: number[]) => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name },
    spec: { type, selector: { app: name }, ports: ports.map((port) => ({ name: `p${port}`, port })) },
  })
  const lb = await call(url, 'POST', '/api/v1/namespaces/q5/services', svc('lb', 'LoadBalancer', [80]))
  t.equal(lb.status, 403)
  t.equal(lb.body.message, 'services "lb" is forbidden: exceeded quota: objects, requested: services.loadbalancers=1, used: services.loadbalancers=0, limited: services.loadbalancers=0')
  const np = await call(url, 'POST', '/api/v1/namespaces/q5/services', svc('np', 'NodePort', [80, 443, 8080]))
  t.equal(np.status, 403)
  t.equal(np.body.message, 'services "np" is forbidden: exceeded quota: objects, requested: services.nodeports=3, used: services.nodeports=0, limited: services.nodeports=2')
  const np2 = await call(url, 'POST', '/api/v1/namespaces/q5/services', svc('np2', 'NodePort', [80, 443]))
  t.equal(np2.status, 201, detail(np2))
  t.same(await used(url, 'q5', 'objects'), { 'count/configmaps': '2', 'services.loadbalancers': '0', 'services.nodeports': '2' })

  t.equal((await call(url, 'POST', '/api/v1/namespaces/q5/pods', pod('be1'))).status, 201)
  const be2 = await call(url, 'POST', '/api/v1/namespaces/q5/pods', pod('be2'))
  t.equal(be2.status, 403)
  t.equal(be2.body.message, 'pods "be2" is forbidden: exceeded quota: besteffort, requested: pods=1, used: pods=1, limited: pods=1')
  const burstable = await call(url, 'POST', '/api/v1/namespaces/q5/pods', cpuPod('burstable', '100m'))
  t.equal(burstable.status, 201, 'a pod outside the scope is not limited by it')
  t.same(await used(url, 'q5', 'besteffort'), { pods: '1' })
})

t.test('LimitRange defaults satisfy a compute quota', async (t) => {
  const [{ url }] = await startServers(t)
  await createNamespace(t, url, 'q6')
  const lr = await call(url, 'POST', '/api/v1/namespaces/q6/limitranges', {
    apiVersion: 'v1',
    kind: 'LimitRange',
    metadata: { name: 'defaults' },
    spec: { limits: [{ type: 'Container', default: { cpu: '200m', memory: '64Mi' }, defaultRequest: { cpu: '100m', memory: '32Mi' } }] },
  })
  t.equal(lr.status, 201)
  await createQuota(t, url, 'q6', quota('compute', { 'requests.cpu': '250m', 'limits.memory': '1Gi' }))
  t.equal((await call(url, 'POST', '/api/v1/namespaces/q6/pods', pod('a'))).status, 201)
  t.equal((await call(url, 'POST', '/api/v1/namespaces/q6/pods', pod('b'))).status, 201)
  const c = await call(url, 'POST', '/api/v1/namespaces/q6/pods', pod('c'))
  t.equal(c.body.message, 'pods "c" is forbidden: exceeded quota: compute, requested: requests.cpu=100m, used: requests.cpu=200m, limited: requests.cpu=250m')
  t.same(await used(url, 'q6', 'compute'), { 'limits.memory': '128Mi', 'requests.cpu': '200m' })
})

t.test('claims: storage is charged on create and on growth', async (t) => {
  const [{ url }] = await startServers(t)
  await createNamespace(t, url, 'q7')
  await createQuota(t, url, 'q7', quota('storage', { 'requests.storage': '3Gi', persistentvolumeclaims: '5', 'fast.storageclass.storage.k8s.io/requests.storage': '1Gi' }))
  const claim = (name: string, storage: string, storageClassName?: string) => ({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage } }, ...(storageClassName === undefined ? {} : { storageClassName }) },
  })
  const a = await call(url, 'POST', '/api/v1/namespaces/q7/persistentvolumeclaims', claim('a', '1Gi'))
  t.equal(a.status, 201, detail(a))
  const fast = await call(url, 'POST', '/api/v1/namespaces/q7/persistentvolumeclaims', claim('f', '2Gi', 'fast'))
  t.equal(fast.status, 403)
  t.equal(
    fast.body.message,
    'persistentvolumeclaims "f" is forbidden: exceeded quota: storage, requested: fast.storageclass.storage.k8s.io/requests.storage=2Gi, used: fast.storageclass.storage.k8s.io/requests.storage=0, limited: fast.storageclass.storage.k8s.io/requests.storage=1Gi',
  )
  t.same(await used(url, 'q7', 'storage'), { 'fast.storageclass.storage.k8s.io/requests.storage': '0', persistentvolumeclaims: '1', 'requests.storage': '1Gi' })

  // A bound claim may grow; the growth is what is charged.
  const cur = (await call(url, 'GET', '/api/v1/namespaces/q7/persistentvolumeclaims/a')).body
  cur.status = { phase: 'Bound' }
  const bound = await call(url, 'PUT', '/api/v1/namespaces/q7/persistentvolumeclaims/a/status', cur)
  t.equal(bound.status, 200, detail(bound))
  const grow = (size: string) => {
    const next = structuredClone(bound.body)
    next.spec.resources.requests.storage = size
    return call(url, 'PUT', '/api/v1/namespaces/q7/persistentvolumeclaims/a', next)
  }
  const tooBig = await grow('4Gi')
  t.equal(tooBig.status, 403, detail(tooBig))
  t.equal(tooBig.body.message, 'persistentvolumeclaims "a" is forbidden: exceeded quota: storage, requested: requests.storage=3Gi, used: requests.storage=1Gi, limited: requests.storage=3Gi')
  const ok = await grow('3Gi')
  t.equal(ok.status, 200, detail(ok))
  t.same(await used(url, 'q7', 'storage'), { 'fast.storageclass.storage.k8s.io/requests.storage': '0', persistentvolumeclaims: '1', 'requests.storage': '3Gi' })
})
