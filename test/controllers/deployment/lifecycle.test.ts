// The Deployment controller across a Deployment's life, the test playing the
// ReplicaSet controller: pause and resume, a resize in the middle of a rollout shared
// out proportionally, a rollback to an earlier template reusing its ReplicaSet under a
// new revision, history pruned to revisionHistoryLimit, adoption of an orphan, and the
// legacy server-side rollback (deprecated.deployment.rollback.to).
/* eslint-disable @typescript-eslint/no-explicit-any -- objects are read by path in assertions */
import t from 'tap'
import type { RestClient } from '../../../src/client/index.js'
import { deploymentController } from '../../../src/controllers/deployment/controller.js'
import { DEPLOYMENTS, eventually, REPLICASETS, settle, startCluster } from '../helpers.js'
import {
  condition,
  deployment,
  eventMessages,
  getDeployment,
  NS,
  replicaSetsOf,
  report,
  reportAll,
  setImage,
  sizes,
  waitComplete,
  waitCondition,
  waitSizes,
} from './fixtures.js'

const extra = { deployment: deploymentController }

/** Rolls the Deployment out to completion, reporting every ReplicaSet available at each step. */
async function rollOut(client: RestClient, name: string): Promise<void> {
  await eventually(`${name} rolled out`, async () => {
    await reportAll(client, name)
    const d = await getDeployment(client, name)
    const s = d.status ?? {}
    const progressing = (s.conditions ?? []).find((c: any) => c.type === 'Progressing')
    return s.observedGeneration >= d.metadata.generation && s.updatedReplicas === d.spec.replicas && s.replicas === d.spec.replicas && progressing?.reason === 'NewReplicaSetAvailable'
      ? true
      : undefined
  })
}

t.test('a paused Deployment rolls nothing out but still scales; resuming rolls out', async (t) => {
  const { client } = await startCluster(t, ['deployment'], extra)
  await client.resource(DEPLOYMENTS, NS).create(deployment('web', { replicas: 2 }))
  await waitSizes(client, 'web', '1:2')
  await rollOut(client, 'web')

  await client.resource(DEPLOYMENTS, NS).patch('web', 'merge', { spec: { paused: true } })
  const pausedCond = await waitCondition(client, 'web', 'Progressing', 'DeploymentPaused')
  t.match(pausedCond, { status: 'Unknown', message: 'Deployment is paused' })
  await setImage(client, 'web', 'nginx:2')
  await client.resource(DEPLOYMENTS, NS).patch('web', 'merge', { spec: { replicas: 3 } })
  await waitSizes(client, 'web', '1:3')
  await settle(500)
  t.equal((await replicaSetsOf(client, 'web')).length, 1, 'no new ReplicaSet while paused')
  const d = await eventually('observed', async () => {
    const x = await getDeployment(client, 'web')
    return x.status.observedGeneration === x.metadata.generation ? x : undefined
  })
  t.equal(d.status.observedGeneration, d.metadata.generation, 'a paused Deployment is still observed')

  await client.resource(DEPLOYMENTS, NS).patch('web', 'merge', { spec: { paused: false } })
  await eventually('a new ReplicaSet', async () => ((await replicaSetsOf(client, 'web')).length === 2 ? true : undefined))
  const progressing = await condition(client, 'web', 'Progressing')
  t.ok(['DeploymentResumed', 'NewReplicaSetCreated', 'ReplicaSetUpdated'].includes(progressing.reason), progressing.reason)
  await rollOut(client, 'web')
  await waitSizes(client, 'web', '1:0 2:3')
})

t.test('a resize mid-rollout is shared out in proportion to each ReplicaSet', async (t) => {
  const { client } = await startCluster(t, ['deployment'], extra)
  await client.resource(DEPLOYMENTS, NS).create(deployment('web', { replicas: 10, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 3, maxUnavailable: 2 } } }))
  await waitSizes(client, 'web', '1:10')
  await rollOut(client, 'web')
  await setImage(client, 'web', 'nginx:2')
  // 13 pods at most, 8 available at least: new 3, old 8, then (once the old ReplicaSet
  // reports its 2 pods gone) new 5 while the new pods start.
  await waitSizes(client, 'web', '1:8 2:3')
  const [old, neu] = await replicaSetsOf(client, 'web')
  await report(client, old.metadata.name)
  await waitSizes(client, 'web', '1:8 2:5')
  await client.resource(DEPLOYMENTS, NS).patch('web', 'merge', { spec: { replicas: 20 } })
  // 23 allowed, 13 running: 10 more, 8/13 and 5/13 of 23 (14 and 9) for each.
  await waitSizes(client, 'web', '1:14 2:9')
  const rss = await replicaSetsOf(client, 'web')
  for (const rs of rss) t.match(rs.metadata.annotations, { 'deployment.kubernetes.io/desired-replicas': '20', 'deployment.kubernetes.io/max-replicas': '23' })
  const scaled = await eventMessages(client, 'web', 'ScalingReplicaSet')
  t.ok(scaled.includes(`Scaled up replica set ${old.metadata.name} from 8 to 14`), scaled.join('\n'))
  t.ok(scaled.includes(`Scaled up replica set ${neu.metadata.name} from 5 to 9`), scaled.join('\n'))

  // Down again: 13 allowed, 23 running, the larger (older) one gives up more.
  await client.resource(DEPLOYMENTS, NS).patch('web', 'merge', { spec: { replicas: 10 } })
  await waitSizes(client, 'web', '1:8 2:5')
  await rollOut(client, 'web')
  await waitSizes(client, 'web', '1:0 2:10')
})

t.test('going back to an earlier template reuses its ReplicaSet under the next revision', async (t) => {
  const { client } = await startCluster(t, ['deployment'], extra)
  await client.resource(DEPLOYMENTS, NS).create(deployment('web', { replicas: 2 }, 'nginx:1'))
  await waitSizes(client, 'web', '1:2')
  await rollOut(client, 'web')
  const [first] = await replicaSetsOf(client, 'web')
  await setImage(client, 'web', 'nginx:2')
  await rollOut(client, 'web')
  await waitSizes(client, 'web', '1:0 2:2')

  // What `kubectl rollout undo` does: the Deployment takes the old ReplicaSet's template back.
  await setImage(client, 'web', 'nginx:1')
  await rollOut(client, 'web')
  await waitSizes(client, 'web', '2:0 3:2')
  const rss = await replicaSetsOf(client, 'web')
  t.equal(rss.length, 2, 'no third ReplicaSet')
  const reused = rss[1]
  t.equal(reused.metadata.name, first.metadata.name, 'the first ReplicaSet runs again')
  t.equal(reused.metadata.uid, first.metadata.uid)
  t.match(reused.metadata.annotations, { 'deployment.kubernetes.io/revision': '3', 'deployment.kubernetes.io/revision-history': '1' })

  // And forward again: revision-history grows.
  await setImage(client, 'web', 'nginx:2')
  await rollOut(client, 'web')
  await waitSizes(client, 'web', '3:0 4:2')
  t.match((await replicaSetsOf(client, 'web'))[1].metadata.annotations, { 'deployment.kubernetes.io/revision-history': '2' })
})

t.test('old ReplicaSets beyond revisionHistoryLimit are deleted once scaled down, oldest revision first', async (t) => {
  const { client } = await startCluster(t, ['deployment'], extra)
  await client.resource(DEPLOYMENTS, NS).create(deployment('web', { replicas: 1, revisionHistoryLimit: 1 }, 'nginx:1'))
  await waitSizes(client, 'web', '1:1')
  await rollOut(client, 'web')
  for (const image of ['nginx:2', 'nginx:3']) {
    await setImage(client, 'web', image)
    await rollOut(client, 'web')
  }
  // Revision 1 goes; revision 2 is the one kept for a rollback.
  await waitSizes(client, 'web', '2:0 3:1')
  const rss = await replicaSetsOf(client, 'web')
  t.same(rss.map((rs) => rs.spec.template.spec.containers[0].image), ['nginx:2', 'nginx:3'])

  await client.resource(DEPLOYMENTS, NS).patch('web', 'merge', { spec: { revisionHistoryLimit: 0 } })
  await setImage(client, 'web', 'nginx:4')
  await rollOut(client, 'web')
  await waitSizes(client, 'web', '4:1')
})

t.test('an orphan ReplicaSet with the template is adopted instead of creating another', async (t) => {
  const { client } = await startCluster(t, ['deployment'], extra)
  const d = deployment('web', { replicas: 2 })
  await client.resource(REPLICASETS, NS).create({
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: 'handmade', labels: { app: 'web' } },
    spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: structuredClone((d.spec as any).template) },
  })
  await client.resource(DEPLOYMENTS, NS).create(d)
  const rs = await eventually('adopted', async () => {
    const x = (await client.resource(REPLICASETS, NS).get('handmade')) as any
    return x.metadata.ownerReferences?.[0]?.kind === 'Deployment' ? x : undefined
  })
  t.match(rs.metadata.ownerReferences, [{ kind: 'Deployment', name: 'web', controller: true }])
  await report(client, 'handmade')
  await waitComplete(client, 'web')
  t.equal((await replicaSetsOf(client, 'web')).length, 1, 'the adopted ReplicaSet is the new one')
  t.equal(await sizes(client, 'web'), '1:2')
})

t.test('the legacy rollback annotation rolls the template back and is cleared', async (t) => {
  const { client } = await startCluster(t, ['deployment'], extra)
  await client.resource(DEPLOYMENTS, NS).create(deployment('web', { replicas: 1 }, 'nginx:1'))
  await waitSizes(client, 'web', '1:1')
  await rollOut(client, 'web')
  await setImage(client, 'web', 'nginx:2')
  await rollOut(client, 'web')
  await client.resource(DEPLOYMENTS, NS).patch('web', 'merge', { metadata: { annotations: { 'deprecated.deployment.rollback.to': '0' } } })
  const back = await eventually('rolled back', async () => {
    const d = await getDeployment(client, 'web')
    return d.spec.template.spec.containers[0].image === 'nginx:1' ? d : undefined
  })
  t.notOk('deprecated.deployment.rollback.to' in (back.metadata.annotations ?? {}), 'the request is cleared')
  await eventually('event', async () => ((await eventMessages(client, 'web', 'DeploymentRollback')).includes('Rolled back deployment "web" to revision 1') ? true : undefined))
  await rollOut(client, 'web')
  await waitSizes(client, 'web', '2:0 3:1')

  await client.resource(DEPLOYMENTS, NS).patch('web', 'merge', { metadata: { annotations: { 'deprecated.deployment.rollback.to': '7' } } })
  await eventually('not found', async () =>
    (await eventMessages(client, 'web', 'DeploymentRollbackRevisionNotFound')).includes('Unable to find the revision to rollback to.') ? true : undefined,
  )
  t.notOk('deprecated.deployment.rollback.to' in ((await getDeployment(client, 'web')).metadata.annotations ?? {}))
})
