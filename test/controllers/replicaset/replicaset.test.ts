// The ReplicaSet controller against a real API server, with the garbage collector
// (the test plays the kubelet and scheduler: it binds pods and writes their status):
// creating replicas, scaling both ways and which pods go first, adoption and release,
// replacement of deleted pods, and the status counts with minReadySeconds.
/* eslint-disable @typescript-eslint/no-explicit-any -- objects are read by path in assertions */
import t from 'tap'
import { replicaSetController } from '../../../src/controllers/replicaset/controller.js'
import { DEPLOYMENTS, eventually, gone, PODS, REPLICASETS, settle, startCluster } from '../helpers.js'
import { activePods, eventsFor, NS, orphanPod, replicaSet, scale, setRunning, waitActive, waitStatus } from './fixtures.js'

const { client } = await startCluster(t, ['replicaset', 'garbagecollector'], { replicaset: replicaSetController })
const pods = client.resource(PODS, NS)
const sets = client.resource(REPLICASETS, NS)

t.test('creates its replicas from the template, each owned through a controllerRef', async (t) => {
  const rs: any = await sets.create(replicaSet('web', 3))
  const created = await waitActive(client, 'web', 3)
  for (const p of created) {
    t.equal(p.metadata.generateName, 'web-')
    t.ok(p.metadata.name.startsWith('web-'))
    t.strictSame(p.metadata.labels, { app: 'web', tier: 'web' }, 'labels from the template')
    t.strictSame(p.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: rs.metadata.uid, controller: true, blockOwnerDeletion: true }])
  }
  const status = (await waitStatus(client, REPLICASETS, 'web', { replicas: 3, fullyLabeledReplicas: 3, observedGeneration: 1 })).status
  t.notOk('readyReplicas' in status, 'zero counts are left out, as the API prints them')
  const events = await eventually('three SuccessfulCreate events', async () => {
    const evs = (await eventsFor(client, 'web')).filter((e) => e.reason === 'SuccessfulCreate')
    return evs.length === 3 ? evs : undefined
  })
  t.strictSame(events.map((e) => e.message).sort(), created.map((p) => `Created pod: ${p.metadata.name}`).sort())
  t.match(events[0], { type: 'Normal', source: { component: 'replicaset-controller' }, involvedObject: { kind: 'ReplicaSet', apiVersion: 'apps/v1', name: 'web' } })
  await settle()
  t.equal((await activePods(client, 'web')).length, 3, 'no more pods than replicas')

  await sets.delete('web')
  await eventually('pods removed by the garbage collector', async () => ((await activePods(client, 'web')).length === 0 ? true : undefined))
})

t.test('scaling down deletes unscheduled, pending, then not-ready pods first; newest-ready among ready', async (t) => {
  await sets.create(replicaSet('down', 5))
  const [unscheduled, pending, notReady, readyOld, readyNew] = (await waitActive(client, 'down', 5)).map((p) => p.metadata.name as string)
  await pods.bind(pending!, 'node-a')
  await pods.bind(notReady!, 'node-a')
  await setRunning(client, notReady!, false)
  await pods.bind(readyOld!, 'node-b')
  await setRunning(client, readyOld!, true, new Date(Date.now() - 120_000))
  await pods.bind(readyNew!, 'node-c')
  await setRunning(client, readyNew!, true, new Date(Date.now() - 60_000))
  // Status reflects the last write, so the controller's cache holds every one before.
  await waitStatus(client, REPLICASETS, 'down', { replicas: 5, readyReplicas: 2, availableReplicas: 2 })

  await scale(client, REPLICASETS, 'down', 2)
  const left = await waitActive(client, 'down', 2)
  t.strictSame(left.map((p) => p.metadata.name).sort(), [readyOld, readyNew].sort(), 'the two ready pods stay')
  t.ok(await gone(client, PODS, NS, unscheduled!), 'an unscheduled pod goes at once')
  const terminating = ((await pods.list({ labelSelector: 'app=down' })).items as any[]).filter((p) => p.metadata.deletionTimestamp !== undefined).map((p) => p.metadata.name)
  t.strictSame(terminating.sort(), [pending, notReady].sort(), 'bound pods terminate gracefully')
  await waitStatus(client, REPLICASETS, 'down', { replicas: 2, readyReplicas: 2, observedGeneration: 2 })
  const deleted = await eventually('SuccessfulDelete events', async () => {
    const evs = (await eventsFor(client, 'down')).filter((e) => e.reason === 'SuccessfulDelete')
    return evs.length === 3 ? evs : undefined
  })
  t.strictSame(deleted.map((e) => e.message).sort(), [unscheduled, pending, notReady].map((n) => `Deleted pod: ${n}`).sort())

  await scale(client, REPLICASETS, 'down', 1)
  const [last] = await waitActive(client, 'down', 1)
  t.equal(last.metadata.name, readyOld, 'the pod ready for longer stays')

  await scale(client, REPLICASETS, 'down', 3)
  await waitActive(client, 'down', 3)
  await waitStatus(client, REPLICASETS, 'down', { replicas: 3, observedGeneration: 4 })
})

t.test('scaling down prefers pods doubled up on a node', async (t) => {
  await sets.create(replicaSet('spread', 3))
  const [a, b, c] = (await waitActive(client, 'spread', 3)).map((p) => p.metadata.name as string)
  const since = new Date(Date.now() - 60_000)
  await pods.bind(a!, 'node-a')
  await pods.bind(b!, 'node-a')
  await pods.bind(c!, 'node-b')
  for (const n of [a!, b!, c!]) await setRunning(client, n, true, since)
  await waitStatus(client, REPLICASETS, 'spread', { readyReplicas: 3 })
  await scale(client, REPLICASETS, 'spread', 2)
  const left = (await waitActive(client, 'spread', 2)).map((p) => p.spec.nodeName).sort()
  t.strictSame(left, ['node-a', 'node-b'], 'one of the two pods sharing node-a went')
})

t.test('a ReplicaSet of a Deployment also counts its sibling ReplicaSets\' pods when choosing whom to delete', async (t) => {
  // No Deployment controller runs: the Deployment only owns the two ReplicaSets.
  const d: any = await client.resource(DEPLOYMENTS, NS).create({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'sib' },
    spec: { replicas: 0, selector: { matchLabels: { app: 'sib' } }, template: { metadata: { labels: { app: 'sib' } }, spec: { containers: [{ name: 'main', image: 'nginx' }] } } },
  })
  const ownedBy = (o: any): any => ({ ...o, metadata: { ...o.metadata, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'sib', uid: d.metadata.uid, controller: true, blockOwnerDeletion: true }] } })
  await sets.create(ownedBy(replicaSet('sib-old', 2)))
  await sets.create(ownedBy(replicaSet('sib-new', 2)))
  const [x, y] = (await waitActive(client, 'sib-new', 2)).map((p) => p.metadata.name as string)
  const olds = (await waitActive(client, 'sib-old', 2)).map((p) => p.metadata.name as string)
  for (const n of olds) {
    await pods.bind(n, 'node-y')
    await setRunning(client, n, true, new Date(Date.now() - 300_000))
  }
  // Alone, x (ready more recently) would go first; but y shares node-y with the sibling's two pods.
  await pods.bind(x!, 'node-x')
  await setRunning(client, x!, true, new Date(Date.now() - 30_000))
  await pods.bind(y!, 'node-y')
  await setRunning(client, y!, true, new Date(Date.now() - 120_000))
  await waitStatus(client, REPLICASETS, 'sib-new', { readyReplicas: 2 })
  await scale(client, REPLICASETS, 'sib-new', 1)
  const [left] = await waitActive(client, 'sib-new', 1)
  t.equal(left.metadata.name, x, 'the pod on the crowded node went')
})

t.test('adopts a matching orphan instead of creating a pod', async (t) => {
  await pods.create(orphanPod('stray', { app: 'adopt', tier: 'web' }))
  const rs: any = await sets.create(replicaSet('adopt', 2))
  const two = await waitActive(client, 'adopt', 2)
  t.ok(two.some((p) => p.metadata.name === 'stray'), 'the orphan counts')
  const stray: any = await eventually('stray adopted', async () => {
    const p: any = await pods.get('stray')
    return p.metadata.ownerReferences?.[0]?.uid === rs.metadata.uid ? p : undefined
  })
  t.match(stray.metadata.ownerReferences, [{ kind: 'ReplicaSet', name: 'adopt', controller: true, blockOwnerDeletion: true }])
  await settle()
  t.equal((await activePods(client, 'adopt')).length, 2)
  t.equal((await eventsFor(client, 'adopt')).filter((e) => e.reason === 'SuccessfulCreate').length, 1, 'only one pod created')
})

t.test('releases a pod whose labels stop matching and creates a replacement', async (t) => {
  await sets.create(replicaSet('rel', 2))
  const [victim] = await waitActive(client, 'rel', 2)
  await pods.patch(victim.metadata.name, 'merge', { metadata: { labels: { app: 'elsewhere' } } })
  const released: any = await eventually('pod released', async () => {
    const p: any = await pods.get(victim.metadata.name)
    return (p.metadata.ownerReferences ?? []).length === 0 ? p : undefined
  })
  t.equal(released.metadata.labels.app, 'elsewhere')
  const now = await waitActive(client, 'rel', 2)
  t.notOk(now.some((p) => p.metadata.name === victim.metadata.name), 'a replacement took its place')
  await waitStatus(client, REPLICASETS, 'rel', { replicas: 2 })
})

t.test('a deleted pod is replaced, a gracefully terminating one at once', async (t) => {
  await sets.create(replicaSet('heal', 2))
  const [first, second] = await waitActive(client, 'heal', 2)
  await pods.delete(first.metadata.name)
  let now = await waitActive(client, 'heal', 2)
  t.notOk(now.some((p) => p.metadata.name === first.metadata.name))

  // A bound pod stays while its (absent) kubelet would stop it; it no longer counts.
  await pods.bind(second.metadata.name, 'node-a')
  await pods.delete(second.metadata.name)
  now = await waitActive(client, 'heal', 2)
  t.notOk(now.some((p) => p.metadata.name === second.metadata.name))
  t.ok((await pods.get(second.metadata.name)).metadata?.deletionTimestamp !== undefined, 'the old pod is still terminating')
  await waitStatus(client, REPLICASETS, 'heal', { replicas: 2 })
})

t.test('status counts ready pods, and available ones once ready for minReadySeconds', async (t) => {
  await sets.create(replicaSet('avail', 2, { minReadySeconds: 2 }))
  const [a, b] = (await waitActive(client, 'avail', 2)).map((p) => p.metadata.name as string)
  await setRunning(client, b!, true, new Date(Date.now() - 60_000))
  await waitStatus(client, REPLICASETS, 'avail', { replicas: 2, readyReplicas: 1, availableReplicas: 1 })
  const readySince = new Date()
  await setRunning(client, a!, true, readySince)
  // Nothing changes on the pod when its minReadySeconds pass: the controller must look again by itself.
  await waitStatus(client, REPLICASETS, 'avail', { readyReplicas: 2, availableReplicas: 2 })
  t.ok(Date.now() >= Math.floor(readySince.getTime() / 1000) * 1000 + 2000, 'not available before minReadySeconds')
  await setRunning(client, a!, false)
  await waitStatus(client, REPLICASETS, 'avail', { readyReplicas: 1, availableReplicas: 1 })
})
