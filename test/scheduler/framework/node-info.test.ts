// NodeInfo.clone copies sums, ports and affinity sets (not re-adding pods) and stays
// independent of the original.
import t from 'tap'
import { nodeInfo, podInfo } from './fixtures.js'

t.test('a clone equals the original and does not follow it', async (t) => {
  const n = nodeInfo(
    { name: 'n', cpu: '4', extended: { 'example.com/gpu': '2' } },
    { name: 'a', cpu: '1', memory: '1Gi', hostPorts: [{ port: 80 }], extended: { 'example.com/gpu': '1' } },
    { name: 'b', affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: {}, topologyKey: 'zone' }] } } },
  )
  const c = n.clone()
  t.equal(c.generation, n.generation)
  t.same(c.requested, n.requested)
  t.same(c.nonZeroRequested, n.nonZeroRequested)
  t.same([...c.pods.keys()], [...n.pods.keys()])
  t.same(c.usedPorts, n.usedPorts)
  t.same([...c.podsWithRequiredAntiAffinity.keys()], ['default/b'])
  t.equal(c.allocatable, n.allocatable, 'allocatable shared, not parsed again')
  n.addPod(podInfo({ name: 'x', cpu: '1', hostPorts: [{ port: 81 }] }))
  n.removePod('default/a')
  t.equal(c.requested.milliCPU, 1000)
  t.equal(c.requested.scalar.get('example.com/gpu'), 1)
  t.ok(c.usedPorts.has('TCP/80'))
  t.notOk(c.usedPorts.has('TCP/81'))
  t.equal(c.pods.size, 2)
})
