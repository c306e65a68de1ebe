// What the fields of pods, claims and volumes mean to volume scheduling (upstream's
// component-helpers storage/volume and storage/ephemeral, as VolumeBinding reads them):
// which claims a pod uses (a generic ephemeral volume's claim is `<pod>-<volume>`, and
// must be the pod's own), a claim's or volume's class (the beta annotation still wins
// over the field), when a claim counts as bound, and how claims and volumes are keyed.
import { isRecord, rec, recs, str } from '../json.js'
import type { KubeObject } from '../object.js'

/** Set by the scheduler on a WaitForFirstConsumer claim: provision it where the pod goes. */
export const ANN_SELECTED_NODE = 'volume.kubernetes.io/selected-node'
/** Set by the PV controller once it has finished binding a claim. */
export const ANN_BIND_COMPLETED = 'pv.kubernetes.io/bind-completed'
/** Set on a volume a controller (or the scheduler) bound, rather than the user. */
export const ANN_BOUND_BY_CONTROLLER = 'pv.kubernetes.io/bound-by-controller'
export const ANN_BETA_STORAGE_CLASS = 'volume.beta.kubernetes.io/storage-class'
/** A class with this provisioner has static volumes only. */
export const NOT_SUPPORTED_PROVISIONER = 'kubernetes.io/no-provisioner'

export interface PodClaimRef {
  /** The claim's name, in the pod's namespace. */
  readonly claimName: string
  /** From a generic ephemeral volume: the pod must own the claim. */
  readonly ephemeral: boolean
}

const NO_CLAIMS: readonly PodClaimRef[] = []

/** The claims a pod's volumes use, in volume order; shared and empty when it uses none (the common, cheap case). */
export function podClaimRefs(pod: KubeObject): readonly PodClaimRef[] {
  const volumes = rec(pod.spec).volumes
  if (!Array.isArray(volumes) || volumes.length === 0) return NO_CLAIMS
  let refs: PodClaimRef[] | undefined
  for (const v of recs(volumes)) {
    let ref: PodClaimRef | undefined
    if (isRecord(v.persistentVolumeClaim)) ref = { claimName: str(v.persistentVolumeClaim.claimName), ephemeral: false }
    else if (isRecord(v.ephemeral)) ref = { claimName: `${str(pod.metadata?.name)}-${str(v.name)}`, ephemeral: true }
    if (ref !== undefined) (refs ??= []).push(ref)
  }
  return refs ?? NO_CLAIMS
}

/** Why an ephemeral volume's claim is not this pod's (upstream's VolumeIsForPod), or undefined when it is. */
export function notOwnedByPod(pod: KubeObject, claim: KubeObject): string | undefined {
  const uid = pod.metadata?.uid
  const owned = (claim.metadata?.ownerReferences ?? []).some((r) => r.controller === true && r.uid === uid)
  if (owned) return undefined
  return `PVC ${str(claim.metadata?.namespace)}/${str(claim.metadata?.name)} was not created for pod ${str(pod.metadata?.namespace)}/${str(pod.metadata?.name)} (pod is not owner)`
}

/** The claim's class: the beta annotation if present, else spec.storageClassName, else ''. */
export function claimClass(claim: KubeObject): string {
  const ann = claim.metadata?.annotations
  if (ann !== undefined && ANN_BETA_STORAGE_CLASS in ann) return ann[ANN_BETA_STORAGE_CLASS]
  return str(rec(claim.spec).storageClassName)
}

/** The volume's class, read as claimClass reads a claim's. */
export function volumeClass(volume: KubeObject): string {
  return claimClass(volume)
}

export function claimVolumeName(claim: KubeObject): string {
  return str(rec(claim.spec).volumeName)
}

/**
 * The claim is bound to its volume and the binding is finished. Upstream asks for
 * spec.volumeName and the PV controller's bind-completed annotation; a claim whose
 * status says Bound counts too, so a binder that only sets the phase is understood.
 */
export function isClaimFullyBound(claim: KubeObject): boolean {
  if (claimVolumeName(claim) === '') return false
  const ann = claim.metadata?.annotations
  return (ann !== undefined && ANN_BIND_COMPLETED in ann) || rec(claim.status).phase === 'Bound'
}

export function claimKey(claim: KubeObject): string {
  return `${str(claim.metadata?.namespace)}/${str(claim.metadata?.name)}`
}

export function selectedNode(claim: KubeObject): string | undefined {
  return claim.metadata?.annotations?.[ANN_SELECTED_NODE]
}

/** Whether resourceVersion `a` is newer than `b` (both etcd revisions; an unparsable one is never newer). */
export function newerVersion(a: KubeObject, b: KubeObject): boolean {
  const x = a.metadata?.resourceVersion
  const y = b.metadata?.resourceVersion
  if (x === undefined || y === undefined || !/^\d+$/.test(x) || !/^\d+$/.test(y)) return false
  return BigInt(x) > BigInt(y)
}

/** A copy of `obj` with one annotation set (metadata copied, the rest shared: do not mutate it). */
export function withAnnotation(obj: KubeObject, key: string, value: string): KubeObject {
  return { ...obj, metadata: { ...obj.metadata, annotations: { ...obj.metadata?.annotations, [key]: value } } }
}
