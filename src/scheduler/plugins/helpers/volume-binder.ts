// VolumeBinding's PreBind (upstream's BindPodVolumes): writes what Reserve assumed —
// each chosen static volume gets its claimRef (the PV controller then completes the
// bind), each claim to provision gets `volume.kubernetes.io/selected-node` (the
// provisioner then creates a volume on that node) — and waits until every one of those
// claims is bound, checking on each change the informers report rather than polling.
// It gives up with upstream's messages when the PV controller or provisioner undoes
// something (claimRef reset, selected-node removed), when the pod is deleted, or after
// the bind timeout; then, roughly as upstream's revertAssumedPVCs, a claim this
// attempt annotated and that is still unbound loses the annotation again, so the next
// attempt may choose another node.
import { rec, str } from '../../../api/json.js'
import { findResource } from '../../../api/resources.js'
import type { Clock } from '../../../client/clock.js'
import type { KubeObject } from '../../../client/types.js'
import { type BindingHandle, POD_DELETED, type VolumeAssumeCache } from '../../framework/types.js'
import { ANN_SELECTED_NODE, claimKey, claimVolumeName, isClaimFullyBound, newerVersion, selectedNode } from '../../../api/volume/claims.js'
import { volumeNodeAffinityMatches } from '../../../api/volume/topology.js'

const CLAIMS = findResource('', 'v1', 'persistentvolumeclaims')!
const VOLUMES = findResource('', 'v1', 'persistentvolumes')!

export interface StaticBinding {
  /** The volume with its claimRef set (as assumed; after the write, as written). */
  volume: KubeObject
  claim: KubeObject
}

/** What a pod's unbound claims get on one node (upstream's PodVolumes). */
export interface PodVolumes {
  staticBindings: StaticBinding[]
  /** Claims to provision, with the selected-node annotation once reserved. */
  dynamicProvisions: KubeObject[]
}

function nameOf(obj: KubeObject): string {
  return str(obj.metadata?.name)
}

function namespaceOf(obj: KubeObject): string {
  return str(obj.metadata?.namespace)
}

/**
 * Writes the bindings and provisioning requests for `pod` on `nodeName` and waits
 * until all its claims are bound. Throws (with upstream's message) when binding
 * failed, was undone, or took longer than `timeoutMs`.
 */
export async function bindPodVolumes(h: BindingHandle, pod: KubeObject, nodeName: string, volumes: PodVolumes, timeoutMs: number): Promise<void> {
  const cache = h.volumes
  if (cache === undefined) throw new Error('the scheduler has no volume cache')
  const bindings = volumes.staticBindings.map((b) => ({ ...b }))
  const claims = [...volumes.dynamicProvisions]
  let bound = 0
  let annotated = 0
  try {
    // No abort signal: a write already sent completes or is refused by the fence.
    for (; bound < bindings.length; bound++) bindings[bound].volume = await h.writer.resource(VOLUMES).update(bindings[bound].volume)
    for (; annotated < claims.length; annotated++) claims[annotated] = await h.writer.resource(CLAIMS, namespaceOf(claims[annotated])).update(claims[annotated])
  } catch (err) {
    // What was not written is no longer assumed.
    for (const b of bindings.slice(bound)) cache.restoreVolume(nameOf(b.volume))
    for (const c of claims.slice(annotated)) cache.restoreClaim(namespaceOf(c), nameOf(c))
    if (!stopping(h.signal)) await releaseSelectedNode(h, cache, claims.slice(0, annotated), nodeName)
    throw err
  }
  try {
    await waitForBound(h, cache, pod, nodeName, bindings, claims, timeoutMs)
  } catch (err) {
    if (!stopping(h.signal)) await releaseSelectedNode(h, cache, claims, nodeName)
    throw err
  }
}

function stopping(signal: AbortSignal): boolean {
  return signal.aborted && signal.reason !== POD_DELETED
}

async function waitForBound(
  h: BindingHandle,
  cache: VolumeAssumeCache,
  pod: KubeObject,
  nodeName: string,
  bindings: readonly StaticBinding[],
  claims: readonly KubeObject[],
  timeoutMs: number,
): Promise<void> {
  const deadline = h.clock.now() + timeoutMs
  for (;;) {
    if (h.signal.aborted) {
      if (h.signal.reason === POD_DELETED) throw new Error(`binding volumes: pod does not exist any more: pod "${nameOf(pod)}" not found`)
      throw new Error('binding volumes: the scheduler is stopping')
    }
    let done: boolean
    try {
      done = checkBindings(h, cache, nodeName, bindings, claims)
    } catch (err) {
      throw new Error(`binding volumes: ${(err as Error).message}`, { cause: err })
    }
    if (done) return
    const left = deadline - h.clock.now()
    if (left <= 0) throw new Error('binding volumes: context deadline exceeded')
    await nextChangeWithin(cache, h.clock, left, h.signal)
  }
}

/** Resolves at the next claim or volume change, after `ms`, or when `signal` aborts, whichever is first. */
async function nextChangeWithin(cache: VolumeAssumeCache, clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  const local = new AbortController()
  const onAbort = (): void => local.abort()
  signal.addEventListener('abort', onAbort, { once: true })
  const timer = clock.setTimeout(() => local.abort(), ms)
  try {
    await cache.nextChange(local.signal)
  } finally {
    timer.cancel()
    signal.removeEventListener('abort', onAbort)
  }
}

/**
 * Upstream's checkBindings, on the informers' versions (what the PV controller and
 * provisioners see, not our assumptions): true once every claim is bound; false to
 * keep waiting; throws when binding must be retried from scratch.
 */
function checkBindings(h: BindingHandle, cache: VolumeAssumeCache, nodeName: string, bindings: readonly StaticBinding[], claims: readonly KubeObject[]): boolean {
  const node = h.node(nodeName)
  if (node === undefined) throw new Error(`failed to get node "${nodeName}": node "${nodeName}" not found`)
  const labels = node.metadata?.labels ?? {}
  for (const b of bindings) {
    const pvName = nameOf(b.volume)
    const pv = cache.apiVolume(pvName)
    if (pv === undefined) throw new Error(`failed to check binding: persistentvolume "${pvName}" not found`)
    const pvc = cache.apiClaim(namespaceOf(b.claim), nameOf(b.claim))
    if (pvc === undefined) throw new Error(`failed to check binding: persistentvolumeclaim "${claimKey(b.claim)}" not found`)
    // Our write has not come back through the informer yet.
    if (newerVersion(b.volume, pv)) return false
    if (!volumeNodeAffinityMatches(pv, labels)) throw new Error(`pv "${pvName}" node affinity doesn't match node "${nodeName}": no matching NodeSelectorTerms`)
    const ref = rec(pv.spec).claimRef
    if (ref == null || str(rec(ref).uid) === '') throw new Error(`ClaimRef got reset for pv "${pvName}"`)
    if (!isClaimFullyBound(pvc)) return false
  }
  for (const claim of claims) {
    const pvc = cache.apiClaim(namespaceOf(claim), nameOf(claim))
    if (pvc === undefined) throw new Error(`failed to check provisioning pvc: persistentvolumeclaim "${claimKey(claim)}" not found`)
    if (newerVersion(claim, pvc)) return false
    const selected = selectedNode(pvc)
    if (selected === undefined) throw new Error(`selectedNode annotation reset for PVC "${nameOf(pvc)}"`)
    // A provisioner that cannot provision removes (or changes) the annotation to ask for another node.
    if (selected !== nodeName) throw new Error(`provisioning failed for PVC "${nameOf(pvc)}"`)
    const volumeName = claimVolumeName(pvc)
    if (volumeName !== '') {
      const pv = cache.apiVolume(volumeName)
      // Not seen yet: the informer may lag behind the claim's.
      if (pv === undefined) return false
      if (!volumeNodeAffinityMatches(pv, labels)) throw new Error(`pv "${volumeName}" node affinity doesn't match node "${nodeName}": no matching NodeSelectorTerms`)
    }
    if (!isClaimFullyBound(pvc)) return false
  }
  return true
}

/** Removes selected-node from claims this attempt annotated that are still unbound (conditional on their version). */
async function releaseSelectedNode(h: BindingHandle, cache: VolumeAssumeCache, annotated: readonly KubeObject[], nodeName: string): Promise<void> {
  for (const written of annotated) {
    const seen = cache.apiClaim(namespaceOf(written), nameOf(written))
    const current = seen === undefined || newerVersion(written, seen) ? written : seen
    if (claimVolumeName(current) !== '' || selectedNode(current) !== nodeName) continue
    try {
      await h.writer
        .resource(CLAIMS, namespaceOf(current))
        .patch(nameOf(current), 'merge', { metadata: { resourceVersion: current.metadata?.resourceVersion, annotations: { [ANN_SELECTED_NODE]: null } } })
    } catch {
      // Changed meanwhile (bound, or re-annotated by the provisioner) or gone: leave it as it is.
    }
  }
}
