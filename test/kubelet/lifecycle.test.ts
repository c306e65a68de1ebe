// The end of a pod and the restart of a kubelet: graceful deletion is carried out
// and confirmed (the pod disappears), the grace period bounds a slow stop, a pod
// removed from the API is stopped, and a restarted kubelet adopts its pods without
// restarting them.
import t from 'tap'
import { PODS, condition, containerStatus, createPod, eventually, eventsFor, getPod, podObject, podWhen, startEnv, startNode, statusOf, write, type Json, phaseOf } from './helpers.js'

const phase = phaseOf

t.test('deleting a running pod stops it and confirms the deletion: the pod disappears', async (t) => {
  const env = await startEnv(t)
  const n = await startNode(t, env, 'n1')
  await createPod(env, podObject('web', 'n1'))
  await podWhen(env, 'web', 'Running', (p) => phase(p) === 'Running')
  const pods = env.master.api.store(PODS)
  const { deleted } = await pods.delete('default', 'web', { dryRun: false })
  t.equal(deleted, false, 'a bound pod waits for its kubelet')
  await eventually('the pod to be gone', async () => ((await getPod(env, 'web')) === undefined ? true : undefined))
  const killing = await eventually('the Killing event', async () => (await eventsFor(env, 'web')).find((e) => e.reason === 'Killing'))
  t.match(killing, { type: 'Normal', message: 'Stopping container c', involvedObject: { fieldPath: 'spec.containers{c}' } })
  await eventually('the worker to be gone', () => (n.kubelet.podCount === 0 ? true : undefined))
  t.equal(n.runtime.podCount, 0, 'the runtime forgot the pod')
})

t.test('a deleted pod reaches a terminal phase before it goes; a slow stop is cut at the grace period', async (t) => {
  const env = await startEnv(t)
  await startNode(t, env, 'n1')
  // Finalizer: the pod stays after the kubelet's final delete, so its last status can be read.
  await createPod(env, podObject('slow', 'n1', { annotations: { 'hollow.raftplane.io/stop-after': '1m' }, finalizers: ['test/hold'] }))
  await createPod(env, podObject('quick', 'n1', { annotations: { 'hollow.raftplane.io/stop-after': '500ms' }, finalizers: ['test/hold'] }))
  await podWhen(env, 'slow', 'Running', (p) => phase(p) === 'Running')
  await podWhen(env, 'quick', 'Running', (p) => phase(p) === 'Running')
  const pods = env.master.api.store(PODS)
  const started = Date.now()
  await pods.delete('default', 'slow', { dryRun: false, gracePeriodSeconds: 2 })
  await pods.delete('default', 'quick', { dryRun: false, gracePeriodSeconds: 30 })
  const slow = await podWhen(env, 'slow', 'Failed', (p) => phase(p) === 'Failed')
  t.ok(Date.now() - started >= 1500, 'it was given its grace period')
  t.match(containerStatus(slow, 'c'), { state: { terminated: { exitCode: 137, reason: 'Error' } }, ready: false })
  t.match(condition(slow, 'Ready'), { status: 'False', reason: 'PodFailed' })
  const quick = await podWhen(env, 'quick', 'Succeeded', (p) => phase(p) === 'Succeeded')
  t.match(containerStatus(quick, 'c'), { state: { terminated: { exitCode: 0, reason: 'Completed' } } })
  t.match(condition(quick, 'PodReadyToStartContainers'), { status: 'False' })
  // The final delete happened: only the finalizer holds them.
  for (const name of ['slow', 'quick']) {
    await podWhen(env, name, "the kubelet's final delete", (p) => p.metadata?.deletionGracePeriodSeconds === 0)
    t.pass(`${name}: the kubelet's delete with grace 0 landed after its terminal phase`)
    await pods.update('default', name, (cur) => ({ ...cur!, metadata: { ...cur!.metadata, finalizers: [] } }), write)
  }
  await eventually('both gone', async () => ((await getPod(env, 'slow')) === undefined && (await getPod(env, 'quick')) === undefined ? true : undefined))
})

t.test('a pod deleted before it started is Failed, its containers never ran, and it goes', async (t) => {
  const env = await startEnv(t)
  const n = await startNode(t, env, 'n1')
  await createPod(env, podObject('never', 'n1', { annotations: { 'hollow.raftplane.io/start-after': '1h' }, finalizers: ['test/hold'] }))
  await podWhen(env, 'never', 'ContainerCreating', (p) => (containerStatus(p, 'c')?.state as Json | undefined)?.waiting !== undefined)
  const pods = env.master.api.store(PODS)
  await pods.delete('default', 'never', { dryRun: false })
  const failed = await podWhen(env, 'never', 'Failed', (p) => phase(p) === 'Failed')
  t.match(containerStatus(failed, 'c'), {
    state: { terminated: { exitCode: 137, reason: 'ContainerStatusUnknown', message: 'The container could not be located when the pod was terminated' } },
    ready: false,
    started: false,
  })
  await pods.update('default', 'never', (cur) => ({ ...cur!, metadata: { ...cur!.metadata, finalizers: [] } }), write)
  await eventually('the pod to be gone', async () => ((await getPod(env, 'never')) === undefined ? true : undefined))
  await eventually('the worker to be gone', () => (n.kubelet.podCount === 0 ? true : undefined))
})

t.test('a pod removed from the API at once (force delete) is stopped and forgotten', async (t) => {
  const env = await startEnv(t)
  const n = await startNode(t, env, 'n1')
  await createPod(env, podObject('forced', 'n1'))
  await podWhen(env, 'forced', 'Running', (p) => phase(p) === 'Running')
  await env.master.api.store(PODS).delete('default', 'forced', { dryRun: false, gracePeriodSeconds: 0 })
  t.equal(await getPod(env, 'forced'), undefined)
  await eventually('the worker to be gone', () => (n.kubelet.podCount === 0 && n.runtime.podCount === 0 ? true : undefined))
})

t.test('a restarted kubelet adopts its pods: nothing restarts, containerID, startedAt, restartCount and podIP stay', async (t) => {
  const env = await startEnv(t)
  let n = await startNode(t, env, 'n1', { kubelet: { backoff: { initialMs: 500, maxMs: 1000 } } })
  await createPod(env, podObject('steady', 'n1'))
  await createPod(env, podObject('done', 'n1', { annotations: { 'hollow.raftplane.io/exit-after': '200ms' }, spec: { restartPolicy: 'Never' } }))
  await createPod(
    env,
    podObject('flaky', 'n1', { annotations: { 'hollow.raftplane.io/exit-after': '1500ms', 'hollow.raftplane.io/exit-code': '1' }, spec: { restartPolicy: 'OnFailure' } }),
  )
  const steady = await podWhen(env, 'steady', 'Ready', (p) => condition(p, 'Ready')?.status === 'True')
  const done = await podWhen(env, 'done', 'Succeeded', (p) => phase(p) === 'Succeeded')
  const flaky = await podWhen(env, 'flaky', 'restarted twice', (p) => Number(containerStatus(p, 'c')?.restartCount) >= 2, 60_000)
  const before = containerStatus(steady, 'c')!

  n = await n.restart()
  await new Promise((r) => setTimeout(r, 1500))
  const after = await getPod(env, 'steady')
  t.equal(phase(after!), 'Running')
  t.match(condition(after, 'Ready'), { status: 'True', lastTransitionTime: condition(steady, 'Ready')!.lastTransitionTime })
  t.match(containerStatus(after, 'c'), { containerID: before.containerID, restartCount: 0, state: { running: { startedAt: (before.state as Json & { running: Json }).running.startedAt } } })
  t.equal(statusOf(after).podIP, statusOf(steady).podIP, 'same pod IP')
  t.equal(statusOf(after).startTime, statusOf(steady).startTime)
  const doneAfter = await getPod(env, 'done')
  t.same(statusOf(doneAfter), statusOf(done), 'a finished pod is left as it was')
  const flakyAfter = await podWhen(env, 'flaky', 'restarted again', (p) => Number(containerStatus(p, 'c')?.restartCount) > Number(containerStatus(flaky, 'c')?.restartCount), 60_000)
  t.ok(Number(containerStatus(flakyAfter, 'c')?.restartCount) > 2, 'restartCount carried on from where it was, not from 0')
  t.equal(n.runtime.podCount, 3)

  // The adopted pod still obeys the API: deleting it works as usual.
  await env.master.api.store(PODS).delete('default', 'steady', { dryRun: false })
  await eventually('steady gone', async () => ((await getPod(env, 'steady')) === undefined ? true : undefined))
})
