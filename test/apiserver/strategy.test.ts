// Per-kind write rules seen through the API: EndpointSlice generations, no
// create-on-update for slices, and a pod's podIPs/hostIPs filled from podIP/hostIP.
/* eslint-disable @typescript-eslint/no-explicit-any -- response bodies are arbitrary JSON, read by path in assertions */
import t from 'tap'
import { Registry } from 'prom-client'
import { createApiServer } from '../../src/apiserver/index.js'
import { MemoryStorage } from '../../src/apiserver/storage/memory.js'

t.test('strategy rules', async (t) => {
  const api = createApiServer({ storage: new MemoryStorage(), metrics: new Registry() })
  const port = await api.listen({ host: '127.0.0.1', port: 0 })
  await api.ready()
  t.teardown(() => api.stop())
  const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { method, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
    return { status: res.status, body: await res.json() }
  }
  const SLICES = '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices'
  const slice = { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 's', labels: { a: '1' } }, addressType: 'IPv4', endpoints: [{ addresses: ['10.0.0.1'] }], ports: [] }

  const missing = await call('PUT', `${SLICES}/s`, slice)
  t.equal(missing.status, 404, 'a slice is created with POST, not PUT')
  const created = await call('POST', SLICES, slice)
  t.equal(created.body.metadata.generation, 1)
  const moved = await call('PUT', `${SLICES}/s`, { ...created.body, endpoints: [{ addresses: ['10.0.0.2'] }] })
  t.equal(moved.body.metadata.generation, 2, 'endpoints changed')
  const relabelled = await call('PUT', `${SLICES}/s`, { ...moved.body, metadata: { ...moved.body.metadata, labels: { a: '2' } } })
  t.equal(relabelled.body.metadata.generation, 3, 'labels changed')
  const annotated = await call('PUT', `${SLICES}/s`, { ...relabelled.body, metadata: { ...relabelled.body.metadata, annotations: { x: 'y' } } })
  t.equal(annotated.body.metadata.generation, 3, 'annotations do not count')

  const PODS = '/api/v1/namespaces/default/pods'
  const pod = await call('POST', PODS, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'x' }] } })
  const st = await call('PUT', `${PODS}/p/status`, { ...pod.body, status: { ...pod.body.status, podIP: '10.1.0.5', hostIP: '192.168.0.2' } })
  t.equal(st.status, 200)
  t.strictSame(st.body.status.podIPs, [{ ip: '10.1.0.5' }])
  t.strictSame(st.body.status.hostIPs, [{ ip: '192.168.0.2' }])
})
