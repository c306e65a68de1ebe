// The Deployment controller against a real API server, the test playing the
// ReplicaSet controller (it writes ReplicaSet status): the first ReplicaSet and its
// names, labels and annotations; a rolling update step by step within maxSurge and
// maxUnavailable; completion with Available and Progressing as kubectl reads them.
import t from 'tap'
import { deploymentController } from '../../../src/controllers/deployment/controller.js'
import { DEPLOYMENTS, settle, startCluster } from '../helpers.js'
import { condition, deployment, eventMessages, NS, replicaSetsOf, report, setImage, sizes, waitComplete, waitCondition, waitEvent, waitSizes } from './fixtures.js'

const extra = { deployment: deploymentController }

t.test('a new Deployment gets one ReplicaSet named, labelled and annotated for its template', async (t) => {
  const { client } = await startCluster(t, ['deployment'], extra)
  const d = deployment('web', { minReadySeconds: 5 }, 'nginx:1')
  d.metadata!.annotations = { 'kubernetes.io/change-cause': 'first', 'kubectl.kubernetes.io/last-applied-configuration': '{}' }
  await client.resource(DEPLOYMENTS, NS).create(d)
  await waitSizes(client, 'web', '1:3')
  const [rs] = await replicaSetsOf(client, 'web')
  const hash = rs.metadata.labels['pod-template-hash']
  t.match(hash, /^[bcdfghjklmnpqrstvwxz2456789]+$/, 'hash made of safe characters')
  t.equal(rs.metadata.name, `web-${hash}`)
  t.same(rs.metadata.labels, { app: 'web', 'pod-template-hash': hash })
  t.same(rs.spec.selector, { matchLabels: { app: 'web', 'pod-template-hash': hash } })
  t.same(rs.spec.template.metadata.labels, { app: 'web', 'pod-template-hash': hash })
  t.equal(rs.spec.minReadySeconds, 5)
  t.match(rs.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', controller: true, blockOwnerDeletion: true }])
  t.match(rs.metadata.annotations, {
    'deployment.kubernetes.io/revision': '1',
    'deployment.kubernetes.io/desired-replicas': '3',
    // 3 + maxSurge 25% of 3 rounded up.
    'deployment.kubernetes.io/max-replicas': '4',
    'kubernetes.io/change-cause': 'first',
  })
  t.notOk('kubectl.kubernetes.io/last-applied-configuration' in rs.metadata.annotations, 'the applied configuration stays on the Deployment')

  const created = await waitCondition(client, 'web', 'Progressing', 'NewReplicaSetCreated')
  t.match(created, { status: 'True', message: `Created new replica set "${rs.metadata.name}"` })
  t.match(await condition(client, 'web', 'Available'), { status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' })
  await waitEvent(client, 'web', 'ScalingReplicaSet', `Scaled up replica set ${rs.metadata.name} from 0 to 3`)

  await report(client, rs.metadata.name)
  const done = await waitComplete(client, 'web')
  t.match(done.status, { observedGeneration: done.metadata.generation, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 })
  t.notOk('unavailableReplicas' in done.status, 'zero counts are left out, as Go writes them')
  t.match(await condition(client, 'web', 'Progressing'), { status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${rs.metadata.name}" has successfully progressed.` })
  t.match(await condition(client, 'web', 'Available'), { status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' })
  t.equal(done.metadata.annotations?.['deployment.kubernetes.io/revision'], '1', 'the Deployment carries its revision')
})

t.test('a rolling update stays within maxSurge and maxUnavailable, one step per ReplicaSet report', async (t) => {
  const { client } = await startCluster(t, ['deployment'], extra)
  await client.resource(DEPLOYMENTS, NS).create(deployment('web', { replicas: 4, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } } }))
  await waitSizes(client, 'web', '1:4')
  const [first] = await replicaSetsOf(client, 'web')
  await report(client, first.metadata.name)
  await waitComplete(client, 'web')

  await setImage(client, 'web', 'nginx:2')
  // New up by the surge (5 pods), old down by what the new one cannot yet cover.
  await waitSizes(client, 'web', '1:3 2:1')
  // The count is of pods, not only sizes: the new ReplicaSet grows again only once the
  // old one reports that its fourth pod is gone (5 pods, 3 available).
  await settle(500)
  t.equal(await sizes(client, 'web'), '1:3 2:1', 'no growth while the old pod still runs')
  await report(client, first.metadata.name)
  await waitSizes(client, 'web', '1:3 2:2')
  await settle(500)
  t.equal(await sizes(client, 'web'), '1:3 2:2', 'nothing more until the new pods are available')
  const [, second] = await replicaSetsOf(client, 'web')
  t.not(second.metadata.name, first.metadata.name)
  t.equal(second.metadata.annotations['deployment.kubernetes.io/revision'], '2')
  await waitEvent(client, 'web', 'ScalingReplicaSet', `Scaled up replica set ${second.metadata.name} from 0 to 1`)
  await waitEvent(client, 'web', 'ScalingReplicaSet', `Scaled down replica set ${first.metadata.name} from 4 to 3`)
  await waitEvent(client, 'web', 'ScalingReplicaSet', `Scaled up replica set ${second.metadata.name} from 1 to 2`)
  t.match(await condition(client, 'web', 'Progressing'), { status: 'True' })

  // The old pods report: still 5 pods, 3 available: no room either way.
  await report(client, first.metadata.name)
  await report(client, second.metadata.name, { available: 0 })
  await settle(500)
  t.equal(await sizes(client, 'web'), '1:3 2:2')

  // The new pods are available: old down to keep 3 available, then new up to the surge.
  await report(client, second.metadata.name)
  await waitSizes(client, 'web', '1:1 2:2')
  await report(client, first.metadata.name)
  await waitSizes(client, 'web', '1:1 2:4')
  await report(client, first.metadata.name)
  await report(client, second.metadata.name)
  await waitSizes(client, 'web', '1:0 2:4')
  await report(client, first.metadata.name)
  const done = await waitComplete(client, 'web')
  t.match(done.status, { replicas: 4, updatedReplicas: 4, availableReplicas: 4 })
  t.match(await condition(client, 'web', 'Progressing'), { reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${second.metadata.name}" has successfully progressed.` })

  const scaled = await eventMessages(client, 'web', 'ScalingReplicaSet')
  t.ok(scaled.includes(`Scaled down replica set ${first.metadata.name} from 1 to 0`), 'old ReplicaSet scaled to 0')
  t.equal((await replicaSetsOf(client, 'web')).length, 2, 'the old ReplicaSet stays as history')

})

t.test('unavailable old pods are removed first, even when the available ones may not go yet', async (t) => {
  const { client } = await startCluster(t, ['deployment'], extra)
  await client.resource(DEPLOYMENTS, NS).create(deployment('web', { replicas: 4, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 2, maxUnavailable: 0 } } }))
  await waitSizes(client, 'web', '1:4')
  const [first] = await replicaSetsOf(client, 'web')
  // Two of the old pods are not available (crash-looping, say).
  await report(client, first.metadata.name, { available: 2 })
  await waitCondition(client, 'web', 'Available', 'MinimumReplicasUnavailable')
  await setImage(client, 'web', 'nginx:2')
  await waitSizes(client, 'web', '1:4 2:2')
  const [, second] = await replicaSetsOf(client, 'web')
  await settle(500)
  t.equal(await sizes(client, 'web'), '1:4 2:2', 'no old pod goes while the new ones are unavailable')
  // With 2 new pods available, only 4 are: no available old pod may go, but the 2 unavailable ones do.
  await report(client, second.metadata.name)
  await waitSizes(client, 'web', '1:2 2:2')
  // The new ones grow once the old ReplicaSet reports those two pods gone.
  await report(client, first.metadata.name, { available: 2 })
  await waitSizes(client, 'web', '1:2 2:4')
  const scaled = await eventMessages(client, 'web', 'ScalingReplicaSet')
  t.ok(scaled.includes(`Scaled down replica set ${first.metadata.name} from 4 to 2`), scaled.join('\n'))
  t.ok(scaled.includes(`Scaled up replica set ${second.metadata.name} from 2 to 4`), scaled.join('\n'))
})
