// The PersistentVolume binder against an in-process apiserver: static volumes bind
// to the smallest fitting one, a claim naming its volume gets it (or a clear event),
// a claim with nothing to bind stays Pending with upstream's event, WaitForFirstConsumer
// claims wait for the scheduler's selected-node and are then provisioned by local-path
// with node affinity, and a released volume is kept (Retain) or deleted (Delete).
import t from 'tap'
import type { KubeObject, RestClient } from '../../../src/client/index.js'
import { localPathStorageClass } from '../../../src/controllers/volume/local-path.js'
import { eventually, gone, EVENTS, PERSISTENT_VOLUME_CLAIMS, PERSISTENT_VOLUMES, startCluster, STORAGE_CLASSES } from '../helpers.js'

type Json = Record<string, unknown>

function pv(name: string, size: string, extra: Json = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name, labels: { size } },
    spec: { capacity: { storage: size }, accessModes: ['ReadWriteOnce'], hostPath: { path: `/data/${name}` }, persistentVolumeReclaimPolicy: 'Retain', ...extra },
  }
}

function pvc(name: string, size: string, extra: Json = {}, annotations: Record<string, string> = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name, annotations },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: size } }, storageClassName: '', ...extra },
  }
}

const phaseOf = (o: KubeObject): string => String((o.status as Json | undefined)?.phase ?? '')

async function claimPhase(client: RestClient, name: string, want: string): Promise<KubeObject> {
  return eventually(`claim ${name} ${want}`, async () => {
    const c = await client.resource(PERSISTENT_VOLUME_CLAIMS, 'default').get(name)
    return phaseOf(c) === want ? c : undefined
  })
}

async function volumePhase(client: RestClient, name: string, want: string): Promise<KubeObject> {
  return eventually(`volume ${name} ${want}`, async () => {
    const v = await client.resource(PERSISTENT_VOLUMES).get(name)
    return phaseOf(v) === want ? v : undefined
  })
}

async function eventFor(client: RestClient, name: string, reason: string): Promise<Json> {
  return eventually(`event ${reason} for ${name}`, async () => {
    const list = await client.resource(EVENTS, 'default').list()
    return list.items.find((e) => (e.involvedObject as Json).name === name && e.reason === reason) as Json | undefined
  })
}

t.test('static binding: the smallest fitting Available volume; both sides Bound', async (t) => {
  const { client } = await startCluster(t, ['persistentvolume-binder'])
  for (const [n, s] of [['big', '10Gi'], ['small', '1Gi'], ['fits', '2Gi']] as const) await client.resource(PERSISTENT_VOLUMES).create(pv(n, s))
  await volumePhase(client, 'fits', 'Available')
  await client.resource(PERSISTENT_VOLUME_CLAIMS, 'default').create(pvc('data', '1500Mi'))
  const claim = await claimPhase(client, 'data', 'Bound')
  t.equal((claim.spec as Json).volumeName, 'fits')
  t.match(claim.metadata?.annotations, { 'pv.kubernetes.io/bind-completed': 'yes', 'pv.kubernetes.io/bound-by-controller': 'yes' })
  t.match(claim.status, { phase: 'Bound', capacity: { storage: '2Gi' }, accessModes: ['ReadWriteOnce'] })
  const volume = await volumePhase(client, 'fits', 'Bound')
  t.match((volume.spec as Json).claimRef, { kind: 'PersistentVolumeClaim', namespace: 'default', name: 'data', uid: claim.metadata?.uid })
  t.match(volume.metadata?.annotations, { 'pv.kubernetes.io/bound-by-controller': 'yes' })
  t.equal(phaseOf(await client.resource(PERSISTENT_VOLUMES).get('big')), 'Available', 'the others stay free')

  // A selector narrows the choice.
  await client.resource(PERSISTENT_VOLUME_CLAIMS, 'default').create(pvc('picky', '1Gi', { selector: { matchLabels: { size: '10Gi' } } }))
  t.equal(((await claimPhase(client, 'picky', 'Bound')).spec as Json).volumeName, 'big')
})

t.test('a claim naming its volume; a claim with nothing to bind', async (t) => {
  const { client } = await startCluster(t, ['persistentvolume-binder'])
  await client.resource(PERSISTENT_VOLUMES).create(pv('mine', '1Gi'))
  await client.resource(PERSISTENT_VOLUMES).create(pv('tiny', '100Mi'))
  await client.resource(PERSISTENT_VOLUME_CLAIMS, 'default').create(pvc('named', '1Gi', { volumeName: 'mine' }))
  const claim = await claimPhase(client, 'named', 'Bound')
  t.notOk('pv.kubernetes.io/bound-by-controller' in (claim.metadata?.annotations ?? {}), 'the user bound it')
  await volumePhase(client, 'mine', 'Bound')

  await client.resource(PERSISTENT_VOLUME_CLAIMS, 'default').create(pvc('too-big', '5Gi', { volumeName: 'tiny' }))
  const mismatch = await eventFor(client, 'too-big', 'VolumeMismatch')
  t.equal(mismatch.message, 'Cannot bind to requested volume "tiny": requested PV is too small')

  await client.resource(PERSISTENT_VOLUME_CLAIMS, 'default').create(pvc('none', '50Gi'))
  const failed = await eventFor(client, 'none', 'FailedBinding')
  t.equal(failed.message, 'no persistent volumes available for this claim and no storage class is set')
  t.equal(phaseOf(await claimPhase(client, 'none', 'Pending')), 'Pending')
})

t.test('WaitForFirstConsumer: local-path provisions on the selected node once the scheduler names it', async (t) => {
  const { client } = await startCluster(t, ['persistentvolume-binder'])
  await client.resource(STORAGE_CLASSES).create(localPathStorageClass())
  await client.resource(PERSISTENT_VOLUME_CLAIMS, 'default').create(pvc('late', '3Gi', { storageClassName: 'local-path' }))
  const waiting = await eventFor(client, 'late', 'WaitForFirstConsumer')
  t.equal(waiting.message, 'waiting for first consumer to be created before binding')
  t.same((await client.resource(PERSISTENT_VOLUMES).list()).items, [], 'nothing provisioned before a node is chosen')

  const claims = client.resource(PERSISTENT_VOLUME_CLAIMS, 'default')
  const c = await claims.get('late')
  await claims.update({ ...c, metadata: { ...c.metadata, annotations: { ...c.metadata?.annotations, 'volume.kubernetes.io/selected-node': 'node-7' } } })
  const bound = await claimPhase(client, 'late', 'Bound')
  const name = `pvc-${bound.metadata?.uid}`
  t.equal((bound.spec as Json).volumeName, name)
  t.match(bound.metadata?.annotations, { 'volume.kubernetes.io/selected-node': 'node-7', 'volume.kubernetes.io/storage-provisioner': 'raftplane.io/local-path', 'pv.kubernetes.io/bind-completed': 'yes' })
  const volume = await volumePhase(client, name, 'Bound')
  t.match(volume.metadata?.annotations, { 'pv.kubernetes.io/provisioned-by': 'raftplane.io/local-path' })
  t.match(volume.spec, {
    capacity: { storage: '3Gi' },
    storageClassName: 'local-path',
    persistentVolumeReclaimPolicy: 'Delete',
    hostPath: { path: `/var/lib/raftplane/local-path/${name}_default_late`, type: 'DirectoryOrCreate' },
    nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['node-7'] }] }] } },
  })
  await eventFor(client, 'late', 'ProvisioningSucceeded')

  // Delete reclaim: the claim goes, so does its volume.
  await claims.delete('late')
  await gone(client, PERSISTENT_VOLUMES, undefined, name)
})

t.test('a released volume: Retain keeps it Released, Recycle fails as upstream', async (t) => {
  const { client } = await startCluster(t, ['persistentvolume-binder'])
  await client.resource(PERSISTENT_VOLUMES).create(pv('kept', '1Gi'))
  await client.resource(PERSISTENT_VOLUMES).create(pv('recycled', '1Gi', { persistentVolumeReclaimPolicy: 'Recycle', storageClassName: 'old' }))
  await client.resource(PERSISTENT_VOLUME_CLAIMS, 'default').create(pvc('a', '1Gi'))
  await client.resource(PERSISTENT_VOLUME_CLAIMS, 'default').create(pvc('b', '1Gi', { storageClassName: 'old' }))
  await claimPhase(client, 'a', 'Bound')
  await claimPhase(client, 'b', 'Bound')
  await client.resource(PERSISTENT_VOLUME_CLAIMS, 'default').delete('a')
  await client.resource(PERSISTENT_VOLUME_CLAIMS, 'default').delete('b')
  const kept = await volumePhase(client, 'kept', 'Released')
  t.match((kept.spec as Json).claimRef, { name: 'a' }, 'the claimRef stays, so a new claim does not get the old data')
  const failed = await volumePhase(client, 'recycled', 'Failed')
  t.equal((failed.status as Json).message, 'No recycler plugin found for the volume!')

  // A new claim does not get the released volume.
  await client.resource(PERSISTENT_VOLUME_CLAIMS, 'default').create(pvc('c', '1Gi'))
  await eventFor(client, 'c', 'FailedBinding')
  t.equal(phaseOf(await client.resource(PERSISTENT_VOLUMES).get('kept')), 'Released')
})
