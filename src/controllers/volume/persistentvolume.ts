// The PersistentVolume binder (kube-controller-manager's "persistentvolume-binder",
// upstream pkg/controller/volume/persistentvolume): it binds Pending claims to
// Available volumes, provisions volumes for classes it provisions (./local-path.ts),
// keeps the phases of both, and reclaims a volume whose claim is gone.
//
// Binding is two writes, volume first, as upstream: the volume's claimRef (with the
// claim's uid) reserves it, then the claim's volumeName and bind-completed annotation
// finish the bind; each side's status follows. A crash between them leaves a volume
// pre-bound to the claim, which the next sync completes. Claims of a
// WaitForFirstConsumer class wait for the scheduler's volume.kubernetes.io/selected-node
// (the scheduler binds matching static volumes itself, see
// src/scheduler/plugins/volume-binding.ts); then only volumes reachable from that node
// match, and a provisioned volume gets node affinity to it.
//
// Left out, as noted in the issue log: the Recycle reclaim policy (deprecated upstream;
// a volume with it fails with upstream's "No recycler plugin found"), volume
// expansion, the DefaultStorageClass admission (a claim without storageClassName
// matches only volumes without a class), and metrics.
import { rec, str, strs } from '../../api/json.js'
import type { Labels } from '../../api/node-selector.js'
import { ANN_BIND_COMPLETED, ANN_BOUND_BY_CONTROLLER, ANN_SELECTED_NODE, claimClass, claimVolumeName, NOT_SUPPORTED_PROVISIONER, volumeClass } from '../../api/volume/claims.js'
import { bindVolumeToClaim, claimRequest, findMatchingVolume, isVolumeBoundToClaim, volumeCapacity } from '../../api/volume/matching.js'
import { DeletedFinalStateUnknown, errorMessage, isAlreadyExists, isNotFound, type KubeObject, RateLimitingQueue, runWorkers } from '../../client/index.js'
import type { Controller, ControllerContext, ControllerFactory } from '../types.js'
import { NODES, PERSISTENT_VOLUME_CLAIMS, PERSISTENT_VOLUMES, STORAGE_CLASSES } from '../util/resources.js'
import { LOCAL_PATH_PROVISIONER, type LocalPathOptions, localPathVolume } from './local-path.js'

/** Set on a claim while a provisioner is asked for its volume (upstream's AnnStorageProvisioner). */
export const ANN_STORAGE_PROVISIONER = 'volume.kubernetes.io/storage-provisioner'

export interface PersistentVolumeControllerOptions {
  localPath?: LocalPathOptions
  workers?: number
}

const CLAIM = 'claim:'
const VOLUME = 'volume:'

function phase(o: KubeObject | undefined): string {
  return str(rec(o?.status).phase)
}

/** Why a volume the claim names cannot serve it (upstream's checkVolumeSatisfyClaim), or undefined. */
function unsatisfied(claim: KubeObject, volume: KubeObject): string | undefined {
  if (volumeCapacity(volume).cmp(claimRequest(claim)) < 0) return 'requested PV is too small'
  if (volumeClass(volume) !== claimClass(claim)) return 'storageClassName does not match'
  if ((str(rec(claim.spec).volumeMode) || 'Filesystem') !== (str(rec(volume.spec).volumeMode) || 'Filesystem')) return 'incompatible volumeMode'
  const offered = new Set(strs(rec(volume.spec).accessModes))
  if (!strs(rec(claim.spec).accessModes).every((m) => offered.has(m))) return 'incompatible accessMode'
  return undefined
}

function claimRefOf(volume: KubeObject): { namespace: string; name: string; uid: string } | undefined {
  const ref = rec(rec(volume.spec).claimRef)
  if (str(ref.name) === '') return undefined
  return { namespace: str(ref.namespace), name: str(ref.name), uid: str(ref.uid) }
}

export function persistentVolumeControllerFactory(opts: PersistentVolumeControllerOptions = {}): ControllerFactory {
  return (ctx) => newPersistentVolumeController(ctx, opts)
}

export const persistentVolumeController: ControllerFactory = persistentVolumeControllerFactory()

function newPersistentVolumeController(ctx: ControllerContext, opts: PersistentVolumeControllerOptions): Controller {
  const volumes = ctx.informers.forResource(PERSISTENT_VOLUMES)
  const claims = ctx.informers.forResource(PERSISTENT_VOLUME_CLAIMS)
  const classes = ctx.informers.forResource(STORAGE_CLASSES)
  const nodes = ctx.informers.forResource(NODES)
  const queue = new RateLimitingQueue<string>(undefined, { name: 'claims' })
  const events = ctx.events('persistentvolume-controller')
  const pvs = ctx.writer.resource(PERSISTENT_VOLUMES)
  const pvcs = (ns: string) => ctx.writer.resource(PERSISTENT_VOLUME_CLAIMS, ns)

  const unwrap = (o: KubeObject | DeletedFinalStateUnknown<KubeObject>): KubeObject => (o instanceof DeletedFinalStateUnknown ? o.obj : o)
  const claimKey = (c: KubeObject): string => `${CLAIM}${c.metadata?.namespace ?? ''}/${c.metadata?.name ?? ''}`
  const enqueueClaim = (c: KubeObject | DeletedFinalStateUnknown<KubeObject>): void => {
    const claim = unwrap(c)
    queue.add(claimKey(claim))
    const bound = claimVolumeName(claim)
    if (bound !== '') queue.add(VOLUME + bound)
  }
  const enqueueVolume = (v: KubeObject | DeletedFinalStateUnknown<KubeObject>): void => {
    const volume = unwrap(v)
    queue.add(VOLUME + (volume.metadata?.name ?? ''))
    const ref = claimRefOf(volume)
    if (ref !== undefined) queue.add(`${CLAIM}${ref.namespace}/${ref.name}`)
  }
  claims.addEventHandler({ onAdd: enqueueClaim, onUpdate: (_, c) => enqueueClaim(c), onDelete: enqueueClaim })
  volumes.addEventHandler({ onAdd: enqueueVolume, onUpdate: (_, v) => enqueueVolume(v), onDelete: enqueueVolume })
  // A new volume or class may be what a Pending claim waits for.
  const enqueuePending = (): void => {
    for (const c of claims.indexer.list()) if (claimVolumeName(c) === '') queue.add(claimKey(c))
  }
  classes.addEventHandler({ onAdd: enqueuePending, onUpdate: enqueuePending })

  const classOf = (claim: KubeObject): KubeObject | undefined => {
    const name = claimClass(claim)
    return name === '' ? undefined : classes.indexer.getByKey(name)
  }
  const waitsForConsumer = (claim: KubeObject): boolean => str(classOf(claim)?.volumeBindingMode) === 'WaitForFirstConsumer'

  async function setVolumePhase(volume: KubeObject, next: string, message?: string): Promise<void> {
    if (phase(volume) === next) return
    await pvs.updateStatus({ ...volume, status: { ...rec(volume.status), phase: next, ...(message === undefined ? {} : { message }), lastPhaseTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') } })
  }

  async function setClaimBound(claim: KubeObject, volume: KubeObject): Promise<void> {
    const status = rec(claim.status)
    const spec = rec(volume.spec)
    if (status.phase === 'Bound' && status.capacity !== undefined) return
    await pvcs(str(claim.metadata?.namespace)).updateStatus({ ...claim, status: { ...status, phase: 'Bound', accessModes: strs(spec.accessModes), capacity: rec(spec.capacity) } })
  }

  /** The claim's side of a bind: volumeName and the bind-completed annotation. */
  async function bindClaim(claim: KubeObject, volume: KubeObject): Promise<KubeObject> {
    const ann = claim.metadata?.annotations ?? {}
    const name = str(volume.metadata?.name)
    if (claimVolumeName(claim) === name && ANN_BIND_COMPLETED in ann) return claim
    const annotations: Record<string, string> = { ...ann, [ANN_BIND_COMPLETED]: 'yes' }
    if (claimVolumeName(claim) === '') annotations[ANN_BOUND_BY_CONTROLLER] = 'yes'
    return pvcs(str(claim.metadata?.namespace)).update({ ...claim, metadata: { ...claim.metadata, annotations }, spec: { ...rec(claim.spec), volumeName: name } })
  }

  async function bind(claim: KubeObject, volume: KubeObject): Promise<void> {
    const { volume: reserved, dirty } = bindVolumeToClaim(volume, claim)
    const written = dirty ? await pvs.update(reserved) : volume
    await setVolumePhase(written, 'Bound')
    const bound = await bindClaim(claim, written)
    await setClaimBound(bound, written)
    events.event(claim, 'Normal', 'Bound', `Successfully bound to volume ${str(volume.metadata?.name)}`)
  }

  async function provision(claim: KubeObject, storageClass: KubeObject, node: string | undefined): Promise<void> {
    const provisioner = str(storageClass.provisioner)
    const ns = str(claim.metadata?.namespace)
    if (claim.metadata?.annotations?.[ANN_STORAGE_PROVISIONER] !== provisioner) {
      await pvcs(ns).update({ ...claim, metadata: { ...claim.metadata, annotations: { ...claim.metadata?.annotations, [ANN_STORAGE_PROVISIONER]: provisioner } } })
      return // the update brings the claim back with its new version
    }
    if (provisioner !== LOCAL_PATH_PROVISIONER) {
      events.event(claim, 'Normal', 'ExternalProvisioning', `Waiting for a volume to be created either by the external provisioner '${provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`)
      return
    }
    const volume = localPathVolume(claim, storageClass, node, opts.localPath)
    try {
      await pvs.create(volume)
    } catch (err) {
      // Made by an earlier term that lost its Lease before it saw the answer: the volume's event brings us back.
      if (isAlreadyExists(err)) return
      throw err
    }
    events.event(claim, 'Normal', 'ProvisioningSucceeded', `Successfully provisioned volume ${str(volume.metadata?.name)}`)
  }

  async function syncClaim(ns: string, name: string): Promise<void> {
    const claim = claims.indexer.getByKey(`${ns}/${name}`)
    if (claim === undefined || claim.metadata?.deletionTimestamp !== undefined) return
    const volumeName = claimVolumeName(claim)
    if (volumeName !== '') {
      const volume = volumes.indexer.getByKey(volumeName)
      if (volume === undefined) {
        if (phase(claim) === 'Bound') {
          await pvcs(ns).updateStatus({ ...claim, status: { ...rec(claim.status), phase: 'Lost' } })
          events.event(claim, 'Warning', 'ClaimLost', 'Bound claim has lost reference to PersistentVolume. Data on the volume is lost!')
        }
        return
      }
      const ref = claimRefOf(volume)
      if (ref === undefined) {
        // The user named the volume: reserve it for this claim if it satisfies it.
        const why = unsatisfied(claim, volume)
        if (why !== undefined) {
          events.event(claim, 'Warning', 'VolumeMismatch', `Cannot bind to requested volume "${volumeName}": ${why}`)
          return
        }
        await bind(claim, volume)
        return
      }
      if (!isVolumeBoundToClaim(volume, claim)) {
        events.event(claim, 'Warning', 'FailedBinding', `volume "${volumeName}" already bound to a different claim.`)
        return
      }
      const done = await bindClaim(claim, volume)
      await setVolumePhase(volume, 'Bound')
      await setClaimBound(done, volume)
      return
    }
    // Unbound: a volume pre-bound to it, then a matching one, then provisioning.
    const storageClass = classOf(claim)
    const waiting = waitsForConsumer(claim)
    const node = claim.metadata?.annotations?.[ANN_SELECTED_NODE]
    if (waiting && node === undefined) {
      events.event(claim, 'Normal', 'WaitForFirstConsumer', 'waiting for first consumer to be created before binding')
      return
    }
    let match: KubeObject | undefined
    try {
      match = findMatchingVolume(claim, volumes.indexer.list(), nodeLabels(node), new Set())
    } catch (err) {
      events.event(claim, 'Warning', 'FailedBinding', errorMessage(err))
      return
    }
    if (match !== undefined) return bind(claim, match)
    const provisioner = str(storageClass?.provisioner)
    if (storageClass !== undefined && provisioner !== '' && provisioner !== NOT_SUPPORTED_PROVISIONER) return provision(claim, storageClass, waiting ? node : undefined)
    const why = claimClass(claim) === '' ? 'no persistent volumes available for this claim and no storage class is set' : `storageclass.storage.k8s.io "${claimClass(claim)}" not found`
    const message = storageClass !== undefined ? 'no persistent volumes available for this claim' : why
    events.event(claim, storageClass === undefined && claimClass(claim) !== '' ? 'Warning' : 'Normal', 'FailedBinding', message)
    if (phase(claim) !== 'Pending') await pvcs(ns).updateStatus({ ...claim, status: { ...rec(claim.status), phase: 'Pending' } })
  }

  function nodeLabels(node: string | undefined): Labels {
    if (node === undefined) return {}
    return (nodes.indexer.getByKey(node)?.metadata?.labels ?? { 'kubernetes.io/hostname': node }) as Labels
  }

  async function syncVolume(name: string): Promise<void> {
    const volume = volumes.indexer.getByKey(name)
    if (volume === undefined || volume.metadata?.deletionTimestamp !== undefined) return
    const ref = claimRefOf(volume)
    if (ref === undefined) {
      if (phase(volume) !== 'Available' && phase(volume) !== 'Failed') await setVolumePhase(volume, 'Available')
      return
    }
    const claim = claims.indexer.getByKey(`${ref.namespace}/${ref.name}`)
    const claimGone = claim === undefined || (ref.uid !== '' && claim.metadata?.uid !== ref.uid)
    if (!claimGone) {
      // Pre-bound, or bound and waiting for the claim's side: the claim's sync finishes it.
      if (claimVolumeName(claim) === name && phase(volume) !== 'Bound') await setVolumePhase(volume, 'Bound')
      else if (claimVolumeName(claim) === '' && phase(volume) === '') await setVolumePhase(volume, 'Available')
      return
    }
    if (ref.uid === '') {
      // Pre-bound by the user to a claim that does not exist yet: it waits, Available.
      if (phase(volume) !== 'Available') await setVolumePhase(volume, 'Available')
      return
    }
    // The claim it was bound to is gone: release, then reclaim.
    if (phase(volume) !== 'Released' && phase(volume) !== 'Failed') {
      await setVolumePhase(volume, 'Released')
      return // the status write brings the volume back for the reclaim step
    }
    const policy = str(rec(volume.spec).persistentVolumeReclaimPolicy) || 'Retain'
    if (policy === 'Retain') return
    if (policy === 'Delete') {
      try {
        await pvs.delete(name, { preconditions: { uid: volume.metadata?.uid ?? '' } })
      } catch (err) {
        if (!isNotFound(err)) throw err
      }
      return
    }
    if (phase(volume) !== 'Failed') {
      await setVolumePhase(volume, 'Failed', 'No recycler plugin found for the volume!')
      events.event(volume, 'Warning', 'VolumeFailedRecycle', 'No recycler plugin found for the volume!')
    }
  }

  async function sync(key: string): Promise<void> {
    if (key.startsWith(VOLUME)) return syncVolume(key.slice(VOLUME.length))
    const [ns, name] = key.slice(CLAIM.length).split('/') as [string, string]
    return syncClaim(ns, name)
  }

  return {
    name: 'persistentvolume-binder',
    async run(signal) {
      signal.addEventListener('abort', () => queue.shutDown(), { once: true })
      await runWorkers(queue, opts.workers ?? 2, sync, { onError: (key, err) => ctx.logger.warn({ key, err: errorMessage(err) }, 'persistentvolume sync failed') })
    },
  }
}
