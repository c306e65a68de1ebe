// Three real masters, four hollow nodes, and then one node's kubelet dies. After the
// node monitor grace period the node is Unknown and tainted unreachable; once the
// pods' toleration runs out they are evicted and their ReplicaSet replaces them on
// the nodes that are left; a DaemonSet created afterwards places no pod on the lost
// node. Short periods come from the masters' kube-controller-manager flags and the
// pods' own tolerationSeconds.
import t from 'tap'
import { findResource } from '../../../src/api/resources.js'
import type { KubeObject } from '../../../src/client/types.js'
import { HollowCluster } from '../../../src/kubelet/index.js'
import { client, cluster, until } from '../../scheduler/e2e/helpers.js'

const DEPLOYMENTS = findResource('apps', 'v1', 'deployments')!
const DAEMONSETS = findResource('apps', 'v1', 'daemonsets')!
const PODS = findResource('', 'v1', 'pods')!
const NODES = findResource('', 'v1', 'nodes')!

type Json = Record<string, unknown>

const ready = (o: KubeObject): boolean => ((o.status as Json | undefined)?.conditions as Json[] | undefined)?.some((c) => c.type === 'Ready' && c.status === 'True') === true
const live = (p: KubeObject): boolean => p.metadata?.deletionTimestamp === undefined
const nodeOf = (p: KubeObject): string => String((p.spec as Json | undefined)?.nodeName ?? '')

t.test('a lost node: Unknown and tainted, its pods replaced elsewhere, no DaemonSet pod placed on it', async (t) => {
  const target = await cluster(t, ['--node-monitor-grace-period=4s', '--node-monitor-period=1s', '--node-eviction-rate=10', '--leader-elect-retry-period=500ms'])
  const nodes = await HollowCluster.start({
    addresses: target.masters.map((m) => m.nodeEndpoint),
    count: 4,
    kubelet: { statusUpdateFrequencyMs: 1000, leaseRenewIntervalMs: 1000, events: false },
  })
  t.teardown(() => nodes.stop())
  const api = client(target.masters[0]!)

  const tolerations = ['node.kubernetes.io/unreachable', 'node.kubernetes.io/not-ready'].map((key) => ({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 2 }))
  await api.resource(DEPLOYMENTS, 'default').create({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: {
      replicas: 8,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { tolerations, containers: [{ name: 'web', image: 'nginx' }] } },
    },
  })
  const before = await until('8 ready pods', 90_000, async () => {
    const pods = (await api.resource(PODS, 'default').list({ labelSelector: 'app=web' })).items.filter((p) => live(p) && ready(p))
    return pods.length === 8 ? pods : undefined
  })
  // The node with the most pods is the one to lose.
  const counts = new Map<string, number>()
  for (const p of before) counts.set(nodeOf(p), (counts.get(nodeOf(p)) ?? 0) + 1)
  const lost = [...counts].sort((a, b) => b[1] - a[1])[0]![0]
  t.ok((counts.get(lost) ?? 0) > 0, `${lost} runs ${counts.get(lost)} pods`)
  await nodes.stopNode(lost)

  const node = await until(`${lost} Unknown and tainted unreachable`, 60_000, async () => {
    const n = await api.resource(NODES).get(lost)
    const cond = ((n.status as Json).conditions as Json[]).find((c) => c.type === 'Ready')
    const taints = ((n.spec as Json).taints ?? []) as Json[]
    return cond?.status === 'Unknown' && taints.some((x) => x.key === 'node.kubernetes.io/unreachable' && x.effect === 'NoExecute') ? n : undefined
  })
  t.match(((node.status as Json).conditions as Json[]).find((c) => c.type === 'Ready'), { reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' })
  t.ok(((node.spec as Json).taints as Json[]).some((x) => x.key === 'node.kubernetes.io/unreachable' && x.effect === 'NoSchedule'), 'and NoSchedule')

  const after = await until('8 ready pods on the nodes that are left', 90_000, async () => {
    const pods = (await api.resource(PODS, 'default').list({ labelSelector: 'app=web' })).items
    const good = pods.filter((p) => live(p) && ready(p) && nodeOf(p) !== lost)
    return good.length === 8 ? pods : undefined
  })
  const stranded = after.filter((p) => nodeOf(p) === lost)
  t.ok(stranded.every((p) => !live(p)), `the lost node's ${stranded.length} pods are being deleted (they wait for a kubelet that is gone, as upstream)`)

  await api.resource(DAEMONSETS, 'default').create({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'agent' },
    spec: { selector: { matchLabels: { app: 'agent' } }, template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'agent', image: 'agent' }] } } },
  })
  const daemons = await until('a ready daemon pod on each of the 3 nodes left', 60_000, async () => {
    const ds = await api.resource(DAEMONSETS, 'default').get('agent')
    const s = (ds.status ?? {}) as Json
    return s.numberReady === 3 && s.desiredNumberScheduled === 3 ? ds : undefined
  })
  t.match(daemons.status, { currentNumberScheduled: 3, desiredNumberScheduled: 3, numberReady: 3 })
  const agentPods = (await api.resource(PODS, 'default').list({ labelSelector: 'app=agent' })).items
  t.equal(agentPods.length, 3)
  t.notOk(agentPods.some((p) => nodeOf(p) === lost), `no daemon pod on ${lost}`)
})
