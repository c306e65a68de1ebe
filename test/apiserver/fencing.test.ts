// Writes fenced by a Lease (our addition to the Kubernetes API): with the
// X-Raftplane-Fence headers a write lands only while the named Lease is held by the
// named identity, checked in the same store transaction as the write. A stale holder
// gets a 409 that names the current holder, and nothing is written.
/* eslint-disable @typescript-eslint/no-explicit-any -- response bodies are arbitrary JSON, read by path in assertions */
import t, { type Test } from 'tap'
import { Registry } from 'prom-client'
import { createApiServer } from '../../src/apiserver/index.js'
import { MemoryStorage } from '../../src/apiserver/storage/memory.js'
import { leaseHolderKey } from '../../src/apiserver/registry/resource-store.js'

async function start(t: Test): Promise<{ url: string; storage: MemoryStorage }> {
  const storage = new MemoryStorage()
  const api = createApiServer({ storage, metrics: new Registry() })
  const port = await api.listen({ host: '127.0.0.1', port: 0 })
  await api.ready()
  t.teardown(() => api.stop())
  return { url: `http://127.0.0.1:${port}`, storage }
}

async function call(url: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(url + path, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  return { status: res.status, body: await res.json().catch(() => undefined) }
}

const fence = (holder: string) => ({ 'x-raftplane-fence': 'kube-system/kube-scheduler', 'x-raftplane-fence-holder': holder })
const LEASES = '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases'
const lease = (holder: string, rv?: string) => ({
  apiVersion: 'coordination.k8s.io/v1',
  kind: 'Lease',
  metadata: { name: 'kube-scheduler', ...(rv === undefined ? {} : { resourceVersion: rv }) },
  spec: { holderIdentity: holder, leaseDurationSeconds: 15 },
})
const pod = (name: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image: 'x' }] } })

t.test('writes land while the holder holds the lease, and are refused once it changed hands', async (t) => {
  const { url, storage } = await start(t)
  const noLease = await call(url, 'POST', '/api/v1/namespaces/default/pods', pod('p0'), fence('master-1_a'))
  t.equal(noLease.status, 409, 'no such lease: refused')
  t.match(noLease.body.message, /fenced by lease kube-system\/kube-scheduler, which is held by no one/)

  const l = await call(url, 'POST', LEASES, lease('master-1_a'))
  t.equal(l.status, 201)
  t.equal(Buffer.from((await storage.get(leaseHolderKey('kube-system', 'kube-scheduler'))).kv!.value).toString(), 'master-1_a', 'holder recorded')

  const created = await call(url, 'POST', '/api/v1/namespaces/default/pods', pod('p1'), fence('master-1_a'))
  t.equal(created.status, 201, 'holder may create')
  await call(url, 'POST', '/api/v1/namespaces/default/pods', pod('p2'))
  const bound = await call(url, 'POST', '/api/v1/namespaces/default/pods/p2/binding', { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'p2' }, target: { kind: 'Node', name: 'n1' } }, fence('master-1_a'))
  t.equal(bound.status, 201, 'holder may bind')

  // master-2 takes the lease over (as after an expiry); master-1 wakes up and tries to act.
  const takeover = await call(url, 'PUT', `${LEASES}/kube-scheduler`, lease('master-2_b', l.body.metadata.resourceVersion))
  t.equal(takeover.status, 200)
  await call(url, 'POST', '/api/v1/namespaces/default/pods', pod('p3'))
  const stale = await call(url, 'POST', '/api/v1/namespaces/default/pods/p3/binding', { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'p3' }, target: { kind: 'Node', name: 'n1' } }, fence('master-1_a'))
  t.equal(stale.status, 409, 'stale holder: binding refused')
  t.equal(stale.body.reason, 'Conflict')
  t.match(stale.body.message, /pods "p3": the write is fenced by lease kube-system\/kube-scheduler, which is held by "master-2_b", not "master-1_a"/)
  t.same(stale.body.details.causes.map((c: any) => c.reason), ['LeaseFenced'])
  t.equal((await call(url, 'GET', '/api/v1/namespaces/default/pods/p3')).body.spec.nodeName, undefined, 'p3 stays unbound')

  t.equal((await call(url, 'POST', '/api/v1/namespaces/default/pods', pod('p4'), fence('master-1_a'))).status, 409, 'stale create refused')
  t.equal((await call(url, 'GET', '/api/v1/namespaces/default/pods/p4')).status, 404, 'nothing created')
  t.equal((await call(url, 'PATCH', '/api/v1/namespaces/default/pods/p1', { metadata: { labels: { a: 'b' } } }, { ...fence('master-1_a'), 'content-type': 'application/merge-patch+json' })).status, 409, 'stale patch refused')
  t.equal((await call(url, 'DELETE', '/api/v1/namespaces/default/pods/p1', undefined, fence('master-1_a'))).status, 409, 'stale delete refused')
  t.equal((await call(url, 'GET', '/api/v1/namespaces/default/pods/p1')).status, 200, 'p1 still there')

  const fresh = await call(url, 'POST', '/api/v1/namespaces/default/pods/p3/binding', { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'p3' }, target: { kind: 'Node', name: 'n2' } }, fence('master-2_b'))
  t.equal(fresh.status, 201, 'the new holder may bind')

  const del = await call(url, 'DELETE', `${LEASES}/kube-scheduler`)
  t.equal(del.status, 200)
  t.equal((await storage.get(leaseHolderKey('kube-system', 'kube-scheduler'))).kv, undefined, 'holder record removed with the lease')
})

t.test('malformed fence headers are a 400', async (t) => {
  const { url } = await start(t)
  const bad = await call(url, 'POST', '/api/v1/namespaces/default/pods', pod('x'), { 'x-raftplane-fence': 'kube-scheduler', 'x-raftplane-fence-holder': 'h' })
  t.equal(bad.status, 400)
  t.match(bad.body.message, /invalid x-raftplane-fence header/)
  const noHolder = await call(url, 'POST', '/api/v1/namespaces/default/pods', pod('x'), { 'x-raftplane-fence': 'kube-system/kube-scheduler' })
  t.equal(noHolder.status, 400)
  t.match(noHolder.body.message, /x-raftplane-fence-holder header is required/)
  t.equal((await call(url, 'GET', '/api/v1/namespaces/default/pods/x')).status, 404)
})

t.test('node heartbeat leases keep no holder record', async (t) => {
  const { url, storage } = await start(t)
  await call(url, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kube-node-lease' } })
  const r = await call(url, 'POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', { ...lease('node-1'), metadata: { name: 'node-1' } })
  t.equal(r.status, 201)
  t.equal((await storage.get(leaseHolderKey('kube-node-lease', 'node-1'))).kv, undefined)
})
