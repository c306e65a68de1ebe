// The pure parts of the replica controllers: which pods a scale-down removes, the
// status counts and the ReplicaFailure condition, and the two owner shapes.
import t from 'tap'
import { metaTime } from '../../../src/api/time.js'
import type { KubeObject } from '../../../src/client/index.js'
import { podsToDelete } from '../../../src/controllers/replicaset/scale-down.js'
import { desiredReplicas, REPLICA_SET, REPLICATION_CONTROLLER } from '../../../src/controllers/replicaset/shape.js'
import { countReplicas, nextStatus, statusUpToDate } from '../../../src/controllers/replicaset/status.js'

const NOW = new Date('2026-01-01T00:10:00Z')
const ago = (s: number): string => metaTime(new Date(NOW.getTime() - s * 1000))

interface PodOpts {
  node?: string
  phase?: string
  readyFor?: number
  restarts?: number
  createdAgo?: number
  labels?: Record<string, string>
  deleting?: boolean
}

function pod(name: string, o: PodOpts = {}): KubeObject {
  const conditions = o.readyFor === undefined ? [] : [{ type: 'Ready', status: 'True', lastTransitionTime: ago(o.readyFor) }]
  return {
    metadata: {
      name,
      namespace: 'default',
      uid: `uid-${name}`,
      labels: o.labels ?? { app: 'web', tier: 'web' },
      creationTimestamp: ago(o.createdAgo ?? 600),
      ...(o.deleting === true ? { deletionTimestamp: ago(0) } : {}),
    },
    spec: o.node === undefined ? {} : { nodeName: o.node },
    status: { phase: o.phase ?? 'Pending', conditions, containerStatuses: [{ name: 'main', restartCount: o.restarts ?? 0 }] },
  }
}

function rs(replicas: number, extra: { minReadySeconds?: number; generation?: number; status?: Record<string, unknown> } = {}): KubeObject {
  return {
    metadata: { name: 'web', namespace: 'default', uid: 'rs-uid', generation: extra.generation ?? 1 },
    spec: { replicas, minReadySeconds: extra.minReadySeconds ?? 0, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web', tier: 'web' } } } },
    status: extra.status ?? {},
  }
}

const names = (pods: KubeObject[]): string[] => pods.map((p) => p.metadata!.name!)

t.test('scale-down removes the least valuable pods first', async (t) => {
  const pods = [
    pod('ready-long', { node: 'n1', phase: 'Running', readyFor: 300 }),
    pod('ready-recent', { node: 'n2', phase: 'Running', readyFor: 30 }),
    pod('running-not-ready', { node: 'n3', phase: 'Running' }),
    pod('pending-bound', { node: 'n4', phase: 'Pending' }),
    pod('unknown', { node: 'n5', phase: 'Unknown' }),
    pod('unscheduled', {}),
  ]
  t.strictSame(names(podsToDelete(pods, pods, 6)), names(pods), 'all of them when diff covers them')
  t.strictSame(names(podsToDelete(pods, pods, 5)), ['unscheduled', 'pending-bound', 'unknown', 'running-not-ready', 'ready-recent'])
})

t.test('among equals, pods on crowded nodes (counting sibling ReplicaSets) go first, then restarts, then the newest', async (t) => {
  const mine = [pod('a', { node: 'n1', phase: 'Running', readyFor: 60 }), pod('b', { node: 'n2', phase: 'Running', readyFor: 60 })]
  const siblings = [pod('s1', { node: 'n2', phase: 'Running', readyFor: 60 }), pod('s2', { node: 'n2', phase: 'Running', readyFor: 60 }), pod('gone', { node: 'n1', deleting: true })]
  t.strictSame(names(podsToDelete(mine, [...mine, ...siblings], 1)), ['b'], 'n2 has three related active pods, n1 one (a terminating pod does not count)')
  t.strictSame(names(podsToDelete(mine, [...mine, pod('s3', { node: 'n1', phase: 'Running' }), pod('s4', { node: 'n1', phase: 'Running' })], 1)), ['a'])

  const restarts = [pod('calm', { node: 'n1', phase: 'Running' }), pod('flappy', { node: 'n2', phase: 'Running', restarts: 4 })]
  t.strictSame(names(podsToDelete(restarts, restarts, 1)), ['flappy'])
  const ages = [pod('old', { node: 'n1', phase: 'Running', createdAgo: 500 }), pod('young', { node: 'n2', phase: 'Running', createdAgo: 5 })]
  t.strictSame(names(podsToDelete(ages, ages, 1)), ['young'])
})

t.test('status counts: fully labelled, ready, available after minReadySeconds', async (t) => {
  const pods = [
    pod('p1', { phase: 'Running', readyFor: 60 }),
    pod('p2', { phase: 'Running', readyFor: 3 }),
    pod('p3', { phase: 'Running', labels: { app: 'web' } }),
  ]
  const counts = countReplicas(rs(3, { minReadySeconds: 10 }), pods, NOW)
  t.strictSame(counts, { replicas: 3, fullyLabeledReplicas: 2, readyReplicas: 2, availableReplicas: 1, nextAvailableAt: NOW.getTime() + 7000 })
  t.strictSame(countReplicas(rs(3), pods, NOW), { replicas: 3, fullyLabeledReplicas: 2, readyReplicas: 2, availableReplicas: 2 }, 'without minReadySeconds, ready is available')

  const status = nextStatus(rs(3, { generation: 4, status: { replicas: 1 } }), pods, counts, undefined, NOW)
  t.strictSame(status, { replicas: 3, fullyLabeledReplicas: 2, readyReplicas: 2, availableReplicas: 1, observedGeneration: 4 })
  const none = nextStatus(rs(0), [], countReplicas(rs(0), [], NOW), undefined, NOW)
  t.strictSame(none, { replicas: 0, observedGeneration: 1 }, 'zero counts are left out except replicas')
})

t.test('ReplicaFailure: set on a failed create or delete, kept while failing, removed once resolved', async (t) => {
  const err = new Error('pods "web-x" is forbidden: exceeded quota: q')
  const pods = [pod('p1')]
  const counts = countReplicas(rs(3), pods, NOW)
  const failing = nextStatus(rs(3), pods, counts, err, NOW)
  t.strictSame(failing.conditions, [{ type: 'ReplicaFailure', status: 'True', lastTransitionTime: metaTime(NOW), reason: 'FailedCreate', message: err.message }])
  t.match(nextStatus(rs(0), pods, counts, err, NOW).conditions, [{ reason: 'FailedDelete' }])

  const owner = rs(3, { status: failing })
  const later = new Date(NOW.getTime() + 60_000)
  const still = nextStatus(owner, pods, counts, new Error('another'), later)
  t.strictSame(still.conditions, failing.conditions, 'an existing condition is left as it is')
  t.ok(statusUpToDate(owner, still), 'nothing to write while nothing changed')

  const resolved = nextStatus(owner, pods, counts, undefined, later)
  t.notOk('conditions' in resolved)
  t.notOk(statusUpToDate(owner, resolved))
})

t.test('status is written when counts, generation or conditions change', async (t) => {
  const pods = [pod('p1', { phase: 'Running', readyFor: 60 })]
  const owner = rs(1)
  const s = nextStatus(owner, pods, countReplicas(owner, pods, NOW), undefined, NOW)
  t.notOk(statusUpToDate(owner, s), 'a new owner has not observed its generation')
  const written = rs(1, { status: s })
  t.ok(statusUpToDate(written, nextStatus(written, pods, countReplicas(written, pods, NOW), undefined, NOW)))
  const bumped = rs(2, { generation: 2, status: s })
  t.notOk(statusUpToDate(bumped, nextStatus(bumped, pods, countReplicas(bumped, pods, NOW), undefined, NOW)), 'a new generation is observed')
  t.notOk(statusUpToDate(written, nextStatus(written, [], countReplicas(written, [], NOW), undefined, NOW)), 'a count changed')
})

t.test('the two shapes: a LabelSelector and a plain label map', async (t) => {
  const set: KubeObject = { metadata: { name: 'a' }, spec: { selector: { matchLabels: { app: 'a' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['web', 'api'] }] } } }
  const sel = REPLICA_SET.selector(set)
  t.ok(sel.matches({ app: 'a', tier: 'api' }))
  t.notOk(sel.matches({ app: 'a', tier: 'db' }))
  t.throws(() => REPLICA_SET.selector({ spec: { selector: { matchExpressions: [{ key: 'x', operator: 'Near' }] } } }), 'an invalid selector is an error')

  const rc: KubeObject = { metadata: { name: 'b' }, spec: { selector: { app: 'b', env: 'prod' } } }
  t.ok(REPLICATION_CONTROLLER.selector(rc).matches({ app: 'b', env: 'prod', extra: 'x' }))
  t.notOk(REPLICATION_CONTROLLER.selector(rc).matches({ app: 'b' }))
  t.equal(desiredReplicas({ spec: {} }), 1, 'replicas default to 1')
  t.equal(desiredReplicas({ spec: { replicas: 0 } }), 0)
  t.match(REPLICA_SET, { apiVersion: 'apps/v1', kind: 'ReplicaSet', component: 'replicaset-controller', controllerName: 'replicaset' })
  t.match(REPLICATION_CONTROLLER, { apiVersion: 'v1', kind: 'ReplicationController', component: 'replication-controller', controllerName: 'replicationcontroller' })
})
