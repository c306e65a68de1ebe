// The StatefulSet controller against a real API server (the test plays the kubelet by
// writing pod status): ordered creation and removal, Parallel, claims per ordinal,
// rolling updates down to the partition with ControllerRevisions, failed pods
// recreated under the same name, and claim retention on scale-down.
/* eslint-disable @typescript-eslint/no-explicit-any -- objects are read by path in assertions */
import t from 'tap'
import type { KubeObject, RestClient } from '../../../src/client/index.js'
import { statefulSetController } from '../../../src/controllers/statefulset/controller.js'
import { CONTROLLER_REVISIONS, eventually, PERSISTENT_VOLUME_CLAIMS, PODS, settle, startCluster, STATEFULSETS } from '../helpers.js'

const extra = { statefulset: statefulSetController }
const labels = { app: 'db' }

function sts(name: string, spec: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name },
    spec: {
      serviceName: 'db',
      replicas: 3,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name: 'c', image: 'db:1' }] } },
      ...spec,
    },
  }
}

async function podNames(client: RestClient): Promise<string[]> {
  return (await client.resource(PODS, 'default').list()).items.filter((p) => p.metadata?.deletionTimestamp === undefined).map((p) => p.metadata!.name!).sort()
}

async function waitPods(client: RestClient, names: string[]): Promise<void> {
  await eventually(`pods ${names.join(',')}`, async () => ((await podNames(client)).join(',') === [...names].sort().join(',') ? true : undefined))
}

/** Running and Ready, as a kubelet reports a started pod. */
async function ready(client: RestClient, name: string): Promise<void> {
  const p = await client.resource(PODS, 'default').get(name)
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z')
  await client.resource(PODS, 'default').updateStatus({ ...p, status: { ...(p.status as object), phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }] } })
}

t.test('OrderedReady: one at a time, in order, each with its identity and claim', async (t) => {
  const { client } = await startCluster(t, ['statefulset'], extra)
  await client.resource(STATEFULSETS, 'default').create(
    sts('web', { volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }] }),
  )
  await waitPods(client, ['web-0'])
  await settle(300)
  t.strictSame(await podNames(client), ['web-0'], 'web-1 waits until web-0 is ready')
  const web0 = await client.resource(PODS, 'default').get('web-0')
  t.match(web0.metadata!.labels, { app: 'db', 'statefulset.kubernetes.io/pod-name': 'web-0', 'apps.kubernetes.io/pod-index': '0' })
  t.match(web0.metadata!.labels!['controller-revision-hash'], /^web-/)
  t.match(web0.spec, { hostname: 'web-0', subdomain: 'db', volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data-web-0' } }] })
  t.match(web0.metadata!.ownerReferences, [{ kind: 'StatefulSet', name: 'web', controller: true }])
  const claim = await client.resource(PERSISTENT_VOLUME_CLAIMS, 'default').get('data-web-0')
  t.match(claim.metadata!.labels, { app: 'db' })
  t.equal(claim.metadata!.ownerReferences, undefined, 'whenDeleted Retain: the claim outlives the set')

  await ready(client, 'web-0')
  await waitPods(client, ['web-0', 'web-1'])
  await ready(client, 'web-1')
  await waitPods(client, ['web-0', 'web-1', 'web-2'])
  await ready(client, 'web-2')
  const s = await eventually('status', async () => {
    const x = await client.resource(STATEFULSETS, 'default').get('web')
    return (x.status as any)?.readyReplicas === 3 ? (x.status as any) : undefined
  })
  t.match(s, { replicas: 3, readyReplicas: 3, availableReplicas: 3, currentReplicas: 3, updatedReplicas: 3 })
  t.equal(s.currentRevision, s.updateRevision)

  // Scale down: highest ordinal first, one at a time.
  await client.resource(STATEFULSETS, 'default').patch('web', 'merge', { spec: { replicas: 1 } })
  await waitPods(client, ['web-0'])
  t.ok(await client.resource(PERSISTENT_VOLUME_CLAIMS, 'default').get('data-web-2'), 'whenScaled Retain keeps the claim')
})

t.test('Parallel: every pod at once', async (t) => {
  const { client } = await startCluster(t, ['statefulset'], extra)
  await client.resource(STATEFULSETS, 'default').create(sts('par', { podManagementPolicy: 'Parallel' }))
  await waitPods(client, ['par-0', 'par-1', 'par-2'])
  t.pass('created without waiting for readiness')
})

t.test('rolling update from the highest ordinal down to the partition, with revisions', async (t) => {
  const { client } = await startCluster(t, ['statefulset'], extra)
  await client.resource(STATEFULSETS, 'default').create(sts('r', { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } } }))
  for (const n of ['r-0', 'r-1', 'r-2']) {
    await eventually(n, async () => ((await podNames(client)).includes(n) ? true : undefined))
    await ready(client, n)
  }
  const before = await eventually('rollout settled', async () => {
    const x = await client.resource(STATEFULSETS, 'default').get('r')
    return (x.status as any)?.readyReplicas === 3 ? (x.status as any) : undefined
  })
  await client.resource(STATEFULSETS, 'default').patch('r', 'merge', { spec: { template: { spec: { containers: [{ name: 'c', image: 'db:2' }] } } } })
  const revisionOf = async (n: string): Promise<string | undefined> => {
    try {
      return (await client.resource(PODS, 'default').get(n)).metadata!.labels!['controller-revision-hash']
    } catch {
      return undefined
    }
  }
  const updated = await eventually('update revision', async () => {
    const x = await client.resource(STATEFULSETS, 'default').get('r')
    return (x.status as any)?.updateRevision !== before.updateRevision ? (x.status as any).updateRevision : undefined
  })
  // r-2 first, then r-1; r-0 is below the partition.
  await eventually('r-2 updated', async () => ((await revisionOf('r-2')) === updated ? true : undefined))
  const r2 = await client.resource(PODS, 'default').get('r-2')
  t.equal((r2.spec as any).containers[0].image, 'db:2')
  t.equal(await revisionOf('r-1'), before.updateRevision, 'r-1 waits for r-2 to be ready')
  await ready(client, 'r-2')
  await eventually('r-1 updated', async () => ((await revisionOf('r-1')) === updated ? true : undefined))
  await ready(client, 'r-1')
  const s = await eventually('partitioned rollout done', async () => {
    const x = await client.resource(STATEFULSETS, 'default').get('r')
    return (x.status as any)?.updatedReplicas === 2 && (x.status as any)?.readyReplicas === 3 ? (x.status as any) : undefined
  })
  t.equal(await revisionOf('r-0'), before.updateRevision, 'below the partition: not updated')
  t.equal(s.currentRevision, before.updateRevision, 'the current revision stays while the partition holds pods back')
  const revs = (await client.resource(CONTROLLER_REVISIONS, 'default').list()).items
  t.strictSame(revs.map((r: any) => r.revision).sort(), [1, 2], 'one ControllerRevision per template')
  t.ok(revs.every((r) => r.metadata?.ownerReferences?.[0]?.name === 'r'))

  // Partition 0: the last pod follows and the revision becomes current.
  await client.resource(STATEFULSETS, 'default').patch('r', 'merge', { spec: { updateStrategy: { rollingUpdate: { partition: 0 } } } })
  await eventually('r-0 updated', async () => ((await revisionOf('r-0')) === updated ? true : undefined))
  await ready(client, 'r-0')
  await eventually('current = update', async () => {
    const x = (await client.resource(STATEFULSETS, 'default').get('r')).status as any
    return x?.currentRevision === updated && x?.currentReplicas === 3 ? true : undefined
  })
  t.pass('rollout complete')
})

t.test('a failed pod is recreated under the same name', async (t) => {
  const { client } = await startCluster(t, ['statefulset'], extra)
  await client.resource(STATEFULSETS, 'default').create(sts('f', { replicas: 1 }))
  await waitPods(client, ['f-0'])
  const first = await client.resource(PODS, 'default').get('f-0')
  await client.resource(PODS, 'default').updateStatus({ ...first, status: { ...(first.status as object), phase: 'Failed' } })
  const second = await eventually('replacement', async () => {
    const p = await client.resource(PODS, 'default').get('f-0').catch(() => undefined)
    return p !== undefined && p.metadata!.uid !== first.metadata!.uid ? p : undefined
  })
  t.equal(second.metadata!.name, 'f-0')
})

t.test('whenScaled Delete: a scaled-down ordinal takes its claim with it', async (t) => {
  const { client } = await startCluster(t, ['statefulset', 'garbagecollector'], extra)
  await client.resource(STATEFULSETS, 'default').create(
    sts('s', {
      replicas: 2,
      podManagementPolicy: 'Parallel',
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Delete' },
      volumeClaimTemplates: [{ metadata: { name: 'd' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    }),
  )
  await waitPods(client, ['s-0', 's-1'])
  await client.resource(STATEFULSETS, 'default').patch('s', 'merge', { spec: { replicas: 1 } })
  await waitPods(client, ['s-0'])
  await eventually('claim d-s-1 gone', async () => {
    const names = (await client.resource(PERSISTENT_VOLUME_CLAIMS, 'default').list()).items.filter((c) => c.metadata?.deletionTimestamp === undefined).map((c) => c.metadata!.name)
    return !names.includes('d-s-1') && names.includes('d-s-0') ? true : undefined
  })
  t.pass('claim of the removed ordinal deleted, the other kept')
})
