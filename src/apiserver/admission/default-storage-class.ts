// DefaultStorageClass admission (kube-apiserver's plugin of that name): a claim created
// without spec.storageClassName gets the cluster's default class — the StorageClass
// annotated storageclass.kubernetes.io/is-default-class: "true", the newest one when
// several are (then by name, as upstream). An explicit "" means "no class" and stays.
import type { ResourceType } from '../../api/resources.js'
import type { ResourceStore } from '../registry/resource-store.js'
import type { KubeObject } from '../watch-cache/types.js'

type Json = Record<string, unknown>

export const IS_DEFAULT_CLASS = 'storageclass.kubernetes.io/is-default-class'
const BETA_IS_DEFAULT_CLASS = 'storageclass.beta.kubernetes.io/is-default-class'
const BETA_CLASS_ANNOTATION = 'volume.beta.kubernetes.io/storage-class'

function isDefault(sc: KubeObject): boolean {
  const ann = ((sc.metadata as Json | undefined)?.annotations ?? {}) as Record<string, string>
  return ann[IS_DEFAULT_CLASS] === 'true' || ann[BETA_IS_DEFAULT_CLASS] === 'true'
}

/** The default class among `classes`, or undefined. */
export function defaultStorageClass(classes: readonly KubeObject[]): KubeObject | undefined {
  let best: KubeObject | undefined
  for (const sc of classes) {
    if (!isDefault(sc)) continue
    const m = (sc.metadata ?? {}) as Json
    const b = (best?.metadata ?? {}) as Json
    const newer = String(m.creationTimestamp ?? '') > String(b.creationTimestamp ?? '')
    const sameTime = String(m.creationTimestamp ?? '') === String(b.creationTimestamp ?? '')
    if (best === undefined || newer || (sameTime && String(m.name) < String(b.name))) best = sc
  }
  return best
}

export class DefaultStorageClassAdmission {
  constructor(private readonly classes: () => ResourceStore) {}

  admit(op: 'CREATE' | 'UPDATE' | 'DELETE', rt: ResourceType, obj: KubeObject): void {
    if (op !== 'CREATE' || rt.group !== '' || rt.kind !== 'PersistentVolumeClaim') return
    const spec = (obj.spec ?? {}) as Json
    if (spec.storageClassName !== undefined && spec.storageClassName !== null) return
    const ann = ((obj.metadata as Json | undefined)?.annotations ?? {}) as Record<string, string>
    if (BETA_CLASS_ANNOTATION in ann) return
    const store = this.classes()
    const sc = defaultStorageClass(store.cache.list({ keyPrefix: store.scopePrefix('') }).items.map((c) => c.object))
    if (sc === undefined) return
    spec.storageClassName = String((sc.metadata as Json).name)
    obj.spec = spec
  }
}
