// Which taints a node's conditions call for, and the add/remove arithmetic the node
// lifecycle controller writes with (pure; no server).
import t from 'tap'
import type { KubeObject } from '../../../src/client/index.js'
import {
  applyTaintChanges,
  managedNoScheduleTaints,
  NOT_READY_NO_EXECUTE,
  stamped,
  taintJson,
  taintSetDiff,
  UNREACHABLE_NO_EXECUTE,
  wantedNoScheduleTaints,
} from '../../../src/controllers/node-lifecycle/taints.js'

function node(conditions: Record<string, string>, spec: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n' }, spec, status: { conditions: Object.entries(conditions).map(([type, status]) => ({ type, status })) } }
}

const names = (ts: { key: string; effect: string }[]): string[] => ts.map((x) => `${x.key}:${x.effect}`)

t.test('conditions call for NoSchedule taints (TaintNodesByCondition)', async (t) => {
  t.same(names(wantedNoScheduleTaints(node({ Ready: 'True', MemoryPressure: 'False', DiskPressure: 'False', PIDPressure: 'False' }))), [], 'a healthy node: none')
  t.same(names(wantedNoScheduleTaints(node({ Ready: 'False' }))), ['node.kubernetes.io/not-ready:NoSchedule'])
  t.same(names(wantedNoScheduleTaints(node({ Ready: 'Unknown' }))), ['node.kubernetes.io/unreachable:NoSchedule'])
  t.same(
    names(wantedNoScheduleTaints(node({ MemoryPressure: 'True', DiskPressure: 'True', PIDPressure: 'True', NetworkUnavailable: 'True', Ready: 'True' }))),
    ['node.kubernetes.io/memory-pressure:NoSchedule', 'node.kubernetes.io/disk-pressure:NoSchedule', 'node.kubernetes.io/pid-pressure:NoSchedule', 'node.kubernetes.io/network-unavailable:NoSchedule'],
  )
  t.same(names(wantedNoScheduleTaints(node({ MemoryPressure: 'Unknown' }))), [], 'pressure Unknown is no pressure taint')
  t.same(names(wantedNoScheduleTaints(node({ Ready: 'True' }, { unschedulable: true }))), ['node.kubernetes.io/unschedulable:NoSchedule'], 'a cordoned node')
})

t.test('only the controller’s own NoSchedule taints are compared; user taints and NoExecute ones are left alone', async (t) => {
  const have = [
    { key: 'node.kubernetes.io/not-ready', value: '', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/not-ready', value: '', effect: 'NoExecute' },
    { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/unschedulable', value: '', effect: 'NoSchedule' },
  ]
  t.same(names(managedNoScheduleTaints(have)), ['node.kubernetes.io/not-ready:NoSchedule', 'node.kubernetes.io/unschedulable:NoSchedule'])
  const want = [{ key: 'node.kubernetes.io/unreachable', value: '', effect: 'NoSchedule' }]
  const diff = taintSetDiff(want, managedNoScheduleTaints(have))
  t.same(names(diff.add), ['node.kubernetes.io/unreachable:NoSchedule'])
  t.same(names(diff.remove), ['node.kubernetes.io/not-ready:NoSchedule', 'node.kubernetes.io/unschedulable:NoSchedule'])
})

t.test('swapping not-ready for unreachable is one change; a taint already there keeps its timeAdded', async (t) => {
  const old = stamped(NOT_READY_NO_EXECUTE, Date.parse('2025-01-01T00:00:00Z'))
  const user = { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }
  const now = Date.parse('2025-01-01T00:10:00Z')
  const swapped = applyTaintChanges([user, old], [stamped(UNREACHABLE_NO_EXECUTE, now)], [NOT_READY_NO_EXECUTE])
  t.same(swapped, [user, { ...UNREACHABLE_NO_EXECUTE, timeAdded: '2025-01-01T00:10:00Z' }])

  t.equal(applyTaintChanges(swapped!, [stamped(UNREACHABLE_NO_EXECUTE, now + 60_000)], [NOT_READY_NO_EXECUTE]), undefined, 'adding it again changes nothing')
  t.equal(applyTaintChanges([user], [], [UNREACHABLE_NO_EXECUTE, NOT_READY_NO_EXECUTE]), undefined, 'removing what is not there changes nothing')
  t.same(applyTaintChanges(swapped!, [], [UNREACHABLE_NO_EXECUTE, NOT_READY_NO_EXECUTE]), [user], 'recovery removes both')
  t.same(
    applyTaintChanges([{ key: 'k', value: 'a', effect: 'NoSchedule' }], [{ key: 'k', value: 'b', effect: 'NoSchedule' }], []),
    [{ key: 'k', value: 'b', effect: 'NoSchedule' }],
    'same key and effect with another value replaces it',
  )
})

t.test('taints are written as the API spells them', async (t) => {
  t.same(taintJson({ key: 'k', value: '', effect: 'NoSchedule' }), { key: 'k', effect: 'NoSchedule' })
  t.same(taintJson({ key: 'k', value: 'v', effect: 'NoExecute', timeAdded: '2025-01-01T00:00:00Z' }), { key: 'k', value: 'v', effect: 'NoExecute', timeAdded: '2025-01-01T00:00:00Z' })
})
