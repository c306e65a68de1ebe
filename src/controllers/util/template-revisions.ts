// The ControllerRevisions of a StatefulSet or DaemonSet: each distinct pod template it
// ran, stored as the strategic-merge patch `kubectl rollout undo` applies to go back
// to it. The update revision is the one for today's template (created, or an equal
// older one renumbered as the newest); the current revision is the one the rollout
// started from (status.currentRevision; DaemonSets have none and use the update one).
import type { KubeObject, OwnerReference, RestClient } from '../../client/index.js'
import { createRevision, equalRevisions, newRevision, nextRevisionNumber, revisionNumber, sortRevisions } from './history.js'
import { CONTROLLER_REVISIONS } from './resources.js'

type Json = Record<string, unknown>

/** What a revision stores: the template as a patch that replaces the set's template. */
export function revisionData(set: KubeObject): Json {
  const template = ((set.spec as Json | undefined)?.template ?? {}) as Json
  return { spec: { template: { ...structuredClone(template), $patch: 'replace' } } }
}

/** The pod template a revision stores. */
export function revisionTemplate(revision: KubeObject): Json {
  const t = { ...((((revision as { data?: Json }).data?.spec as Json | undefined)?.template ?? {}) as Json) }
  delete t.$patch
  return t
}

export interface OwnerRevisions {
  current: KubeObject
  update: KubeObject
  /** Every revision of the set, oldest first, including the two above. */
  all: KubeObject[]
  collisionCount: number
}

/** Finds or makes the update revision for the set's template; raises collisionCount on a hash collision. */
export async function ensureRevisions(writer: RestClient, set: KubeObject, ref: OwnerReference, owned: readonly KubeObject[]): Promise<OwnerRevisions> {
  const status = (set.status ?? {}) as Json
  let collisionCount = typeof status.collisionCount === 'number' ? status.collisionCount : 0
  const all = sortRevisions(owned)
  const labels = ((((set.spec as Json | undefined)?.template as Json | undefined)?.metadata as Json | undefined)?.labels ?? {}) as Record<string, string>
  const next = nextRevisionNumber(all)
  const build = (): KubeObject =>
    newRevision({ namespace: set.metadata?.namespace ?? '', ownerName: set.metadata?.name ?? '', ref, labels, data: revisionData(set), revision: next, collisionCount })
  let candidate = build()
  const equal = all.filter((r) => equalRevisions(r, candidate))
  let update: KubeObject
  if (equal.length > 0 && equal[equal.length - 1] === all[all.length - 1]) {
    update = equal[equal.length - 1]!
  } else if (equal.length > 0) {
    // Rolled back to an older template: that revision becomes the newest.
    const old = equal[equal.length - 1]!
    update = await writer.resource(CONTROLLER_REVISIONS, set.metadata?.namespace).update({ ...old, revision: next } as KubeObject)
    all.splice(all.indexOf(old), 1)
    all.push(update)
  } else {
    for (;;) {
      const res = await createRevision(writer, candidate)
      if ('revision' in res) {
        update = res.revision
        break
      }
      collisionCount++
      candidate = build()
    }
    if (!all.some((r) => r.metadata?.name === update.metadata?.name)) all.push(update)
  }
  const currentName = typeof status.currentRevision === 'string' ? status.currentRevision : undefined
  const current = all.find((r) => r.metadata?.name === currentName) ?? update
  return { current, update, all: sortRevisions(all), collisionCount }
}

/**
 * Revisions beyond revisionHistoryLimit that no pod and neither current nor update
 * uses, oldest first. `podRevision` names the revision a pod runs (a StatefulSet
 * pod's label holds the revision's name, a DaemonSet pod's its hash).
 */
export function revisionsToPrune(revs: OwnerRevisions, pods: readonly KubeObject[], limit: number, podRevision: (pod: KubeObject) => string | undefined): KubeObject[] {
  const live = new Set<string>([revs.current.metadata?.name ?? '', revs.update.metadata?.name ?? ''])
  for (const p of pods) {
    const r = podRevision(p)
    if (r !== undefined) live.add(r)
  }
  const history = revs.all.filter((r) => !live.has(r.metadata?.name ?? ''))
  const excess = history.length - limit
  return excess > 0 ? [...history].sort((a, b) => revisionNumber(a) - revisionNumber(b)).slice(0, excess) : []
}
