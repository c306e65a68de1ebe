// The node as the kubelet reports it: capacity and allocatable from the flags,
// labels, conditions and their transitions, and when a report is worth sending.
import t from 'tap'
import { toJson } from '../../../src/api/resource-list.js'
import { hollowFacts } from '../../../src/kubelet/machine.js'
import { nodeAllocatable, nodeCapacity, parseEvictionThresholds, parseKeyValueList } from '../../../src/kubelet/node-resources.js'
import { conditionEvents, nodeConditions, nodeStatus, nodeStatusChanged, registrationNode, type NodeDescription } from '../../../src/kubelet/node-status.js'

type Json = Record<string, unknown>

t.test('capacity, and allocatable less reservations and eviction thresholds', async (t) => {
  const cfg = { cpu: '4', memory: '8Gi', pods: 110, ephemeralStorage: '100Gi' }
  const cap = nodeCapacity(cfg)
  t.same(toJson(cap), { cpu: '4', 'ephemeral-storage': '100Gi', 'hugepages-1Gi': '0', 'hugepages-2Mi': '0', memory: '8Gi', pods: '110' })
  t.same(toJson(nodeAllocatable(cap, cfg)), { cpu: '4', 'ephemeral-storage': '90Gi', 'hugepages-1Gi': '0', 'hugepages-2Mi': '0', memory: '8092Mi', pods: '110' }, 'default eviction: 100Mi, 10%')
  const reserved = { ...cfg, kubeReserved: { cpu: '500m', memory: '1Gi' }, systemReserved: { cpu: '250m', pid: '1000' }, evictionHard: { 'memory.available': '1Gi' } }
  t.match(toJson(nodeAllocatable(cap, reserved)), { cpu: '3250m', memory: '6Gi', 'ephemeral-storage': '100Gi' })
  t.match(toJson(nodeAllocatable(nodeCapacity({ ...cfg, memory: '1Gi' }), { ...cfg, kubeReserved: { memory: '2Gi' } })), { memory: '0' }, 'never below zero')
  t.throws(() => nodeCapacity({ ...cfg, cpu: 'lots' }), /--cpu: "lots"/)
  t.same(parseKeyValueList('--kube-reserved', 'cpu=100m, memory=1Gi'), { cpu: '100m', memory: '1Gi' })
  t.throws(() => parseKeyValueList('--kube-reserved', 'cpu'), /expected key=value/)
  t.same(parseEvictionThresholds('memory.available<100Mi,nodefs.available<10%'), { 'memory.available': '100Mi', 'nodefs.available': '10%' })
  t.throws(() => parseEvictionThresholds('memory.available>1'), /expected signal<value/)
})

const description: NodeDescription = {
  name: 'n1',
  hostname: 'host-1',
  internalIP: '10.0.0.5',
  labels: { 'kubernetes.io/hostname': 'custom', team: 'a' },
  taints: [{ key: 'k', value: '', effect: 'NoExecute' }],
  capacity: nodeCapacity({ cpu: '1', memory: '1Gi', pods: 10, ephemeralStorage: '1Gi' }),
  allocatable: nodeCapacity({ cpu: '1', memory: '1Gi', pods: 10, ephemeralStorage: '1Gi' }),
  machine: hollowFacts('n1'),
  containerRuntimeVersion: 'hollow://0.1.0',
}

t.test('the registration: labels (--node-labels win), taints, the attach-detach annotation', async (t) => {
  const node = registrationNode(description, {})
  t.match(node.metadata?.labels, { 'kubernetes.io/hostname': 'custom', 'kubernetes.io/os': 'linux', 'beta.kubernetes.io/arch': description.machine.architecture, team: 'a' })
  t.same(node.metadata?.annotations, { 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' })
  t.same((node.spec as Json).taints, [{ key: 'k', effect: 'NoExecute' }])
})

t.test('conditions keep their transition time while their status stays; heartbeats move', async (t) => {
  const t0 = new Date('2026-01-01T00:00:00Z')
  const t1 = new Date('2026-01-01T00:00:10Z')
  const first = nodeConditions([], { ready: true }, t0)
  const second = nodeConditions(first, { ready: true }, t1)
  t.match(second.find((c) => c.type === 'Ready'), { status: 'True', lastHeartbeatTime: '2026-01-01T00:00:10Z', lastTransitionTime: '2026-01-01T00:00:00Z' })
  const down = nodeConditions(second, { ready: false, message: 'runtime down' }, t1)
  t.match(down.find((c) => c.type === 'Ready'), { status: 'False', reason: 'KubeletNotReady', message: 'runtime down', lastTransitionTime: '2026-01-01T00:00:10Z' })
  t.same(conditionEvents(second, down), [{ type: 'Normal', reason: 'NodeNotReady' }])
  t.same(conditionEvents([], first).map((e) => e.reason), ['NodeHasSufficientMemory', 'NodeHasNoDiskPressure', 'NodeHasSufficientPID', 'NodeReady'])
  t.same(conditionEvents(first, second), [], 'nothing changed')
})

t.test('a report is worth sending when something besides heartbeat times changed', async (t) => {
  const t0 = new Date('2026-01-01T00:00:00Z')
  const a = nodeStatus(description, [], { ready: true }, t0)
  const b = nodeStatus(description, a.conditions as Json[], { ready: true }, new Date('2026-01-01T00:01:00Z'))
  t.notOk(nodeStatusChanged(a, b))
  t.ok(nodeStatusChanged(undefined, b))
  t.ok(nodeStatusChanged(a, nodeStatus(description, a.conditions as Json[], { ready: false }, t0)))
  t.ok(nodeStatusChanged(a, nodeStatus({ ...description, internalIP: '10.0.0.6' }, a.conditions as Json[], { ready: true }, t0)))
})
