// The garbage collector against a real API server: background cascade (owner gone →
// dependents deleted, through several levels), foreground (the owner waits with its
// foregroundDeletion finalizer until blocking dependents are gone), orphan (dependents
// kept without the reference, owner gone), dangling references to owners that never
// existed, and owners that still exist are left alone.
/* eslint-disable @typescript-eslint/no-explicit-any -- objects are read by path in assertions */
import { setMaxListeners } from 'node:events'
import t from 'tap'
import type { KubeObject, OwnerReference, RestClient } from '../../../src/client/index.js'
import { ControllerManager } from '../../../src/controllers/manager.js'
import { CONFIGMAPS, EVENTS, eventually, exists, gone, NODES, PODS, REPLICASETS, SECRETS, settle, startCluster } from '../helpers.js'

const cm = (name: string, owners: OwnerReference[] = [], finalizers?: string[]): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, ownerReferences: owners, ...(finalizers === undefined ? {} : { finalizers }) },
  data: { k: 'v' },
})

const ref = (o: KubeObject, extra: Partial<OwnerReference> = {}): OwnerReference => ({
  apiVersion: o.apiVersion!,
  kind: o.kind!,
  name: o.metadata!.name!,
  uid: o.metadata!.uid!,
  ...extra,
})

const rs = (name: string): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  metadata: { name },
  spec: { replicas: 0, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'x' }] } } },
})

const pod = (name: string, owners: OwnerReference[]): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, ownerReferences: owners },
  spec: { containers: [{ name: 'c', image: 'x' }] },
})

async function ownersOf(client: RestClient, name: string): Promise<OwnerReference[]> {
  const o = await client.resource(CONFIGMAPS, 'default').get(name)
  return o.metadata?.ownerReferences ?? []
}

t.test('background: dependents of a deleted owner are deleted, level by level', async (t) => {
  const { client } = await startCluster(t, ['garbagecollector'])
  const cms = client.resource(CONFIGMAPS, 'default')
  const owner = await cms.create(cm('owner'))
  const child = await cms.create(cm('child', [ref(owner)]))
  await cms.create(cm('grandchild', [ref(child)]))
  const replicaSet = await client.resource(REPLICASETS, 'default').create(rs('web'))
  await client.resource(PODS, 'default').create(pod('web-1', [ref(replicaSet, { controller: true, blockOwnerDeletion: true })]))
  await client.resource(PODS, 'default').create(pod('web-2', [ref(replicaSet, { controller: true, blockOwnerDeletion: true })]))

  await settle(500)
  t.ok(await exists(client, CONFIGMAPS, 'default', 'child'), 'a dependent of a live owner stays')

  await cms.delete('owner')
  await gone(client, CONFIGMAPS, 'default', 'child')
  await gone(client, CONFIGMAPS, 'default', 'grandchild')
  t.pass('child and grandchild collected')

  await client.resource(REPLICASETS, 'default').delete('web', { propagationPolicy: 'Background' })
  await gone(client, PODS, 'default', 'web-1')
  await gone(client, PODS, 'default', 'web-2')
  t.pass('the ReplicaSet pods (unbound) collected')
})

t.test('a dependent keeps its live owners: only the reference to the gone owner is dropped', async (t) => {
  const { client } = await startCluster(t, ['garbagecollector'])
  const cms = client.resource(CONFIGMAPS, 'default')
  const a = await cms.create(cm('a'))
  const b = await cms.create(cm('b'))
  await cms.create(cm('shared', [ref(a), ref(b)]))
  await cms.delete('a')
  const owners = await eventually('the reference to a dropped', async () => {
    const refs = await ownersOf(client, 'shared')
    return refs.length === 1 ? refs : undefined
  })
  t.equal(owners[0]!.name, 'b')
  t.ok(await exists(client, CONFIGMAPS, 'default', 'shared'), 'still there: b owns it')
  await cms.delete('b')
  await gone(client, CONFIGMAPS, 'default', 'shared')
})

t.test('foreground: the owner waits for its blocking dependents, then goes', async (t) => {
  const { client } = await startCluster(t, ['garbagecollector'])
  const cms = client.resource(CONFIGMAPS, 'default')
  const owner = await cms.create(cm('fg-owner'))
  // The blocking dependent is held by a finalizer of its own, so the wait is visible.
  await cms.create(cm('fg-held', [ref(owner, { blockOwnerDeletion: true })], ['example.com/hold']))
  await cms.create(cm('fg-free', [ref(owner, { blockOwnerDeletion: true })]))
  await cms.create(cm('fg-loose', [ref(owner)]))

  const res = (await cms.delete('fg-owner', { propagationPolicy: 'Foreground' })) as KubeObject
  t.strictSame(res.metadata?.finalizers, ['foregroundDeletion'], 'the apiserver marks the owner')

  await gone(client, CONFIGMAPS, 'default', 'fg-free')
  await gone(client, CONFIGMAPS, 'default', 'fg-loose')
  const held = await eventually('fg-held marked for deletion', async () => {
    const o = await cms.get('fg-held')
    return o.metadata?.deletionTimestamp !== undefined ? o : undefined
  })
  t.ok(held.metadata?.deletionTimestamp, 'the held dependent is being deleted')
  await settle(1000)
  const waiting = await cms.get('fg-owner')
  t.ok(waiting.metadata?.deletionTimestamp, 'the owner is still there, deleting')
  t.strictSame(waiting.metadata?.finalizers, ['foregroundDeletion'], 'waiting on its blocking dependent')

  await cms.patch('fg-held', 'merge', { metadata: { finalizers: null } })
  await gone(client, CONFIGMAPS, 'default', 'fg-held')
  await gone(client, CONFIGMAPS, 'default', 'fg-owner')
  t.pass('the owner went once its blocking dependent was gone')
})

t.test('foreground through two levels: ReplicaSet → pods, with blockOwnerDeletion', async (t) => {
  const { client } = await startCluster(t, ['garbagecollector'])
  const cms = client.resource(CONFIGMAPS, 'default')
  const top = await cms.create(cm('top'))
  const replicaSet = await client.resource(REPLICASETS, 'default').create({ ...rs('mid'), metadata: { name: 'mid', ownerReferences: [ref(top, { controller: true, blockOwnerDeletion: true })] } })
  await client.resource(PODS, 'default').create(pod('mid-1', [ref(replicaSet, { controller: true, blockOwnerDeletion: true })]))
  await cms.delete('top', { propagationPolicy: 'Foreground' })
  await gone(client, PODS, 'default', 'mid-1')
  await gone(client, REPLICASETS, 'default', 'mid')
  await gone(client, CONFIGMAPS, 'default', 'top')
  t.pass('pods, then the ReplicaSet, then the top owner')
})

t.test('orphan: dependents lose the reference and stay; the owner goes', async (t) => {
  const { client } = await startCluster(t, ['garbagecollector'])
  const cms = client.resource(CONFIGMAPS, 'default')
  const owner = await cms.create(cm('orphaner'))
  const other = await cms.create(cm('other-owner'))
  await cms.create(cm('o-1', [ref(owner, { controller: true, blockOwnerDeletion: true })]))
  await cms.create(cm('o-2', [ref(owner), ref(other)]))
  const replicaSet = await client.resource(REPLICASETS, 'default').create(rs('orphan-rs'))
  await client.resource(PODS, 'default').create(pod('orphan-rs-1', [ref(replicaSet, { controller: true, blockOwnerDeletion: true })]))

  const res = (await cms.delete('orphaner', { propagationPolicy: 'Orphan' })) as KubeObject
  t.strictSame(res.metadata?.finalizers, ['orphan'])
  await gone(client, CONFIGMAPS, 'default', 'orphaner')
  t.strictSame(await ownersOf(client, 'o-1'), [], 'o-1 kept, no owner')
  t.strictSame(
    (await ownersOf(client, 'o-2')).map((r) => r.name),
    ['other-owner'],
    'o-2 keeps its other owner',
  )

  await client.resource(REPLICASETS, 'default').delete('orphan-rs', { propagationPolicy: 'Orphan' })
  await gone(client, REPLICASETS, 'default', 'orphan-rs')
  const p = await client.resource(PODS, 'default').get('orphan-rs-1')
  t.strictSame(p.metadata?.ownerReferences ?? [], [], 'the pod stays, orphaned')
  await settle(500)
  t.ok(await exists(client, CONFIGMAPS, 'default', 'o-1'), 'orphans are not collected later')
})

t.test('dangling references: owners that never existed, or exist under another uid', async (t) => {
  const { client } = await startCluster(t, ['garbagecollector'])
  const cms = client.resource(CONFIGMAPS, 'default')
  const ghost: OwnerReference = { apiVersion: 'v1', kind: 'ConfigMap', name: 'never-was', uid: '00000000-0000-0000-0000-000000000001' }
  await cms.create(cm('haunted', [ghost]))
  await gone(client, CONFIGMAPS, 'default', 'haunted')
  t.pass('a dependent of an owner that never existed is collected')

  const real = await cms.create(cm('real'))
  await cms.create(cm('impostor-child', [{ ...ref(real), uid: '00000000-0000-0000-0000-000000000002' }]))
  await gone(client, CONFIGMAPS, 'default', 'impostor-child')
  t.ok(await exists(client, CONFIGMAPS, 'default', 'real'), 'the name exists with another uid: the reference is dangling, the named object untouched')

  // A cluster-scoped owner referenced from a namespace (a Node owning a Secret) is looked up cluster-wide.
  const node = await client.resource(NODES).create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } })
  await client.resource(SECRETS, 'default').create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'node-secret', ownerReferences: [ref(node)] } })
  await settle(1000)
  t.ok(await exists(client, SECRETS, 'default', 'node-secret'), 'a cluster-scoped owner that exists holds its namespaced dependent')
  await client.resource(NODES).delete('n1')
  await gone(client, SECRETS, 'default', 'node-secret')

  // A cluster-scoped dependent cannot have a namespaced owner: kept, with a Warning event.
  const cmOwner = await cms.create(cm('ns-owner'))
  await client.resource(NODES).create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n2', ownerReferences: [ref(cmOwner)] } })
  const warning = await eventually('an OwnerRefInvalidNamespace event', async () => {
    const list = await client.resource(EVENTS, 'default').list()
    return list.items.find((e: any) => e.reason === 'OwnerRefInvalidNamespace' && e.involvedObject?.name === 'n2')
  })
  t.match(warning, { type: 'Warning', message: `ownerRef [v1/ConfigMap, namespace: , name: ns-owner, uid: ${cmOwner.metadata!.uid}] does not exist in namespace ""` })
  t.ok(await exists(client, NODES, undefined, 'n2'), 'the node is not collected')

  // An owner of a kind the server does not serve cannot be checked: the dependent stays.
  await cms.create(cm('custom-owned', [{ apiVersion: 'example.com/v1', kind: 'Widget', name: 'w', uid: '00000000-0000-0000-0000-000000000003' }]))
  await settle(1000)
  t.ok(await exists(client, CONFIGMAPS, 'default', 'custom-owned'), 'unknown owner kinds hold their dependents')
})

t.test('objects already waiting when the collector starts are handled', async (t) => {
  const { client } = await startCluster(t, [])
  const cms = client.resource(CONFIGMAPS, 'default')
  const owner = await cms.create(cm('early'))
  await cms.create(cm('early-child', [ref(owner)]))
  await cms.delete('early', { propagationPolicy: 'Orphan' })
  t.ok(await exists(client, CONFIGMAPS, 'default', 'early'), 'no collector yet: the orphan finalizer holds it')
  // A second manager on the same server, now with the collector.
  const abort = new AbortController()
  setMaxListeners(100, abort.signal)
  const running = new ControllerManager({ client, writer: client, controllers: ['garbagecollector'] }).run(abort.signal)
  t.teardown(async () => {
    abort.abort()
    await running
  })
  await gone(client, CONFIGMAPS, 'default', 'early')
  t.strictSame(await ownersOf(client, 'early-child'), [], 'orphaned on startup')
})

t.test('a pod deleted gracefully holds a foreground owner until it is really gone', async (t) => {
  const { client } = await startCluster(t, ['garbagecollector'])
  const replicaSet = await client.resource(REPLICASETS, 'default').create(rs('bound'))
  await client.resource(PODS, 'default').create(pod('bound-1', [ref(replicaSet, { controller: true, blockOwnerDeletion: true })]))
  await client.resource(PODS, 'default').bind('bound-1', 'some-node')
  await client.resource(REPLICASETS, 'default').delete('bound', { propagationPolicy: 'Foreground' })
  const terminating = await eventually('the bound pod marked for deletion', async () => {
    const p = await client.resource(PODS, 'default').get('bound-1')
    return p.metadata?.deletionTimestamp !== undefined ? p : undefined
  })
  t.equal(terminating.metadata?.deletionGracePeriodSeconds, 30, 'graceful: waits for its kubelet')
  await settle(1000)
  t.ok(await exists(client, REPLICASETS, 'default', 'bound'), 'the ReplicaSet waits for it')
  // What the kubelet does once the containers stopped.
  await client.resource(PODS, 'default').delete('bound-1', { gracePeriodSeconds: 0 })
  await gone(client, REPLICASETS, 'default', 'bound')
  t.pass('then goes')
})
