// The namespace controller against a real API server (with the garbage collector, as
// in a cluster): deleting a namespace removes its content and then the namespace;
// content held by a finalizer, or a bound pod waiting for a kubelet, keeps it
// Terminating with upstream's conditions until it is gone.
/* eslint-disable @typescript-eslint/no-explicit-any -- objects are read by path in assertions */
import t from 'tap'
import type { KubeObject, RestClient } from '../../src/client/index.js'
import { updateConditions } from '../../src/controllers/namespace.js'
import { CONFIGMAPS, DEPLOYMENTS, eventually, exists, gone, NAMESPACES, PODS, REPLICASETS, SECRETS, settle, startCluster } from './helpers.js'

const ns = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } })
const cm = (name: string, extra: Record<string, unknown> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...extra }, data: { a: 'b' } })
const pod = (name: string, spec: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: { containers: [{ name: 'c', image: 'x' }], ...spec },
})

function condition(n: KubeObject, type: string): any {
  return ((n.status as any)?.conditions ?? []).find((c: any) => c.type === type)
}

async function conditionTrue(client: RestClient, name: string, type: string): Promise<any> {
  return eventually(`${type}=True on ${name}`, async () => {
    const n = await client.resource(NAMESPACES).get(name)
    const c = condition(n, type)
    return c?.status === 'True' ? c : undefined
  })
}

t.test('deleting a namespace removes everything in it, then the namespace', async (t) => {
  const { client } = await startCluster(t, ['namespace', 'garbagecollector'])
  await client.resource(NAMESPACES).create(ns('team'))
  await client.resource(CONFIGMAPS, 'team').create(cm('one'))
  await client.resource(CONFIGMAPS, 'team').create(cm('two'))
  await client.resource(SECRETS, 'team').create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, stringData: { k: 'v' } })
  await client.resource(PODS, 'team').create(pod('loose'))
  const labels = { app: 'web' }
  await client.resource(DEPLOYMENTS, 'team').create({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: { replicas: 1, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'c', image: 'x' }] } } },
  })
  const rs = await client.resource(REPLICASETS, 'team').create({
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: 'web-1' },
    spec: { replicas: 1, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'c', image: 'x' }] } } },
  })
  await client.resource(PODS, 'team').create({
    ...pod('web-1-a'),
    metadata: { name: 'web-1-a', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-1', uid: rs.metadata!.uid!, controller: true, blockOwnerDeletion: true }] },
  })

  const marked = (await client.resource(NAMESPACES).delete('team')) as KubeObject
  t.equal((marked.status as any).phase, 'Terminating', 'the delete marks it Terminating')
  await gone(client, NAMESPACES, undefined, 'team')
  t.pass('the namespace is gone')
  for (const rt of [CONFIGMAPS, SECRETS, PODS, DEPLOYMENTS, REPLICASETS]) {
    t.equal((await client.resource(rt, 'team').list()).items.length, 0, `no ${rt.plural} left`)
  }
  t.ok(await exists(client, NAMESPACES, undefined, 'default'), 'other namespaces untouched')
})

t.test('content held by a finalizer keeps the namespace Terminating until it is released', async (t) => {
  const { client } = await startCluster(t, ['namespace', 'garbagecollector'])
  await client.resource(NAMESPACES).create(ns('held'))
  await client.resource(CONFIGMAPS, 'held').create(cm('sticky', { finalizers: ['example.com/hold'] }))
  await client.resource(CONFIGMAPS, 'held').create(cm('plain'))
  await client.resource(NAMESPACES).delete('held')

  const remaining = await conditionTrue(client, 'held', 'NamespaceContentRemaining')
  t.match(remaining, { reason: 'SomeResourcesRemain', message: 'Some resources are remaining: configmaps. has 1 resource instances' })
  const finalizers = await conditionTrue(client, 'held', 'NamespaceFinalizersRemaining')
  t.match(finalizers, { reason: 'SomeFinalizerRemain', message: 'Some finalizers are remaining: example.com/hold in 1 resource instances' })
  const n = await client.resource(NAMESPACES).get('held')
  t.equal((n.status as any).phase, 'Terminating')
  t.strictSame((n.spec as any).finalizers, ['kubernetes'], 'not finalized while content remains')
  t.match(condition(n, 'NamespaceDeletionContentFailure'), { status: 'False', reason: 'ContentDeleted', message: 'All content successfully deleted, may be waiting on finalization' })
  t.match(condition(n, 'NamespaceDeletionDiscoveryFailure'), { status: 'False', reason: 'ResourcesDiscovered' })
  t.match(condition(n, 'NamespaceDeletionGroupVersionParsingFailure'), { status: 'False', reason: 'ParsedGroupVersions' })
  t.notOk(await exists(client, CONFIGMAPS, 'held', 'plain'), 'content without finalizers is gone already')
  const sticky = await client.resource(CONFIGMAPS, 'held').get('sticky')
  t.ok(sticky.metadata?.deletionTimestamp, 'the held object is being deleted')

  await settle(1000)
  t.ok(await exists(client, NAMESPACES, undefined, 'held'), 'still there')

  await client.resource(CONFIGMAPS, 'held').patch('sticky', 'merge', { metadata: { finalizers: null } })
  await gone(client, NAMESPACES, undefined, 'held')
  t.pass('released: the namespace goes')
})

t.test('a bound pod waits for its kubelet; the namespace waits for the pod', async (t) => {
  const { client } = await startCluster(t, ['namespace'])
  await client.resource(NAMESPACES).create(ns('bound'))
  // A short grace period so the controller's estimate runs out within the test.
  await client.resource(PODS, 'bound').create(pod('p', { terminationGracePeriodSeconds: 1 }))
  await client.resource(PODS, 'bound').bind('p', 'node-without-kubelet')
  await client.resource(NAMESPACES).delete('bound')

  const remaining = await conditionTrue(client, 'bound', 'NamespaceContentRemaining')
  t.equal(remaining.message, 'Some resources are remaining: pods. has 1 resource instances')
  const failure = await conditionTrue(client, 'bound', 'NamespaceDeletionContentFailure')
  t.match(failure, {
    reason: 'ContentDeletionFailed',
    message: 'Failed to delete all resource types, 1 remaining: unexpected items still remain in namespace: bound for gvr: /v1, Resource=pods',
  })
  const p = await client.resource(PODS, 'bound').get('p')
  t.ok(p.metadata?.deletionTimestamp, 'the pod is terminating, waiting for its kubelet')
  t.ok(await exists(client, NAMESPACES, undefined, 'bound'), 'the namespace waits')

  // What the kubelet does once the containers stopped.
  await client.resource(PODS, 'bound').delete('p', { gracePeriodSeconds: 0 })
  await gone(client, NAMESPACES, undefined, 'bound')
  t.pass('gone once the pod is')
})

t.test('a namespace not being deleted is left alone', async (t) => {
  const { client } = await startCluster(t, ['namespace'])
  await client.resource(NAMESPACES).create(ns('alive'))
  await client.resource(CONFIGMAPS, 'alive').create(cm('keep'))
  await settle(500)
  t.ok(await exists(client, CONFIGMAPS, 'alive', 'keep'))
  const n = await client.resource(NAMESPACES).get('alive')
  t.equal((n.status as any).conditions, undefined, 'no deletion conditions')
})

t.test('conditions: all owned types present, transition time moves only when the status flips', async (t) => {
  const first = updateConditions([], { contentErrors: [], remainingByResource: new Map([['pods.', 2]]), remainingByFinalizer: new Map() })
  t.ok(first.changed)
  t.strictSame(
    first.conditions.map((c) => [c.type, c.status, c.reason]),
    [
      ['NamespaceDeletionDiscoveryFailure', 'False', 'ResourcesDiscovered'],
      ['NamespaceDeletionGroupVersionParsingFailure', 'False', 'ParsedGroupVersions'],
      ['NamespaceDeletionContentFailure', 'False', 'ContentDeleted'],
      ['NamespaceContentRemaining', 'True', 'SomeResourcesRemain'],
      ['NamespaceFinalizersRemaining', 'False', 'ContentRemoved'],
    ],
  )
  const old = first.conditions.map((c) => ({ ...c, lastTransitionTime: '2000-01-01T00:00:00Z' }))
  const same = updateConditions(old, { contentErrors: [], remainingByResource: new Map([['pods.', 2]]), remainingByFinalizer: new Map() })
  t.notOk(same.changed, 'nothing new: no write')
  const fewer = updateConditions(old, { contentErrors: [], remainingByResource: new Map([['pods.', 1]]), remainingByFinalizer: new Map() })
  t.ok(fewer.changed)
  const c = fewer.conditions.find((x) => x.type === 'NamespaceContentRemaining')!
  t.equal(c.message, 'Some resources are remaining: pods. has 1 resource instances')
  t.equal(c.lastTransitionTime, '2000-01-01T00:00:00Z', 'same status: transition time kept')
  const cleared = updateConditions(old, { contentErrors: ['b', 'a'], remainingByResource: new Map(), remainingByFinalizer: new Map() })
  const cr = cleared.conditions.find((x) => x.type === 'NamespaceContentRemaining')!
  t.match(cr, { status: 'False', reason: 'ContentRemoved', message: 'All content successfully removed' })
  t.not(cr.lastTransitionTime, '2000-01-01T00:00:00Z', 'flipped: transition time moved')
  t.equal(cleared.conditions.find((x) => x.type === 'NamespaceDeletionContentFailure')!.message, 'Failed to delete all resource types, 2 remaining: a, b')
})
