// The pod conditions the node lifecycle and taint eviction controllers write (pure).
/* eslint-disable @typescript-eslint/no-explicit-any -- objects are read by path in assertions */
import t from 'tap'
import type { KubeObject } from '../../../src/client/index.js'
import { podStatusNotReady, podStatusWithDisruptionTarget } from '../../../src/controllers/node-lifecycle/conditions.js'

const NOW = Date.parse('2025-03-01T10:00:00Z')
const pod = (conditions: unknown[]): KubeObject => ({ metadata: { name: 'p', namespace: 'default' }, status: { phase: 'Running', conditions } })

t.test('a ready pod on a node that stopped being ready loses only its Ready condition', async (t) => {
  const status = podStatusNotReady(pod([{ type: 'Ready', status: 'True', lastTransitionTime: '2025-01-01T00:00:00Z' }, { type: 'ContainersReady', status: 'True' }]), NOW) as any
  t.same(status.conditions, [{ type: 'Ready', status: 'False', lastTransitionTime: '2025-03-01T10:00:00Z' }, { type: 'ContainersReady', status: 'True' }])
  t.equal(status.phase, 'Running')
  t.equal(podStatusNotReady(pod([{ type: 'Ready', status: 'False' }]), NOW), undefined, 'already not ready')
  t.equal(podStatusNotReady(pod([]), NOW), undefined, 'no Ready condition: left alone, as upstream')
})

t.test('an evicted pod is marked a disruption target once', async (t) => {
  const status = podStatusWithDisruptionTarget(pod([{ type: 'Ready', status: 'True' }]), NOW) as any
  t.match(status.conditions[1], { type: 'DisruptionTarget', status: 'True', reason: 'DeletionByTaintManager', message: 'Taint manager: deleting due to NoExecute taint', lastTransitionTime: '2025-03-01T10:00:00Z' })
  t.equal(podStatusWithDisruptionTarget(pod(status.conditions), NOW + 1000), undefined)
})
