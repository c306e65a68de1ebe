// @kubernetes/client-node (the official JavaScript client) against a master started by
// `raftplane up`: typed list/create/patch, a raw watch, and its informer (list+watch,
// add/update/delete callbacks, relisting) — over HTTPS with the written kubeconfig.
import * as k8s from '@kubernetes/client-node'
import t from 'tap'
import { startCluster, type TestCluster } from './helpers/cluster.js'

let c: TestCluster
let kc: k8s.KubeConfig

t.before(async () => {
  c = await startCluster(t, { masters: 1 })
  kc = new k8s.KubeConfig()
  kc.loadFromFile(c.kubeconfig)
})

const until = async (cond: () => boolean, what: string, ms = 15_000): Promise<void> => {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

t.test('typed client: create, list, patch, delete', async (t) => {
  const core = kc.makeApiClient(k8s.CoreV1Api)
  await core.createNamespace({ body: { metadata: { name: 'js' } } })
  const created = await core.createNamespacedConfigMap({ namespace: 'js', body: { metadata: { name: 'one', labels: { app: 'x' } }, data: { k: 'v' } } })
  t.equal(created.metadata?.name, 'one')
  t.match(created.metadata?.resourceVersion, /^\d+$/)
  const list = await core.listNamespacedConfigMap({ namespace: 'js', labelSelector: 'app=x' })
  t.same(list.items.map((i) => i.metadata?.name), ['one'])
  t.match(list.metadata?.resourceVersion, /^\d+$/)
  const patched = await core.patchNamespacedConfigMap(
    { name: 'one', namespace: 'js', body: { data: { k: 'w' } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  )
  t.equal(patched.data?.k, 'w')
  const apps = kc.makeApiClient(k8s.AppsV1Api)
  const dep = await apps.createNamespacedDeployment({
    namespace: 'js',
    body: {
      metadata: { name: 'web' },
      spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
    },
  })
  t.equal(dep.spec?.replicas, 1, 'defaulted')
  const missing = await core.readNamespacedConfigMap({ name: 'nope', namespace: 'js' }).catch((e: unknown) => e)
  t.equal((missing as { code?: number }).code, 404)
  await core.deleteNamespacedConfigMap({ name: 'one', namespace: 'js' })
})

t.test('watch delivers ADDED, MODIFIED, DELETED', async (t) => {
  const core = kc.makeApiClient(k8s.CoreV1Api)
  const list = await core.listNamespacedConfigMap({ namespace: 'js' })
  const events: string[] = []
  const watch = new k8s.Watch(kc)
  const req = await watch.watch(
    '/api/v1/namespaces/js/configmaps',
    { resourceVersion: list.metadata?.resourceVersion, allowWatchBookmarks: true },
    (type: string, obj: k8s.V1ConfigMap) => events.push(`${type} ${obj.metadata?.name ?? ''}`),
    () => undefined,
  )
  t.teardown(() => req.abort())
  await core.createNamespacedConfigMap({ namespace: 'js', body: { metadata: { name: 'w' }, data: { a: '1' } } })
  await core.patchNamespacedConfigMap({ name: 'w', namespace: 'js', body: { data: { a: '2' } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch))
  await core.deleteNamespacedConfigMap({ name: 'w', namespace: 'js' })
  await until(() => events.length >= 3, 'three watch events')
  t.same(events, ['ADDED w', 'MODIFIED w', 'DELETED w'])
})

t.test('informer: initial list, then add/update/delete callbacks', async (t) => {
  const core = kc.makeApiClient(k8s.CoreV1Api)
  await core.createNamespacedConfigMap({ namespace: 'js', body: { metadata: { name: 'before' } } })
  const informer = k8s.makeInformer(kc, '/api/v1/namespaces/js/configmaps', () => core.listNamespacedConfigMap({ namespace: 'js' }))
  const seen: string[] = []
  informer.on('add', (o: k8s.V1ConfigMap) => seen.push(`add ${o.metadata?.name}`))
  informer.on('update', (o: k8s.V1ConfigMap) => seen.push(`update ${o.metadata?.name}`))
  informer.on('delete', (o: k8s.V1ConfigMap) => seen.push(`delete ${o.metadata?.name}`))
  informer.on('error', () => undefined)
  await informer.start()
  t.teardown(() => informer.stop())
  await until(() => seen.includes('add before'), 'the listed object')
  await core.createNamespacedConfigMap({ namespace: 'js', body: { metadata: { name: 'after' }, data: { a: '1' } } })
  await until(() => seen.includes('add after'), 'add')
  await core.replaceNamespacedConfigMap({ name: 'after', namespace: 'js', body: { metadata: { name: 'after' }, data: { a: '2' } } })
  await until(() => seen.includes('update after'), 'update')
  await core.deleteNamespacedConfigMap({ name: 'after', namespace: 'js' })
  await until(() => seen.includes('delete after'), 'delete')
  t.same(
    informer.list().map((o) => o.metadata?.name),
    ['before'],
  )
})
