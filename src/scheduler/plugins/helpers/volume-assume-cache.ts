// The scheduler's claims, volumes and classes (upstream's PV and PVC assume caches over
// shared informers). When VolumeBinding reserves a volume or a claim for a pod, it is
// "assumed": reads return the scheduler's intended version (a volume's claimRef, a
// claim's selected-node annotation) from then on, so the next pod's cycle does not pick
// the same volume while the write is still on its way. An assumption lasts until the
// informer holds a version newer than the one it was made from (the write came back, or
// someone else changed the object: either way the informer is right) or it is restored.
//
// It also lets a binding wait for what the PV controller and provisioners do (one
// wake-up per change, no polling), and tells the scheduler's queue about changes that
// may let a waiting pod fit.
import { findResource } from '../../../api/resources.js'
import type { SharedInformerFactory } from '../../../client/informer-factory.js'
import type { SharedIndexInformer } from '../../../client/informer.js'
import { deletionHandlingKey, metaNamespaceKey } from '../../../client/store.js'
import type { KubeObject } from '../../../client/types.js'
import type { VolumeAssumeCache } from '../../framework/types.js'
import { volumeClass } from '../../../api/volume/claims.js'

const CLAIMS = findResource('', 'v1', 'persistentvolumeclaims')!
const VOLUMES = findResource('', 'v1', 'persistentvolumes')!
const STORAGE_CLASSES = findResource('storage.k8s.io', 'v1', 'storageclasses')!

const CLASS_INDEX = 'storageClassName'

/** The queue's names for these changes (upstream's ClusterEvent labels). */
export type VolumeEvent =
  | 'PersistentVolumeClaimAdd'
  | 'PersistentVolumeClaimUpdate'
  | 'PersistentVolumeAdd'
  | 'PersistentVolumeUpdate'
  | 'StorageClassAdd'
  | 'StorageClassUpdate'

interface Assumed {
  obj: KubeObject
  /** The resourceVersion of the informer's object it was made from. */
  base: string | undefined
}

class Assumptions {
  private readonly byKey = new Map<string, Assumed>()

  constructor(
    private readonly informer: SharedIndexInformer,
    private readonly kind: string,
  ) {}

  get size(): number {
    return this.byKey.size
  }

  read(key: string): KubeObject | undefined {
    const current = this.informer.indexer.getByKey(key)
    const a = this.byKey.get(key)
    if (a === undefined) return current
    if (current !== undefined && current.metadata?.resourceVersion === a.base) return a.obj
    this.byKey.delete(key)
    return current
  }

  assume(obj: KubeObject): void {
    const key = metaNamespaceKey(obj)
    const current = this.informer.indexer.getByKey(key)
    if (current === undefined) throw new Error(`${this.kind} "${key}" not found in the scheduler's cache`)
    const stored = current.metadata?.resourceVersion
    if (obj.metadata?.resourceVersion !== stored) {
      throw new Error(`${this.kind} "${key}" is out of sync (stored: ${stored ?? ''}, assume: ${obj.metadata?.resourceVersion ?? ''})`)
    }
    this.byKey.set(key, { obj, base: stored })
  }

  restore(key: string): void {
    this.byKey.delete(key)
  }

  /** The informer moved on: an assumption made from an older version is over. */
  changed(key: string, current: KubeObject | undefined): void {
    const a = this.byKey.get(key)
    if (a !== undefined && (current === undefined || current.metadata?.resourceVersion !== a.base)) this.byKey.delete(key)
  }
}

export interface InformerVolumeCacheOptions {
  /** Told of every add and update of a claim, volume or class (for the scheduling queue). */
  onEvent?: (event: VolumeEvent, oldObj: KubeObject | undefined, newObj: KubeObject) => void
}

export class InformerVolumeCache implements VolumeAssumeCache {
  /** For the scheduler's cache-sync wait. */
  readonly informers: readonly SharedIndexInformer[]
  private readonly claims: SharedIndexInformer
  private readonly pvs: SharedIndexInformer
  private readonly classes: SharedIndexInformer
  private readonly assumedClaims: Assumptions
  private readonly assumedVolumes: Assumptions
  private readonly waiters = new Set<() => void>()

  constructor(factory: SharedInformerFactory, opts: InformerVolumeCacheOptions = {}) {
    this.claims = factory.forResource(CLAIMS)
    this.pvs = factory.forResource(VOLUMES, { indexers: { [CLASS_INDEX]: (pv) => [volumeClass(pv)] } })
    this.classes = factory.forResource(STORAGE_CLASSES)
    this.informers = [this.claims, this.pvs, this.classes]
    this.assumedClaims = new Assumptions(this.claims, 'PersistentVolumeClaim')
    this.assumedVolumes = new Assumptions(this.pvs, 'PersistentVolume')
    const onEvent = opts.onEvent
    const watch = (informer: SharedIndexInformer, assumed: Assumptions | undefined, add: VolumeEvent, update: VolumeEvent): void => {
      informer.addEventHandler({
        onAdd: (obj) => {
          assumed?.changed(metaNamespaceKey(obj), obj)
          this.wake()
          onEvent?.(add, undefined, obj)
        },
        onUpdate: (old, obj) => {
          assumed?.changed(metaNamespaceKey(obj), obj)
          this.wake()
          onEvent?.(update, old, obj)
        },
        onDelete: (obj) => {
          assumed?.changed(deletionHandlingKey(obj), undefined)
          this.wake()
        },
      })
    }
    watch(this.claims, this.assumedClaims, 'PersistentVolumeClaimAdd', 'PersistentVolumeClaimUpdate')
    watch(this.pvs, this.assumedVolumes, 'PersistentVolumeAdd', 'PersistentVolumeUpdate')
    watch(this.classes, undefined, 'StorageClassAdd', 'StorageClassUpdate')
  }

  claim(namespace: string, name: string): KubeObject | undefined {
    return this.assumedClaims.read(`${namespace}/${name}`)
  }

  volume(name: string): KubeObject | undefined {
    return this.assumedVolumes.read(name)
  }

  volumesOfClass(className: string): readonly KubeObject[] {
    const list = this.pvs.byIndex(CLASS_INDEX, className)
    if (this.assumedVolumes.size === 0) return list
    return list.map((pv) => this.assumedVolumes.read(metaNamespaceKey(pv)) ?? pv)
  }

  storageClass(name: string): KubeObject | undefined {
    return this.classes.indexer.getByKey(name)
  }

  assumeClaim(claim: KubeObject): void {
    this.assumedClaims.assume(claim)
  }

  assumeVolume(volume: KubeObject): void {
    this.assumedVolumes.assume(volume)
  }

  restoreClaim(namespace: string, name: string): void {
    this.assumedClaims.restore(`${namespace}/${name}`)
  }

  restoreVolume(name: string): void {
    this.assumedVolumes.restore(name)
  }

  apiClaim(namespace: string, name: string): KubeObject | undefined {
    return this.claims.indexer.getByKey(`${namespace}/${name}`)
  }

  apiVolume(name: string): KubeObject | undefined {
    return this.pvs.indexer.getByKey(name)
  }

  nextChange(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve()
    return new Promise((resolve) => {
      const done = (): void => {
        this.waiters.delete(done)
        signal.removeEventListener('abort', done)
        resolve()
      }
      this.waiters.add(done)
      signal.addEventListener('abort', done, { once: true })
    })
  }

  private wake(): void {
    if (this.waiters.size === 0) return
    for (const w of [...this.waiters]) w()
  }
}
