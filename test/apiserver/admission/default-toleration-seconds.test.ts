// DefaultTolerationSeconds: pods are created tolerating not-ready and unreachable
// nodes for 300 s unless they already say how long; updates are left alone.
/* eslint-disable @typescript-eslint/no-explicit-any -- response bodies are arbitrary JSON, read by path in assertions */
import t from 'tap'
import { Registry } from 'prom-client'
import { createApiServer } from '../../../src/apiserver/index.js'
import { MemoryStorage } from '../../../src/apiserver/storage/memory.js'

const NOT_READY = { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }
const UNREACHABLE = { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }

t.test('pods get the default NoExecute tolerations on create', async (t) => {
  const api = createApiServer({ storage: new MemoryStorage(), metrics: new Registry() })
  const port = await api.listen({ host: '127.0.0.1', port: 0 })
  await api.ready()
  t.teardown(() => api.stop())
  const url = `http://127.0.0.1:${port}`
  const call = async (method: string, path: string, body?: unknown, type = 'application/json'): Promise<{ status: number; body: any }> => {
    const res = await fetch(url + path, { method, headers: { 'content-type': type }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
    return { status: res.status, body: await res.json() }
  }
  const pod = (name: string, tolerations?: unknown[]) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image: 'x' }], ...(tolerations === undefined ? {} : { tolerations }) } })
  const PODS = '/api/v1/namespaces/default/pods'

  const plain = await call('POST', PODS, pod('plain'))
  t.equal(plain.status, 201)
  t.strictSame(plain.body.spec.tolerations, [NOT_READY, UNREACHABLE])

  const own = { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 6000 }
  const custom = await call('POST', PODS, pod('custom', [own]))
  t.strictSame(custom.body.spec.tolerations, [own, NOT_READY], 'a toleration of its own for one taint is kept; the other is added')

  const everything = await call('POST', PODS, pod('all', [{ operator: 'Exists' }]))
  t.strictSame(everything.body.spec.tolerations, [{ operator: 'Exists' }], 'tolerating every taint needs no defaults')

  const other = await call('POST', PODS, pod('other', [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }]))
  t.equal(other.body.spec.tolerations.length, 3, 'unrelated tolerations do not count')

  // A pod's tolerations may only grow on update; the plugin adds nothing then.
  const patched = await call('PATCH', `${PODS}/plain`, { metadata: { labels: { a: 'b' } } }, 'application/merge-patch+json')
  t.equal(patched.status, 200)
  t.strictSame(patched.body.spec.tolerations, [NOT_READY, UNREACHABLE])
})
