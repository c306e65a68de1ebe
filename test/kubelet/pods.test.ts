// Pods bound to a hollow kubelet: from Pending to Running and Ready with the status
// fields kubectl and the controllers read; init containers in order; restart
// policies with the crash-loop back-off; terminal phases; admission refusals.
import t from 'tap'
import { parseIPv4Cidr, parseIPv4 } from '../../src/kubelet/pod-ip.js'
import { PODS, condition, containerStatus, createPod, eventually, eventsFor, podObject, podWhen, startEnv, startNode, statusOf, write, type Json, phaseOf } from './helpers.js'

const phase = phaseOf

t.test('a pod bound to the node runs: ContainerCreating first, then Running and Ready with every field set', async (t) => {
  const env = await startEnv(t)
  const n = await startNode(t, env, 'n1')
  await createPod(
    env,
    podObject('web', 'n1', {
      annotations: { 'hollow.raftplane.io/start-after': '3s' },
      containers: [
        { name: 'web', image: 'nginx:1.25', resources: { requests: { cpu: '100m', memory: '64Mi' } }, volumeMounts: [{ name: 'cfg', mountPath: '/etc/cfg', readOnly: true }] },
        { name: 'agent', image: 'busybox' },
      ],
      spec: { volumes: [{ name: 'cfg', emptyDir: {} }] },
    }),
  )
  const creating = await podWhen(env, 'web', 'ContainerCreating', (p) => (containerStatus(p, 'web')?.state as Json | undefined)?.waiting !== undefined)
  t.equal(phase(creating), 'Pending')
  t.match(containerStatus(creating, 'web'), { state: { waiting: { reason: 'ContainerCreating' } }, ready: false, restartCount: 0, image: 'nginx:1.25' })
  t.match(condition(creating, 'PodReadyToStartContainers'), { status: 'True' })
  t.match(condition(creating, 'ContainersReady'), { status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [web agent]' })

  const running = await podWhen(env, 'web', 'Ready', (p) => condition(p, 'Ready')?.status === 'True')
  const s = statusOf(running)
  t.equal(s.phase, 'Running')
  t.equal(s.hostIP, n.nodeIP)
  t.same(s.hostIPs, [{ ip: n.nodeIP }])
  const cidr = parseIPv4Cidr(n.kubelet.podCIDR!)
  const ip = parseIPv4(String(s.podIP))!
  t.ok(ip > cidr.base + 1 && ip < cidr.base + 255, `podIP ${String(s.podIP)} from ${n.kubelet.podCIDR}`)
  t.same(s.podIPs, [{ ip: s.podIP }])
  t.match(s.startTime, /Z$/)
  t.equal(s.qosClass, 'Burstable')
  t.same(
    (s.conditions as Json[]).map((c) => [c.type, c.status]),
    [
      ['PodReadyToStartContainers', 'True'],
      ['Initialized', 'True'],
      ['Ready', 'True'],
      ['ContainersReady', 'True'],
      ['PodScheduled', 'True'],
    ],
  )
  t.same(
    (s.containerStatuses as Json[]).map((c) => c.name),
    ['agent', 'web'],
    'sorted by name',
  )
  t.match(containerStatus(running, 'web'), {
    image: 'docker.io/library/nginx:1.25',
    imageID: /^docker\.io\/library\/nginx@sha256:[0-9a-f]{64}$/,
    containerID: /^hollow:\/\/[0-9a-f]{64}$/,
    ready: true,
    started: true,
    restartCount: 0,
    state: { running: { startedAt: /Z$/ } },
    lastState: {},
    volumeMounts: [{ name: 'cfg', mountPath: '/etc/cfg', readOnly: true, recursiveReadOnly: 'Disabled' }],
  })
  const events = await eventually('container events', async () => {
    const evs = await eventsFor(env, 'web')
    return evs.filter((e) => e.reason === 'Started').length === 2 ? evs : undefined
  })
  t.match(events.find((e) => e.reason === 'Pulled' && (e.involvedObject as Json).fieldPath === 'spec.containers{web}'), {
    type: 'Normal',
    message: 'Container image "nginx:1.25" already present on machine',
    source: { component: 'kubelet', host: 'n1' },
  })
  t.ok(events.some((e) => e.reason === 'Created' && e.message === 'Created container agent'))
  t.ok(events.some((e) => e.reason === 'Started' && e.message === 'Started container web'))
})

t.test('a hostNetwork pod gets the node IP; a pod with ready-after is Running before it is Ready', async (t) => {
  const env = await startEnv(t)
  const n = await startNode(t, env, 'n1')
  await createPod(env, podObject('host', 'n1', { spec: { hostNetwork: true } }))
  await createPod(env, podObject('slow', 'n1', { annotations: { 'hollow.raftplane.io/ready-after': '3s' } }))
  const host = await podWhen(env, 'host', 'Running', (p) => phase(p) === 'Running')
  t.equal(statusOf(host).podIP, n.nodeIP)
  const notReady = await podWhen(env, 'slow', 'Running', (p) => phase(p) === 'Running')
  t.match(condition(notReady, 'Ready'), { status: 'False', reason: 'ContainersNotReady' })
  t.match(containerStatus(notReady, 'c'), { ready: false, started: true })
  await podWhen(env, 'slow', 'Ready', (p) => condition(p, 'Ready')?.status === 'True')
})

t.test('init containers run one after the other before the app; a failed one under Never fails the pod', async (t) => {
  const env = await startEnv(t)
  await startNode(t, env, 'n1')
  await createPod(
    env,
    podObject('inits', 'n1', {
      annotations: { 'hollow.raftplane.io/exit-after.first': '1s', 'hollow.raftplane.io/exit-after.second': '500ms' },
      initContainers: [
        { name: 'first', image: 'busybox' },
        { name: 'second', image: 'busybox' },
      ],
    }),
  )
  const initializing = await podWhen(env, 'inits', 'the first init container running', (p) => (containerStatus(p, 'first', true)?.state as Json | undefined)?.running !== undefined)
  t.equal(phase(initializing), 'Pending')
  t.match(containerStatus(initializing, 'second', true), { state: { waiting: { reason: 'PodInitializing' } } })
  t.match(containerStatus(initializing, 'c'), { state: { waiting: { reason: 'PodInitializing' } } })
  t.match(condition(initializing, 'Initialized'), { status: 'False', reason: 'ContainersNotInitialized', message: 'containers with incomplete status: [first second]' })

  const running = await podWhen(env, 'inits', 'Running', (p) => phase(p) === 'Running')
  const [first, second] = statusOf(running).initContainerStatuses as Json[]
  t.same([first?.name, second?.name], ['first', 'second'], 'spec order')
  for (const s of [first, second]) t.match(s, { ready: true, state: { terminated: { exitCode: 0, reason: 'Completed' } } })
  const firstEnd = Date.parse(String(((first?.state as Json).terminated as Json).finishedAt))
  const secondStart = Date.parse(String(((second?.state as Json).terminated as Json).startedAt))
  t.ok(secondStart >= firstEnd, 'the second started after the first finished')
  t.match(condition(running, 'Initialized'), { status: 'True' })

  await createPod(
    env,
    podObject('bad-init', 'n1', {
      annotations: { 'hollow.raftplane.io/exit-code.setup': '3' },
      initContainers: [{ name: 'setup', image: 'busybox' }],
      spec: { restartPolicy: 'Never' },
    }),
  )
  const failed = await podWhen(env, 'bad-init', 'Failed', (p) => phase(p) === 'Failed')
  t.match(containerStatus(failed, 'setup', true), { state: { terminated: { exitCode: 3, reason: 'Error' } }, ready: false })
  t.match(containerStatus(failed, 'c'), { state: { waiting: { reason: 'PodInitializing' } } })
  t.match(condition(failed, 'Initialized'), { status: 'False', reason: 'ContainersNotInitialized' })
  t.match(condition(failed, 'Ready'), { status: 'False', reason: 'PodFailed' })
})

t.test('restartPolicy Never: exit 0 ends Succeeded, exit 1 ends Failed, and neither restarts', async (t) => {
  const env = await startEnv(t)
  await startNode(t, env, 'n1')
  await createPod(env, podObject('ok', 'n1', { annotations: { 'hollow.raftplane.io/exit-after': '500ms' }, spec: { restartPolicy: 'Never' } }))
  await createPod(
    env,
    podObject('bad', 'n1', { annotations: { 'hollow.raftplane.io/exit-after': '500ms', 'hollow.raftplane.io/exit-code': '1' }, spec: { restartPolicy: 'Never' } }),
  )
  const ok = await podWhen(env, 'ok', 'Succeeded', (p) => phase(p) === 'Succeeded')
  t.match(containerStatus(ok, 'c'), { state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: /Z$/, finishedAt: /Z$/, containerID: /^hollow:/ } }, ready: false, restartCount: 0 })
  t.match(condition(ok, 'Ready'), { status: 'False', reason: 'PodCompleted' })
  t.match(condition(ok, 'ContainersReady'), { status: 'False', reason: 'PodCompleted' })
  t.match(condition(ok, 'Initialized'), { status: 'True', reason: 'PodCompleted' })
  t.match(condition(ok, 'PodReadyToStartContainers'), { status: 'False' }, 'the sandbox is gone')
  t.match(statusOf(ok).podIP, /^10\./, 'the pod keeps its IP in the status')

  const bad = await podWhen(env, 'bad', 'Failed', (p) => phase(p) === 'Failed')
  t.match(containerStatus(bad, 'c'), { state: { terminated: { exitCode: 1, reason: 'Error' } }, restartCount: 0 })
  t.match(condition(bad, 'Ready'), { status: 'False', reason: 'PodFailed' })

  // The app of a Job that succeeded exits 0 under OnFailure too: Succeeded.
  await createPod(env, podObject('job', 'n1', { annotations: { 'hollow.raftplane.io/exit-after': '300ms' }, spec: { restartPolicy: 'OnFailure' } }))
  await podWhen(env, 'job', 'Succeeded', (p) => phase(p) === 'Succeeded')
  await new Promise((r) => setTimeout(r, 1000))
  t.match(containerStatus(await podWhen(env, 'ok', 'still there', () => true), 'c'), { restartCount: 0 }, 'a finished pod is not restarted')
})

t.test('restartPolicy OnFailure: a failing container restarts with the crash-loop back-off, restartCount rising', async (t) => {
  const env = await startEnv(t)
  await startNode(t, env, 'n1', { kubelet: { backoff: { initialMs: 1500, maxMs: 3000 } } })
  await createPod(
    env,
    podObject('crash', 'n1', { annotations: { 'hollow.raftplane.io/exit-after': '200ms', 'hollow.raftplane.io/exit-code': '2' }, spec: { restartPolicy: 'OnFailure' } }),
  )
  const backingOff = await podWhen(env, 'crash', 'CrashLoopBackOff', (p) => ((containerStatus(p, 'c')?.state as Json | undefined)?.waiting as Json | undefined)?.reason === 'CrashLoopBackOff', 60_000)
  const uid = String(backingOff.metadata?.uid)
  t.equal(phase(backingOff), 'Running', 'a pod whose container will restart stays Running')
  t.match(containerStatus(backingOff, 'c'), {
    state: { waiting: { reason: 'CrashLoopBackOff', message: new RegExp(`^back-off \\d+(\\.\\d+)?s restarting failed container=c pod=crash_default\\(${uid}\\)$`) } },
    lastState: { terminated: { exitCode: 2, reason: 'Error' } },
    ready: false,
  })
  t.match(condition(backingOff, 'Ready'), { status: 'False', reason: 'ContainersNotReady' })
  const counts = new Set<number>()
  await podWhen(env, 'crash', 'restartCount ≥ 3', (p) => {
    const n = Number(containerStatus(p, 'c')?.restartCount)
    counts.add(n)
    return n >= 3
  }, 90_000)
  t.ok([...counts].every((c, i, all) => i === 0 || c >= all[i - 1]!), 'restartCount never goes down')
  const backOff = (await eventsFor(env, 'crash')).find((e) => e.reason === 'BackOff')
  t.match(backOff, { type: 'Warning', message: `Back-off restarting failed container c in pod crash_default(${uid})` })

  // Always restarts a container that exited 0 as well.
  await createPod(env, podObject('always', 'n1', { annotations: { 'hollow.raftplane.io/exit-after': '200ms' } }))
  const again = await podWhen(env, 'always', 'a restart', (p) => Number(containerStatus(p, 'c')?.restartCount) >= 1, 60_000)
  t.equal(phase(again), 'Running')
  t.match(containerStatus(again, 'c'), { lastState: { terminated: { exitCode: 0, reason: 'Completed' } } })
})

t.test('a pod that does not fit is Failed with OutOfcpu and never runs; the rest of the node is not disturbed', async (t) => {
  const env = await startEnv(t)
  await startNode(t, env, 'n1', { resources: { cpu: '2', pods: 3 } })
  const requests = (cpu: string): Json[] => [{ name: 'c', image: 'busybox', resources: { requests: { cpu } } }]
  await createPod(env, podObject('big', 'n1', { containers: requests('3') }))
  const big = await podWhen(env, 'big', 'Failed', (p) => phase(p) === 'Failed')
  t.match(statusOf(big), {
    phase: 'Failed',
    reason: 'OutOfcpu',
    message: "Pod was rejected: Node didn't have enough resource: cpu, requested: 3000, used: 0, capacity: 2000",
    qosClass: 'Burstable',
  })
  t.equal(statusOf(big).containerStatuses, undefined, 'nothing ran')
  const rejected = await eventually('the rejection event', async () => (await eventsFor(env, 'big')).find((e) => e.reason === 'OutOfcpu'))
  t.match(rejected, { type: 'Warning', message: "Node didn't have enough resource: cpu, requested: 3000, used: 0, capacity: 2000" })

  await createPod(env, podObject('a', 'n1', { containers: requests('1500m') }))
  await podWhen(env, 'a', 'Running', (p) => phase(p) === 'Running')
  await createPod(env, podObject('b', 'n1', { containers: requests('1') }))
  const b = await podWhen(env, 'b', 'Failed', (p) => phase(p) === 'Failed')
  t.match(statusOf(b).message, /requested: 1000, used: 1500, capacity: 2000$/, 'counted against the pods admitted before')
  await createPod(env, podObject('small', 'n1', { containers: requests('200m') }))
  await podWhen(env, 'small', 'Running', (p) => phase(p) === 'Running')
  // Rejected pods hold nothing: a and small count, so a third fits and a fourth does not.
  await createPod(env, podObject('third', 'n1'))
  await podWhen(env, 'third', 'Running', (p) => phase(p) === 'Running')
  await createPod(env, podObject('fourth', 'n1'))
  const fourth = await podWhen(env, 'fourth', 'Failed', (p) => phase(p) === 'Failed')
  t.match(statusOf(fourth), { reason: 'OutOfpods', message: "Pod was rejected: Node didn't have enough resource: pods, requested: 1, used: 3, capacity: 3" })
})

t.test('activeDeadlineSeconds: the kubelet ends the pod Failed with DeadlineExceeded', async (t) => {
  const env = await startEnv(t)
  await startNode(t, env, 'n1')
  await createPod(env, podObject('deadline', 'n1', { spec: { activeDeadlineSeconds: 1 } }))
  const failed = await podWhen(env, 'deadline', 'Failed', (p) => phase(p) === 'Failed')
  t.match(statusOf(failed), { reason: 'DeadlineExceeded', message: 'Pod was active on the node longer than the specified deadline' })
  t.match(containerStatus(failed, 'c'), { state: { terminated: { reason: 'Completed', exitCode: 0 } } })
})

t.test('a steady pod is not rewritten, and conditions others own are kept', async (t) => {
  const env = await startEnv(t)
  await startNode(t, env, 'n1', { kubelet: { resyncIntervalMs: 300 } })
  await createPod(env, podObject('steady', 'n1'))
  const ready = await podWhen(env, 'steady', 'Ready', (p) => condition(p, 'Ready')?.status === 'True')
  await new Promise((r) => setTimeout(r, 1500))
  const later = await podWhen(env, 'steady', 'still there', () => true)
  t.equal(later.metadata?.resourceVersion, ready.metadata?.resourceVersion, 'no write while nothing changes (several resyncs passed)')

  const { object } = await env.master.api.store(PODS).update(
    'default',
    'steady',
    (cur) => {
      const status = structuredClone(cur!.status) as Json
      ;(status.conditions as Json[]).unshift({ type: 'DisruptionTarget', status: 'True', reason: 'EvictionByEvictionAPI', message: 'test', lastTransitionTime: '2026-01-01T00:00:00Z' })
      return { ...cur!, status }
    },
    write,
    { subresource: 'status' },
  )
  await new Promise((r) => setTimeout(r, 1000))
  const after = await podWhen(env, 'steady', 'still there', () => true)
  t.match(condition(after, 'DisruptionTarget'), { status: 'True', reason: 'EvictionByEvictionAPI' })
  t.equal(after.metadata?.resourceVersion, object.metadata?.resourceVersion, 'the kubelet had nothing to add')
})
