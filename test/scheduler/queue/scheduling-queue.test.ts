// The scheduling queue as kube-scheduler's PriorityQueue behaves: activeQ order,
// exponential back-off, unschedulable pods moved by the events that may help them or
// by the leftover flush, the moveRequestCycle rule, scheduling gates, updates and
// deletes wherever a pod waits, and pop's waiting. Time is a FakeClock throughout.
import t from 'tap'
import { FakeClock } from '../../../src/client/clock.js'
import { backoffDuration, type QueuedPodInfo, SchedulingQueue, type SchedulingQueueOptions } from '../../../src/scheduler/queue/index.js'
import { node, pod } from './helpers.js'

function setup(opts: SchedulingQueueOptions = {}) {
  const clock = new FakeClock(1_000_000)
  const q = new SchedulingQueue({ clock, ...opts })
  return { clock, q }
}

async function popKey(q: SchedulingQueue): Promise<string> {
  const qpi = await q.pop()
  if (qpi === undefined) throw new Error('pop returned undefined')
  return qpi.podInfo.key
}

/** Pops `name` and fails it with the given plugins; returns where it went. */
async function fail(q: SchedulingQueue, plugins: string[], forceBackoff = false) {
  const qpi = (await q.pop())!
  const cycle = q.schedulingCycle()
  return { qpi, where: q.addUnschedulableIfNotPresent({ ...qpi, unschedulablePlugins: new Set(plugins) }, cycle, forceBackoff) }
}

/** Whether pop would resolve right now (it resolves synchronously-soon when activeQ has a pod). */
async function popNow(q: SchedulingQueue): Promise<QueuedPodInfo | undefined> {
  const ac = new AbortController()
  const p = q.pop(ac.signal)
  await Promise.resolve()
  ac.abort()
  return p
}

t.test('activeQ: higher priority first, then older, then first in', async (t) => {
  const { clock, q } = setup()
  q.add(pod('low-old', { priority: 0 }))
  clock.step(10)
  q.add(pod('high-new', { priority: 1000 }))
  clock.step(10)
  q.add(pod('low-new-a', { priority: 0 }))
  q.add(pod('low-new-b', { priority: 0 }))
  q.add(pod('mid', { priority: 10 }))
  const order = []
  for (let i = 0; i < 5; i++) order.push(await popKey(q))
  t.same(order, ['default/high-new', 'default/mid', 'default/low-old', 'default/low-new-a', 'default/low-new-b'])
  t.same(q.pendingCounts(), { active: 0, backoff: 0, unschedulable: 0, gated: 0 })
})

t.test('pop counts attempts and cycles, stamps the first attempt, and marks the pod in flight', async (t) => {
  const { clock, q } = setup()
  q.add(pod('a'))
  const added = clock.now()
  clock.step(5)
  const qpi = (await q.pop())!
  t.equal(qpi.attempts, 1)
  t.equal(qpi.timestamp, added)
  t.equal(qpi.initialAttemptTimestamp, added + 5)
  t.equal(q.schedulingCycle(), 1)
  t.equal(q.where('default/a'), 'inFlight')
  q.done('default/a')
  t.equal(q.where('default/a'), undefined)
})

t.test('back-off doubles from podInitialBackoffSeconds up to podMaxBackoffSeconds', async (t) => {
  t.same(
    [1, 2, 3, 4, 5, 6, 20].map((n) => backoffDuration(n, 1000, 10_000)),
    [1000, 2000, 4000, 8000, 10_000, 10_000, 10_000],
  )
  t.same(
    [1, 2, 3].map((n) => backoffDuration(n, 500, 1500)),
    [500, 1000, 1500],
  )
  const { clock, q } = setup()
  q.add(pod('a'))
  const seen: number[] = []
  for (let attempt = 1; attempt <= 6; attempt++) {
    const { qpi, where } = await fail(q, ['NodeResourcesFit'], true)
    t.equal(qpi.attempts, attempt)
    t.equal(where, 'backoff')
    let waited = 0
    while (q.where('default/a') === 'backoff') {
      clock.step(250)
      waited += 250
    }
    t.equal(q.where('default/a'), 'active', `attempt ${attempt} back in activeQ`)
    seen.push(waited)
  }
  t.same(seen, [1000, 2000, 4000, 8000, 10_000, 10_000])
})

t.test('configurable back-off', async (t) => {
  const { clock, q } = setup({ podInitialBackoffSeconds: 2, podMaxBackoffSeconds: 3 })
  q.add(pod('a'))
  await fail(q, [], true)
  clock.step(1999)
  t.equal(q.where('default/a'), 'backoff')
  clock.step(1)
  t.equal(q.where('default/a'), 'active')
  await fail(q, [], true)
  clock.step(2999)
  t.equal(q.where('default/a'), 'backoff')
  clock.step(1)
  t.equal(q.where('default/a'), 'active')
})

t.test('backoffQ releases pods in back-off order', async (t) => {
  const { clock, q } = setup()
  q.add(pod('a', { priority: 5 }))
  q.add(pod('b', { priority: 1 }))
  await fail(q, [], true) // a: attempt 1 → 1 s
  clock.step(100)
  await fail(q, [], true) // b: attempt 1 → 1 s, 100 ms later
  t.same(q.dump().backoff, ['default/a', 'default/b'])
  clock.step(900)
  t.same(q.dump().active, ['default/a'])
  clock.step(100)
  t.same(q.pendingCounts(), { active: 2, backoff: 0, unschedulable: 0, gated: 0 })
})

t.test('a failed pod with no event since its attempt waits in unschedulablePods', async (t) => {
  const { clock, q } = setup()
  q.add(pod('a'))
  const { where } = await fail(q, ['NodeResourcesFit'])
  t.equal(where, 'unschedulable')
  clock.step(60_000)
  t.equal(q.where('default/a'), 'unschedulable', 'no back-off timer moves it')
  t.same(q.pendingCounts(), { active: 0, backoff: 0, unschedulable: 1, gated: 0 })
})

t.test('an error (no plugin named) or a forced back-off goes to backoffQ', async (t) => {
  const { q } = setup()
  q.add(pod('a'))
  q.add(pod('b'))
  t.equal((await fail(q, [])).where, 'backoff')
  t.equal((await fail(q, ['NodeResourcesFit'], true)).where, 'backoff')
})

t.test('events move the unschedulable pods they may help: to backoffQ while backing off, else activeQ', async (t) => {
  const { clock, q } = setup()
  q.add(pod('fit'))
  q.add(pod('taint'))
  q.add(pod('affinity'))
  await fail(q, ['NodeResourcesFit'])
  await fail(q, ['TaintToleration'])
  await fail(q, ['InterPodAffinity'])
  t.equal(q.moveAllToActiveOrBackoffQueue('NodeConditionChange'), 0, 'conditions help none of them')
  t.equal(q.moveAllToActiveOrBackoffQueue('AssignedPodDelete'), 2, 'a deleted pod frees resources and affinity')
  t.equal(q.where('default/fit'), 'backoff', 'still within its 1 s back-off')
  t.equal(q.where('default/affinity'), 'backoff')
  t.equal(q.where('default/taint'), 'unschedulable')
  clock.step(5000)
  t.equal(q.moveAllToActiveOrBackoffQueue('NodeTaintChange'), 1)
  t.equal(q.where('default/taint'), 'active', 'back-off over: straight to activeQ')
  t.equal(q.where('default/fit'), 'active', 'back-off timer moved it')
})

t.test('NodeAdd moves every in-tree rejection; an unknown plugin is moved by any event', async (t) => {
  const { q } = setup()
  for (const n of ['a', 'b', 'c']) q.add(pod(n))
  await fail(q, ['NodeResourcesFit', 'TaintToleration'])
  await fail(q, ['NodeName'])
  await fail(q, ['SomeOutOfTreePlugin'])
  t.equal(q.moveAllToActiveOrBackoffQueue('NodeAnnotationChange'), 1, 'only the unknown plugin')
  t.equal(q.where('default/c'), 'backoff')
  t.equal(q.moveAllToActiveOrBackoffQueue('NodeAdd'), 2)
  t.equal(q.pendingCounts().unschedulable, 0)
})

t.test('an event the hints do not know moves everyone', async (t) => {
  const { q } = setup()
  q.add(pod('a'))
  await fail(q, ['TaintToleration'])
  t.equal(q.moveAllToActiveOrBackoffQueue('CSINodeAdd'), 1)
})

t.test('volume events move only pods VolumeBinding rejected', async (t) => {
  const { q } = setup()
  q.add(pod('a'))
  q.add(pod('b'))
  await fail(q, ['TaintToleration'])
  await fail(q, ['VolumeBinding'])
  t.equal(q.moveAllToActiveOrBackoffQueue('PersistentVolumeClaimUpdate'), 1)
})

t.test('queueingHints: false moves every pod on every event', async (t) => {
  const { q } = setup({ queueingHints: false })
  q.add(pod('a'))
  await fail(q, ['TaintToleration'])
  t.equal(q.moveAllToActiveOrBackoffQueue('AssignedPodDelete'), 1)
})

t.test('NodeUpdate with the old and new node moves only for changes that may help', async (t) => {
  const { q } = setup()
  for (const n of ['fit', 'aff', 'unsched', 'taint']) q.add(pod(n))
  await fail(q, ['NodeResourcesFit'])
  await fail(q, ['NodeAffinity'])
  await fail(q, ['NodeUnschedulable'])
  await fail(q, ['TaintToleration'])
  const base = node('n1', { cpu: '4', labels: { a: '1' }, unschedulable: true, conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: 't1' }] })
  const heartbeat = node('n1', { cpu: '4', labels: { a: '1' }, unschedulable: true, conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: 't2' }] })
  t.equal(q.moveAllToActiveOrBackoffQueue('NodeUpdate', base, heartbeat), 0, 'a heartbeat moves nothing')
  t.equal(q.moveAllToActiveOrBackoffQueue('NodeUpdate', base, node('n1', { cpu: '2', labels: { a: '1' }, unschedulable: true })), 0, 'allocatable down helps nobody')
  t.equal(q.moveAllToActiveOrBackoffQueue('NodeUpdate', base, { ...base, status: { ...(base.status as object), allocatable: { cpu: '4000m', memory: '8Gi', pods: '110' } } }), 0, 'same quantity, other spelling')
  t.equal(q.moveAllToActiveOrBackoffQueue('NodeUpdate', base, node('n1', { cpu: '8', labels: { a: '1' }, unschedulable: true })), 1, 'allocatable up')
  t.equal(q.where('default/fit'), 'backoff')
  t.equal(q.moveAllToActiveOrBackoffQueue('NodeUpdate', base, node('n1', { cpu: '4', labels: { a: '2' }, unschedulable: true })), 1, 'labels')
  t.equal(q.where('default/aff'), 'backoff')
  t.equal(q.moveAllToActiveOrBackoffQueue('NodeUpdate', node('n1', { unschedulable: false }), node('n1', { unschedulable: true })), 0, 'cordoning helps nobody')
  t.equal(q.moveAllToActiveOrBackoffQueue('NodeUpdate', base, node('n1', { cpu: '4', labels: { a: '1' }, unschedulable: false })), 1, 'uncordoned')
  t.equal(q.where('default/unsched'), 'backoff')
  t.equal(q.moveAllToActiveOrBackoffQueue('NodeUpdate', base, node('n1', { cpu: '4', labels: { a: '1' }, unschedulable: true, taints: [{ key: 'k', effect: 'NoSchedule' }] })), 1, 'taints')
  t.equal(q.pendingCounts().unschedulable, 0)
})

t.test('AssignedPodUpdate with the old and new pod moves only for new labels or requests', async (t) => {
  const { q } = setup()
  q.add(pod('spread'))
  q.add(pod('fit'))
  await fail(q, ['PodTopologySpread'])
  await fail(q, ['NodeResourcesFit'])
  const bound = pod('other')
  t.equal(q.moveAllToActiveOrBackoffQueue('AssignedPodUpdate', bound, pod('other', { resourceVersion: '2', conditions: [{ type: 'Ready', status: 'True' }] })), 0, 'status only')
  t.equal(q.moveAllToActiveOrBackoffQueue('AssignedPodUpdate', bound, pod('other', { labels: { app: 'x' } })), 2, 'labels: spreading and (conservatively) fit')
  q.add(pod('fit2'))
  await fail(q, ['NodeResourcesFit'])
  t.equal(q.moveAllToActiveOrBackoffQueue('AssignedPodUpdate', bound, pod('other', { cpu: '50m' })), 1, 'resized')
  q.add(pod('fit3'))
  await fail(q, ['NodeResourcesFit'])
  t.equal(q.moveAllToActiveOrBackoffQueue('AssignedPodUpdate'), 1, 'without the objects: conservative')
})

t.test('NodeUpdate without the objects is conservative', async (t) => {
  const { q } = setup()
  q.add(pod('a'))
  await fail(q, ['TaintToleration'])
  t.equal(q.moveAllToActiveOrBackoffQueue('NodeUpdate'), 1)
})

t.test('unschedulable pods are flushed after podMaxInUnschedulablePodsSeconds', async (t) => {
  const { clock, q } = setup()
  q.add(pod('a'))
  q.add(pod('b'))
  await fail(q, ['TaintToleration'])
  clock.step(60_000)
  await fail(q, ['TaintToleration'])
  clock.step(239_999)
  t.equal(q.where('default/a'), 'unschedulable')
  clock.step(1)
  t.equal(q.where('default/a'), 'active', 'a waited 5 minutes')
  t.equal(q.where('default/b'), 'unschedulable')
  clock.step(60_000)
  t.equal(q.where('default/b'), 'active')
  t.equal(clock.pending(), 0, 'no timer left running')
})

t.test('configurable unschedulable flush', async (t) => {
  const { clock, q } = setup({ podMaxInUnschedulablePodsSeconds: 30 })
  q.add(pod('a'))
  await fail(q, ['TaintToleration'])
  clock.step(29_999)
  t.equal(q.where('default/a'), 'unschedulable')
  clock.step(1)
  t.equal(q.where('default/a'), 'active')
})

t.test('moveRequestCycle: an event while the pod was in flight sends it to backoffQ', async (t) => {
  const { q } = setup()
  q.add(pod('a'))
  q.add(pod('b'))
  q.add(pod('c'))
  q.moveAllToActiveOrBackoffQueue('NodeAdd') // before any attempt: does not count
  let qpi = (await q.pop())!
  let cycle = q.schedulingCycle()
  t.equal(q.addUnschedulableIfNotPresent({ ...qpi, unschedulablePlugins: new Set(['NodeResourcesFit']) }, cycle), 'unschedulable', 'event before the attempt')

  qpi = (await q.pop())!
  cycle = q.schedulingCycle()
  q.moveAllToActiveOrBackoffQueue('AssignedPodDelete')
  t.equal(q.addUnschedulableIfNotPresent({ ...qpi, unschedulablePlugins: new Set(['NodeResourcesFit']) }, cycle), 'backoff', 'event during the attempt')

  qpi = (await q.pop())!
  cycle = q.schedulingCycle()
  q.moveAllToActiveOrBackoffQueue('AssignedPodDelete')
  t.equal(q.addUnschedulableIfNotPresent({ ...qpi, unschedulablePlugins: new Set(['TaintToleration']) }, cycle), 'unschedulable', 'an event that cannot help it does not count')
})

t.test('moveRequestCycle without hints: any event counts', async (t) => {
  const { q } = setup({ queueingHints: false })
  q.add(pod('a'))
  const qpi = (await q.pop())!
  const cycle = q.schedulingCycle()
  q.moveAllToActiveOrBackoffQueue('NodeConditionChange')
  t.equal(q.addUnschedulableIfNotPresent({ ...qpi, unschedulablePlugins: new Set(['TaintToleration']) }, cycle), 'backoff')
})

t.test('a node update with nothing relevant does not count for pods in flight', async (t) => {
  const { q } = setup()
  q.add(pod('a'))
  const qpi = (await q.pop())!
  const cycle = q.schedulingCycle()
  q.moveAllToActiveOrBackoffQueue('NodeUpdate', node('n'), node('n'))
  t.equal(q.addUnschedulableIfNotPresent({ ...qpi, unschedulablePlugins: new Set(['NodeResourcesFit']) }, cycle), 'unschedulable')
})

t.test('gated pods stay out of activeQ until the update that removes their gates', async (t) => {
  const { clock, q } = setup()
  const gated = pod('g', { gates: ['example.com/wait'], resourceVersion: '1' })
  q.add(gated)
  q.add(pod('x'))
  t.same(q.pendingCounts(), { active: 1, backoff: 0, unschedulable: 0, gated: 1 })
  t.equal(q.get('default/g')?.gated, true)
  t.equal(await popKey(q), 'default/x')
  t.equal(await popNow(q), undefined, 'the gated pod is not popped')
  q.moveAllToActiveOrBackoffQueue('NodeAdd')
  q.moveAllToActiveOrBackoffQueue('ForceActivate')
  clock.step(600_000)
  t.equal(q.where('default/g'), 'gated', 'neither events nor the flush move it')
  const stillGated = pod('g', { gates: ['example.com/wait', 'b'], resourceVersion: '2' })
  q.update(gated, stillGated)
  t.equal(q.where('default/g'), 'gated')
  const open = pod('g', { resourceVersion: '3' })
  q.update(stillGated, open)
  t.equal(q.where('default/g'), 'active')
  const qpi = (await q.pop())!
  t.equal(qpi.podInfo.pod, open, 'the newest version is scheduled')
  t.equal(qpi.gated, false)
  t.equal(qpi.attempts, 1)
})

t.test('update in activeQ re-orders by the new priority', async (t) => {
  const { q } = setup()
  const a = pod('a', { priority: 1 })
  q.add(a)
  q.add(pod('b', { priority: 5 }))
  const a2 = pod('a', { priority: 10, resourceVersion: '2' })
  q.update(a, a2)
  const first = (await q.pop())!
  t.equal(first.podInfo.key, 'default/a')
  t.equal(first.podInfo.priority, 10)
})

t.test('update in backoffQ keeps the pod there with the new version', async (t) => {
  const { q } = setup()
  const a = pod('a')
  q.add(a)
  await fail(q, [], true)
  const a2 = pod('a', { labels: { x: 'y' }, resourceVersion: '2' })
  q.update(a, a2)
  t.equal(q.where('default/a'), 'backoff')
  t.equal(q.get('default/a')?.podInfo.pod, a2)
})

t.test('update in unschedulablePods: a status-only change stays, any other change moves', async (t) => {
  const { clock, q } = setup()
  const a = pod('a')
  q.add(a)
  await fail(q, ['NodeResourcesFit'])
  const cond = [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' }]
  const a2 = pod('a', { resourceVersion: '2', conditions: cond })
  q.update(a, a2)
  t.equal(q.where('default/a'), 'unschedulable', "the scheduler's own condition write does not requeue")
  t.equal(q.get('default/a')?.podInfo.pod, a2)
  const a3 = pod('a', { resourceVersion: '3', conditions: cond, cpu: '50m' })
  q.update(a2, a3)
  t.equal(q.where('default/a'), 'backoff', 'spec changed: moved, back-off still applies')
  clock.step(1000)
  const qpi = (await q.pop())!
  t.equal(qpi.podInfo.requests.milliCPU, 50)
  t.equal(qpi.attempts, 2, 'attempts carry on')
})

t.test('update of an unknown pod adds it', async (t) => {
  const { q } = setup()
  q.update(pod('a'), pod('a', { resourceVersion: '2' }))
  t.equal(q.where('default/a'), 'active')
})

t.test('add of a known pod is an update', async (t) => {
  const { q } = setup()
  q.add(pod('a', { priority: 1 }))
  q.add(pod('a', { priority: 2, resourceVersion: '2' }))
  t.same(q.pendingCounts(), { active: 1, backoff: 0, unschedulable: 0, gated: 0 })
  t.equal(q.get('default/a')?.podInfo.priority, 2)
})

t.test('delete from each place', async (t) => {
  const { clock, q } = setup()
  for (const n of ['active', 'backoff', 'unsched']) q.add(pod(n))
  q.add(pod('gated', { gates: ['g'] }))
  // Pop order is by age: 'active' first.
  const first = (await q.pop())!
  q.addUnschedulableIfNotPresent({ ...first, unschedulablePlugins: new Set() }, q.schedulingCycle(), true)
  await fail(q, [], true) // 'backoff'
  await fail(q, ['TaintToleration']) // 'unsched'
  t.same(q.dump(), { active: [], backoff: ['default/active', 'default/backoff'], unschedulable: ['default/unsched'], gated: ['default/gated'], inFlight: [] })
  clock.step(1000)
  t.equal(q.where('default/active'), 'active')
  for (const n of ['active', 'backoff', 'unsched', 'gated']) q.delete(pod(n))
  t.same(q.pendingCounts(), { active: 0, backoff: 0, unschedulable: 0, gated: 0 })
  q.moveAllToActiveOrBackoffQueue('ForceActivate')
  clock.step(600_000)
  t.same(q.pendingCounts(), { active: 0, backoff: 0, unschedulable: 0, gated: 0 })
  t.equal(clock.pending(), 0)
  q.delete('default/nothing')
})

t.test('a pod deleted while in flight is not requeued', async (t) => {
  const { q } = setup()
  q.add(pod('a'))
  const qpi = (await q.pop())!
  q.delete(pod('a'))
  t.equal(q.addUnschedulableIfNotPresent({ ...qpi, unschedulablePlugins: new Set(['NodeResourcesFit']) }, q.schedulingCycle()), undefined)
  t.equal(q.where('default/a'), undefined)
})

t.test('a pod updated while in flight stays out of activeQ, then requeues with its newest version to backoffQ', async (t) => {
  const { q } = setup()
  const a = pod('a')
  q.add(a)
  const qpi = (await q.pop())!
  const cycle = q.schedulingCycle()
  const status = pod('a', { resourceVersion: '2', conditions: [{ type: 'PodScheduled', status: 'False' }] })
  q.update(a, status)
  t.equal(q.where('default/a'), 'inFlight', 'not scheduled twice')
  t.equal(q.addUnschedulableIfNotPresent({ ...qpi, unschedulablePlugins: new Set(['NodeResourcesFit']) }, cycle), 'unschedulable', 'a status-only update changes nothing')
  t.equal(q.get('default/a')?.podInfo.pod, status)

  q.moveAllToActiveOrBackoffQueue('ForceActivate')
  const b = pod('b')
  q.add(b)
  const qb = (await q.pop())!
  t.equal(qb.podInfo.key, 'default/b', 'a is backing off')
  const b2 = pod('b', { resourceVersion: '2', labels: { new: 'label' } })
  q.add(b2)
  t.equal(q.where('default/b'), 'inFlight')
  t.equal(q.addUnschedulableIfNotPresent({ ...qb, unschedulablePlugins: new Set(['TaintToleration']) }, q.schedulingCycle()), 'backoff')
  t.equal(q.get('default/b')?.podInfo.pod, b2)
})

t.test('addUnschedulableIfNotPresent leaves a pod already queued again alone', async (t) => {
  const { q } = setup()
  const a = pod('a')
  q.add(a)
  const qpi = (await q.pop())!
  q.done('default/a')
  q.add(a) // e.g. an update after done: unknown pods are added
  t.equal(q.addUnschedulableIfNotPresent({ ...qpi, unschedulablePlugins: new Set(['X']) }, q.schedulingCycle()), undefined)
  t.equal(q.where('default/a'), 'active')
})

t.test('a binding failure after done still requeues (with back-off)', async (t) => {
  const { q } = setup()
  q.add(pod('a'))
  const qpi = (await q.pop())!
  const cycle = q.schedulingCycle()
  q.done('default/a')
  t.equal(q.addUnschedulableIfNotPresent({ ...qpi, unschedulablePlugins: new Set() }, cycle, true), 'backoff')
})

t.test('pop waits for a pod, serves waiters first come first served, and close wakes them', async (t) => {
  const { q } = setup()
  const p1 = q.pop()
  const p2 = q.pop()
  let settled = false
  void p1.then(() => (settled = true))
  await new Promise((r) => setImmediate(r))
  t.equal(settled, false, 'pop waits while activeQ is empty')
  q.add(pod('a'))
  t.equal((await p1)?.podInfo.key, 'default/a')
  q.add(pod('b'))
  t.equal((await p2)?.podInfo.key, 'default/b')
  const p3 = q.pop()
  q.close()
  t.equal(await p3, undefined)
  q.add(pod('c'))
  t.equal(await q.pop(), undefined, 'closed: pop resolves undefined at once')
})

t.test('pop resolves undefined when its signal aborts, and an aborted waiter takes no pod', async (t) => {
  const { q } = setup()
  const ac = new AbortController()
  const p = q.pop(ac.signal)
  ac.abort()
  t.equal(await p, undefined)
  q.add(pod('a'))
  t.equal(q.where('default/a'), 'active', 'the pod waits for the next pop')
  t.equal(await q.pop(ac.signal), undefined, 'an aborted signal pops nothing')
  t.equal(await popKey(q), 'default/a')
})

t.test('a pod moved by the back-off timer wakes a waiting pop', async (t) => {
  const { clock, q } = setup()
  q.add(pod('a'))
  await fail(q, [], true)
  const p = q.pop()
  clock.step(1000)
  t.equal((await p)?.podInfo.key, 'default/a')
})

t.test('close stops the timers', async (t) => {
  const { clock, q } = setup()
  q.add(pod('a'))
  q.add(pod('b'))
  await fail(q, [], true)
  await fail(q, ['TaintToleration'])
  t.equal(clock.pending(), 2)
  q.close()
  t.equal(clock.pending(), 0)
})

t.test('a custom queue sort', async (t) => {
  const { q } = setup({ less: (a, b) => a.podInfo.name < b.podInfo.name })
  for (const n of ['c', 'a', 'b']) q.add(pod(n, { priority: n === 'c' ? 100 : 0 }))
  t.same([await popKey(q), await popKey(q), await popKey(q)], ['default/a', 'default/b', 'default/c'])
})

t.test('many pods: the heap keeps the order through updates and deletes (seeded)', async (t) => {
  const seed = Number(process.env.SEED ?? Date.now() % 1_000_000)
  t.comment(`seed ${seed}`)
  let s = seed >>> 0
  const rnd = () => {
    s = (s + 0x6d2b79f5) >>> 0
    let x = s
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
  const { clock, q } = setup()
  const live = new Map<string, { priority: number; ts: number; seq: number }>()
  let seq = 0
  for (let i = 0; i < 2000; i++) {
    const name = `p${Math.floor(rnd() * 500)}`
    const key = `default/${name}`
    const r = rnd()
    if (r < 0.6) {
      const priority = Math.floor(rnd() * 5)
      const old = live.get(key)
      q.add(pod(name, { priority, resourceVersion: String(i) }))
      live.set(key, old === undefined ? { priority, ts: clock.now(), seq: seq++ } : { ...old, priority })
    } else if (r < 0.8) {
      q.delete(pod(name))
      live.delete(key)
    } else clock.step(Math.floor(rnd() * 3))
  }
  const expected = [...live.entries()].sort(([, a], [, b]) => b.priority - a.priority || a.ts - b.ts || a.seq - b.seq).map(([k]) => k)
  const got: string[] = []
  while (q.pendingCounts().active > 0) got.push(await popKey(q))
  t.same(got, expected, `seed ${seed}`)
})
