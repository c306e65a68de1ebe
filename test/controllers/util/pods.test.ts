// Pod predicates and the scale-down order every workload controller uses.
import t from 'tap'
import type { KubeObject } from '../../../src/client/index.js'
import { compareForDeletion, isPodActive, isPodAvailable, isPodReady, podAvailableAt, podRestarts } from '../../../src/controllers/util/pods.js'

function pod(name: string, o: { node?: string; phase?: string; ready?: string; readySince?: string; restarts?: number; created?: string; deleting?: boolean } = {}): KubeObject {
  return {
    metadata: { name, creationTimestamp: o.created ?? '2026-01-01T00:00:00Z', ...(o.deleting === true ? { deletionTimestamp: '2026-01-02T00:00:00Z' } : {}) },
    spec: { nodeName: o.node },
    status: {
      phase: o.phase ?? 'Running',
      conditions: o.ready === undefined ? [] : [{ type: 'Ready', status: o.ready, lastTransitionTime: o.readySince ?? '2026-01-01T00:00:10Z' }],
      containerStatuses: [{ name: 'c', restartCount: o.restarts ?? 0 }],
    },
  }
}

t.test('active: not terminal and not being deleted', async (t) => {
  t.ok(isPodActive(pod('a')))
  t.notOk(isPodActive(pod('b', { phase: 'Succeeded' })))
  t.notOk(isPodActive(pod('c', { phase: 'Failed' })))
  t.notOk(isPodActive(pod('d', { deleting: true })))
  t.ok(isPodActive(pod('e', { phase: 'Pending' })))
})

t.test('ready and available after minReadySeconds', async (t) => {
  const p = pod('a', { ready: 'True', readySince: '2026-01-01T00:00:10Z' })
  t.ok(isPodReady(p))
  t.notOk(isPodReady(pod('b', { ready: 'False' })))
  t.ok(isPodAvailable(p, 0, new Date('2026-01-01T00:00:10Z')))
  t.notOk(isPodAvailable(p, 5, new Date('2026-01-01T00:00:14Z')))
  t.ok(isPodAvailable(p, 5, new Date('2026-01-01T00:00:15Z')))
  t.equal(podAvailableAt(p, 5), Date.parse('2026-01-01T00:00:15Z'))
  t.equal(podAvailableAt(pod('b', { ready: 'False' }), 5), undefined)
  t.notOk(isPodAvailable(pod('b', { ready: 'False' }), 0, new Date()))
})

t.test('restarts sum over containers', async (t) => {
  t.equal(podRestarts({ status: { containerStatuses: [{ restartCount: 2 }, { restartCount: 3 }] } }), 5)
  t.equal(podRestarts({}), 0)
})

t.test('scale-down order: least valuable first', async (t) => {
  const pods = [
    pod('ready-old', { node: 'n1', ready: 'True', readySince: '2026-01-01T00:00:10Z' }),
    pod('ready-new', { node: 'n1', ready: 'True', readySince: '2026-01-01T00:05:00Z' }),
    pod('not-ready', { node: 'n1', ready: 'False' }),
    pod('pending', { node: 'n1', phase: 'Pending' }),
    pod('unscheduled', { phase: 'Pending' }),
    pod('unknown', { node: 'n1', phase: 'Unknown' }),
    pod('restarted', { node: 'n1', ready: 'False', restarts: 4 }),
    pod('newer-created', { node: 'n1', ready: 'False', created: '2026-01-01T01:00:00Z' }),
  ]
  const order = [...pods].sort((a, b) => compareForDeletion(a, b)).map((p) => p.metadata!.name)
  t.strictSame(order, ['unscheduled', 'pending', 'unknown', 'restarted', 'newer-created', 'not-ready', 'ready-new', 'ready-old'])
})

t.test('scale-down order: pods crowded on one node go first', async (t) => {
  const a = pod('crowded', { node: 'n1', ready: 'True' })
  const b = pod('alone', { node: 'n2', ready: 'True' })
  const rank = (p: KubeObject): number => (p.metadata!.name === 'crowded' ? 3 : 1)
  t.strictSame([b, a].sort((x, y) => compareForDeletion(x, y, rank)).map((p) => p.metadata!.name), ['crowded', 'alone'])
})
