// The garbage collector's reads and writes of the objects it judges: live GETs (the
// graph may lag, so every decision is checked against the API server), deletes with
// uid/resourceVersion preconditions, and the patches that drop or unblock owner
// references and remove the collector's own finalizers. Reads go through the plain
// client, writes through the fenced writer.
import { resourceForKind, type ResourceType } from '../../api/resources.js'
import { isConflict, isNotFound, type KubeObject, type OwnerReference, type PropagationPolicy, type RestClient } from '../../client/index.js'
import type { ObjectIdentity } from './graph.js'

/** An ownerReference or object of a kind this API server does not serve. */
export class UnknownKindError extends Error {
  constructor(readonly identity: Pick<ObjectIdentity, 'apiVersion' | 'kind'>) {
    super(`unable to get REST mapping for ${identity.apiVersion}/${identity.kind}`)
    this.name = 'UnknownKindError'
  }
}

const FINALIZER_RETRIES = 5

export class GcOperations {
  constructor(
    private readonly client: RestClient,
    private readonly writer: RestClient,
  ) {}

  resourceOf(id: Pick<ObjectIdentity, 'apiVersion' | 'kind'>): ResourceType {
    const rt = resourceForKind(id.apiVersion, id.kind)
    if (rt === undefined) throw new UnknownKindError(id)
    return rt
  }

  private ns(rt: ResourceType, id: ObjectIdentity): string | undefined {
    return rt.namespaced ? id.namespace : undefined
  }

  /** The object as the API server has it now, or undefined when it is not found. */
  async get(id: ObjectIdentity): Promise<KubeObject | undefined> {
    const rt = this.resourceOf(id)
    try {
      return await this.client.resource(rt, this.ns(rt, id)).get(id.name)
    } catch (err) {
      if (isNotFound(err)) return undefined
      throw err
    }
  }

  /**
   * Deletes `id` if it is still the object we judged (same uid and resourceVersion).
   * When only its resourceVersion moved and its owners did not, the judgement holds:
   * delete again with the uid precondition alone.
   */
  async delete(id: ObjectIdentity, resourceVersion: string | undefined, owners: readonly OwnerReference[] | undefined, policy: PropagationPolicy): Promise<void> {
    const rt = this.resourceOf(id)
    const preconditions = resourceVersion === undefined || resourceVersion === '' ? { uid: id.uid } : { uid: id.uid, resourceVersion }
    try {
      await this.writer.resource(rt, this.ns(rt, id)).delete(id.name, { preconditions, propagationPolicy: policy })
    } catch (err) {
      if (isNotFound(err)) return
      if (!isConflict(err) || resourceVersion === undefined || owners === undefined) throw err
      const live = await this.get(id)
      if (live === undefined) return
      if (live.metadata?.uid === id.uid && live.metadata.resourceVersion !== resourceVersion && sameOwners(live.metadata.ownerReferences ?? [], owners)) {
        return this.delete(id, undefined, undefined, policy)
      }
      throw err
    }
  }

  /** Drops the references to `ownerUids` from `id` (a strategic merge patch keyed by uid, as upstream). */
  async removeOwnerReferences(id: ObjectIdentity, ownerUids: readonly string[]): Promise<void> {
    const patch = { metadata: { ownerReferences: ownerUids.map((uid) => ({ $patch: 'delete', uid })), uid: id.uid } }
    await this.patch(id, patch)
  }

  /** Sets blockOwnerDeletion=false on every blocking reference of `id` (breaks foreground cycles). */
  async unblockOwnerReferences(id: ObjectIdentity, owners: readonly OwnerReference[]): Promise<void> {
    const blocking = owners.filter((r) => r.blockOwnerDeletion === true).map((r) => ({ ...r, blockOwnerDeletion: false }))
    if (blocking.length === 0) return
    await this.patch(id, { metadata: { ownerReferences: blocking, uid: id.uid } })
  }

  private async patch(id: ObjectIdentity, body: unknown): Promise<void> {
    const rt = this.resourceOf(id)
    try {
      await this.writer.resource(rt, this.ns(rt, id)).patch(id.name, 'strategic', body)
    } catch (err) {
      if (isNotFound(err)) return
      throw err
    }
  }

  /** Removes `finalizer` from the live object (a merge patch pinned to the resourceVersion read), retrying conflicts. */
  async removeFinalizer(id: ObjectIdentity, finalizer: string): Promise<void> {
    const rt = this.resourceOf(id)
    for (let attempt = 0; ; attempt++) {
      const live = await this.get(id)
      if (live === undefined || live.metadata?.uid !== id.uid) return
      const finalizers = live.metadata.finalizers ?? []
      if (!finalizers.includes(finalizer)) return
      const rest = finalizers.filter((f) => f !== finalizer)
      const patch = { metadata: { resourceVersion: live.metadata.resourceVersion, finalizers: rest.length === 0 ? null : rest } }
      try {
        await this.writer.resource(rt, this.ns(rt, id)).patch(id.name, 'merge', patch)
        return
      } catch (err) {
        if (isNotFound(err)) return
        if (!isConflict(err) || attempt >= FINALIZER_RETRIES) throw err
      }
    }
  }
}

function sameOwners(a: readonly OwnerReference[], b: readonly OwnerReference[]): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}
