// The hollow runtime on a fake clock: start delays, exits by annotation, restarts
// counted, stops within or past the grace period, and pods taken back after a restart.
import t from 'tap'
import { FakeClock, type KubeObject } from '../../../src/client/index.js'
import { hollowBehaviour, normalizeImage } from '../../../src/kubelet/runtime/hollow-behaviour.js'
import { HollowRuntime } from '../../../src/kubelet/runtime/hollow.js'
import type { StartContainerRequest } from '../../../src/kubelet/runtime/types.js'

type Json = Record<string, unknown>

function setup(o: { startDelayMs?: number; stopDelayMs?: number } = {}) {
  const clock = new FakeClock(0)
  const epoch = Date.parse('2026-01-01T00:00:00Z')
  const runtime = new HollowRuntime({ ...o, clock, now: () => new Date(epoch + clock.now()) })
  const exits: string[] = []
  runtime.subscribe((uid) => exits.push(uid))
  return { clock, runtime, exits, epoch }
}

function pod(annotations: Record<string, string> = {}, status?: Json): KubeObject {
  return { metadata: { uid: 'u1', name: 'p', namespace: 'default', annotations }, spec: { initContainers: [{ name: 'i', image: 'busybox' }], containers: [{ name: 'c', image: 'nginx:1.25' }] }, ...(status === undefined ? {} : { status }) }
}

function start(runtime: HollowRuntime, p: KubeObject, name: string, init = false, events: string[] = []): Promise<void> {
  const container = ((p.spec as Json)[init ? 'initContainers' : 'containers'] as Json[]).find((c) => c.name === name)!
  const req: StartContainerRequest = { pod: p, container, init, podIP: '10.0.0.2', hostIP: '192.168.0.1', event: (type, reason, message) => events.push(`${type} ${reason}: ${message}`) }
  return runtime.startContainer(req)
}

t.test('a container is created, runs after its start delay, and its events name the image', async (t) => {
  const { clock, runtime } = setup({ startDelayMs: 1000 })
  const events: string[] = []
  const p = pod()
  let running = false
  void start(runtime, p, 'c', false, events).then(() => (running = true))
  t.match(runtime.containers('u1'), [{ name: 'c', state: 'created', restartCount: 0, image: 'docker.io/library/nginx:1.25', containerID: /^hollow:\/\/[0-9a-f]{64}$/ }])
  clock.step(999)
  await Promise.resolve()
  t.notOk(running)
  clock.step(1)
  await Promise.resolve()
  t.ok(running)
  t.match(runtime.containers('u1'), [{ state: 'running', startedAt: new Date('2026-01-01T00:00:01Z') }])
  t.same(events, ['Normal Pulled: Container image "nginx:1.25" already present on machine', 'Normal Created: Created container c', 'Normal Started: Started container c'])
})

t.test('exit-after and exit-code end each instance; a restart counts and remembers the last end', async (t) => {
  const { clock, runtime, exits } = setup()
  const p = pod({ 'hollow.raftplane.io/exit-after': '2s', 'hollow.raftplane.io/exit-code': '3' })
  const first0 = start(runtime, p, 'c')
  clock.step(0)
  await first0
  clock.step(2000)
  t.same(exits, ['u1'], 'the kubelet hears of the exit')
  const [first] = runtime.containers('u1')
  t.match(first, { state: 'exited', terminated: { exitCode: 3, reason: 'Error' } })
  const again = start(runtime, p, 'c')
  clock.step(0)
  await again
  const [second] = runtime.containers('u1')
  t.match(second, { state: 'running', restartCount: 1, lastTerminated: { exitCode: 3, containerID: first!.containerID } })
  t.not(second!.containerID, first!.containerID)
})

t.test('init containers exit 0 at once unless their own key says otherwise; pod-wide keys do not apply to them', async (t) => {
  const b = hollowBehaviour(pod({ 'hollow.raftplane.io/exit-code': '1' }) as Json, 'i', true, { startDelayMs: 0, stopDelayMs: 0 }).behaviour
  t.match(b, { exitAfterMs: 0, exitCode: 0 })
  const own = hollowBehaviour(pod({ 'hollow.raftplane.io/exit-code.i': '4', 'hollow.raftplane.io/exit-after.i': '1m' }) as Json, 'i', true, { startDelayMs: 0, stopDelayMs: 0 }).behaviour
  t.match(own, { exitAfterMs: 60_000, exitCode: 4 })
  const app = hollowBehaviour(pod() as Json, 'c', false, { startDelayMs: 5, stopDelayMs: 7 }).behaviour
  t.same(app, { startAfterMs: 5, exitCode: 0, readyAfterMs: 0, stopAfterMs: 7 }, 'runs until stopped')
  const bad = hollowBehaviour(pod({ 'hollow.raftplane.io/exit-after': 'soon', 'hollow.raftplane.io/exit-code': '300' }) as Json, 'c', false, { startDelayMs: 0, stopDelayMs: 0 })
  t.same(bad.problems.map((p) => p.annotation), ['hollow.raftplane.io/exit-code', 'hollow.raftplane.io/exit-after'])
  const events: string[] = []
  const { runtime } = setup()
  void start(runtime, pod({ 'hollow.raftplane.io/exit-after': 'soon' }), 'c', false, events)
  t.match(events[0], /^Warning InvalidHollowAnnotation: annotation hollow\.raftplane\.io\/exit-after="soon" ignored: time: invalid duration "soon"/)
})

t.test('stops: in time with 0, past the grace period killed with 137; one never started is discarded', async (t) => {
  const { clock, runtime, exits } = setup()
  const p = pod({ 'hollow.raftplane.io/stop-after.c': '1m' })
  const started = start(runtime, p, 'c')
  clock.step(0)
  await started
  let stopped = false
  void runtime.stopContainer('u1', 'c', 30_000).then(() => (stopped = true))
  clock.step(1000)
  await Promise.resolve()
  t.notOk(stopped)
  void runtime.stopContainer('u1', 'c', 2_000)
  clock.step(1999)
  await Promise.resolve()
  t.notOk(stopped)
  clock.step(1)
  await Promise.resolve()
  t.ok(stopped, 'a shorter grace period cut the wait (killed 2 s after it was given)')
  t.match(runtime.containers('u1'), [{ state: 'exited', terminated: { exitCode: 137, reason: 'Error' } }])
  t.same(exits, [], 'a stop is not an exit of its own')

  const slowStart = setup({ startDelayMs: 10_000 })
  const pending = start(slowStart.runtime, pod(), 'c')
  await slowStart.runtime.stopContainer('u1', 'c', 30_000)
  await pending
  t.same(slowStart.runtime.containers('u1'), [], 'a container stopped before it ran leaves nothing behind')

  const quick = setup({ stopDelayMs: 1000 })
  const s = start(quick.runtime, pod(), 'c')
  quick.clock.step(0)
  await s
  const done = quick.runtime.stopContainer('u1', 'c', 30_000)
  quick.clock.step(1000)
  await done
  t.match(quick.runtime.containers('u1'), [{ terminated: { exitCode: 0, reason: 'Completed' } }])
})

t.test('recover(): what the status says runs keeps running, with its id, start and restarts', async (t) => {
  const { clock, runtime, exits } = setup()
  const status = {
    initContainerStatuses: [{ name: 'i', state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: '2025-12-31T23:59:00Z', finishedAt: '2025-12-31T23:59:01Z', containerID: 'hollow://init' } } }],
    containerStatuses: [
      {
        name: 'c',
        image: 'docker.io/library/nginx:1.25',
        imageID: 'docker.io/library/nginx@sha256:aa',
        containerID: 'hollow://abc',
        restartCount: 4,
        state: { running: { startedAt: '2025-12-31T23:59:58Z' } },
        lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: '2025-12-31T23:59:57Z', containerID: 'hollow://old' } },
      },
    ],
  }
  runtime.recover(pod({ 'hollow.raftplane.io/exit-after': '5s' }, status))
  const byName = new Map(runtime.containers('u1').map((r) => [r.name, r]))
  t.match(byName.get('c'), { state: 'running', containerID: 'hollow://abc', restartCount: 4, startedAt: new Date('2025-12-31T23:59:58Z'), lastTerminated: { exitCode: 1 } })
  t.match(byName.get('i'), { state: 'exited', terminated: { exitCode: 0 } })
  clock.step(2999)
  t.same(exits, [], 'exit-after counts from the recorded start')
  clock.step(1)
  t.same(exits, ['u1'])
  runtime.recover(pod({}, { containerStatuses: [] }))
  t.equal(runtime.podCount, 1, 'a pod the runtime holds is not recovered twice')
})

t.test('readiness: at once, or ready-after later', async (t) => {
  const { runtime } = setup()
  const startedAt = new Date(1000)
  const record = { name: 'c', containerID: 'x', image: 'i', imageID: 'i', restartCount: 0, state: 'running' as const, startedAt }
  t.same(runtime.readiness.check(pod(), { name: 'c' }, record, 1000), { started: true, ready: true })
  t.same(runtime.readiness.check(pod({ 'hollow.raftplane.io/ready-after': '2s' }), { name: 'c' }, record, 1500), { started: true, ready: false, recheckAtMs: 3000 })
  t.same(runtime.readiness.check(pod({ 'hollow.raftplane.io/ready-after': '2s' }), { name: 'c' }, record, 3000), { started: true, ready: true })
})

t.test('image references as containerd reports them', async (t) => {
  t.same(
    ['busybox', 'nginx:1.25', 'library/redis', 'bitnami/redis:7', 'docker.io/busybox', 'quay.io/coreos/etcd:v3.5', 'localhost:5000/app', 'img@sha256:abc'].map(normalizeImage),
    [
      'docker.io/library/busybox:latest',
      'docker.io/library/nginx:1.25',
      'docker.io/library/redis:latest',
      'docker.io/bitnami/redis:7',
      'docker.io/library/busybox:latest',
      'quay.io/coreos/etcd:v3.5',
      'localhost:5000/app:latest',
      'docker.io/library/img@sha256:abc',
    ],
  )
})
