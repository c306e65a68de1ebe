// The API server's REST semantics over the in-memory store: create/get/list/update/
// patch/delete status codes, optimistic concurrency, limit/continue, resourceVersion
// rules, watch streams, subresources. Real HTTP on loopback; kubectl-level behaviour is
// in e2e/kubectl.test.ts.
/* eslint-disable @typescript-eslint/no-explicit-any -- response bodies are arbitrary JSON, read by path in assertions */
import t, { type Test } from 'tap'
import { Registry } from 'prom-client'
import { createApiServer } from '../../src/apiserver/index.js'
import type { ApiServer } from '../../src/apiserver/server.js'
import { MemoryStorage } from '../../src/apiserver/storage/memory.js'

interface Reply {
  status: number
  body: any
  text: string
}

async function startServer(t: Test, cache?: { capacity: number }): Promise<{ api: ApiServer; url: string; storage: MemoryStorage }> {
  const storage = new MemoryStorage()
  const api = createApiServer({ storage, metrics: new Registry(), ...(cache === undefined ? {} : { cache }) })
  const port = await api.listen({ host: '127.0.0.1', port: 0 })
  await api.ready()
  t.teardown(() => api.stop())
  return { api, url: `http://127.0.0.1:${port}`, storage }
}

async function call(url: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const init: RequestInit = { method, headers: { ...headers } }
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body)
    ;(init.headers as Record<string, string>)['content-type'] ??= 'application/json'
  }
  const res = await fetch(url + path, init)
  const text = await res.text()
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    parsed = undefined
  }
  return { status: res.status, body: parsed, text }
}

const cm = (name: string, data: Record<string, string> = { a: '1' }, labels: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, labels },
  data,
})

t.test('create, get, conflict, update, delete', async (t) => {
  const { url } = await startServer(t)
  const created = await call(url, 'POST', '/api/v1/namespaces/default/configmaps', cm('one'))
  t.equal(created.status, 201, created.text)
  t.equal(created.body.metadata.namespace, 'default')
  t.match(created.body.metadata.resourceVersion, /^\d+$/)
  t.match(created.body.metadata.uid, /^[0-9a-f-]{36}$/)
  t.match(created.body.metadata.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)

  const dup = await call(url, 'POST', '/api/v1/namespaces/default/configmaps', cm('one'))
  t.equal(dup.status, 409)
  t.equal(dup.body.reason, 'AlreadyExists')
  t.equal(dup.body.message, 'configmaps "one" already exists')

  const got = await call(url, 'GET', '/api/v1/namespaces/default/configmaps/one')
  t.equal(got.status, 200)
  t.same(got.body.data, { a: '1' })

  const stale = { ...got.body, data: { a: '2' }, metadata: { ...got.body.metadata, resourceVersion: '1' } }
  const conflict = await call(url, 'PUT', '/api/v1/namespaces/default/configmaps/one', stale)
  t.equal(conflict.status, 409)
  t.equal(conflict.body.reason, 'Conflict')
  t.match(conflict.body.message, 'the object has been modified; please apply your changes to the latest version and try again')

  const fresh = { ...got.body, data: { a: '2' } }
  const updated = await call(url, 'PUT', '/api/v1/namespaces/default/configmaps/one', fresh)
  t.equal(updated.status, 200, updated.text)
  t.ok(Number(updated.body.metadata.resourceVersion) > Number(got.body.metadata.resourceVersion))
  t.equal(updated.body.metadata.uid, got.body.metadata.uid, 'uid kept')

  const noop = await call(url, 'PUT', '/api/v1/namespaces/default/configmaps/one', updated.body)
  t.equal(noop.body.metadata.resourceVersion, updated.body.metadata.resourceVersion, 'a no-op update writes nothing')

  const wrongName = await call(url, 'PUT', '/api/v1/namespaces/default/configmaps/one', { ...fresh, metadata: { ...fresh.metadata, name: 'two' } })
  t.equal(wrongName.status, 400)

  const del = await call(url, 'DELETE', '/api/v1/namespaces/default/configmaps/one')
  t.equal(del.status, 200)
  t.equal(del.body.kind, 'Status')
  t.equal(del.body.status, 'Success')
  const missing = await call(url, 'GET', '/api/v1/namespaces/default/configmaps/one')
  t.equal(missing.status, 404)
  t.equal(missing.body.message, 'configmaps "one" not found')
})

t.test('generateName, dry run, bad bodies', async (t) => {
  const { url } = await startServer(t)
  const gen = await call(url, 'POST', '/api/v1/namespaces/default/configmaps', { ...cm(''), metadata: { generateName: 'x-' } })
  t.equal(gen.status, 201, gen.text)
  t.match(gen.body.metadata.name, /^x-[a-z0-9]{5}$/)
  const dry = await call(url, 'POST', '/api/v1/namespaces/default/configmaps?dryRun=All', cm('dry'))
  t.equal(dry.status, 201)
  t.equal((await call(url, 'GET', '/api/v1/namespaces/default/configmaps/dry')).status, 404, 'dry run stored nothing')
  const badJson = await call(url, 'POST', '/api/v1/namespaces/default/configmaps', '{"kind":')
  t.equal(badJson.status, 400)
  t.equal(badJson.body.kind, 'Status')
  const wrongKind = await call(url, 'POST', '/api/v1/namespaces/default/configmaps', { ...cm('k'), kind: 'Secret' })
  t.equal(wrongKind.status, 400)
  const big = await call(url, 'POST', '/api/v1/namespaces/default/configmaps', cm('big', { a: 'x'.repeat(4 * 1024 * 1024) }))
  t.equal(big.status, 413)
  t.equal(big.body.reason, 'RequestEntityTooLarge')
  const yaml = await call(url, 'POST', '/api/v1/namespaces/default/configmaps', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: y}\ndata: {k: v}\n', { 'content-type': 'application/yaml' })
  t.equal(yaml.status, 201, yaml.text)
  const badYaml = await call(url, 'POST', '/api/v1/namespaces/default/configmaps', 'a: [b\n', { 'content-type': 'application/yaml' })
  t.equal(badYaml.status, 400)
  const unknownType = await call(url, 'GET', '/apis/apps/v1/namespaces/default/gizmos')
  t.equal(unknownType.status, 404)
  const missingNs = await call(url, 'POST', '/api/v1/namespaces/nowhere/configmaps', cm('z'))
  t.equal(missingNs.status, 404)
  t.equal(missingNs.body.message, 'namespaces "nowhere" not found')
})

t.test('list with selectors, limit and continue', async (t) => {
  const { url } = await startServer(t)
  for (let i = 0; i < 7; i++) {
    const r = await call(url, 'POST', '/api/v1/namespaces/default/configmaps', cm(`c${i}`, { i: String(i) }, { parity: i % 2 === 0 ? 'even' : 'odd' }))
    t.equal(r.status, 201)
  }
  const all = await call(url, 'GET', '/api/v1/namespaces/default/configmaps')
  t.equal(all.body.kind, 'ConfigMapList')
  t.equal(all.body.items.length, 7)
  const even = await call(url, 'GET', '/api/v1/namespaces/default/configmaps?labelSelector=parity%3Deven')
  t.same(even.body.items.map((i: any) => i.metadata.name), ['c0', 'c2', 'c4', 'c6'])
  const page1 = await call(url, 'GET', '/api/v1/namespaces/default/configmaps?limit=3')
  t.equal(page1.body.items.length, 3)
  t.equal(page1.body.metadata.remainingItemCount, 4)
  t.type(page1.body.metadata.continue, 'string')
  // A write between pages does not show up: the pages are one consistent snapshot.
  await call(url, 'POST', '/api/v1/namespaces/default/configmaps', cm('c7'))
  const page2 = await call(url, 'GET', `/api/v1/namespaces/default/configmaps?limit=3&continue=${page1.body.metadata.continue}`)
  t.same(page2.body.items.map((i: any) => i.metadata.name), ['c3', 'c4', 'c5'])
  const page3 = await call(url, 'GET', `/api/v1/namespaces/default/configmaps?limit=3&continue=${page2.body.metadata.continue}`)
  t.same(page3.body.items.map((i: any) => i.metadata.name), ['c6'])
  t.equal(page3.body.metadata.continue, undefined)
  t.equal(page3.body.metadata.resourceVersion, page1.body.metadata.resourceVersion)
  const badCont = await call(url, 'GET', '/api/v1/namespaces/default/configmaps?limit=3&continue=garbage')
  t.equal(badCont.status, 400)
  const acrossNs = await call(url, 'GET', '/api/v1/configmaps')
  t.equal(acrossNs.body.items.length, 8)
  const badSel = await call(url, 'GET', '/api/v1/namespaces/default/configmaps?labelSelector=a%20in%20(')
  t.equal(badSel.status, 400)
})

t.test('watch: from now, from a revision, too old', async (t) => {
  const { url, storage } = await startServer(t)
  const first = await call(url, 'POST', '/api/v1/namespaces/default/configmaps', cm('w1'))
  const rv = first.body.metadata.resourceVersion
  await call(url, 'PUT', '/api/v1/namespaces/default/configmaps/w1', { ...first.body, data: { a: 'changed' } })
  const ctrl = new AbortController()
  const res = await fetch(`${url}/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${rv}&allowWatchBookmarks=true`, { signal: ctrl.signal })
  t.equal(res.status, 200)
  const reader = res.body!.getReader()
  let buf = ''
  const next = async (): Promise<any> => {
    for (;;) {
      const nl = buf.indexOf('\n')
      if (nl >= 0) {
        const line = buf.slice(0, nl)
        buf = buf.slice(nl + 1)
        return JSON.parse(line)
      }
      const { value, done } = await reader.read()
      if (done) throw new Error('stream ended')
      buf += Buffer.from(value).toString()
    }
  }
  const e1 = await next()
  t.equal(e1.type, 'MODIFIED')
  t.equal(e1.object.data.a, 'changed')
  await call(url, 'DELETE', '/api/v1/namespaces/default/configmaps/w1')
  const e2 = await next()
  t.equal(e2.type, 'DELETED')
  t.equal(e2.object.metadata.name, 'w1')
  ctrl.abort()

  void storage
})

t.test('watch from a revision older than the cache window: 410 Expired', async (t) => {
  const { url } = await startServer(t, { capacity: 4 })
  for (let i = 0; i < 10; i++) await call(url, 'POST', '/api/v1/namespaces/default/configmaps', cm(`x${i}`))
  const old = await fetch(`${url}/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=2`)
  t.equal(old.status, 200, 'the error comes as a watch event, as kube-apiserver sends it')
  const text = await old.text()
  const ev = JSON.parse(text.split('\n')[0]!)
  t.equal(ev.type, 'ERROR')
  t.equal(ev.object.code, 410)
  t.equal(ev.object.reason, 'Expired')
  t.match(ev.object.message, /^too old resource version: 2 \(\d+\)$/)
})

t.test('tables and metadata', async (t) => {
  const { url } = await startServer(t)
  await call(url, 'POST', '/api/v1/namespaces/default/configmaps', cm('t1', { a: '1', b: '2' }))
  const table = await call(url, 'GET', '/api/v1/namespaces/default/configmaps', undefined, { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' })
  t.equal(table.body.kind, 'Table')
  t.same(table.body.columnDefinitions.map((c: any) => c.name), ['Name', 'Data', 'Age'])
  t.equal(table.body.rows[0].cells[0], 't1')
  t.equal(table.body.rows[0].cells[1], 2)
  const meta = await call(url, 'GET', '/api/v1/namespaces/default/configmaps/t1', undefined, { accept: 'application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io' })
  t.equal(meta.body.kind, 'PartialObjectMetadata')
  t.equal(meta.body.data, undefined)
})

t.test('scale subresource and status', async (t) => {
  const { url } = await startServer(t)
  const dep = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'd' },
    spec: { replicas: 1, selector: { matchLabels: { app: 'd' } }, template: { metadata: { labels: { app: 'd' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } },
    status: { replicas: 99 },
  }
  const created = await call(url, 'POST', '/apis/apps/v1/namespaces/default/deployments', dep)
  t.equal(created.status, 201, created.text)
  t.equal(created.body.status, undefined, 'a create resets status')
  t.equal(created.body.metadata.generation, 1)
  const scale = await call(url, 'GET', '/apis/apps/v1/namespaces/default/deployments/d/scale')
  t.equal(scale.body.kind, 'Scale')
  t.equal(scale.body.spec.replicas, 1)
  t.equal(scale.body.status.selector, 'app=d')
  const patched = await call(url, 'PATCH', '/apis/apps/v1/namespaces/default/deployments/d/scale', { spec: { replicas: 4 } }, { 'content-type': 'application/merge-patch+json' })
  t.equal(patched.status, 200, patched.text)
  t.equal(patched.body.spec.replicas, 4)
  const after = await call(url, 'GET', '/apis/apps/v1/namespaces/default/deployments/d')
  t.equal(after.body.spec.replicas, 4)
  t.equal(after.body.metadata.generation, 2)
  const st = await call(url, 'PUT', '/apis/apps/v1/namespaces/default/deployments/d/status', { ...after.body, spec: { ...after.body.spec, replicas: 7 }, status: { replicas: 4, observedGeneration: 2 } })
  t.equal(st.status, 200, st.text)
  t.equal(st.body.spec.replicas, 4, 'a status write keeps the spec')
  t.equal(st.body.status.replicas, 4)
  t.equal(st.body.metadata.generation, 2, 'status writes do not move generation')
  const neg = await call(url, 'PATCH', '/apis/apps/v1/namespaces/default/deployments/d/scale', { spec: { replicas: -1 } }, { 'content-type': 'application/merge-patch+json' })
  t.equal(neg.status, 422)
})

t.test('concurrent patches all land (a lost race retries); a stale PUT is a 409', async (t) => {
  const { url } = await startServer(t)
  const created = await call(url, 'POST', '/api/v1/namespaces/default/configmaps', cm('race', {}))
  const results = await Promise.all(
    Array.from({ length: 12 }, (_, i) =>
      call(url, 'PATCH', '/api/v1/namespaces/default/configmaps/race', { data: { [`k${i}`]: String(i) } }, { 'content-type': 'application/merge-patch+json' }),
    ),
  )
  t.same(results.map((r) => r.status), Array(12).fill(200))
  const final = await call(url, 'GET', '/api/v1/namespaces/default/configmaps/race')
  t.equal(Object.keys(final.body.data).length, 12, 'every patch is in the object')
  const stale = await call(url, 'PUT', '/api/v1/namespaces/default/configmaps/race', { ...created.body, data: { x: '1' } })
  t.equal(stale.status, 409)
})
