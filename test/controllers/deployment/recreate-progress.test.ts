// Recreate: the old ReplicaSet goes to 0 and the new one is created only once no old
// pod runs. Progress deadline: a rollout that reports nothing for
// progressDeadlineSeconds is marked ProgressDeadlineExceeded, and a hash collision
// moves status.collisionCount.
import t from 'tap'
import { deploymentController } from '../../../src/controllers/deployment/controller.js'
import { computeHash } from '../../../src/controllers/util/hash.js'
import { DEPLOYMENTS, eventually, PODS, REPLICASETS, settle, startCluster } from '../helpers.js'
import { condition, deployment, getDeployment, NS, replicaSetsOf, report, setImage, waitComplete, waitCondition, waitEvent, waitSizes } from './fixtures.js'

const extra = { deployment: deploymentController }

t.test('Recreate: old pods all gone before the new ReplicaSet exists', async (t) => {
  const { client } = await startCluster(t, ['deployment'], extra)
  await client.resource(DEPLOYMENTS, NS).create(deployment('web', { replicas: 2, strategy: { type: 'Recreate' } }))
  await waitSizes(client, 'web', '1:2')
  const [old] = await replicaSetsOf(client, 'web')
  await report(client, old.metadata.name)
  await waitComplete(client, 'web')
  // A pod of the old ReplicaSet, running.
  const pod = await client.resource(PODS, NS).create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'old-pod',
      labels: { app: 'web', 'pod-template-hash': old.metadata.labels['pod-template-hash'] },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: old.metadata.name, uid: old.metadata.uid, controller: true }],
    },
    spec: { containers: [{ name: 'web', image: 'nginx:1' }] },
  })
  await client.resource(PODS, NS).updateStatus({ ...pod, status: { phase: 'Running' } })

  await setImage(client, 'web', 'nginx:2')
  await waitSizes(client, 'web', '1:0')
  await waitEvent(client, 'web', 'ScalingReplicaSet', `Scaled down replica set ${old.metadata.name} from 2 to 0`)
  await settle(500)
  t.equal((await replicaSetsOf(client, 'web')).length, 1, 'no new ReplicaSet while the old one reports pods')
  await report(client, old.metadata.name, { replicas: 0 })
  await settle(500)
  t.equal((await replicaSetsOf(client, 'web')).length, 1, 'no new ReplicaSet while an old pod runs')

  await client.resource(PODS, NS).delete('old-pod')
  await waitSizes(client, 'web', '1:0 2:2')
  const [, neu] = await replicaSetsOf(client, 'web')
  await waitEvent(client, 'web', 'ScalingReplicaSet', `Scaled up replica set ${neu.metadata.name} from 0 to 2`)
  t.equal(neu.metadata.annotations['deployment.kubernetes.io/max-replicas'], '2', 'no surge for Recreate')
  await report(client, neu.metadata.name)
  await waitComplete(client, 'web')
})

t.test('a rollout that reports no progress for progressDeadlineSeconds times out', async (t) => {
  const { client } = await startCluster(t, ['deployment'], extra)
  await client.resource(DEPLOYMENTS, NS).create(deployment('web', { replicas: 2, progressDeadlineSeconds: 2 }))
  await waitSizes(client, 'web', '1:2')
  const [rs] = await replicaSetsOf(client, 'web')
  // One pod comes up: progress, which restarts the clock.
  await report(client, rs.metadata.name, { replicas: 2, available: 1 })
  const updated = await waitCondition(client, 'web', 'Progressing', 'ReplicaSetUpdated')
  t.match(updated, { status: 'True', message: `ReplicaSet "${rs.metadata.name}" is progressing.` })
  // Nothing else: the controller comes back at the deadline by itself.
  const timedOut = await waitCondition(client, 'web', 'Progressing', 'ProgressDeadlineExceeded')
  t.match(timedOut, { status: 'False', message: `ReplicaSet "${rs.metadata.name}" has timed out progressing.` })
  // maxUnavailable 25% of 2 rounds down to 0: both pods must be available.
  t.match(await condition(client, 'web', 'Available'), { status: 'False', reason: 'MinimumReplicasUnavailable' })

  // Finishing the rollout clears the timeout.
  await report(client, rs.metadata.name)
  await waitCondition(client, 'web', 'Progressing', 'NewReplicaSetAvailable')
})

t.test('a name taken by another template bumps collisionCount and the next ReplicaSet is named afresh', async (t) => {
  const { client } = await startCluster(t, ['deployment'], extra)
  // Paused, the Deployment creates nothing: its stored (defaulted) template is what is hashed.
  await client.resource(DEPLOYMENTS, NS).create(deployment('web', { replicas: 1, paused: true }))
  const template = (await getDeployment(client, 'web')).spec.template
  const hash = computeHash(template, undefined)
  // Someone else's ReplicaSet under the name the template hashes to.
  await client.resource(REPLICASETS, NS).create({
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: `web-${hash}`, labels: { other: 'x' } },
    spec: { replicas: 0, selector: { matchLabels: { other: 'x' } }, template: { metadata: { labels: { other: 'x' } }, spec: { containers: [{ name: 'c', image: 'other' }] } } },
  })
  await client.resource(DEPLOYMENTS, NS).patch('web', 'merge', { spec: { paused: false } })
  const dep = await eventually('collisionCount', async () => {
    const x = await getDeployment(client, 'web')
    return x.status?.collisionCount === 1 ? x : undefined
  })
  t.equal(dep.status.collisionCount, 1)
  const rs = await eventually('a ReplicaSet', async () => (await replicaSetsOf(client, 'web'))[0])
  t.equal(rs.metadata.name, `web-${computeHash(template, 1)}`)
  t.not(rs.metadata.name, `web-${hash}`)
})
