// DefaultStorageClass: a claim created without a class gets the default one (the
// newest of several defaults); "" and a named class stay; without a default nothing
// changes; updates are left alone.
/* eslint-disable @typescript-eslint/no-explicit-any -- response bodies are arbitrary JSON, read by path in assertions */
import t from 'tap'
import { Registry } from 'prom-client'
import { createApiServer } from '../../../src/apiserver/index.js'
import { defaultStorageClass } from '../../../src/apiserver/admission/default-storage-class.js'
import { MemoryStorage } from '../../../src/apiserver/storage/memory.js'

const DEFAULT = { 'storageclass.kubernetes.io/is-default-class': 'true' }

t.test('defaultStorageClass picks the newest default, then by name', async (t) => {
  const sc = (name: string, at: string, annotations: Record<string, string> = DEFAULT) => ({ metadata: { name, creationTimestamp: at, annotations } })
  t.equal(defaultStorageClass([sc('a', '2026-01-01T00:00:00Z'), sc('b', '2026-02-01T00:00:00Z'), sc('c', '2026-03-01T00:00:00Z', {})])?.metadata?.name, 'b')
  t.equal(defaultStorageClass([sc('z', '2026-01-01T00:00:00Z'), sc('y', '2026-01-01T00:00:00Z')])?.metadata?.name, 'y')
  t.equal(defaultStorageClass([sc('c', '2026-03-01T00:00:00Z', {})]), undefined)
})

t.test('claims without a class get the default on create', async (t) => {
  const api = createApiServer({ storage: new MemoryStorage(), metrics: new Registry() })
  const port = await api.listen({ host: '127.0.0.1', port: 0 })
  await api.ready()
  t.teardown(() => api.stop())
  const url = `http://127.0.0.1:${port}`
  const call = async (method: string, path: string, body?: unknown, type = 'application/json'): Promise<{ status: number; body: any }> => {
    const res = await fetch(url + path, { method, headers: { 'content-type': type }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
    return { status: res.status, body: await res.json() }
  }
  const PVCS = '/api/v1/namespaces/default/persistentvolumeclaims'
  const claim = (name: string, storageClassName?: string) => ({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, ...(storageClassName === undefined ? {} : { storageClassName }) },
  })

  const before = await call('POST', PVCS, claim('before'))
  t.equal(before.status, 201)
  t.equal(before.body.spec.storageClassName, undefined, 'no default class yet: nothing set')

  const sc = await call('POST', '/apis/storage.k8s.io/v1/storageclasses', { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'local-path', annotations: DEFAULT }, provisioner: 'raftplane.io/local-path' })
  t.equal(sc.status, 201)
  t.equal((await call('POST', PVCS, claim('plain'))).body.spec.storageClassName, 'local-path')
  t.equal((await call('POST', PVCS, claim('none', ''))).body.spec.storageClassName, '', 'an explicit "" means no class')
  t.equal((await call('POST', PVCS, claim('named', 'fast'))).body.spec.storageClassName, 'fast')
  const patched = await call('PATCH', `${PVCS}/before`, { metadata: { labels: { a: 'b' } } }, 'application/merge-patch+json')
  t.equal(patched.status, 200)
  t.equal(patched.body.spec.storageClassName, undefined, 'updates are left alone')
})
