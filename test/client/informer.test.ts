// Informers against fake apiservers: the first list, live events, resuming a
// dropped watch without replaying anything, relisting after 410, bookmarks,
// resync, late handlers, failover between masters, and the shared factory.
import t, { type Test } from 'tap'
import { SharedInformerFactory } from '../../src/client/informer-factory.js'
import { type InformerOptions, type ResourceEventHandler, SharedIndexInformer } from '../../src/client/informer.js'
import { listerWatcherFor } from '../../src/client/reflector.js'
import type { RestClient } from '../../src/client/rest.js'
import { DeletedFinalStateUnknown, fieldIndexFunc, labelIndexFunc } from '../../src/client/store.js'
import type { KubeObject } from '../../src/client/types.js'
import { NODES, pod, PODS, sleepMs, startCluster, waitFor } from './helpers.js'

const FAST: InformerOptions<KubeObject> = { backoff: { initialMs: 10, maxMs: 50, jitter: 0 } }

/** A handler that writes what it hears as short strings: `add p1@5`, `update p1 5->6`, `delete p2@7`, `delete? p2@5`. */
function recorder(): { log: string[]; handler: ResourceEventHandler<KubeObject> } {
  const log: string[] = []
  const id = (o: KubeObject): string => `${o.metadata?.name}@${o.metadata?.resourceVersion}`
  return {
    log,
    handler: {
      onAdd: (o, initial) => log.push(`add ${id(o)}${initial ? ' (initial)' : ''}`),
      onUpdate: (a, b) => log.push(a === b ? `resync ${id(b)}` : `update ${a.metadata?.name} ${a.metadata?.resourceVersion}->${b.metadata?.resourceVersion}`),
      onDelete: (o) => log.push(o instanceof DeletedFinalStateUnknown ? `delete? ${id(o.obj)}` : `delete ${id(o)}`),
    },
  }
}

function podInformer(t: Test, client: RestClient, opts: InformerOptions<KubeObject> = {}): SharedIndexInformer<KubeObject> {
  const inf = new SharedIndexInformer(listerWatcherFor(client.resource(PODS)), { ...FAST, name: 'pods', ...opts })
  t.teardown(() => inf.stop())
  return inf
}

const rvOf = (b: { rev: number }): string => String(b.rev)

t.test('first list, then live events for every handler, and the indexes follow', async (t) => {
  const { client, servers, backend } = await startCluster(t)
  backend.create('pods', pod('p1', { node: 'n1' }))
  backend.create('pods', pod('p2', { node: 'n2' }))
  backend.create('pods', pod('p3', { ns: 'other', node: 'n1' }))
  const inf = podInformer(t, client, { indexers: { byNode: fieldIndexFunc('spec.nodeName') } })
  const { log, handler } = recorder()
  const reg = inf.addEventHandler(handler)
  t.notOk(inf.hasSynced())
  inf.start()
  t.equal(await inf.waitForSync(), true)
  await waitFor('handler synced', () => reg.hasSynced())
  t.same(log.sort(), ['add p1@2 (initial)', 'add p2@3 (initial)', 'add p3@4 (initial)'])
  const list = servers[0].requests.find((r) => r.query.get('watch') !== 'true')
  t.equal(list?.query.get('resourceVersion'), '0', 'the first list may come from the cache')
  t.equal(list?.query.get('limit'), '500')
  await waitFor('watch', () => servers[0].watchers.size === 1)
  const watch = servers[0].requests.find((r) => r.query.get('watch') === 'true')
  t.equal(watch?.query.get('resourceVersion'), '4', 'the watch starts where the list ended')
  t.equal(watch?.query.get('allowWatchBookmarks'), 'true')
  t.ok(Number(watch?.query.get('timeoutSeconds')) >= 300)

  log.length = 0
  backend.create('pods', pod('p4', { node: 'n2' }))
  backend.update('pods', { ...backend.get('pods', 'default', 'p1'), spec: { nodeName: 'n2' } })
  backend.delete('pods', 'default', 'p2')
  await waitFor('three events', () => log.length === 3)
  t.same(log, ['add p4@5', 'update p1 2->6', 'delete p2@7'])
  t.equal(inf.lastSyncResourceVersion(), '7')
  t.same(inf.byIndex('byNode', 'n2').map((p) => p.metadata?.name).sort(), ['p1', 'p4'])
  t.same(inf.byIndex('byNode', 'n1').map((p) => p.metadata?.name), ['p3'])
  t.same(inf.list('default').map((p) => p.metadata?.name).sort(), ['p1', 'p4'])
  t.equal(inf.get('p3', 'other')?.metadata?.namespace, 'other')
  t.equal(inf.get('p2', 'default'), undefined)
  t.equal(inf.stats.lists, 1)
})

t.test('the first list is read in pages', async (t) => {
  const { client, servers, backend } = await startCluster(t)
  for (let i = 0; i < 5; i++) backend.create('pods', pod(`p${i}`))
  const inf = podInformer(t, client, { pageSize: 2 })
  inf.start()
  await inf.waitForSync()
  t.equal(inf.indexer.size, 5)
  t.equal(servers[0].count((r) => r.query.has('continue')), 2)
  t.equal(inf.lastSyncResourceVersion(), rvOf(backend))
})

t.test('a dropped watch resumes from the last resourceVersion: no duplicates, no relist', async (t) => {
  const { client, servers, backend } = await startCluster(t)
  backend.create('pods', pod('p1'))
  const inf = podInformer(t, client)
  const { log, handler } = recorder()
  inf.addEventHandler(handler)
  inf.start()
  await inf.waitForSync()
  await waitFor('watch', () => servers[0].watchers.size === 1)
  backend.create('pods', pod('p2'))
  await waitFor('p2', () => log.includes('add p2@3'))
  const rvAtDrop = inf.lastSyncResourceVersion()

  servers[0].dropWatches()
  backend.create('pods', pod('p3'))
  backend.update('pods', backend.get('pods', 'default', 'p1'))
  await waitFor('the events after the drop', () => log.length === 4)
  await sleepMs(50)
  t.same(log, ['add p1@2 (initial)', 'add p2@3', 'add p3@4', 'update p1 2->5'], 'each change heard exactly once')
  const watches = servers[0].requests.filter((r) => r.query.get('watch') === 'true')
  t.equal(watches.length, 2)
  t.equal(watches[1].query.get('resourceVersion'), rvAtDrop, 're-watched from the last version seen')
  t.equal(inf.stats.lists, 1, 'no relist')
})

t.test('bookmarks move the resourceVersion on without telling the handlers', async (t) => {
  const { client, servers, backend } = await startCluster(t)
  backend.create('pods', pod('p1'))
  const inf = podInformer(t, client)
  const { log, handler } = recorder()
  inf.addEventHandler(handler)
  inf.start()
  await inf.waitForSync()
  await waitFor('watch', () => servers[0].watchers.size === 1)
  backend.create('nodes', { metadata: { name: 'n1' } })
  backend.create('nodes', { metadata: { name: 'n2' } })
  servers[0].bookmark()
  await waitFor('bookmark', () => inf.lastSyncResourceVersion() === rvOf(backend))
  servers[0].dropWatches()
  await waitFor('re-watch', () => servers[0].count((r) => r.query.get('watch') === 'true') === 2)
  const watches = servers[0].requests.filter((r) => r.query.get('watch') === 'true')
  t.equal(watches[1].query.get('resourceVersion'), rvOf(backend), 're-watched from the bookmark')
  t.same(log, ['add p1@2 (initial)'])
})

t.test('a watch ended by a 410 ERROR event relists: new, changed, vanished and unchanged objects', async (t) => {
  const { client, servers, backend } = await startCluster(t)
  for (const n of ['p1', 'p2', 'p3']) backend.create('pods', pod(n))
  const inf = podInformer(t, client)
  const { log, handler } = recorder()
  inf.addEventHandler(handler)
  inf.start()
  await inf.waitForSync()
  await waitFor('watch', () => servers[0].watchers.size === 1)
  const rvBefore = inf.lastSyncResourceVersion()

  servers[0].muted = true // the watch falls behind and misses these
  backend.create('pods', pod('p4'))
  backend.update('pods', backend.get('pods', 'default', 'p1'))
  backend.delete('pods', 'default', 'p2')
  backend.compact()
  servers[0].muted = false
  log.length = 0
  servers[0].expireWatches()

  await waitFor('relist', () => log.length === 4)
  // As client-go: every listed object is an add or an update (unchanged ones too), and one
  // that vanished is a delete of DeletedFinalStateUnknown with the last state the cache knew.
  t.same(log.sort(), ['add p4@5', 'delete? p2@3', 'update p1 2->6', 'update p3 4->4'])
  t.equal(inf.stats.lists, 2)
  const lists = servers[0].requests.filter((r) => r.query.get('watch') !== 'true')
  t.equal(lists[1].query.get('resourceVersion'), rvBefore, 'relisted at least as new as the last version seen')
  t.equal(inf.lastSyncResourceVersion(), rvOf(backend))

  await waitFor('watch again', () => servers[0].watchers.size === 1)
  log.length = 0
  backend.create('pods', pod('p5'))
  await waitFor('live again', () => log.length === 1)
  t.same(log, ['add p5@8'])
})

t.test('a re-watch from a compacted version relists; a list at an expired version falls back to the newest', async (t) => {
  const { client, servers, backend } = await startCluster(t)
  backend.create('pods', pod('p1'))
  const inf = podInformer(t, client)
  const { log, handler } = recorder()
  inf.addEventHandler(handler)
  inf.start()
  await inf.waitForSync()
  await waitFor('watch', () => servers[0].watchers.size === 1)
  // (A watch that ends within a second having delivered nothing counts as a failure and relists at once.)
  backend.create('pods', pod('p0'))
  await waitFor('p0', () => log.length === 2)
  const rvBefore = inf.lastSyncResourceVersion()
  servers[0].muted = true
  backend.delete('pods', 'default', 'p1')
  backend.create('pods', pod('p2'))
  backend.compact()
  servers[0].expireOldListRV = true
  servers[0].muted = false
  log.length = 0
  servers[0].dropWatches()

  await waitFor('relist', () => log.length === 3)
  t.same(log.sort(), ['add p2@5', 'delete? p1@2', 'update p0 3->3'])
  // The handlers run before the reflector opens its next watch; wait for that request too.
  await waitFor('the watch after the relist', () => servers[0].requests.length >= 6)
  const reqs = servers[0].requests.map((r) => (r.query.get('watch') === 'true' ? `watch ${r.query.get('resourceVersion')}` : `list ${r.query.get('resourceVersion') ?? '(newest)'}`))
  t.same(reqs.slice(0, 6), ['list 0', 'watch 2', `watch ${rvBefore}`, `list ${rvBefore}`, 'list (newest)', `watch ${rvOf(backend)}`])
})

t.test('resync re-delivers cached objects as onUpdate(obj, obj), only to handlers that asked', async (t) => {
  const { client, backend } = await startCluster(t)
  backend.create('pods', pod('p1'))
  backend.create('pods', pod('p2'))
  const inf = podInformer(t, client, { minResyncPeriodMs: 10 })
  const withResync = recorder()
  const without = recorder()
  inf.addEventHandler(withResync.handler, 40)
  inf.addEventHandler(without.handler)
  inf.start()
  await inf.waitForSync()
  await sleepMs(200)
  const resyncs = withResync.log.filter((l) => l.startsWith('resync'))
  t.ok(resyncs.filter((l) => l === 'resync p1@2').length >= 2, `resynced repeatedly: ${resyncs.length}`)
  t.ok(resyncs.filter((l) => l === 'resync p2@3').length >= 2)
  t.same(without.log.sort(), ['add p1@2 (initial)', 'add p2@3 (initial)'])
  const raised = new SharedIndexInformer(listerWatcherFor(client.resource(PODS)), FAST)
  const r = recorder()
  raised.addEventHandler(r.handler, 10)
  raised.start()
  t.teardown(() => raised.stop())
  await raised.waitForSync()
  await sleepMs(150)
  t.equal(r.log.filter((l) => l.startsWith('resync')).length, 0, 'periods below the 1 s minimum are raised to it')
})

t.test('a late handler hears every cached object; a throwing handler harms no one', async (t) => {
  const { client, backend } = await startCluster(t)
  backend.create('pods', pod('p1'))
  const inf = podInformer(t, client)
  inf.addEventHandler({
    onAdd: () => {
      throw new Error('handler bug')
    },
  })
  const first = recorder()
  inf.addEventHandler(first.handler)
  inf.start()
  await inf.waitForSync()
  const late = recorder()
  const reg = inf.addEventHandler(late.handler)
  t.notOk(reg.hasSynced(), 'not yet told of the cache')
  await waitFor('late handler synced', () => reg.hasSynced())
  t.same(late.log, ['add p1@2 (initial)'])
  backend.create('pods', pod('p2'))
  await waitFor('both hear p2', () => first.log.length === 2 && late.log.length === 2)
  reg.remove()
  backend.create('pods', pod('p3'))
  await waitFor('first hears p3', () => first.log.length === 3)
  await sleepMs(20)
  t.equal(late.log.length, 2, 'a removed handler hears nothing more')
})

t.test('failover: the informer carries on through the death of its master', async (t) => {
  const { client, servers, backend } = await startCluster(t, 2)
  const [a, b] = servers
  backend.create('pods', pod('p1'))
  const inf = podInformer(t, client)
  const { log, handler } = recorder()
  inf.addEventHandler(handler)
  inf.start()
  await inf.waitForSync()
  await waitFor('watch on a', () => a.watchers.size === 1)
  backend.create('pods', pod('p2'))
  await waitFor('p2', () => log.length === 2)

  await a.close()
  backend.create('pods', pod('p3'))
  backend.delete('pods', 'default', 'p1')
  await waitFor('events through b', () => log.length === 4)
  await sleepMs(50)
  t.same(log, ['add p1@2 (initial)', 'add p2@3', 'add p3@4', 'delete p1@5'])
  t.equal(b.watchers.size, 1, 'watching on the surviving master')
  t.equal(b.requests.filter((r) => r.query.get('watch') === 'true')[0]?.query.get('resourceVersion'), '3')
  t.equal(inf.stats.lists, 1, 'resumed without a relist')
})

t.test('list failures back off and retry until the informer syncs', async (t) => {
  const { client, servers, backend } = await startCluster(t, 1, { maxRetries: 0 })
  backend.create('pods', pod('p1'))
  servers[0].inject({ method: 'GET', path: /pods\?/, code: 500, times: 2 })
  const inf = podInformer(t, client)
  inf.start()
  t.equal(await inf.waitForSync(), true)
  t.equal(inf.stats.lists, 3)
  t.equal(inf.indexer.size, 1)
})

t.test('stop() ends the work; waiting for sync then says false', async (t) => {
  const { client, servers } = await startCluster(t)
  servers[0].inject({ hang: true })
  const inf = podInformer(t, client)
  inf.start()
  // The list goes out at start(); under load the server may record it late, so count from after it arrived.
  await waitFor('the hanging list', () => servers[0].requests.length >= 1)
  const ac = new AbortController()
  const aborted = inf.waitForSync(ac.signal)
  ac.abort()
  t.equal(await aborted, false)
  const waiting = inf.waitForSync()
  await sleepMs(20)
  inf.stop()
  t.equal(await waiting, false)
  const n = servers[0].requests.length
  await sleepMs(100)
  t.equal(servers[0].requests.length, n, 'nothing more is asked of the server')
  t.equal(await inf.waitForSync(), false)
  const late = inf.addEventHandler({})
  t.notOk(late.hasSynced())
})

t.test('the shared factory hands one informer per resource and selectors to many users', async (t) => {
  const { client, servers, backend } = await startCluster(t)
  backend.create('pods', pod('p1', { node: 'n1', labels: { app: 'web' } }))
  backend.create('pods', pod('p2', { node: 'n2', labels: { app: 'db' } }))
  backend.create('nodes', { metadata: { name: 'n1' } })
  const factory = new SharedInformerFactory(client, { informerOptions: FAST })
  t.teardown(() => factory.shutdown())
  const a = factory.forResource(PODS, { indexers: { byNode: fieldIndexFunc('spec.nodeName') } })
  const b = factory.forResource(PODS, { indexers: { byNode: fieldIndexFunc('spec.nodeName'), byApp: labelIndexFunc('app') } })
  t.equal(a, b, 'same resource, same informer')
  const onN1 = factory.forResource(PODS, { fieldSelector: 'spec.nodeName=n1' })
  t.not(onN1, a, 'other selectors, other informer')
  const nodes = factory.forResource(NODES, { namespace: 'ignored-for-cluster-scoped' })
  t.equal(nodes, factory.forResource(NODES))
  factory.start()
  t.equal(await factory.waitForCacheSync(), true)
  t.same(a.byIndex('byApp', 'db').map((p) => p.metadata?.name), ['p2'], 'indexes asked by the second user exist')
  t.same(onN1.list().map((p) => p.metadata?.name), ['p1'])
  t.equal(nodes.indexer.size, 1)
  t.equal(servers[0].count((r) => r.path === '/api/v1/pods' && r.query.get('watch') !== 'true' && !r.query.has('fieldSelector')), 1, 'one list for both users')
  t.equal(servers[0].requests.find((r) => r.query.has('fieldSelector'))?.query.get('fieldSelector'), 'spec.nodeName=n1')

  const later = factory.forResource(PODS, { namespace: 'default' })
  t.equal(await later.waitForSync(), true, 'an informer asked for after start() is started')
  t.equal(servers[0].requests.at(-1)?.path.startsWith('/api/v1/namespaces/default/pods'), true)
  factory.shutdown()
  t.ok(a.stopped && nodes.stopped && later.stopped)
  t.throws(() => factory.forResource(PODS), /shut down/)
})
