// The server-side rollback of extensions/v1beta1 (spec.rollbackTo), which later API
// versions carry as the deprecated.deployment.rollback.to annotation: the Deployment
// takes the pod template (and annotations) of the ReplicaSet with that revision, or of
// the previous revision for 0, and the annotation is cleared whatever happens. kubectl
// 1.32's `rollout undo` does not use it: it patches the template itself, and the
// Deployment then simply rolls forward to a template an old ReplicaSet already runs.
import { rec } from '../../api/json.js'
import type { KubeObject } from '../../client/index.js'
import { annotationsForRollback, DEPRECATED_ROLLBACK_TO_ANNOTATION } from './annotations.js'
import { nameOf, templateOf } from './fields.js'
import { lastRevision, revisionOf } from './history.js'
import { equalIgnoreHash, POD_TEMPLATE_HASH_LABEL } from './replica-sets.js'
import type { DeploymentSync } from './sync.js'

export const ROLLBACK_DONE = 'DeploymentRollback'
export const ROLLBACK_REVISION_NOT_FOUND = 'DeploymentRollbackRevisionNotFound'
export const ROLLBACK_TEMPLATE_UNCHANGED = 'DeploymentRollbackTemplateUnchanged'

/** The revision asked for by the annotation; undefined when there is none or it is not a number. */
export function rollbackTo(d: KubeObject): number | undefined {
  const v = d.metadata?.annotations?.[DEPRECATED_ROLLBACK_TO_ANNOTATION]
  if (v === undefined || v === '' || !/^[+-]?\d+$/.test(v)) return undefined
  return Number(v)
}

/** The Deployment with the ReplicaSet's template (hash label dropped) and annotations (upstream rollbackToTemplate). */
export function withTemplateOf(d: KubeObject, rs: KubeObject): KubeObject {
  const template = structuredClone(templateOf(rs))
  const meta = rec(template.metadata)
  if (meta.labels !== undefined) {
    const { [POD_TEMPLATE_HASH_LABEL]: _hash, ...labels } = rec(meta.labels) as Record<string, string>
    meta.labels = labels
  }
  return { ...d, metadata: { ...d.metadata, annotations: annotationsForRollback(d, rs) }, spec: { ...rec(d.spec), template } }
}

/** One pass of a requested rollback (upstream rollback()). */
export async function rollback(sync: DeploymentSync): Promise<void> {
  const { newRS, oldRSs } = await sync.getAllReplicaSetsAndSyncRevision(true)
  const all = [...oldRSs, ...(newRS === undefined ? [] : [newRS])]
  let revision = rollbackTo(sync.d) ?? 0
  if (revision === 0) {
    revision = lastRevision(all)
    if (revision === 0) {
      sync.event('Warning', ROLLBACK_REVISION_NOT_FOUND, 'Unable to find last revision.')
      return sync.updateDeploymentAndClearRollbackTo(sync.d)
    }
  }
  const target = all.find((rs) => revisionOf(rs) === revision)
  if (target === undefined) {
    sync.event('Warning', ROLLBACK_REVISION_NOT_FOUND, 'Unable to find the revision to rollback to.')
    return sync.updateDeploymentAndClearRollbackTo(sync.d)
  }
  // The revision is bumped by the next pass, when the old ReplicaSet becomes the new one.
  if (equalIgnoreHash(templateOf(sync.d), templateOf(target))) {
    sync.event('Warning', ROLLBACK_TEMPLATE_UNCHANGED, `The rollback revision contains the same template as current deployment "${nameOf(sync.d)}"`)
    return sync.updateDeploymentAndClearRollbackTo(sync.d)
  }
  await sync.updateDeploymentAndClearRollbackTo(withTemplateOf(sync.d, target))
  sync.event('Normal', ROLLBACK_DONE, `Rolled back deployment "${nameOf(sync.d)}" to revision ${revision}`)
}
