// The Recreate strategy: every old ReplicaSet goes to 0, and only once no old pod is
// left running (terminal pods aside) is the new ReplicaSet created and scaled to
// spec.replicas, so two templates never run side by side.
import type { KubeObject } from '../../client/index.js'
import { podPhase } from '../util/pods.js'
import { replicas, uidOf } from './fields.js'
import { deploymentComplete } from './progress.js'
import { actualReplicaCount, filterActive } from './replica-sets.js'
import type { DeploymentSync } from './sync.js'

/** The Deployment's pods by the uid of the ReplicaSet that controls them. */
export type PodMap = ReadonlyMap<string, readonly KubeObject[]>

/**
 * An old ReplicaSet still reports pods, or a pod of an old ReplicaSet is not in a
 * terminal phase (Unknown counts as running: it may well be).
 */
export function oldPodsRunning(newRS: KubeObject | undefined, oldRSs: readonly KubeObject[], podMap: PodMap): boolean {
  if (actualReplicaCount(oldRSs) > 0) return true
  for (const [rsUid, pods] of podMap) {
    if (newRS !== undefined && uidOf(newRS) === rsUid) continue
    if (pods.some((p) => podPhase(p) !== 'Failed' && podPhase(p) !== 'Succeeded')) return true
  }
  return false
}

/** One pass of a Recreate rollout (upstream rolloutRecreate). */
export async function rolloutRecreate(sync: DeploymentSync, podMap: PodMap): Promise<void> {
  // The new ReplicaSet is not created yet: nothing may scale up before the old ones are down.
  let { newRS, oldRSs } = await sync.getAllReplicaSetsAndSyncRevision(false)
  const all = (): KubeObject[] => [...oldRSs.map((rs) => sync.latest(rs)), ...(newRS === undefined ? [] : [sync.latest(newRS)])]

  let scaledDown = false
  for (const rs of filterActive(oldRSs)) {
    if ((await sync.scaleReplicaSetAndRecordEvent(rs, 0)).scaled) scaledDown = true
  }
  if (scaledDown) return sync.syncRolloutStatus(all(), newRS === undefined ? undefined : sync.latest(newRS))

  if (oldPodsRunning(newRS, oldRSs, podMap)) return sync.syncRolloutStatus(all(), newRS === undefined ? undefined : sync.latest(newRS))

  if (newRS === undefined) ({ newRS, oldRSs } = await sync.getAllReplicaSetsAndSyncRevision(true))
  if (newRS === undefined) throw new Error('no new ReplicaSet after creating one')
  await sync.scaleReplicaSetAndRecordEvent(sync.latest(newRS), replicas(sync.d))

  if (deploymentComplete(sync.d, sync.d.status)) await sync.cleanupDeployment(oldRSs.map((rs) => sync.latest(rs)))
  return sync.syncRolloutStatus(all(), sync.latest(newRS))
}
