// Which node updates count as which cluster events, which pod updates count at all,
// the queueing-hint table, and the keyed heap underneath the queues.
import t from 'tap'
import { KeyedHeap } from '../../../src/scheduler/queue/heap.js'
import { DEFAULT_QUEUEING_HINTS, HintTable, isGated, isPodUpdated, nodeSchedulingPropertiesChange } from '../../../src/scheduler/queue/index.js'
import { node, pod } from './helpers.js'

t.test('nodeSchedulingPropertiesChange', async (t) => {
  const base = node('n', { cpu: '4', labels: { a: '1' }, conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: '1' }] })
  t.same(nodeSchedulingPropertiesChange(base, node('n', { cpu: '4', labels: { a: '1' }, conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: '2' }] })), [])
  t.same(nodeSchedulingPropertiesChange(base, node('n', { cpu: '4', labels: { a: '1' }, conditions: [{ type: 'Ready', status: 'False' }] })), ['NodeConditionChange'])
  t.same(nodeSchedulingPropertiesChange(base, { ...base, status: { ...(base.status as object), allocatable: { cpu: '4', memory: '8Gi', pods: '110', 'example.com/gpu': '1' } } }), ['NodeAllocatableChange'], 'a new resource counts as up')
  t.same(nodeSchedulingPropertiesChange(base, { ...base, metadata: { ...base.metadata, annotations: { x: 'y' } } }), ['NodeAnnotationChange'])
  t.same(
    nodeSchedulingPropertiesChange(node('n', { unschedulable: true }), node('n', { cpu: '5', labels: { b: '2' }, taints: [{ key: 'k', effect: 'NoSchedule' }] })),
    ['NodeSpecUnschedulableChange', 'NodeAllocatableChange', 'NodeLabelChange', 'NodeTaintChange'],
  )
})

t.test('isPodUpdated ignores status, resourceVersion, generation and managedFields', async (t) => {
  const a = pod('a')
  const b = { ...pod('a', { resourceVersion: '9', conditions: [{ type: 'PodScheduled', status: 'False' }] }) }
  b.metadata = { ...b.metadata, generation: 3, managedFields: [{ manager: 'x' }] }
  t.equal(isPodUpdated(a, b), false)
  t.equal(isPodUpdated(a, pod('a', { labels: { l: 'v' } })), true)
  t.equal(isPodUpdated(a, pod('a', { cpu: '1' })), true)
})

t.test('isGated', async (t) => {
  t.equal(isGated(pod('a', { gates: ['x'] })), true)
  t.equal(isGated(pod('a', { gates: [] })), false)
  t.equal(isGated(pod('a')), false)
})

t.test('hint table', async (t) => {
  const h = new HintTable(DEFAULT_QUEUEING_HINTS)
  t.equal(h.mayHelp('NodeResourcesFit', 'AssignedPodDelete'), true)
  t.equal(h.mayHelp('NodeResourcesFit', 'NodeLabelChange'), false)
  t.equal(h.mayHelp('TaintToleration', 'NodeTaintChange'), true)
  t.equal(h.mayHelp('TaintToleration', 'NodeConditionChange'), false)
  t.equal(h.mayHelp('NodeAffinity', 'NodeLabelChange'), true)
  t.equal(h.mayHelp('NodeAffinity', 'AssignedPodDelete'), false)
  t.equal(h.mayHelp('InterPodAffinity', 'AssignedPodAdd'), true)
  t.equal(h.mayHelp('Unknown', 'NodeConditionChange'), true, 'unknown plugin: may help')
  t.equal(h.mayHelp('NodeName', 'CSINodeUpdate'), true, 'unknown event: may help')
  t.equal(h.mayHelp('NodeName', 'UnschedulableTimeout'), true)
  t.equal(h.mayHelpAny(new Set(), 'NodeConditionChange'), true, 'an error: may help')
  t.equal(h.mayHelpAny(new Set(['NodeName', 'TaintToleration']), 'NodeTaintChange'), true)
  t.equal(h.mayHelpAny(new Set(['NodeName', 'TaintToleration']), 'AssignedPodDelete'), false)
})

t.test('keyed heap: order, replace, delete (seeded)', async (t) => {
  const seed = Number(process.env.SEED ?? Date.now() % 1_000_000)
  let s = seed
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648)
  const h = new KeyedHeap<{ k: string; v: number }>(
    (x) => x.k,
    (a, b) => a.v < b.v || (a.v === b.v && a.k < b.k),
  )
  const model = new Map<string, number>()
  for (let i = 0; i < 3000; i++) {
    const k = `k${Math.floor(rnd() * 200)}`
    const r = rnd()
    if (r < 0.5) {
      const v = Math.floor(rnd() * 50)
      h.set({ k, v })
      model.set(k, v)
    } else if (r < 0.75) {
      if (h.delete(k)?.k !== (model.has(k) ? k : undefined)) return t.fail(`delete, seed ${seed}`)
      model.delete(k)
    } else if (r < 0.9) {
      const top = h.pop()
      const want = [...model].sort(([ka, a], [kb, b]) => a - b || (ka < kb ? -1 : 1))[0]
      if (top?.k !== want?.[0]) return t.fail(`pop order, seed ${seed}`)
      if (want !== undefined) model.delete(want[0])
    }
    if (h.size !== model.size) return t.fail(`size, seed ${seed}`)
  }
  t.ok([...model].every(([k, v]) => h.get(k)?.v === v), 'get')
  t.pass(`seed ${seed}`)
})
