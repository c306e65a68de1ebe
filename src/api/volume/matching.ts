// Which existing PersistentVolume an unbound claim would be bound to on a given node
// (upstream's FindMatchingVolume, scheduler path): a volume pre-bound to the claim wins
// if the node suits it; otherwise the smallest Available volume of the claim's class
// that is big enough, has the claim's volume mode and every access mode it asks for,
// matches its selector and whose node affinity admits the node. And the volume as the
// scheduler pre-binds it (GetBindVolumeToClaim): claimRef set, bound-by-controller.
import { rec, str, strs } from '../json.js'
import { selectorFromLabelSelector } from '../labels.js'
import type { Labels } from '../node-selector.js'
import { type Quantity, tryParseQuantity, ZERO } from '../quantity.js'
import type { KubeObject } from '../object.js'
import { ANN_BOUND_BY_CONTROLLER, claimClass, claimKey, volumeClass } from './claims.js'
import { volumeNodeAffinityMatches } from './topology.js'

function storageOf(list: unknown): Quantity {
  return tryParseQuantity(rec(list).storage) ?? ZERO
}

/** The claim's storage request (zero when it has none). */
export function claimRequest(claim: KubeObject): Quantity {
  return storageOf(rec(rec(claim.spec).resources).requests)
}

export function volumeCapacity(volume: KubeObject): Quantity {
  return storageOf(rec(volume.spec).capacity)
}

/** The volume's claimRef names this claim (and its uid, when the ref has one). */
export function isVolumeBoundToClaim(volume: KubeObject, claim: KubeObject): boolean {
  const ref = rec(rec(volume.spec).claimRef)
  if (str(ref.name) !== str(claim.metadata?.name) || str(ref.namespace) !== str(claim.metadata?.namespace)) return false
  return str(ref.uid) === '' || str(ref.uid) === str(claim.metadata?.uid)
}

function volumeMode(spec: unknown): string {
  return str(rec(spec).volumeMode) || 'Filesystem'
}

function hasAccessModes(claim: KubeObject, volume: KubeObject): boolean {
  const offered = new Set(strs(rec(volume.spec).accessModes))
  return strs(rec(claim.spec).accessModes).every((m) => offered.has(m))
}

/**
 * The volume to bind `claim` to on a node with `nodeLabels`, or undefined. Volumes in
 * `excluded` (already chosen for the pod's other claims) are skipped. Throws when the
 * claim's selector is invalid.
 */
export function findMatchingVolume(claim: KubeObject, volumes: readonly KubeObject[], nodeLabels: Labels, excluded: ReadonlySet<string>): KubeObject | undefined {
  const requested = claimRequest(claim)
  const requestedClass = claimClass(claim)
  const rawSelector = rec(claim.spec).selector
  let selector: ReturnType<typeof selectorFromLabelSelector> | undefined
  if (rawSelector != null) {
    try {
      selector = selectorFromLabelSelector(rawSelector)
    } catch (err) {
      throw new Error(`error creating internal label selector for claim: ${claimKey(claim)}: ${(err as Error).message}`, { cause: err })
    }
  }
  let smallest: KubeObject | undefined
  let smallestQty: Quantity | undefined
  for (const volume of volumes) {
    if (excluded.has(str(volume.metadata?.name))) continue
    const spec = rec(volume.spec)
    if (spec.claimRef != null && !isVolumeBoundToClaim(volume, claim)) continue
    const qty = volumeCapacity(volume)
    if (qty.cmp(requested) < 0) continue
    if (volumeMode(claim.spec) !== volumeMode(spec)) continue
    if (volume.metadata?.deletionTimestamp !== undefined) continue
    // The most expensive check, so after the cheap ones.
    const affinityOk = volumeNodeAffinityMatches(volume, nodeLabels)
    if (isVolumeBoundToClaim(volume, claim)) {
      // Pre-bound to this claim: it or nothing.
      return affinityOk ? volume : undefined
    }
    // Volumes not yet Available may still be changing: binding them would likely conflict.
    if (rec(volume.status).phase !== 'Available') continue
    if (selector !== undefined && !selector.matches(volume.metadata?.labels ?? {})) continue
    if (volumeClass(volume) !== requestedClass) continue
    if (!affinityOk) continue
    if (!hasAccessModes(claim, volume)) continue
    if (smallestQty === undefined || smallestQty.cmp(qty) > 0) {
      smallest = volume
      smallestQty = qty
    }
  }
  return smallest
}

/**
 * The volume as the scheduler pre-binds it to the claim: claimRef pointing at the
 * claim (uid included) and, unless someone else bound it, bound-by-controller. `dirty`
 * is false when the volume already was that way.
 */
export function bindVolumeToClaim(volume: KubeObject, claim: KubeObject): { volume: KubeObject; dirty: boolean } {
  const ref = rec(rec(volume.spec).claimRef)
  const meta = claim.metadata ?? {}
  const byController = !isVolumeBoundToClaim(volume, claim)
  let out = volume
  let dirty = false
  if (ref.name !== meta.name || ref.namespace !== meta.namespace || ref.uid !== meta.uid) {
    const claimRef = { kind: 'PersistentVolumeClaim', namespace: meta.namespace, name: meta.name, uid: meta.uid, apiVersion: 'v1', resourceVersion: meta.resourceVersion }
    out = { ...out, spec: { ...rec(out.spec), claimRef } }
    dirty = true
  }
  if (byController && !(ANN_BOUND_BY_CONTROLLER in (out.metadata?.annotations ?? {}))) {
    out = { ...out, metadata: { ...out.metadata, annotations: { ...out.metadata?.annotations, [ANN_BOUND_BY_CONTROLLER]: 'yes' } } }
    dirty = true
  }
  return { volume: out, dirty }
}
