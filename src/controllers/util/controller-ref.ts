// Controller references (ownerReferences with controller: true) and the claim
// protocol every workload controller follows (upstream ControllerRefManager): a
// controller owns the objects whose controllerRef names its uid; it adopts orphans
// its selector matches and releases objects it owns that its selector no longer
// matches. Adoption and release are strategic-merge patches that carry the object's
// uid, so they never land on a same-named replacement.
import { controllerUidIndexFunc, type Indexer, isNotFound, type KubeObject, type OwnerReference, type ResourceClient } from '../../client/index.js'
import type { Selector } from '../../api/labels.js'

/** The informer index of objects by their controller's uid: `{ indexers: CONTROLLER_UID_INDEXERS }`. */
export const CONTROLLER_UID_INDEX = 'controllerUid'
export const CONTROLLER_UID_INDEXERS = { [CONTROLLER_UID_INDEX]: controllerUidIndexFunc }

export function controllerOf(obj: KubeObject): OwnerReference | undefined {
  return obj.metadata?.ownerReferences?.find((r) => r.controller === true)
}

/**
 * The cache key of the `kind` owner whose controllerRef `obj` carries, when the cache
 * holds that owner and it is still the same object (same uid): a ref to a deleted and
 * recreated namesake is nobody's.
 */
export function ownerKeyOf(obj: KubeObject, kind: string, owners: Indexer): string | undefined {
  const ref = controllerOf(obj)
  if (ref?.kind !== kind) return undefined
  const key = `${obj.metadata?.namespace ?? ''}/${ref.name}`
  return owners.getByKey(key)?.metadata?.uid === ref.uid ? key : undefined
}

/** The controllerRef an owner puts on what it creates. */
export function controllerRef(owner: KubeObject, apiVersion: string, kind: string): OwnerReference {
  return { apiVersion, kind, name: owner.metadata?.name ?? '', uid: owner.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true }
}

export interface ClaimOptions {
  owner: KubeObject
  /** The owner's apiVersion and kind, for the controllerRef of adopted objects. */
  apiVersion: string
  kind: string
  selector: Selector
  /** The client of the claimed objects' resource, in the owner's namespace (the fenced writer). */
  objects: ResourceClient
  /**
   * Reads the owner afresh (not from a cache): adoption is refused when the owner is
   * being deleted or was replaced, as a cached copy could hide either.
   */
  fetchOwner: () => Promise<KubeObject>
}

/**
 * Of `candidates` (objects in the owner's namespace), those the owner controls after
 * adopting matching orphans and releasing non-matching ones. Objects being deleted
 * are neither adopted nor released; an object that vanished while being claimed is
 * left out.
 */
export async function claimObjects(opts: ClaimOptions, candidates: readonly KubeObject[]): Promise<KubeObject[]> {
  const { owner, selector } = opts
  const ownerUid = owner.metadata?.uid
  const ownerDeleting = owner.metadata?.deletionTimestamp !== undefined
  let canAdopt: Promise<boolean> | undefined
  const mayAdopt = (): Promise<boolean> => {
    canAdopt ??= opts.fetchOwner().then(
      (fresh) => fresh.metadata?.uid === ownerUid && fresh.metadata?.deletionTimestamp === undefined,
      (err: unknown) => {
        if (isNotFound(err)) return false
        throw err
      },
    )
    return canAdopt
  }
  const claimed: KubeObject[] = []
  for (const obj of candidates) {
    const ref = controllerOf(obj)
    const matches = selector.matches(obj.metadata?.labels ?? {})
    const deleting = obj.metadata?.deletionTimestamp !== undefined
    if (ref !== undefined) {
      if (ref.uid !== ownerUid) continue
      if (matches || deleting || ownerDeleting) {
        claimed.push(obj)
        continue
      }
      await patchIgnoringGone(opts.objects, obj, { metadata: { ownerReferences: [{ $patch: 'delete', uid: ownerUid }], uid: obj.metadata?.uid } })
      continue
    }
    if (!matches || deleting || ownerDeleting) continue
    if (!(await mayAdopt())) continue
    const ref2 = controllerRef(owner, opts.apiVersion, opts.kind)
    const adopted = await patchIgnoringGone(opts.objects, obj, { metadata: { ownerReferences: [ref2], uid: obj.metadata?.uid } })
    if (adopted !== undefined) claimed.push(adopted)
  }
  return claimed
}

async function patchIgnoringGone(client: ResourceClient, obj: KubeObject, body: unknown): Promise<KubeObject | undefined> {
  try {
    return await client.patch(obj.metadata?.name ?? '', 'strategic', body)
  } catch (err) {
    // Deleted meanwhile: nothing to claim or release.
    if (isNotFound(err)) return undefined
    throw err
  }
}
