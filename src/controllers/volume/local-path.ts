// The built-in `raftplane.io/local-path` provisioner (after rancher's
// local-path-provisioner): a claim of a class with this provisioner gets a hostPath
// volume at <base>/<pv name>_<namespace>_<claim>, pinned by node affinity to the node
// the scheduler chose (volume.kubernetes.io/selected-node) when the class waits for a
// consumer. The controller runs on a master and cannot touch the node's disk: the
// directory is made by the kubelet when a pod first mounts the volume (hostPath type
// DirectoryOrCreate), and a deleted volume's directory is left on the node.
import { rec, str, strs } from '../../api/json.js'
import type { KubeObject } from '../../client/index.js'

export const LOCAL_PATH_PROVISIONER = 'raftplane.io/local-path'
export const ANN_PROVISIONED_BY = 'pv.kubernetes.io/provisioned-by'
export const DEFAULT_LOCAL_PATH_BASE = '/var/lib/raftplane/local-path'

export interface LocalPathOptions {
  /** Where volumes live on the nodes. Default /var/lib/raftplane/local-path. */
  base?: string
}

/** The StorageClass a cluster offers by default: `local-path`, the default class, WaitForFirstConsumer. */
export function localPathStorageClass(): KubeObject {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: 'local-path', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
    provisioner: LOCAL_PATH_PROVISIONER,
    reclaimPolicy: 'Delete',
    volumeBindingMode: 'WaitForFirstConsumer',
  }
}

/** The volume provisioned for `claim`: named pvc-<claim uid> as upstream's provisioners name them, pre-bound to the claim. */
export function localPathVolume(claim: KubeObject, storageClass: KubeObject, node: string | undefined, opts: LocalPathOptions = {}): KubeObject {
  const meta = claim.metadata ?? {}
  const name = `pvc-${meta.uid ?? ''}`
  const spec = rec(claim.spec)
  const path = `${opts.base ?? DEFAULT_LOCAL_PATH_BASE}/${name}_${meta.namespace ?? ''}_${meta.name ?? ''}`
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name, annotations: { [ANN_PROVISIONED_BY]: LOCAL_PATH_PROVISIONER } },
    spec: {
      capacity: { storage: str(rec(rec(spec.resources).requests).storage) || '1Gi' },
      accessModes: strs(spec.accessModes).length > 0 ? strs(spec.accessModes) : ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: str(storageClass.reclaimPolicy) || 'Delete',
      storageClassName: str(storageClass.metadata?.name),
      volumeMode: str(spec.volumeMode) || 'Filesystem',
      hostPath: { path, type: 'DirectoryOrCreate' },
      claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: meta.namespace, name: meta.name, uid: meta.uid, resourceVersion: meta.resourceVersion },
      ...(node === undefined
        ? {}
        : { nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] }] } } }),
    },
  }
}
