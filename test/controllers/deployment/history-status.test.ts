// Revisions, annotations, ReplicaSet naming and status, without a server: the new
// ReplicaSet found by template whatever its hash, annotations copied but never the
// Deployment's own, revision-history kept on a reused ReplicaSet, history pruned
// oldest first, and the Available and Progressing conditions through a rollout.
/* eslint-disable @typescript-eslint/no-explicit-any -- objects are read by path in assertions */
import t from 'tap'
import type { KubeObject } from '../../../src/client/index.js'
import { annotationsForRollback, copyDeploymentAnnotations } from '../../../src/controllers/deployment/annotations.js'
import { getCondition, newCondition, setCondition } from '../../../src/controllers/deployment/conditions.js'
import { byRevision, lastRevision, maxRevision, replicaSetsToCleanUp, revisionOf, setNewReplicaSetAnnotations } from '../../../src/controllers/deployment/history.js'
import { calculateStatus, compactStatus, deploymentComplete, deploymentProgressing, progressCheckDelay, rolloutStatus } from '../../../src/controllers/deployment/progress.js'
import { oldPodsRunning } from '../../../src/controllers/deployment/recreate.js'
import { equalIgnoreHash, findActiveOrLatest, findNewReplicaSet, newReplicaSetFor } from '../../../src/controllers/deployment/replica-sets.js'
import { rollbackTo, withTemplateOf } from '../../../src/controllers/deployment/rollback.js'
import { computeHash } from '../../../src/controllers/util/hash.js'
import { dep, rs } from './objects.js'

const ref = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'd-uid', controller: true, blockOwnerDeletion: true }
const T0 = new Date('2026-01-01T00:00:00Z')
const at = (s: number): Date => new Date(T0.getTime() + s * 1000)

t.test('the ReplicaSet of a template: named and labelled by its hash, collisionCount changing the hash', async (t) => {
  const d = dep({ replicas: 3 })
  const template = (d.spec as any).template
  const hash = computeHash(template, undefined)
  const made = newReplicaSetFor(d, undefined, ref) as any
  t.equal(made.metadata.name, `web-${hash}`)
  t.same(made.metadata.labels, { app: 'web', 'pod-template-hash': hash })
  t.same(made.spec.selector, { matchLabels: { app: 'web', 'pod-template-hash': hash } })
  t.same(made.spec.template.metadata.labels, { app: 'web', 'pod-template-hash': hash })
  t.same(made.metadata.ownerReferences, [ref])
  t.same(template.metadata.labels, { app: 'web' }, "the Deployment's template is left alone")
  const bumped = newReplicaSetFor(d, 1, ref) as any
  t.not(bumped.metadata.name, made.metadata.name)
  t.equal(bumped.metadata.name, `web-${computeHash(template, 1)}`)
})

t.test('the new ReplicaSet is the oldest one running the template, whatever its hash', async (t) => {
  const d = dep({ image: 'nginx:2' })
  const a = rs('a', { created: 1, image: 'nginx:1' })
  const b = rs('b', { created: 3, image: 'nginx:2' })
  const c = rs('c', { created: 2, image: 'nginx:2' })
  t.equal(findNewReplicaSet(d, [a, b, c])?.metadata?.name, 'c')
  t.equal(findNewReplicaSet(d, [a]), undefined)
  t.ok(equalIgnoreHash((b.spec as any).template, (d.spec as any).template), 'the hash label aside, the templates are equal')
  t.ok(equalIgnoreHash({ metadata: { labels: { app: 'web' }, creationTimestamp: null }, spec: { containers: [{ name: 'web', image: 'nginx:2' }] } }, (d.spec as any).template), 'null reads as absent')
  t.equal(findActiveOrLatest(undefined, [rs('x', { created: 1 }), rs('y', { created: 2 })])?.metadata?.name, 'y')
  t.equal(findActiveOrLatest(rs('n', { replicas: 1 }), [rs('x', { replicas: 1 })]), undefined, 'two active: share out')
})

t.test("annotations are copied to ReplicaSets, the Deployment's own kept back", async (t) => {
  const d = dep({ annotations: { 'kubernetes.io/change-cause': 'v2', team: 'a', 'kubectl.kubernetes.io/last-applied-configuration': '{}', 'deployment.kubernetes.io/revision': '9' } })
  const target = rs('x', { annotations: { own: 'kept', team: 'b' } })
  t.equal(copyDeploymentAnnotations(d, target), true)
  t.same(target.metadata?.annotations, { own: 'kept', team: 'a', 'kubernetes.io/change-cause': 'v2' })
  t.equal(copyDeploymentAnnotations(d, target), false, 'nothing new the second time')
  // Rolling back takes the ReplicaSet's annotations, keeping the Deployment's own.
  t.same(annotationsForRollback(d, rs('y', { revision: 2, annotations: { 'kubernetes.io/change-cause': 'v1' } })), {
    'kubectl.kubernetes.io/last-applied-configuration': '{}',
    'deployment.kubernetes.io/revision': '9',
    'kubernetes.io/change-cause': 'v1',
  })
})

t.test('revisions: the new ReplicaSet takes max+1; a reused one remembers its old revisions', async (t) => {
  const olds = [rs('a', { revision: 1 }), rs('b', { revision: 4 }), rs('c', { annotations: { 'deployment.kubernetes.io/revision': 'x' } }), rs('d')]
  t.equal(maxRevision(olds), 4)
  t.equal(lastRevision([...olds, rs('e', { revision: 6 })]), 4)
  t.equal(revisionOf(olds[2]!), undefined)
  t.equal(revisionOf(olds[3]!), 0)
  t.same([rs('p', { revision: 3, created: 1 }), rs('q', { revision: 1, created: 2 }), rs('r', { created: 0 })].sort(byRevision).map((x) => x.metadata?.name), ['r', 'q', 'p'])

  const d = dep({ replicas: 4, maxSurge: 1 })
  const fresh = rs('n')
  t.equal(setNewReplicaSetAnnotations(d, fresh, 5, false), true)
  t.match(fresh.metadata?.annotations, { 'deployment.kubernetes.io/revision': '5', 'deployment.kubernetes.io/desired-replicas': '4', 'deployment.kubernetes.io/max-replicas': '5' })
  t.notOk('deployment.kubernetes.io/revision-history' in fresh.metadata!.annotations!)

  const reused = rs('r', { revision: 1 })
  t.equal(setNewReplicaSetAnnotations(d, reused, 3, true), true)
  t.match(reused.metadata?.annotations, { 'deployment.kubernetes.io/revision': '3', 'deployment.kubernetes.io/revision-history': '1' })
  t.notOk('deployment.kubernetes.io/desired-replicas' in reused.metadata!.annotations!, 'an existing ReplicaSet gets replica annotations when scaled')
  setNewReplicaSetAnnotations(d, reused, 5, true)
  t.equal(reused.metadata?.annotations?.['deployment.kubernetes.io/revision-history'], '1,3')
  t.equal(setNewReplicaSetAnnotations(d, reused, 5, true), false, 'never lowered, nothing to do')
  const long = rs('l', { revision: 7, annotations: { 'deployment.kubernetes.io/revision-history': '1,2,3' } })
  setNewReplicaSetAnnotations(d, long, 8, true, 4)
  t.equal(long.metadata?.annotations?.['deployment.kubernetes.io/revision-history'], '3,7', 'the oldest entries go to fit the limit')
  t.equal(setNewReplicaSetAnnotations(d, rs('bad', { annotations: { 'deployment.kubernetes.io/revision': 'x' } }), 2, true), false, 'an unreadable revision is left alone')
})

t.test('history beyond revisionHistoryLimit goes oldest revision first, only what runs nothing', async (t) => {
  const olds = [rs('r3', { revision: 3 }), rs('r1', { revision: 1 }), rs('r2', { revision: 2 }), rs('r4', { revision: 4, replicas: 1 })]
  t.same(replicaSetsToCleanUp(dep({ revisionHistoryLimit: 2 }), olds).map((x) => x.metadata?.name), ['r1', 'r2'])
  t.same(replicaSetsToCleanUp(dep({ revisionHistoryLimit: 0 }), olds).map((x) => x.metadata?.name), ['r1', 'r2', 'r3'], 'r4 still runs a pod')
  t.same(replicaSetsToCleanUp(dep({}), olds), [], 'no limit')
  t.same(replicaSetsToCleanUp(dep({ revisionHistoryLimit: 2147483647 }), olds), [], 'MaxInt32 keeps everything')
  const stillRunning = rs('p', { revision: 1, pods: 1 })
  const unobserved = rs('u', { revision: 2, generation: 3, observedGeneration: 2 })
  t.same(replicaSetsToCleanUp(dep({ revisionHistoryLimit: 0 }), [stillRunning, unobserved]), [], 'pods left, or a scale-down not yet observed')
})

t.test('conditions keep their transition time while the status stays', async (t) => {
  const status: Record<string, unknown> = {}
  setCondition(status, newCondition('Progressing', 'True', 'NewReplicaSetCreated', 'created', at(0)))
  setCondition(status, newCondition('Progressing', 'True', 'NewReplicaSetCreated', 'again', at(5)))
  t.match(getCondition(status, 'Progressing'), { message: 'created', lastUpdateTime: '2026-01-01T00:00:00Z' }, 'same status and reason: untouched')
  setCondition(status, newCondition('Progressing', 'True', 'ReplicaSetUpdated', 'moving', at(10)))
  t.match(getCondition(status, 'Progressing'), { reason: 'ReplicaSetUpdated', lastUpdateTime: '2026-01-01T00:00:10Z', lastTransitionTime: '2026-01-01T00:00:00Z' })
  setCondition(status, newCondition('Progressing', 'False', 'ProgressDeadlineExceeded', 'stuck', at(20)))
  t.match(getCondition(status, 'Progressing'), { status: 'False', lastTransitionTime: '2026-01-01T00:00:20Z' })
})

t.test('status from the ReplicaSets, and Progressing through a rollout', async (t) => {
  const created = newCondition('Progressing', 'True', 'NewReplicaSetCreated', 'Created new replica set "web-2"', at(0))
  const d = dep({ replicas: 4, maxSurge: 1, maxUnavailable: 1, progressDeadlineSeconds: 60, generation: 2, status: { observedGeneration: 2, replicas: 4, updatedReplicas: 0, availableReplicas: 4, conditions: [created] } })
  const old = rs('web-1', { replicas: 3, pods: 4, available: 4 })
  const fresh = rs('web-2', { replicas: 2, pods: 1, ready: 1, available: 0 })
  const s = calculateStatus([old, fresh], fresh, d, at(1))
  t.match(s, { observedGeneration: 2, replicas: 5, updatedReplicas: 1, readyReplicas: 5, availableReplicas: 4, unavailableReplicas: 1 })
  t.match(getCondition(s, 'Available'), { status: 'True', reason: 'MinimumReplicasAvailable' }, '4 available, 3 needed')

  // A new pod exists: progress, with a fresh lastUpdateTime.
  const moving = rolloutStatus([old, fresh], fresh, d, at(30))
  t.match(getCondition(moving, 'Progressing'), { status: 'True', reason: 'ReplicaSetUpdated', message: 'ReplicaSet "web-2" is progressing.', lastUpdateTime: '2026-01-01T00:00:30Z', lastTransitionTime: '2026-01-01T00:00:00Z' })
  t.ok(deploymentProgressing(d, moving))

  // Nothing moved since: no change before the deadline, then a timeout.
  const still = { ...d, status: moving }
  t.same(rolloutStatus([old, fresh], fresh, still, at(60)), moving, 'unchanged before the deadline')
  t.equal(progressCheckDelay(still, moving, at(60)), 31_000, 'looked at again a second past the deadline')
  t.equal(progressCheckDelay(still, moving, at(89.5)), 0, 'due now')
  t.match(getCondition(rolloutStatus([old, fresh], fresh, still, at(91)), 'Progressing'), { status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "web-2" has timed out progressing.' })

  // Everything updated and available: complete.
  const done = [rs('web-1', { replicas: 0, pods: 0 }), rs('web-2', { replicas: 4 })]
  const complete = rolloutStatus(done, done[1], still, at(95))
  t.ok(deploymentComplete(still, complete))
  t.match(getCondition(complete, 'Progressing'), { status: 'True', reason: 'NewReplicaSetAvailable', message: 'ReplicaSet "web-2" has successfully progressed.' })
  t.equal(progressCheckDelay({ ...d, status: complete }, complete, at(200)), undefined, 'nothing to watch once complete')
  // Without a deadline there is no Progressing condition at all.
  const noDeadline = dep({ replicas: 4, status: { conditions: [created] } })
  t.equal(getCondition(rolloutStatus(done, done[1], noDeadline, at(1)), 'Progressing'), undefined)
})

t.test('ReplicaFailure comes from the new ReplicaSet before the old ones', async (t) => {
  const d = dep({ replicas: 1, progressDeadlineSeconds: 600 })
  const failing = (name: string, message: string): KubeObject => {
    const x = rs(name, { replicas: 1, pods: 0 })
    ;(x.status as any).conditions = [{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message, lastTransitionTime: '2026-01-01T00:00:00Z' }]
    return x
  }
  const s = rolloutStatus([failing('old', 'old quota'), failing('new', 'new quota')], failing('new', 'new quota'), d, at(1))
  t.match(getCondition(s, 'ReplicaFailure'), { status: 'True', reason: 'FailedCreate', message: 'new quota', lastUpdateTime: '2026-01-01T00:00:00Z' })
  t.equal(getCondition(rolloutStatus([rs('ok', { replicas: 1 })], undefined, { ...d, status: s }, at(2)), 'ReplicaFailure'), undefined, 'gone with the failure')
})

t.test('status is written as Go writes it: zero counts left out, collisionCount kept', async (t) => {
  t.same(compactStatus({ observedGeneration: 1, replicas: 0, updatedReplicas: 2, conditions: [], collisionCount: 0 }), { observedGeneration: 1, updatedReplicas: 2, collisionCount: 0 })
})

t.test('Recreate waits while an old ReplicaSet reports pods or an old pod is not terminal', async (t) => {
  const old = rs('old', { replicas: 0, pods: 0 })
  const fresh = rs('new', { replicas: 0 })
  const pod = (phase: string): KubeObject => ({ metadata: { name: phase }, status: { phase } })
  t.equal(oldPodsRunning(undefined, [rs('old', { replicas: 0, pods: 1 })], new Map()), true, 'the ReplicaSet still counts one')
  t.equal(oldPodsRunning(fresh, [old], new Map([['old-uid', [pod('Succeeded'), pod('Failed')]]])), false, 'terminal pods do not count')
  t.equal(oldPodsRunning(fresh, [old], new Map([['old-uid', [pod('Unknown')]]])), true, 'Unknown may be running')
  t.equal(oldPodsRunning(fresh, [old], new Map([['old-uid', [pod('Pending')]]])), true)
  t.equal(oldPodsRunning(fresh, [old], new Map([['new-uid', [pod('Running')]]])), false, "the new ReplicaSet's pods are not old")
})

t.test('the legacy rollback annotation: revision to go back to, and the template it brings', async (t) => {
  t.equal(rollbackTo(dep({ annotations: { 'deprecated.deployment.rollback.to': '2' } })), 2)
  t.equal(rollbackTo(dep({ annotations: { 'deprecated.deployment.rollback.to': 'x' } })), undefined)
  t.equal(rollbackTo(dep({})), undefined)
  const back = withTemplateOf(dep({ image: 'nginx:2' }), rs('r', { image: 'nginx:1', revision: 1 })) as any
  t.equal(back.spec.template.spec.containers[0].image, 'nginx:1')
  t.same(back.spec.template.metadata.labels, { app: 'web' }, 'hash label dropped')
})
