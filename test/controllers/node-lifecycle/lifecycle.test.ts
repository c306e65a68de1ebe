// The node lifecycle and taint eviction controllers against a real API server, with
// the test playing the kubelets (Lease renewals, Ready condition) and a grace period
// of 3 s instead of 50: a silent node turns Unknown and is tainted, its pods lose
// Ready and are evicted as their tolerations say, and it all unwinds when the node
// comes back; a kubelet reporting NotReady gets the not-ready taints.
/* eslint-disable @typescript-eslint/no-explicit-any -- objects are read by path in assertions */
import t from 'tap'
import { TAINT_NODE_NOT_READY, TAINT_NODE_UNREACHABLE } from '../../../src/api/taints.js'
import { eventually, NODES, settle, startCluster } from '../helpers.js'
import { condition, eventsFor, FakeKubelet, fastControllers, getNode, getPod, runningPod, taint, waitDeleting, waitTaints } from './fixtures.js'

const CONTROLLERS = ['nodelifecycle', 'taint-eviction-controller']
const UNREACHABLE = [`${TAINT_NODE_UNREACHABLE}:NoExecute`, `${TAINT_NODE_UNREACHABLE}:NoSchedule`]
const NOT_READY = [`${TAINT_NODE_NOT_READY}:NoExecute`, `${TAINT_NODE_NOT_READY}:NoSchedule`]

t.test('a node whose kubelet falls silent turns Unknown, is tainted unreachable, and its pods go as their tolerations say', async (t) => {
  const { client } = await startCluster(t, CONTROLLERS, fastControllers)
  // Two nodes: with every node down the controller would assume a partition and evict nothing.
  const alive = new FakeKubelet(client, 'alive')
  const lost = new FakeKubelet(client, 'lost')
  t.teardown(() => {
    alive.stop()
    lost.stop()
  })
  for (const k of [alive, lost]) {
    await k.register()
    k.heartbeat()
  }
  await runningPod(client, 'web-alive', 'alive')
  // DefaultTolerationSeconds gives this one 300 s for unreachable: it outlives the test.
  await runningPod(client, 'web-default', 'lost')
  await runningPod(client, 'web-short', 'lost', [{ key: TAINT_NODE_UNREACHABLE, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 3 }])
  await runningPod(client, 'agent', 'lost', [{ key: TAINT_NODE_UNREACHABLE, operator: 'Exists', effect: 'NoExecute' }])

  await t.test('a node whose Lease is renewed stays Ready and untainted', async (t) => {
    await settle(4_000) // longer than the grace period
    for (const name of ['alive', 'lost']) {
      const node = await getNode(client, name)
      t.equal(condition(node, 'Ready').status, 'True', `${name} is Ready`)
      t.same(node.spec.taints ?? [], [], `${name} has no taints`)
    }
    t.equal(condition(await getPod(client, 'web-default'), 'Ready').status, 'True', 'its pods stay Ready')
    t.ok((await eventsFor(client, 'lost', 'RegisteredNode')).length > 0, 'RegisteredNode event')
  })

  const silentAt = Date.now()
  lost.stop()

  await t.test('silence beyond the grace period: conditions Unknown, unreachable taints, pods not ready', async (t) => {
    const node = await waitTaints(client, 'lost', UNREACHABLE)
    t.ok(Date.now() - silentAt >= 3_000, 'not before the grace period ran out')
    const ready = condition(node, 'Ready')
    t.match(ready, { status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' })
    t.ok(Date.parse(ready.lastHeartbeatTime) <= silentAt, 'the last heartbeat is kept')
    t.ok(Date.parse(ready.lastTransitionTime) >= Math.floor(silentAt / 1000) * 1000, 'the transition is now')
    for (const type of ['MemoryPressure', 'DiskPressure', 'PIDPressure']) {
      t.match(condition(node, type), { status: 'Unknown', reason: 'NodeStatusUnknown' }, `${type} Unknown`)
    }
    t.match(taint(node, TAINT_NODE_UNREACHABLE, 'NoExecute').timeAdded, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, 'the NoExecute taint carries timeAdded')
    t.equal(taint(node, TAINT_NODE_UNREACHABLE, 'NoSchedule').timeAdded, undefined, 'the NoSchedule one does not')

    for (const name of ['web-default', 'agent']) {
      const pod = await eventually(`${name} not ready`, async () => {
        const p = await getPod(client, name)
        return condition(p, 'Ready').status === 'False' ? p : undefined
      })
      t.equal(condition(pod, 'ContainersReady').status, 'True', `${name}: only Ready is changed`)
    }
    t.ok((await eventsFor(client, 'web-default', 'NodeNotReady')).length > 0, 'NodeNotReady event on the pod')
    t.ok((await eventsFor(client, 'lost', 'NodeNotReady')).length > 0, 'NodeNotReady event on the node')
    const other = await getNode(client, 'alive')
    t.equal(condition(other, 'Ready').status, 'True', 'the other node is untouched')
    t.equal(condition(await getPod(client, 'web-alive'), 'Ready').status, 'True', 'and so are its pods')
  })

  await t.test('a pod tolerating unreachable for 3 s is deleted 3 s after the taint was added', async (t) => {
    const pod = await waitDeleting(client, 'web-short')
    const node = await getNode(client, 'lost')
    const added = Date.parse(taint(node, TAINT_NODE_UNREACHABLE, 'NoExecute').timeAdded)
    // deletionTimestamp = time of the delete + the pod's 30 s grace period; timeAdded has second precision.
    const deletedAt = Date.parse(pod.metadata.deletionTimestamp) - pod.metadata.deletionGracePeriodSeconds * 1000
    t.ok(deletedAt - added >= 2_000, `deleted ${deletedAt - added} ms after the taint (at least its tolerationSeconds, to the second)`)
    t.match(condition(pod, 'DisruptionTarget'), { status: 'True', reason: 'DeletionByTaintManager', message: 'Taint manager: deleting due to NoExecute taint' })
    const events = await eventually('TaintManagerEviction event', async () => {
      const e = await eventsFor(client, 'web-short', 'TaintManagerEviction')
      return e.length > 0 ? e : undefined
    })
    t.equal(events[0].message, 'Marking for deletion Pod default/web-short')
    t.equal(events[0].source?.component, 'taint-eviction-controller')
    t.equal((await getPod(client, 'web-default')).metadata.deletionTimestamp, undefined, 'the pod with 300 s stays')
    t.equal((await getPod(client, 'agent')).metadata.deletionTimestamp, undefined, 'the pod tolerating forever stays')
  })

  await t.test('the kubelet comes back: taints removed, its conditions stand', async (t) => {
    await lost.postStatus('True')
    lost.heartbeat()
    const node = await waitTaints(client, 'lost', [])
    t.equal(condition(node, 'Ready').status, 'True')
    await settle(1_000)
    const later = await getNode(client, 'lost')
    t.equal(condition(later, 'Ready').status, 'True', 'and stays Ready while the Lease is renewed')
    t.same(later.spec.taints ?? [], [])
    const cancelled = await eventually('the pending eviction cancelled', async () => {
      const e = await eventsFor(client, 'web-default', 'TaintManagerEviction')
      return e.length > 0 ? e : undefined
    })
    t.equal(cancelled[0].message, 'Cancelling deletion of Pod default/web-default', 'the 300 s countdown is called off')
    t.equal((await getPod(client, 'web-default')).metadata.deletionTimestamp, undefined)
  })
})

t.test('a kubelet reporting NotReady gets the not-ready taints; a user NoExecute taint evicts at once', async (t) => {
  const { client } = await startCluster(t, CONTROLLERS, fastControllers)
  const a = new FakeKubelet(client, 'a')
  const b = new FakeKubelet(client, 'b')
  t.teardown(() => {
    a.stop()
    b.stop()
  })
  for (const k of [a, b]) {
    await k.register()
    k.heartbeat()
  }

  await t.test('Ready False (still heartbeating): not-ready taints, swapped back off on recovery', async (t) => {
    await b.postStatus('False')
    const node = await waitTaints(client, 'b', NOT_READY)
    t.equal(condition(node, 'Ready').reason, 'KubeletNotReady', 'the kubelet’s own condition stands')
    await b.postStatus('True')
    await waitTaints(client, 'b', [])
  })

  await t.test('pressure conditions and cordoning become NoSchedule taints', async (t) => {
    await b.postStatus('True', ['MemoryPressure', 'DiskPressure'])
    await waitTaints(client, 'b', ['node.kubernetes.io/memory-pressure:NoSchedule', 'node.kubernetes.io/disk-pressure:NoSchedule'])
    await b.postStatus('True')
    await waitTaints(client, 'b', [])
    await client.resource(NODES).patch('b', 'merge', { spec: { unschedulable: true } })
    await waitTaints(client, 'b', ['node.kubernetes.io/unschedulable:NoSchedule'])
    await client.resource(NODES).patch('b', 'merge', { spec: { unschedulable: null } })
    await waitTaints(client, 'b', [])
    t.pass()
  })

  await t.test('the beta OS and arch labels follow the stable ones', async (t) => {
    const node = await eventually('beta labels', async () => {
      const n = await getNode(client, 'a')
      return n.metadata.labels['beta.kubernetes.io/arch'] !== undefined ? n : undefined
    })
    t.match(node.metadata.labels, { 'beta.kubernetes.io/os': 'linux', 'beta.kubernetes.io/arch': 'amd64' })
  })

  await t.test('a NoExecute taint a pod does not tolerate deletes it at once; a tolerating pod stays', async (t) => {
    await runningPod(client, 'plain', 'a')
    await runningPod(client, 'tolerant', 'a', [{ key: 'example.com/maintenance', operator: 'Exists', effect: 'NoExecute' }])
    await client.resource(NODES).patch('a', 'merge', { spec: { taints: [{ key: 'example.com/maintenance', value: 'now', effect: 'NoExecute' }] } })
    const pod = await waitDeleting(client, 'plain')
    t.match(condition(pod, 'DisruptionTarget'), { reason: 'DeletionByTaintManager' })
    await settle(1_000)
    t.equal((await getPod(client, 'tolerant')).metadata.deletionTimestamp, undefined, 'the tolerating pod stays')
    t.same((await getNode(client, 'a')).spec.taints.map((x: any) => x.key), ['example.com/maintenance'], 'user taints are left alone')
  })

  await t.test('tolerationSeconds count from the taint’s timeAdded, so a new leader keeps the deadline', async (t) => {
    const tolerate = (seconds: number): unknown[] => [{ key: 'example.com/drain', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds }]
    await runningPod(client, 'overdue', 'b', tolerate(60))
    await runningPod(client, 'later', 'b', tolerate(600))
    // As if tainted two minutes ago, by a controller-manager that has since lost its lease.
    const timeAdded = new Date(Date.now() - 120_000).toISOString().replace(/\.\d{3}Z$/, 'Z')
    await client.resource(NODES).patch('b', 'merge', { spec: { taints: [{ key: 'example.com/drain', effect: 'NoExecute', timeAdded }] } })
    await waitDeleting(client, 'overdue')
    t.pass('60 s of toleration had run out already')
    await settle(500)
    t.equal((await getPod(client, 'later')).metadata.deletionTimestamp, undefined, '600 s have not')
  })
})

t.test('when every node is unreachable, nothing is evicted', async (t) => {
  const { client } = await startCluster(t, CONTROLLERS, fastControllers)
  const only = new FakeKubelet(client, 'only')
  t.teardown(() => only.stop())
  await only.register()
  only.heartbeat()
  await runningPod(client, 'solo', 'only', [{ key: TAINT_NODE_UNREACHABLE, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 0 }])
  await settle(1_000)
  only.stop()
  const node = await waitTaints(client, 'only', [`${TAINT_NODE_UNREACHABLE}:NoSchedule`])
  t.equal(condition(node, 'Ready').status, 'Unknown')
  await settle(2_000)
  t.same((await getNode(client, 'only')).spec.taints.map((x: any) => `${x.key}:${x.effect}`), [`${TAINT_NODE_UNREACHABLE}:NoSchedule`], 'no NoExecute taint: the controller assumes the fault is its own')
  t.equal((await getPod(client, 'solo')).metadata.deletionTimestamp, undefined, 'the pod is not evicted')
  t.equal(condition(await getPod(client, 'solo'), 'Ready').status, 'False', 'but it is marked not ready')
})
