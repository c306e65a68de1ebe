// The Deployment controller with the real ReplicaSet controller (the test plays the
// kubelet, marking every pod Running and Ready): a Deployment rolls out and rolls to a
// new template through pods, not hand-written ReplicaSet status.
/* eslint-disable @typescript-eslint/no-explicit-any -- objects are read by path in assertions */
import t from 'tap'
import type { RestClient } from '../../../src/client/index.js'
import { deploymentController } from '../../../src/controllers/deployment/controller.js'
import { replicaSetController } from '../../../src/controllers/replicaset/controller.js'
import { DEPLOYMENTS, eventually, PODS, startCluster } from '../helpers.js'
import { deployment, NS, replicaSetsOf, setImage, waitComplete, waitSizes } from './fixtures.js'

/** Marks every pod that is not yet Ready as Running and Ready, until stopped. */
function kubelet(client: RestClient): { stop: () => Promise<void> } {
  let on = true
  const loop = (async () => {
    while (on) {
      try {
        for (const p of (await client.resource(PODS, NS).list()).items as any[]) {
          if (p.metadata.deletionTimestamp !== undefined || (p.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True')) continue
          const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z')
          await client.resource(PODS, NS).updateStatus({ ...p, status: { ...p.status, phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }] } }).catch(() => undefined)
        }
      } catch {
        // The server is going away with the test.
      }
      await new Promise((r) => setTimeout(r, 100))
    }
  })()
  return {
    stop: async () => {
      on = false
      await loop
    },
  }
}

t.test('a rollout through pods made by the ReplicaSet controller', async (t) => {
  const { client } = await startCluster(t, ['deployment', 'replicaset'], { deployment: deploymentController, replicaset: replicaSetController })
  const k = kubelet(client)
  t.teardown(() => k.stop())
  await client.resource(DEPLOYMENTS, NS).create(deployment('web', { replicas: 3 }, 'nginx:1'))
  await waitComplete(client, 'web')
  const [first] = await replicaSetsOf(client, 'web')
  const hash = (rs: any): string => rs.metadata.labels['pod-template-hash']
  const livePods = async (): Promise<any[]> => ((await client.resource(PODS, NS).list()).items as any[]).filter((p) => p.metadata.deletionTimestamp === undefined)
  t.same((await livePods()).map((p) => p.metadata.labels['pod-template-hash']), [hash(first), hash(first), hash(first)])

  await setImage(client, 'web', 'nginx:2')
  await waitSizes(client, 'web', '1:0 2:3')
  await waitComplete(client, 'web')
  const [, second] = await replicaSetsOf(client, 'web')
  await eventually('only new pods', async () => {
    const pods = await livePods()
    return pods.length === 3 && pods.every((p) => p.metadata.labels['pod-template-hash'] === hash(second)) ? true : undefined
  })
  t.pass('every pod runs the new template')
})
