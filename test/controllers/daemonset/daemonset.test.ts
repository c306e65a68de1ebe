// The DaemonSet controller against a real API server (no scheduler or kubelet: pods
// are pinned to their node by affinity, and the test writes their status): one pod
// per fitting node, node changes, taints, failed pods, rolling updates, revisions.
/* eslint-disable @typescript-eslint/no-explicit-any -- objects are read by path in assertions */
import t from 'tap'
import type { KubeObject, RestClient } from '../../../src/client/index.js'
import { daemonSetController } from '../../../src/controllers/daemonset/controller.js'
import { targetNode } from '../../../src/controllers/daemonset/placement.js'
import { CONTROLLER_REVISIONS, DAEMONSETS, eventually, NODES, PODS, settle, startCluster } from '../helpers.js'

const extra = { daemonset: daemonSetController }
const labels = { app: 'agent' }

function ds(name: string, spec: Record<string, unknown> = {}, podSpec: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name },
    spec: { selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'c', image: 'agent:1' }], ...podSpec } }, ...spec },
  }
}

async function node(client: RestClient, name: string, nodeLabels: Record<string, string> = {}, taints: unknown[] = []): Promise<void> {
  await client.resource(NODES).create({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name, ...nodeLabels } }, spec: { taints } })
}

async function placed(client: RestClient): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {}
  for (const p of (await client.resource(PODS, 'default').list()).items) {
    if (p.metadata?.deletionTimestamp !== undefined) continue
    const n = targetNode(p) ?? '?'
    ;(out[n] ??= []).push(p.metadata!.name!)
  }
  return out
}

async function waitNodes(client: RestClient, nodes: string[]): Promise<Record<string, string[]>> {
  return eventually(`one pod on each of ${nodes.join(',')}`, async () => {
    const p = await placed(client)
    const keys = Object.keys(p).sort()
    return keys.join(',') === [...nodes].sort().join(',') && keys.every((k) => p[k]!.length === 1) ? p : undefined
  })
}

async function readyAll(client: RestClient): Promise<void> {
  for (const p of (await client.resource(PODS, 'default').list()).items) {
    if ((p.status as any)?.phase === 'Running' || p.metadata?.deletionTimestamp !== undefined) continue
    await client.resource(PODS, 'default').updateStatus({ ...p, status: { ...(p.status as object), phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }] } })
  }
}

t.test('one pod per fitting node; new nodes get one; taints decide', async (t) => {
  const { client } = await startCluster(t, ['daemonset'], extra)
  await node(client, 'n1')
  await node(client, 'n2')
  await client.resource(DAEMONSETS, 'default').create(ds('agent'))
  await waitNodes(client, ['n1', 'n2'])
  const pod = (await client.resource(PODS, 'default').list()).items[0]!
  t.match(pod.metadata!.generateName, 'agent-')
  t.match(pod.metadata!.labels, { app: 'agent', 'pod-template-generation': '1' })
  t.match(pod.metadata!.labels!['controller-revision-hash'], /^[a-z0-9]+$/)
  t.match((pod.spec as any).affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields[0], { key: 'metadata.name', operator: 'In' })
  const tolerationKeys = (pod.spec as any).tolerations.map((x: any) => `${x.key}:${x.effect}`)
  for (const k of ['node.kubernetes.io/not-ready:NoExecute', 'node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/unschedulable:NoSchedule', 'node.kubernetes.io/memory-pressure:NoSchedule']) t.ok(tolerationKeys.includes(k), `tolerates ${k}`)

  await node(client, 'n3')
  await waitNodes(client, ['n1', 'n2', 'n3'])
  t.pass('the new node got its pod')

  // A node that is not ready (NoSchedule taint from the node lifecycle controller) gets no new pod.
  await node(client, 'sick', {}, [{ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }])
  await settle(500)
  t.equal((await placed(client)).sick, undefined, 'no pod on a NotReady node')

  // An untolerated NoSchedule taint keeps the running pod; NoExecute removes it.
  const n1 = await client.resource(NODES).get('n1')
  await client.resource(NODES).update({ ...n1, spec: { taints: [{ key: 'dedicated', value: 'x', effect: 'NoSchedule' }] } })
  await settle(500)
  t.equal((await placed(client)).n1?.length, 1, 'NoSchedule: the pod stays')
  const n1b = await client.resource(NODES).get('n1')
  await client.resource(NODES).update({ ...n1b, spec: { taints: [{ key: 'dedicated', value: 'x', effect: 'NoExecute' }] } })
  await waitNodes(client, ['n2', 'n3'])
  t.pass('NoExecute: the pod is removed')

  await client.resource(NODES).delete('n3')
  await waitNodes(client, ['n2'])
  t.pass('a deleted node loses its pod')

  const s = await eventually('status', async () => {
    const x = (await client.resource(DAEMONSETS, 'default').get('agent')).status as any
    return x?.desiredNumberScheduled === 1 && x?.currentNumberScheduled === 1 ? x : undefined
  })
  t.match(s, { numberMisscheduled: 0, numberReady: 0, updatedNumberScheduled: 1, numberUnavailable: 1 })
})

t.test('nodeSelector limits the nodes', async (t) => {
  const { client } = await startCluster(t, ['daemonset'], extra)
  await node(client, 'ssd', { disk: 'ssd' })
  await node(client, 'hdd', { disk: 'hdd' })
  await client.resource(DAEMONSETS, 'default').create(ds('fast', {}, { nodeSelector: { disk: 'ssd' } }))
  await waitNodes(client, ['ssd'])
  const hdd = await client.resource(NODES).get('hdd')
  await client.resource(NODES).update({ ...hdd, metadata: { ...hdd.metadata, labels: { ...hdd.metadata!.labels, disk: 'ssd' } } })
  await waitNodes(client, ['ssd', 'hdd'])
  t.pass('relabelled node joins')
})

t.test('a failed daemon pod is replaced', async (t) => {
  const { client } = await startCluster(t, ['daemonset'], extra)
  await node(client, 'n1')
  await client.resource(DAEMONSETS, 'default').create(ds('agent'))
  const first = (await waitNodes(client, ['n1'])).n1![0]!
  const p = await client.resource(PODS, 'default').get(first)
  await client.resource(PODS, 'default').updateStatus({ ...p, status: { ...(p.status as object), phase: 'Failed' } })
  await eventually('replacement', async () => {
    const now = await placed(client)
    return now.n1?.length === 1 && now.n1[0] !== first ? true : undefined
  })
  t.pass('replaced')
})

t.test('rolling update: at most maxUnavailable nodes at a time, revisions kept', async (t) => {
  const { client } = await startCluster(t, ['daemonset'], extra)
  for (const n of ['n1', 'n2', 'n3']) await node(client, n)
  await client.resource(DAEMONSETS, 'default').create(ds('agent'))
  await waitNodes(client, ['n1', 'n2', 'n3'])
  await readyAll(client)
  await eventually('all available', async () => (((await client.resource(DAEMONSETS, 'default').get('agent')).status as any)?.numberAvailable === 3 ? true : undefined))

  await client.resource(DAEMONSETS, 'default').patch('agent', 'merge', { spec: { template: { spec: { containers: [{ name: 'c', image: 'agent:2' }] } } } })
  let maxMissing = 0
  for (let round = 0; round < 3; round++) {
    await eventually(`round ${round}`, async () => {
      const pods = (await client.resource(PODS, 'default').list()).items.filter((p) => p.metadata?.deletionTimestamp === undefined)
      const fresh = pods.filter((p) => (p.spec as any).containers[0].image === 'agent:2')
      maxMissing = Math.max(maxMissing, 3 - pods.filter((p) => (p.status as any)?.phase === 'Running').length)
      return fresh.length === round + 1 && pods.length === 3 ? true : undefined
    })
    await readyAll(client)
  }
  t.ok(maxMissing <= 1, `never more than one node without an available pod (saw ${maxMissing})`)
  const s = await eventually('rolled out', async () => {
    const x = (await client.resource(DAEMONSETS, 'default').get('agent')).status as any
    return x?.updatedNumberScheduled === 3 && x?.numberAvailable === 3 ? x : undefined
  })
  t.equal(s.desiredNumberScheduled, 3)
  const revs = (await client.resource(CONTROLLER_REVISIONS, 'default').list()).items
  t.strictSame(revs.map((r: any) => r.revision).sort(), [1, 2])
})
