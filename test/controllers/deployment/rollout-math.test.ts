// The numbers of a rollout, without a server: maxSurge and maxUnavailable resolved
// from ints and percentages, how far the new ReplicaSet may grow, which old ones
// shrink and by how much, and how a resize is shared out among ReplicaSets.
import t from 'tap'
import { maxSurge, maxUnavailable, resolveFenceposts, scaledValue } from '../../../src/controllers/deployment/fenceposts.js'
import { newReplicaSetTarget, newRSNewReplicas, oldReplicaSetScaleDowns } from '../../../src/controllers/deployment/rolling.js'
import { isScalingEvent, proportion, replicaSetFraction, scaleSteps } from '../../../src/controllers/deployment/scaling.js'
import { dep, rs } from './objects.js'

const steps = (s: { rs: { metadata?: { name?: string } }; to: number }[]): string => s.map((x) => `${x.rs.metadata?.name}->${x.to}`).join(' ')

t.test('maxSurge rounds up and maxUnavailable down; both 0 make one pod unavailable', async (t) => {
  t.equal(scaledValue('25%', 10, true), 3)
  t.equal(scaledValue('25%', 10, false), 2)
  t.equal(scaledValue(4, 10, false), 4)
  t.equal(scaledValue(undefined, 10, true), 0)
  t.throws(() => scaledValue('abc', 10, true), /is not a percentage/)
  t.same(resolveFenceposts('25%', '25%', 1), { surge: 1, unavailable: 0 })
  t.same(resolveFenceposts('0%', '1%', 2), { surge: 0, unavailable: 1 }, '1% of 2 rounds to 0: one unavailable all the same')
  t.same(resolveFenceposts(0, 0, 5), { surge: 0, unavailable: 1 })
  t.equal(maxSurge(dep({ replicas: 10 })), 3)
  t.equal(maxUnavailable(dep({ replicas: 10 })), 2)
  t.equal(maxUnavailable(dep({ replicas: 3, maxUnavailable: 5, maxSurge: 0 })), 3, 'never more than the replicas')
  t.equal(maxUnavailable(dep({ replicas: 0 })), 0)
  t.equal(maxSurge(dep({ strategy: 'Recreate' })), 0)
  t.equal(maxUnavailable(dep({ strategy: 'Recreate' })), 0)
})

t.test('the new ReplicaSet grows up to replicas + maxSurge pods in all, never past replicas', async (t) => {
  const d = dep({ replicas: 10, maxSurge: 3, maxUnavailable: 2 })
  const old = rs('old', { replicas: 10 })
  const fresh = rs('new', { replicas: 0 })
  t.equal(newRSNewReplicas(d, [old, fresh], fresh), 3)
  t.equal(newRSNewReplicas(d, [rs('old', { replicas: 8 }), rs('new', { replicas: 3 })], rs('new', { replicas: 3 })), 5)
  t.equal(newRSNewReplicas(d, [rs('old', { replicas: 13 }), fresh], fresh), 0, 'no room at all')
  t.equal(newRSNewReplicas(d, [rs('new', { replicas: 8 })], rs('new', { replicas: 8 })), 10, 'capped at spec.replicas')
  t.equal(newRSNewReplicas(dep({ strategy: 'Recreate', replicas: 4 }), [fresh], fresh), 4)
  t.equal(newReplicaSetTarget(d, [rs('new', { replicas: 10 })], rs('new', { replicas: 10 })), undefined, 'at size: nothing to do')
  t.equal(newReplicaSetTarget(d, [rs('new', { replicas: 12 })], rs('new', { replicas: 12 })), 10, 'above: back to spec.replicas')
  t.throws(() => newRSNewReplicas({ ...d, spec: { ...(d.spec as object), strategy: { type: 'Blue' } } }, [fresh], fresh), /isn't supported/)
})

t.test('old ReplicaSets shrink by what availability allows, counting on nothing the new one has not made available', async (t) => {
  const d = dep({ replicas: 10, maxSurge: 3, maxUnavailable: 2 })
  // Upstream's example: new created with 3 of 13 pods, none available yet: old may lose 2 (13 - 8 - 3).
  let old = rs('old', { replicas: 10 })
  let fresh = rs('new', { replicas: 3, pods: 3, available: 0 })
  t.equal(steps(oldReplicaSetScaleDowns(d, [old, fresh], [old], fresh)), 'old->8')
  // New at 5, none available: 13 - 8 - 5 = 0.
  old = rs('old', { replicas: 8 })
  fresh = rs('new', { replicas: 5, available: 0 })
  t.same(oldReplicaSetScaleDowns(d, [old, fresh], [old], fresh), [])
  // All 5 new available: 13 pods, 13 available, 8 needed: 5 old ones go.
  fresh = rs('new', { replicas: 5 })
  t.equal(steps(oldReplicaSetScaleDowns(d, [old, fresh], [old], fresh)), 'old->3')
  t.same(oldReplicaSetScaleDowns(d, [rs('old', { replicas: 0 }), fresh], [], fresh), [], 'nothing old left')
})

t.test('an old ReplicaSet whose status still counts more available pods than its spec is never scaled up', async (t) => {
  // Just scaled down 5 → 4; its status (5 available) is from before. Cleaning up
  // "unavailable" pods would compute 4 - (4 - 5) = 5, a scale-up past maxSurge; upstream
  // refuses the pass and waits for the status.
  const d = dep({ replicas: 10, maxSurge: 2, maxUnavailable: 1 })
  const old = rs('old', { replicas: 4, pods: 5, available: 5 })
  const fresh = rs('new', { replicas: 8, pods: 8, available: 6 })
  t.throws(() => oldReplicaSetScaleDowns(d, [old, fresh], [old], fresh), /got invalid request to scale down .*old 4 -> 5/)
})

t.test('unavailable old pods go first, oldest ReplicaSet first, and may go when available ones may not', async (t) => {
  const d = dep({ replicas: 4, maxSurge: 2, maxUnavailable: 0 })
  const older = rs('older', { replicas: 2, available: 1, created: 1 })
  const old = rs('old', { replicas: 2, available: 0, created: 2 })
  const fresh = rs('new', { replicas: 2, created: 3 })
  // 6 pods, 4 must stay available, none of the new pods unavailable: 2 may go, both unavailable ones.
  t.equal(steps(oldReplicaSetScaleDowns(d, [older, old, fresh], [older, old], fresh)), 'older->1 old->1')
  // A ReplicaSet can shrink in both stages: unavailable pods first, then available ones.
  const d2 = dep({ replicas: 4, maxSurge: 1, maxUnavailable: 1 })
  const mixed = rs('mixed', { replicas: 4, available: 3, created: 1 })
  const ready = rs('new', { replicas: 1, created: 2 })
  t.equal(steps(oldReplicaSetScaleDowns(d2, [mixed, ready], [mixed], ready)), 'mixed->3 mixed->2', 'its unavailable pod, then one of the 4 available with 3 needed')
})

t.test('a resize mid-rollout is shared in proportion; leftovers to the largest', async (t) => {
  const d = dep({ replicas: 20, maxSurge: 3, maxUnavailable: 2 })
  const annotations = { 'deployment.kubernetes.io/desired-replicas': '10', 'deployment.kubernetes.io/max-replicas': '13' }
  const old = rs('old', { replicas: 8, created: 1, annotations })
  const fresh = rs('new', { replicas: 5, created: 2, annotations })
  t.equal(replicaSetFraction(old, d), 6, '8/13 of 23 is 14.15: 6 more')
  t.equal(replicaSetFraction(fresh, d), 4, '5/13 of 23 is 8.85: 4 more')
  t.equal(proportion(fresh, d, 10, 8), 2, 'never past what is left to add')
  t.same(scaleSteps(d, fresh, [old]).map((s) => [s.rs.metadata?.name, s.to, s.operation]), [
    ['old', 14, 'up'],
    ['new', 9, 'up'],
  ])
  // Down to 5 (8 allowed): larger and older shrink first; rounding leftovers land on the first.
  const small = dep({ replicas: 5, maxSurge: 3, maxUnavailable: 2 })
  t.same(scaleSteps(small, fresh, [old]).map((s) => [s.rs.metadata?.name, s.to, s.operation]), [
    ['old', 5, 'down'],
    ['new', 3, 'down'],
  ])
  // To zero: everything goes.
  t.same(scaleSteps(dep({ replicas: 0 }), fresh, [old]).map((s) => [s.rs.metadata?.name, s.to]), [
    ['old', 0],
    ['new', 0],
  ])
  // No room to add or remove: sizes stay, annotations are refreshed (operation set, same size).
  const same = dep({ replicas: 10, maxSurge: 3, maxUnavailable: 2 })
  t.same(scaleSteps(same, fresh, [old]).map((s) => [s.rs.metadata?.name, s.to, s.operation]), [
    ['old', 8, ''],
    ['new', 5, ''],
  ])
})

t.test('a lone active ReplicaSet takes the whole size; a saturated new one lets old ones go', async (t) => {
  const d = dep({ replicas: 7 })
  t.equal(steps(scaleSteps(d, rs('new', { replicas: 3 }), [rs('old', { replicas: 0 })])), 'new->7')
  t.equal(steps(scaleSteps(d, undefined, [rs('a', { replicas: 0, created: 1 }), rs('b', { replicas: 0, created: 2 })])), 'b->7', 'none active: the newest')
  t.same(scaleSteps(d, rs('new', { replicas: 7 }), []), [], 'already there')
  const saturated = rs('new', { replicas: 7, annotations: { 'deployment.kubernetes.io/desired-replicas': '7' } })
  t.equal(steps(scaleSteps(d, saturated, [rs('old', { replicas: 2 })])), 'old->0')
  t.same(scaleSteps(dep({ strategy: 'Recreate', replicas: 7 }), rs('new', { replicas: 3 }), [rs('old', { replicas: 2 })]), [], 'Recreate does not share out')
})

t.test('a scaling event is an active ReplicaSet sized for another spec.replicas', async (t) => {
  const d = dep({ replicas: 5 })
  const at = (n: string) => ({ 'deployment.kubernetes.io/desired-replicas': n })
  t.equal(isScalingEvent(d, [rs('a', { replicas: 5, annotations: at('5') })]), false)
  t.equal(isScalingEvent(d, [rs('a', { replicas: 3, annotations: at('3') })]), true)
  t.equal(isScalingEvent(d, [rs('a', { replicas: 0, annotations: at('3') })]), false, 'inactive ones do not count')
  t.equal(isScalingEvent(d, [rs('a', { replicas: 3 }), undefined]), false, 'no annotation: no opinion')
})
