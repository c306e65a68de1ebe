// Namespace deletion as kube-apiserver's namespace registry does it: the first delete
// only marks the namespace Terminating (deletionTimestamp, status.phase), a plain
// update cannot touch spec.finalizers, PUT namespaces/<name>/finalize replaces them
// (and nothing else), and the namespace goes once both finalizer lists are empty.
/* eslint-disable @typescript-eslint/no-explicit-any -- response bodies are arbitrary JSON, read by path in assertions */
import t, { type Test } from 'tap'
import { Registry } from 'prom-client'
import { createApiServer } from '../../src/apiserver/index.js'
import { MemoryStorage } from '../../src/apiserver/storage/memory.js'

interface Reply {
  status: number
  body: any
  text: string
}

async function startServer(t: Test): Promise<string> {
  const api = createApiServer({ storage: new MemoryStorage(), metrics: new Registry() })
  const port = await api.listen({ host: '127.0.0.1', port: 0 })
  await api.ready()
  t.teardown(() => api.stop())
  return `http://127.0.0.1:${port}`
}

async function call(url: string, method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<Reply> {
  const init: RequestInit = { method, headers: {} }
  if (body !== undefined) {
    init.body = JSON.stringify(body)
    ;(init.headers as Record<string, string>)['content-type'] = contentType
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

const ns = (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } })

t.test('the first delete marks a namespace Terminating; finalize lets it go', async (t) => {
  const url = await startServer(t)
  t.equal((await call(url, 'POST', '/api/v1/namespaces', ns('team'))).status, 201)
  const del = await call(url, 'DELETE', '/api/v1/namespaces/team')
  t.ok(del.status === 200 || del.status === 202, del.text)
  t.equal(del.body.status.phase, 'Terminating', 'phase set by the delete')
  t.ok(del.body.metadata.deletionTimestamp, 'deletionTimestamp set')
  t.strictSame(del.body.spec.finalizers, ['kubernetes'])

  const got = await call(url, 'GET', '/api/v1/namespaces/team')
  t.equal(got.status, 200, 'still there')
  t.equal(got.body.status.phase, 'Terminating')

  const again = await call(url, 'DELETE', '/api/v1/namespaces/team')
  t.equal(again.status, 409, 'a second delete while content is being removed is a conflict')
  t.equal(
    again.body.message,
    'Operation cannot be fulfilled on namespaces "team": The system is ensuring all content is removed from this namespace.  Upon completion, this namespace will automatically be purged by the system.',
  )

  // New content is refused while terminating.
  const cm = await call(url, 'POST', '/api/v1/namespaces/team/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } })
  t.equal(cm.status, 403)

  // A status write (the namespace controller's conditions) does not delete it.
  const status = await call(url, 'PUT', '/api/v1/namespaces/team/status', {
    ...got.body,
    status: { phase: 'Terminating', conditions: [{ type: 'NamespaceContentRemaining', status: 'False', reason: 'ContentRemoved', message: 'All content successfully removed' }] },
  })
  t.equal(status.status, 200, status.text)
  t.equal((await call(url, 'GET', '/api/v1/namespaces/team')).status, 200, 'status writes keep it')

  const fin = await call(url, 'PUT', '/api/v1/namespaces/team/finalize', { ...status.body, spec: { finalizers: [] } })
  t.equal(fin.status, 200, fin.text)
  t.strictSame(fin.body.spec.finalizers, [])
  t.equal((await call(url, 'GET', '/api/v1/namespaces/team')).status, 404, 'finalized: gone')
})

t.test('spec.finalizers change only through finalize', async (t) => {
  const url = await startServer(t)
  const created = await call(url, 'POST', '/api/v1/namespaces', ns('keep'))
  const put = await call(url, 'PUT', '/api/v1/namespaces/keep', { ...created.body, metadata: { ...created.body.metadata, labels: { a: 'b' } }, spec: { finalizers: [] } })
  t.equal(put.status, 200, put.text)
  t.strictSame(put.body.spec.finalizers, ['kubernetes'], 'a plain update keeps them')
  t.equal(put.body.metadata.labels.a, 'b', 'and applies the rest')
  const patched = await call(url, 'PATCH', '/api/v1/namespaces/keep', { spec: { finalizers: null } }, 'application/merge-patch+json')
  t.strictSame(patched.body.spec.finalizers, ['kubernetes'], 'so does a patch')

  const fin = await call(url, 'PUT', '/api/v1/namespaces/keep/finalize', {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'keep', labels: { ignored: 'yes' } },
    spec: { finalizers: ['example.com/mine'] },
    status: { phase: 'Terminating' },
  })
  t.equal(fin.status, 200, fin.text)
  t.strictSame(fin.body.spec.finalizers, ['example.com/mine'], 'replaced')
  t.equal(fin.body.status.phase, 'Active', 'status untouched')
  t.equal(fin.body.metadata.labels.ignored, undefined, 'metadata untouched')
  t.equal((await call(url, 'GET', '/api/v1/namespaces/keep')).body.spec.finalizers[0], 'example.com/mine')

  const stale = await call(url, 'PUT', '/api/v1/namespaces/keep/finalize', { ...ns('keep'), metadata: { name: 'keep', resourceVersion: created.body.metadata.resourceVersion }, spec: { finalizers: [] } })
  t.equal(stale.status, 409, 'a stale resourceVersion is a conflict')

  const bad = await call(url, 'PUT', '/api/v1/namespaces/keep/finalize', { ...ns('keep'), spec: { finalizers: ['nope'] } })
  t.equal(bad.status, 422, bad.text)
  t.match(bad.body.message, /spec\.finalizers\[0\]: Invalid value: "nope": name is neither a standard finalizer name nor is it fully qualified/)

  t.equal((await call(url, 'POST', '/api/v1/namespaces/keep/finalize', ns('keep'))).status, 405, 'only update')
  t.equal((await call(url, 'PUT', '/api/v1/namespaces/missing/finalize', { ...ns('missing'), spec: { finalizers: [] } })).status, 404)
})

t.test('a namespace with no finalizers at all goes on its second delete; metadata finalizers still hold it', async (t) => {
  const url = await startServer(t)
  await call(url, 'POST', '/api/v1/namespaces', ns('bare'))
  await call(url, 'PUT', '/api/v1/namespaces/bare/finalize', { ...ns('bare'), spec: { finalizers: [] } })
  const first = await call(url, 'DELETE', '/api/v1/namespaces/bare')
  t.equal(first.body.status.phase, 'Terminating', 'the first delete only marks it, as upstream')
  const second = await call(url, 'DELETE', '/api/v1/namespaces/bare')
  t.equal(second.status, 200, second.text)
  t.equal((await call(url, 'GET', '/api/v1/namespaces/bare')).status, 404)

  await call(url, 'POST', '/api/v1/namespaces', ns('orphaning'))
  const orphan = await call(url, 'DELETE', '/api/v1/namespaces/orphaning', { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Orphan' })
  t.strictSame(orphan.body.metadata.finalizers, ['orphan'])
  await call(url, 'PUT', '/api/v1/namespaces/orphaning/finalize', { ...ns('orphaning'), spec: { finalizers: [] } })
  t.equal((await call(url, 'GET', '/api/v1/namespaces/orphaning')).status, 200, 'the orphan finalizer still holds it')
  const dropped = await call(url, 'PATCH', '/api/v1/namespaces/orphaning', { metadata: { finalizers: null } }, 'application/merge-patch+json')
  t.equal(dropped.status, 200, dropped.text)
  t.equal((await call(url, 'GET', '/api/v1/namespaces/orphaning')).status, 404, 'last finalizer removed: gone')
})

t.test('discovery lists namespaces/finalize', async (t) => {
  const url = await startServer(t)
  const core = await call(url, 'GET', '/api/v1')
  t.match(
    core.body.resources.find((r: any) => r.name === 'namespaces/finalize'),
    { name: 'namespaces/finalize', namespaced: false, kind: 'Namespace', verbs: ['update'] },
  )
})
