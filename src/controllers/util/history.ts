// ControllerRevisions (upstream controller history): DaemonSets and StatefulSets keep
// each template they ran as an immutable, numbered snapshot owned by them, named
// `<owner>-<hash of the data>`. Rollback and `kubectl rollout history` read these.
// Two different templates can hash alike: the create then finds a revision of that
// name with other data and the owner's collisionCount is raised, which changes the
// hash of the next attempt.
import { isAlreadyExists, type KubeObject, type OwnerReference, type RestClient } from '../../client/index.js'
import { canonicalJson, computeHash } from './hash.js'
import { CONTROLLER_REVISIONS } from './resources.js'

/** Label upstream puts on revisions and on the pods made from them. */
export const CONTROLLER_REVISION_HASH_LABEL = 'controller-revision-hash'

export function revisionNumber(r: KubeObject): number {
  const n = (r as { revision?: unknown }).revision
  return typeof n === 'number' ? n : 0
}

/** Oldest first; equal numbers by creation time then name, as upstream sorts. */
export function sortRevisions(revisions: readonly KubeObject[]): KubeObject[] {
  return [...revisions].sort(
    (a, b) =>
      revisionNumber(a) - revisionNumber(b) ||
      String(a.metadata?.creationTimestamp ?? '').localeCompare(String(b.metadata?.creationTimestamp ?? '')) ||
      String(a.metadata?.name ?? '').localeCompare(String(b.metadata?.name ?? '')),
  )
}

export function nextRevisionNumber(revisions: readonly KubeObject[]): number {
  return revisions.reduce((m, r) => Math.max(m, revisionNumber(r)), 0) + 1
}

/** Upstream caps the owner's part of a revision name so the whole stays a valid name. */
export function revisionName(ownerName: string, hash: string): string {
  return `${ownerName.slice(0, 223)}-${hash}`
}

export function revisionHash(data: unknown, collisionCount?: number): string {
  return computeHash(data, collisionCount)
}

/** Same data (and so the same template): such a revision is reused rather than duplicated. */
export function equalRevisions(a: KubeObject, b: KubeObject): boolean {
  const ha = a.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL]
  const hb = b.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL]
  if (ha !== undefined && hb !== undefined && ha !== hb) return false
  return canonicalJson((a as { data?: unknown }).data) === canonicalJson((b as { data?: unknown }).data)
}

/** A revision not yet stored: the owner's template labels plus the hash label, owned by `ref`. */
export function newRevision(opts: { namespace: string; ownerName: string; ref: OwnerReference; labels: Record<string, string>; data: unknown; revision: number; collisionCount?: number }): KubeObject {
  const hash = revisionHash(opts.data, opts.collisionCount)
  return {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: {
      name: revisionName(opts.ownerName, hash),
      namespace: opts.namespace,
      labels: { ...opts.labels, [CONTROLLER_REVISION_HASH_LABEL]: hash },
      ownerReferences: [opts.ref],
    },
    data: opts.data,
    revision: opts.revision,
  }
}

/**
 * Stores `rev` (built by newRevision with `collisionCount`). When its name is taken
 * by a revision with the same data, that one is returned; when by other data, the
 * caller's collision count is too low: `collision` says so and the caller raises
 * it in the owner's status and tries again.
 */
export async function createRevision(writer: RestClient, rev: KubeObject): Promise<{ revision: KubeObject } | { collision: true }> {
  const client = writer.resource(CONTROLLER_REVISIONS, rev.metadata?.namespace)
  try {
    return { revision: await client.create(rev) }
  } catch (err) {
    if (!isAlreadyExists(err)) throw err
    const existing = await client.get(rev.metadata?.name ?? '')
    if (equalRevisions(existing, rev)) return { revision: existing }
    return { collision: true }
  }
}
