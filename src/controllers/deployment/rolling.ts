// The RollingUpdate strategy: the new ReplicaSet grows while the Deployment stays
// within replicas + maxSurge pods, and old ReplicaSets shrink while at least
// replicas - maxUnavailable stay available; old pods that are not available anyway
// go first, as removing them costs no availability. Each pass takes one step (grow,
// else shrink) and waits for the ReplicaSets to report before the next.
import type { KubeObject } from '../../client/index.js'
import { availableReplicas, replicas, rollingUpdateParams, statusReplicas, strategyType } from './fields.js'
import { maxUnavailable, scaledValue } from './fenceposts.js'
import { deploymentComplete } from './progress.js'
import { availableReplicaCount, byCreation, filterActive, specReplicaCount } from './replica-sets.js'
import type { ScaleStep } from './scaling.js'
import type { DeploymentSync } from './sync.js'

/**
 * The size the new ReplicaSet may have now: up to spec.replicas without the total
 * passing replicas + maxSurge (RollingUpdate); all of spec.replicas at once (Recreate).
 */
export function newRSNewReplicas(d: KubeObject, allRSs: readonly (KubeObject | undefined)[], newRS: KubeObject): number {
  switch (strategyType(d)) {
    case 'RollingUpdate': {
      const surge = scaledValue(rollingUpdateParams(d).maxSurge, replicas(d), true)
      const maxTotal = replicas(d) + surge
      // Pods, not only sizes: an old ReplicaSet just scaled down still runs its pods until
      // the ReplicaSet controller has deleted them (its status.replicas says how many).
      // Upstream counts sizes alone, so the new ReplicaSet can grow while those pods run
      // and the Deployment briefly has more than replicas + maxSurge pods; counting the
      // larger of the two keeps the bound on the pods themselves.
      const current = allRSs.reduce((n, rs) => n + (rs === undefined ? 0 : Math.max(replicas(rs), statusReplicas(rs))), 0)
      if (current >= maxTotal) return replicas(newRS)
      return replicas(newRS) + Math.min(maxTotal - current, replicas(d) - replicas(newRS))
    }
    case 'Recreate':
      return replicas(d)
    default:
      throw new Error(`deployment type ${strategyType(d)} isn't supported`)
  }
}

/** What the new ReplicaSet should be scaled to in this pass; undefined when it is at spec.replicas. */
export function newReplicaSetTarget(d: KubeObject, allRSs: readonly (KubeObject | undefined)[], newRS: KubeObject): number | undefined {
  if (replicas(newRS) === replicas(d)) return undefined
  if (replicas(newRS) > replicas(d)) return replicas(d)
  return newRSNewReplicas(d, allRSs, newRS)
}

/**
 * The scale-downs of old ReplicaSets in this pass, oldest first (upstream
 * reconcileOldReplicaSets): at most allPods - minAvailable - newRSUnavailable pods,
 * so pods the new ReplicaSet has not yet made available are not counted on. First
 * the old pods that are not available, then available ones while more than
 * replicas - maxUnavailable are available. A ReplicaSet can appear in both stages.
 */
export function oldReplicaSetScaleDowns(d: KubeObject, allRSs: readonly (KubeObject | undefined)[], oldRSs: readonly KubeObject[], newRS: KubeObject): ScaleStep[] {
  if (specReplicaCount(oldRSs) === 0) return []
  const minAvailable = replicas(d) - maxUnavailable(d)
  const newRSUnavailable = replicas(newRS) - availableReplicas(newRS)
  const maxScaledDown = specReplicaCount(allRSs) - minAvailable - newRSUnavailable
  if (maxScaledDown <= 0) return []

  const steps: ScaleStep[] = []
  // Sizes as they will be after the steps so far.
  const size = new Map<KubeObject, number>(oldRSs.map((rs) => [rs, replicas(rs)]))
  const oldest = [...oldRSs].sort(byCreation)

  let cleaned = 0
  for (const rs of oldest) {
    if (cleaned >= maxScaledDown) break
    const n = size.get(rs)!
    if (n === 0 || n === availableReplicas(rs)) continue
    const down = Math.min(maxScaledDown - cleaned, n - availableReplicas(rs))
    // A status that still counts more available pods than spec (the ReplicaSet controller
    // has not yet acted on a scale-down) would make this a scale-up: refuse the pass, as
    // upstream does, and try again once the status caught up.
    if (down < 0) {
      throw new Error(`when cleaning up unhealthy replicas, got invalid request to scale down ${rs.metadata?.namespace ?? ''}/${rs.metadata?.name ?? ''} ${n} -> ${n - down}`)
    }
    size.set(rs, n - down)
    steps.push({ rs, to: n - down })
    cleaned += down
  }

  // Scaling down never changes what is available now: the count is the ReplicaSets' own.
  const available = availableReplicaCount([...oldRSs, newRS])
  if (available <= minAvailable) return steps
  const total = available - minAvailable
  let scaled = 0
  for (const rs of oldest) {
    if (scaled >= total) break
    const n = size.get(rs)!
    if (n === 0) continue
    const down = Math.min(n, total - scaled)
    size.set(rs, n - down)
    steps.push({ rs, to: n - down })
    scaled += down
  }
  return steps
}

/** One pass of a rolling update (upstream rolloutRolling). */
export async function rolloutRolling(sync: DeploymentSync): Promise<void> {
  const { newRS, oldRSs } = await sync.getAllReplicaSetsAndSyncRevision(true)
  if (newRS === undefined) throw new Error('no new ReplicaSet after creating one')
  const all = (): KubeObject[] => [...oldRSs.map((rs) => sync.latest(rs)), sync.latest(newRS)]

  const target = newReplicaSetTarget(sync.d, all(), newRS)
  if (target !== undefined && (await sync.scaleReplicaSetAndRecordEvent(newRS, target)).scaled) {
    return sync.syncRolloutStatus(all(), sync.latest(newRS))
  }

  const activeOld = filterActive(oldRSs.map((rs) => sync.latest(rs)))
  const steps = oldReplicaSetScaleDowns(sync.d, all(), activeOld, sync.latest(newRS))
  let scaledDown = false
  // A ReplicaSet may shrink twice (its unavailable pods, then available ones): each step from its latest copy.
  for (const step of steps) {
    if ((await sync.scaleReplicaSetAndRecordEvent(sync.latest(step.rs), step.to)).scaled) scaledDown = true
  }
  if (scaledDown) return sync.syncRolloutStatus(all(), sync.latest(newRS))

  if (deploymentComplete(sync.d, sync.d.status)) await sync.cleanupDeployment(oldRSs.map((rs) => sync.latest(rs)))
  return sync.syncRolloutStatus(all(), sync.latest(newRS))
}
