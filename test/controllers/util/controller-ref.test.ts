// The claim protocol against a real API server: adopt matching orphans, release
// what stops matching, leave other controllers' objects and deleting owners alone.
import t from 'tap'
import { selectorFromLabelSelector } from '../../../src/api/labels.js'
import type { KubeObject } from '../../../src/client/index.js'
import { claimObjects, controllerOf } from '../../../src/controllers/util/controller-ref.js'
import { PODS, REPLICASETS, startCluster } from '../helpers.js'

const labels = { app: 'web' }
const pod = (name: string, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels, ...extra },
  spec: { containers: [{ name: 'c', image: 'x' }] },
})

t.test('claim: adopt, keep, release, skip', async (t) => {
  const { client } = await startCluster(t, [])
  const rs = await client.resource(REPLICASETS, 'default').create({
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: 'web' },
    spec: { replicas: 0, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'c', image: 'x' }] } } },
  })
  const ref = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: rs.metadata!.uid!, controller: true, blockOwnerDeletion: true }
  const pods = client.resource(PODS, 'default')
  const orphan = await pods.create(pod('orphan'))
  const owned = await pods.create(pod('owned', { ownerReferences: [ref] }))
  const stray = await pods.create(pod('stray', { labels: { app: 'other' }, ownerReferences: [ref] }))
  const foreign = await pods.create(pod('foreign', { ownerReferences: [{ ...ref, name: 'other', uid: 'someone-else' }] }))
  const unmatched = await pods.create(pod('unmatched', { labels: { app: 'other' } }))

  const opts = {
    owner: rs,
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    selector: selectorFromLabelSelector({ matchLabels: labels }),
    objects: pods,
    fetchOwner: () => client.resource(REPLICASETS, 'default').get('web'),
  }
  const claimed = await claimObjects(opts, [orphan, owned, stray, foreign, unmatched])
  t.strictSame(claimed.map((p) => p.metadata!.name).sort(), ['orphan', 'owned'])
  t.equal(controllerOf(await pods.get('orphan'))?.uid, rs.metadata!.uid, 'the orphan is adopted')
  t.equal(controllerOf(await pods.get('stray')), undefined, 'the pod that stopped matching is released')
  t.equal(controllerOf(await pods.get('foreign'))?.uid, 'someone-else', "another controller's pod is left alone")
  t.equal(controllerOf(await pods.get('unmatched')), undefined)

  // An owner that is being deleted (or was replaced) adopts nothing.
  const late = await pods.create(pod('late'))
  const none = await claimObjects({ ...opts, fetchOwner: async () => ({ ...rs, metadata: { ...rs.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } }) }, [late])
  t.strictSame(none, [])
  t.equal(controllerOf(await pods.get('late')), undefined)
})
