// NodeResourcesFit: the filter's reasons in upstream's words and order, and the
// LeastAllocated / MostAllocated / RequestedToCapacityRatio scores, worked by hand.
import t from 'tap'
import { NodeResourcesFit } from '../../../src/scheduler/plugins/node-resources-fit.js'
import { filterReasons, nodeInfo, podInfo, runScore } from '../framework/fixtures.js'

t.test('filter: requests must fit in allocatable minus requested', async (t) => {
  const pl = new NodeResourcesFit()
  const node = nodeInfo({ name: 'n', cpu: '4', memory: '8Gi' }, { name: 'a', cpu: '3', memory: '6Gi' })
  t.same(filterReasons(pl, podInfo({ name: 'p', cpu: '1', memory: '2Gi' }), node), [], 'exactly fits')
  t.same(filterReasons(pl, podInfo({ name: 'p', cpu: '1001m' }), node), ['Insufficient cpu'])
  t.same(filterReasons(pl, podInfo({ name: 'p', memory: '3Gi' }), node), ['Insufficient memory'])
  t.same(filterReasons(pl, podInfo({ name: 'p', cpu: '2', memory: '3Gi' }), node), ['Insufficient cpu', 'Insufficient memory'])
  t.same(filterReasons(pl, podInfo({ name: 'p' }), node), [], 'a pod without requests only needs a pod slot')
})

t.test('filter: pod count, ephemeral storage and extended resources', async (t) => {
  const pl = new NodeResourcesFit()
  const full = nodeInfo({ name: 'n', pods: 1 }, { name: 'a' })
  t.same(filterReasons(pl, podInfo({ name: 'p' }), full), ['Too many pods'])
  t.same(filterReasons(pl, podInfo({ name: 'p', cpu: '5' }), full), ['Too many pods', 'Insufficient cpu'])
  const storage = nodeInfo({ name: 'n', ephemeralStorage: '10Gi' }, { name: 'a', ephemeralStorage: '8Gi' })
  t.same(filterReasons(pl, podInfo({ name: 'p', ephemeralStorage: '3Gi' }), storage), ['Insufficient ephemeral-storage'])
  const gpu = nodeInfo({ name: 'n', extended: { 'example.com/gpu': '2' } }, { name: 'a', extended: { 'example.com/gpu': '1' } })
  t.same(filterReasons(pl, podInfo({ name: 'p', extended: { 'example.com/gpu': '1' } }), gpu), [])
  t.same(filterReasons(pl, podInfo({ name: 'p', extended: { 'example.com/gpu': '2' } }), gpu), ['Insufficient example.com/gpu'])
  t.same(filterReasons(pl, podInfo({ name: 'p', extended: { 'example.com/fpga': '1' } }), gpu), ['Insufficient example.com/fpga'], 'a resource the node lacks')
  const ignoring = new NodeResourcesFit({ ignoredResources: ['example.com/fpga'] })
  t.same(filterReasons(ignoring, podInfo({ name: 'p', extended: { 'example.com/fpga': '1' } }), gpu), [])
  const ignoringGroup = new NodeResourcesFit({ ignoredResourceGroups: ['example.com'] })
  t.same(filterReasons(ignoringGroup, podInfo({ name: 'p', extended: { 'example.com/fpga': '1' } }), gpu), [])
})

t.test('filter: a failing status carries the plugin name and is Unschedulable', async (t) => {
  const pl = new NodeResourcesFit()
  const st = pl.filter(new Map(), podInfo({ name: 'p', cpu: '9' }), nodeInfo({ name: 'n' }))
  t.equal(st?.code, 'Unschedulable')
  t.equal(st?.plugin, 'NodeResourcesFit')
})

// Nodes: A has 1 CPU/2Gi requested, B is empty, C has 3 CPU requested; all 4 CPU/8Gi.
const nodes = () => [
  nodeInfo({ name: 'a', cpu: '4', memory: '8Gi' }, { name: 'x', cpu: '1', memory: '2Gi' }),
  nodeInfo({ name: 'b', cpu: '4', memory: '8Gi' }),
  nodeInfo({ name: 'c', cpu: '4', memory: '8Gi' }, { name: 'y', cpu: '3', memory: '0' }),
]
const pod = () => podInfo({ name: 'p', cpu: '1', memory: '2Gi' })

t.test('score: LeastAllocated (default) prefers free nodes', async (t) => {
  // a: cpu 2/4 -> 50, mem 4/8 -> 50 => 50. b: 1/4 -> 75, 2/8 -> 75 => 75.
  // c: cpu 4/4 -> 0, mem: y asked 0 explicitly, so 2/8 -> 75 => (0+75)/2 = 37.
  t.same(runScore(new NodeResourcesFit(), pod(), nodes()), [50, 75, 37])
})

t.test('score: MostAllocated packs', async (t) => {
  t.same(runScore(new NodeResourcesFit({ scoringStrategy: { type: 'MostAllocated' } }), pod(), nodes()), [50, 25, 62])
})

t.test('score: resource weights', async (t) => {
  const pl = new NodeResourcesFit({ scoringStrategy: { type: 'LeastAllocated', resources: [{ name: 'cpu', weight: 2 }, { name: 'memory', weight: 1 }] } })
  // c: (0*2 + 75*1) / 3 = 25
  t.same(runScore(pl, pod(), nodes()), [50, 75, 25])
})

t.test('score: RequestedToCapacityRatio follows the shape', async (t) => {
  const up = new NodeResourcesFit({ scoringStrategy: { type: 'RequestedToCapacityRatio', requestedToCapacityRatio: { shape: [{ utilization: 0, score: 0 }, { utilization: 100, score: 10 }] } } })
  // Utilization itself: a 50/50, b 25/25, c 100/25 -> round(62.5) = 63
  t.same(runScore(up, pod(), nodes()), [50, 25, 63])
  const down = new NodeResourcesFit({ scoringStrategy: { type: 'RequestedToCapacityRatio', requestedToCapacityRatio: { shape: [{ utilization: 0, score: 10 }, { utilization: 100, score: 0 }] } } })
  // c: cpu scores 0 and is left out of the average (upstream counts only positive scores): 75.
  t.same(runScore(down, pod(), nodes()), [50, 75, 75])
})

t.test('score: unset requests count as 100m / 200Mi', async (t) => {
  const n = nodeInfo({ name: 'n', cpu: '1', memory: '1000Mi' })
  // cpu 100/1000 -> 90; memory 200Mi/1000Mi -> 80 => 85
  t.same(runScore(new NodeResourcesFit(), podInfo({ name: 'p' }), [n]), [85])
})
