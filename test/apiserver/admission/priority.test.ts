// Priority admission through the API: spec.priority comes from the PriorityClass, the
// system classes exist from the start, a global default applies to pods without a
// class, and unknown classes or hand-written priorities are refused.
/* eslint-disable @typescript-eslint/no-explicit-any -- response bodies are arbitrary JSON, read by path in assertions */
import t from 'tap'
import { Registry } from 'prom-client'
import { createApiServer } from '../../../src/apiserver/index.js'
import { MemoryStorage } from '../../../src/apiserver/storage/memory.js'

t.test('pods get their priority from their PriorityClass', async (t) => {
  const api = createApiServer({ storage: new MemoryStorage(), metrics: new Registry() })
  const port = await api.listen({ host: '127.0.0.1', port: 0 })
  await api.ready()
  t.teardown(() => api.stop())
  const url = `http://127.0.0.1:${port}`
  const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> => {
    const res = await fetch(url + path, { method, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
    return { status: res.status, body: await res.json() }
  }
  const pod = (name: string, spec: Record<string, unknown> = {}) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image: 'x' }], ...spec } })
  const PODS = '/api/v1/namespaces/default/pods'

  const sys = await call('GET', '/apis/scheduling.k8s.io/v1/priorityclasses/system-cluster-critical')
  t.equal(sys.status, 200, 'system classes are bootstrapped')
  t.equal(sys.body.value, 2000000000)

  const plain = await call('POST', PODS, pod('plain'))
  t.equal(plain.body.spec.priority, 0, 'no class: 0')

  const critical = await call('POST', PODS, pod('crit', { priorityClassName: 'system-node-critical' }))
  t.equal(critical.status, 201)
  t.equal(critical.body.spec.priority, 2000001000)
  t.equal(critical.body.spec.preemptionPolicy, 'PreemptLowerPriority')

  const unknown = await call('POST', PODS, pod('u', { priorityClassName: 'nope' }))
  t.equal(unknown.status, 403)
  t.equal(unknown.body.message, 'pods "u" is forbidden: no PriorityClass with name nope was found')

  const forged = await call('POST', PODS, pod('f', { priority: 7 }))
  t.equal(forged.status, 403)
  t.match(forged.body.message, /the integer value of priority \(7\) must not be provided in pod spec; priority admission controller computed 0/)

  const high = await call('POST', '/apis/scheduling.k8s.io/v1/priorityclasses', { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'high' }, value: 1000, preemptionPolicy: 'Never', globalDefault: true })
  t.equal(high.status, 201, JSON.stringify(high.body))
  const withHigh = await call('POST', PODS, pod('h', { priorityClassName: 'high' }))
  t.equal(withHigh.body.spec.priority, 1000)
  t.equal(withHigh.body.spec.preemptionPolicy, 'Never')
  // The cache sees the new class a moment later; the global default comes from it.
  for (let i = 0; i < 50; i++) {
    const d = await call('POST', PODS, pod(`d${i}`))
    if (d.body.spec.priority === 1000) {
      t.equal(d.body.spec.priorityClassName, 'high', 'global default class named on the pod')
      return
    }
    await new Promise((r) => setTimeout(r, 20))
  }
  t.fail('the global default class never applied')
})
