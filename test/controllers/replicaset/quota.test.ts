// A ReplicaSet held back by a ResourceQuota: the refused creation is a FailedCreate
// Event and a ReplicaFailure condition; the controller keeps retrying with back-off,
// and once the quota is raised the missing pod is created and the condition cleared.
/* eslint-disable @typescript-eslint/no-explicit-any -- objects are read by path in assertions */
import t from 'tap'
import { replicaSetController } from '../../../src/controllers/replicaset/controller.js'
import { eventually, REPLICASETS, RESOURCE_QUOTAS, settle, startCluster } from '../helpers.js'
import { activePods, eventsFor, NS, replicaSet, waitActive, waitStatus } from './fixtures.js'

t.test('exceeded quota: ReplicaFailure and FailedCreate, resolved when the quota is raised', async (t) => {
  const { client } = await startCluster(t, ['replicaset', 'garbagecollector'], { replicaset: replicaSetController })
  const quotas = client.resource(RESOURCE_QUOTAS, NS)
  await quotas.create({ apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'pods' }, spec: { hard: { pods: '2' } } })
  await client.resource(REPLICASETS, NS).create(replicaSet('q', 3))

  const rs: any = await eventually('ReplicaFailure', async () => {
    const o: any = await client.resource(REPLICASETS, NS).get('q')
    return (o.status?.conditions ?? []).some((c: any) => c.type === 'ReplicaFailure') ? o : undefined
  })
  const cond = rs.status.conditions.find((c: any) => c.type === 'ReplicaFailure')
  t.match(cond, { status: 'True', reason: 'FailedCreate', message: /exceeded quota: pods, requested: pods=1, used: pods=2, limited: pods=2/ })
  t.ok(typeof cond.lastTransitionTime === 'string')
  const counted = await waitStatus(client, REPLICASETS, 'q', { replicas: 2 })
  t.ok(counted.status.conditions.some((c: any) => c.type === 'ReplicaFailure'), 'the pods the quota allowed are counted; the failure stays')
  const failed = (await eventsFor(client, 'q')).find((e) => e.reason === 'FailedCreate')
  t.match(failed, { type: 'Warning', message: /^Error creating: pods ".*" is forbidden: exceeded quota: pods/ })
  await settle(500)
  t.equal((await activePods(client, 'q')).length, 2)

  const q = await quotas.get('pods')
  await quotas.update({ ...q, spec: { hard: { pods: '3' } } })
  await waitActive(client, 'q', 3)
  const healed = await waitStatus(client, REPLICASETS, 'q', { replicas: 3 })
  const after: any = await eventually('condition removed', async () => {
    const o: any = await client.resource(REPLICASETS, NS).get('q')
    return o.status?.conditions === undefined ? o : undefined
  })
  t.ok(healed && after, 'ReplicaFailure is gone once pods could be created')
})
