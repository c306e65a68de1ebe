// The kubelet's node: registration with what the node has and is, the Ready
// condition, the Lease heartbeat, and the Events a starting kubelet records.
import t from 'tap'
import { LEASES, NODES, eventually, eventsFor, specOf, startEnv, startNode, type Json } from './helpers.js'
import { HOLLOW_RUNTIME_VERSION } from '../../src/kubelet/runtime/hollow.js'
import { KUBELET_VERSION } from '../../src/kubelet/machine.js'

t.test('a node registers with its capacity, labels, taints, addresses and conditions, and becomes Ready', async (t) => {
  const env = await startEnv(t)
  const n = await startNode(t, env, 'n1', {
    resources: { cpu: '2', memory: '4Gi', pods: 50 },
    kubelet: { labels: { 'node-role.kubernetes.io/worker': '' }, taints: [{ key: 'dedicated', value: 'batch', effect: 'NoSchedule' }] },
  })
  const node = await env.master.api.store(NODES).get('', 'n1')
  const meta = node.metadata!
  t.match(meta.labels, {
    'kubernetes.io/hostname': 'n1',
    'kubernetes.io/os': 'linux',
    'beta.kubernetes.io/os': 'linux',
    'kubernetes.io/arch': /^[a-z0-9]+$/,
    'node-role.kubernetes.io/worker': '',
  })
  t.same((node.spec as Json).taints, [{ key: 'dedicated', value: 'batch', effect: 'NoSchedule' }], '--register-with-taints')
  const status = node.status as Json
  t.match(status.capacity, { cpu: '2', memory: '4Gi', pods: '50', 'ephemeral-storage': '20Gi', 'hugepages-2Mi': '0' })
  t.match(status.allocatable, { cpu: '2', memory: '3996Mi', pods: '50', 'ephemeral-storage': '18Gi' }, 'less the hard eviction thresholds')
  t.same(status.addresses, [
    { type: 'InternalIP', address: n.nodeIP },
    { type: 'Hostname', address: 'n1' },
  ])
  t.match(status.nodeInfo, { kubeletVersion: KUBELET_VERSION, containerRuntimeVersion: HOLLOW_RUNTIME_VERSION, operatingSystem: 'linux', machineID: /^[0-9a-f]{32}$/ })
  t.same((status.daemonEndpoints as Json).kubeletEndpoint, { Port: 10250 })
  const conditions = status.conditions as Json[]
  t.same(
    conditions.map((c) => [c.type, c.status, c.reason, c.message]),
    [
      ['MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'],
      ['DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'],
      ['PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'],
      ['Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'],
    ],
  )
  for (const c of conditions) t.match(c, { lastHeartbeatTime: /Z$/, lastTransitionTime: /Z$/ })

  const events = await eventually('node events', async () => {
    const evs = await eventsFor(env, 'n1')
    return evs.some((e) => e.reason === 'NodeReady') ? evs : undefined
  })
  const reasons = events.map((e) => e.reason)
  for (const r of ['Starting', 'NodeHasSufficientMemory', 'NodeHasNoDiskPressure', 'NodeHasSufficientPID', 'NodeReady']) t.ok(reasons.includes(r), `event ${r}`)
  t.match(events.find((e) => e.reason === 'NodeReady'), {
    type: 'Normal',
    message: 'Node n1 status is now: NodeReady',
    involvedObject: { kind: 'Node', name: 'n1', uid: 'n1' },
    source: { component: 'kubelet', host: 'n1' },
  })
})

t.test('the Lease in kube-node-lease is renewed while the kubelet runs, and no longer once it stops', async (t) => {
  const env = await startEnv(t)
  const n = await startNode(t, env, 'n2', { kubelet: { leaseRenewIntervalMs: 300 } })
  const leases = env.master.api.store(LEASES)
  const first = await eventually('the lease', () => leases.get('kube-node-lease', 'n2').catch(() => undefined))
  t.match(first.spec, { holderIdentity: 'n2', leaseDurationSeconds: 40 })
  const node = await env.master.api.store(NODES).get('', 'n2')
  t.match(first.metadata?.ownerReferences, [{ kind: 'Node', name: 'n2', uid: node.metadata?.uid }], 'owned by its Node')
  const renewTime = (l: unknown): string => String(specOf(l).renewTime)
  const renewed = await eventually('a renewal', async () => {
    const l = await leases.get('kube-node-lease', 'n2')
    return renewTime(l) !== renewTime(first) ? l : undefined
  })
  t.ok(Date.parse(renewTime(renewed)) > Date.parse(renewTime(first)), 'renewTime moves on')

  await n.kubelet.stop()
  const last = renewTime(await leases.get('kube-node-lease', 'n2'))
  await new Promise((r) => setTimeout(r, 1200))
  t.equal(renewTime(await leases.get('kube-node-lease', 'n2')), last, 'a stopped kubelet renews nothing')
})

t.test('a node that registered before keeps what the cluster set (a cordon) and gets its status replaced', async (t) => {
  const env = await startEnv(t)
  const n = await startNode(t, env, 'n3')
  const nodes = env.master.api.store(NODES)
  await nodes.update('', 'n3', (cur) => ({ ...cur!, spec: { ...(cur!.spec as Json), unschedulable: true } }), { dryRun: false, fieldManager: 'kubectl' })
  const restarted = await n.restart()
  const node = await nodes.get('', 'n3')
  t.equal((node.spec as Json).unschedulable, true, 'the cordon stays')
  const ready = ((node.status as Json).conditions as Json[]).find((c) => c.type === 'Ready')
  t.match(ready, { status: 'True', reason: 'KubeletReady' })
  t.not((node.status as Json).nodeInfo, undefined)
  t.ok(restarted.kubelet.nodeObject, 'the restarted kubelet knows its Node')
})

t.test('two kubelets each get their own pod range', async (t) => {
  const env = await startEnv(t)
  const a = await startNode(t, env, 'alpha')
  const b = await startNode(t, env, 'beta', { kubelet: { podCIDR: '10.200.7.0/24' } })
  t.match(a.kubelet.podCIDR, /^10\.\d+\.\d+\.0\/24$/)
  t.equal(b.kubelet.podCIDR, '10.200.7.0/24', '--pod-cidr')
  t.not(a.kubelet.podCIDR, b.kubelet.podCIDR)
})
