// The ReplicationController controller: the ReplicaSet controller's behaviour over the
// v1 shape (a plain label-map selector, defaulted from the template): pods owned
// through a v1 controllerRef, scaling through the scale subresource, status counts,
// adoption, and cascading deletion by the garbage collector.
/* eslint-disable @typescript-eslint/no-explicit-any -- objects are read by path in assertions */
import t from 'tap'
import { replicationControllerController } from '../../../src/controllers/replicaset/controller.js'
import { eventually, PODS, REPLICATION_CONTROLLERS, settle, startCluster } from '../helpers.js'
import { activePods, eventsFor, NS, orphanPod, replicationController, scale, setRunning, waitActive, waitStatus } from './fixtures.js'

const { client } = await startCluster(t, ['replicationcontroller', 'garbagecollector'], { replicationcontroller: replicationControllerController })
const rcs = client.resource(REPLICATION_CONTROLLERS, NS)

t.test('creates, scales and reports the status of a ReplicationController', async (t) => {
  const rc: any = await rcs.create(replicationController('legacy', 2, { minReadySeconds: 1 }))
  const pods = await waitActive(client, 'legacy', 2)
  for (const p of pods) {
    t.equal(p.metadata.generateName, 'legacy-')
    t.strictSame(p.metadata.ownerReferences, [{ apiVersion: 'v1', kind: 'ReplicationController', name: 'legacy', uid: rc.metadata.uid, controller: true, blockOwnerDeletion: true }])
  }
  await waitStatus(client, REPLICATION_CONTROLLERS, 'legacy', { replicas: 2, fullyLabeledReplicas: 2, observedGeneration: 1 })
  const created = await eventually('SuccessfulCreate events', async () => {
    const evs = (await eventsFor(client, 'legacy')).filter((e) => e.reason === 'SuccessfulCreate')
    return evs.length === 2 ? evs : undefined
  })
  t.match(created[0], { source: { component: 'replication-controller' }, involvedObject: { kind: 'ReplicationController', apiVersion: 'v1' } })

  await setRunning(client, pods[0].metadata.name, true, new Date(Date.now() - 60_000))
  const readySince = new Date()
  await setRunning(client, pods[1].metadata.name, true, readySince)
  await waitStatus(client, REPLICATION_CONTROLLERS, 'legacy', { readyReplicas: 2, availableReplicas: 2 })
  t.ok(Date.now() >= Math.floor(readySince.getTime() / 1000) * 1000 + 1000, 'available only after minReadySeconds')

  await scale(client, REPLICATION_CONTROLLERS, 'legacy', 4)
  await waitActive(client, 'legacy', 4)
  await waitStatus(client, REPLICATION_CONTROLLERS, 'legacy', { replicas: 4, readyReplicas: 2, observedGeneration: 2 })

  await scale(client, REPLICATION_CONTROLLERS, 'legacy', 1)
  const [left] = await waitActive(client, 'legacy', 1)
  t.equal(left.metadata.name, pods[0].metadata.name, 'the pods not ready, then the most recently ready, went first')
  await waitStatus(client, REPLICATION_CONTROLLERS, 'legacy', { replicas: 1, readyReplicas: 1, availableReplicas: 1, observedGeneration: 3 })
  await settle()
  t.equal((await activePods(client, 'legacy')).length, 1)

  await rcs.delete('legacy')
  await eventually('pods removed by the garbage collector', async () => ((await activePods(client, 'legacy')).length === 0 ? true : undefined))
})

t.test('a ReplicationController adopts a matching orphan and replaces a deleted pod', async (t) => {
  await client.resource(PODS, NS).create(orphanPod('old-web', { app: 'rcadopt' }))
  await rcs.create(replicationController('rcadopt', 2))
  const two = await waitActive(client, 'rcadopt', 2)
  t.ok(two.some((p) => p.metadata.name === 'old-web'), 'the orphan counts')
  await eventually('orphan adopted', async () => ((await client.resource(PODS, NS).get('old-web')).metadata?.ownerReferences?.[0]?.kind === 'ReplicationController' ? true : undefined))
  await client.resource(PODS, NS).delete('old-web')
  const now = await waitActive(client, 'rcadopt', 2)
  t.notOk(now.some((p) => p.metadata.name === 'old-web'))
})
