// The pod status the kubelet reports, computed from what the runtime holds: phases,
// container statuses, conditions with their reasons and transition times, terminal
// defaults, and what must never change.
import t from 'tap'
import type { KubeObject } from '../../../src/client/index.js'
import type { ContainerView } from '../../../src/kubelet/container-statuses.js'
import { podPhase } from '../../../src/kubelet/pod-phase.js'
import { generatePodStatus, rejectedStatus, sameStatus } from '../../../src/kubelet/pod-status.js'
import type { ContainerRecord } from '../../../src/kubelet/runtime/types.js'

type Json = Record<string, unknown>
const now = new Date('2026-03-01T10:00:00Z')
const earlier = new Date('2026-03-01T09:00:00Z')

function rec(name: string, state: ContainerRecord['state'], exitCode?: number, restartCount = 0): ContainerRecord {
  const r: ContainerRecord = { name, containerID: `hollow://${name}`, image: 'docker.io/library/busybox:latest', imageID: 'docker.io/library/busybox@sha256:00', restartCount, state }
  if (state !== 'created') r.startedAt = earlier
  if (state === 'exited') r.terminated = { exitCode: exitCode ?? 0, reason: exitCode ? 'Error' : 'Completed', startedAt: earlier, finishedAt: now, containerID: r.containerID }
  return r
}

function view(r: ContainerRecord, ready = true): ContainerView {
  return { record: r, started: r.state === 'running', ready: r.state === 'running' && ready }
}

function pod(spec: Json, status: Json = {}, meta: Json = {}): KubeObject {
  return { metadata: { name: 'p', namespace: 'default', uid: 'u1', ...meta }, spec: { containers: [{ name: 'a', image: 'busybox' }], ...spec }, status }
}

function status(p: KubeObject, views: [string, ContainerView][], o: { terminal?: boolean; podIP?: string; sandbox?: boolean } = {}): Json {
  return generatePodStatus({ pod: p, views: new Map(views), hostIP: '192.168.1.5', podIP: o.podIP ?? '10.128.0.2', sandboxReady: o.sandbox ?? true, terminal: o.terminal ?? false, now })
}

const cond = (s: Json, type: string) => (s.conditions as Json[]).find((c) => c.type === type)

t.test('phases as the kubelet decides them', async (t) => {
  const cs = (name: string, state: Json, lastState: Json = {}) => ({ name, state, lastState })
  const running = { running: {} }
  const ok = { terminated: { exitCode: 0 } }
  const bad = { terminated: { exitCode: 1 } }
  const waiting = { waiting: {} }
  const two = (restartPolicy: string) => ({ restartPolicy, containers: [{ name: 'a' }, { name: 'b' }] })
  t.equal(podPhase(two('Always'), [], [cs('a', running), cs('b', waiting)], false), 'Pending', 'one not started yet')
  t.equal(podPhase(two('Always'), [], [cs('a', running), cs('b', running)], false), 'Running')
  t.equal(podPhase(two('Always'), [], [cs('a', ok), cs('b', bad)], false), 'Running', 'Always: they will restart')
  t.equal(podPhase(two('OnFailure'), [], [cs('a', ok), cs('b', ok)], false), 'Succeeded')
  t.equal(podPhase(two('OnFailure'), [], [cs('a', ok), cs('b', bad)], false), 'Running', 'OnFailure: b restarts')
  t.equal(podPhase(two('Never'), [], [cs('a', ok), cs('b', bad)], false), 'Failed')
  t.equal(podPhase(two('Never'), [], [cs('a', running), cs('b', bad)], false), 'Running', 'not while one runs')
  t.equal(podPhase(two('Always'), [], [cs('a', ok), cs('b', bad)], true), 'Failed', 'terminal: whatever the policy')
  t.equal(podPhase(two('Always'), [], [cs('a', ok), cs('b', ok)], true), 'Succeeded')
  t.equal(podPhase(two('Always'), [], [cs('a', waiting, { terminated: { exitCode: 1 } }), cs('b', running)], false), 'Running', 'in back-off counts as stopped, not waiting')
  const init = { restartPolicy: 'Never', initContainers: [{ name: 'i' }], containers: [{ name: 'a' }] }
  t.equal(podPhase(init, [cs('i', running)], [cs('a', waiting)], false), 'Pending')
  t.equal(podPhase(init, [cs('i', bad)], [cs('a', waiting)], false), 'Failed', 'a failed init container under Never')
  t.equal(podPhase({ ...init, restartPolicy: 'Always' }, [cs('i', bad)], [cs('a', waiting)], false), 'Pending', 'it will run again')
})

t.test('a running pod: container statuses, conditions and the fields around them', async (t) => {
  const p = pod({ containers: [{ name: 'b', image: 'nginx' }, { name: 'a', image: 'busybox' }] }, { phase: 'Pending', qosClass: 'BestEffort', conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: '2026-03-01T08:00:00Z' }] })
  const s = status(p, [['a', view(rec('a', 'running'))], ['b', view(rec('b', 'running'), false)]])
  t.equal(s.phase, 'Running')
  t.same((s.containerStatuses as Json[]).map((c) => c.name), ['a', 'b'], 'by name')
  t.same((s.containerStatuses as Json[])[0], {
    name: 'a',
    state: { running: { startedAt: '2026-03-01T09:00:00Z' } },
    lastState: {},
    ready: true,
    restartCount: 0,
    image: 'docker.io/library/busybox:latest',
    imageID: 'docker.io/library/busybox@sha256:00',
    containerID: 'hollow://a',
    started: true,
  })
  t.match(cond(s, 'ContainersReady'), { status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [b]', lastProbeTime: null, lastTransitionTime: '2026-03-01T10:00:00Z' })
  t.match(cond(s, 'Ready'), { status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [b]' })
  t.match(cond(s, 'PodScheduled'), { status: 'True', lastTransitionTime: '2026-03-01T08:00:00Z' }, 'the scheduler’s transition time is kept')
  t.same((s.conditions as Json[]).map((c) => c.type), ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'])
  t.match(s, { hostIP: '192.168.1.5', hostIPs: [{ ip: '192.168.1.5' }], podIP: '10.128.0.2', podIPs: [{ ip: '10.128.0.2' }], startTime: '2026-03-01T10:00:00Z', qosClass: 'BestEffort' })
  t.equal(s.initContainerStatuses, undefined, 'only with init containers')

  const again = status({ ...p, status: s }, [['a', view(rec('a', 'running'))], ['b', view(rec('b', 'running'))]])
  t.match(cond(again, 'Ready'), { status: 'True' })
  t.match(cond(again, 'Initialized'), { lastTransitionTime: '2026-03-01T10:00:00Z' }, 'unchanged conditions keep their time')
  t.ok(sameStatus(status({ ...p, status: again }, [['a', view(rec('a', 'running'))], ['b', view(rec('b', 'running'))]]), again), 'the same inputs give the same status')
})

t.test('waiting states: ContainerCreating, PodInitializing, CrashLoopBackOff with the last end', async (t) => {
  const s = status(pod({}), [])
  t.match((s.containerStatuses as Json[])[0], { name: 'a', state: { waiting: { reason: 'ContainerCreating' } }, image: 'busybox', ready: false, restartCount: 0 })
  t.equal(s.phase, 'Pending')
  const withInit = status(pod({ initContainers: [{ name: 'i', image: 'busybox' }] }), [['i', view(rec('i', 'running'))]])
  t.match(withInit.initContainerStatuses, [{ name: 'i', state: { running: {} }, ready: false, started: true }])
  t.match(withInit.containerStatuses, [{ state: { waiting: { reason: 'PodInitializing' } } }])
  t.match(cond(withInit, 'Initialized'), { status: 'False', reason: 'ContainersNotInitialized', message: 'containers with incomplete status: [i]' })

  const crashed = rec('a', 'exited', 2, 3)
  const backoff = status(pod({}), [['a', { record: crashed, started: false, ready: false, waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s …' } }]])
  t.match((backoff.containerStatuses as Json[])[0], {
    state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s …' } },
    lastState: { terminated: { exitCode: 2, reason: 'Error', finishedAt: '2026-03-01T10:00:00Z', containerID: 'hollow://a' } },
    restartCount: 3,
  })
  t.equal(backoff.phase, 'Running')
})

t.test('terminal pods: phases, reasons, and containers that never ended', async (t) => {
  const never = pod({ restartPolicy: 'Never' })
  const done = status(never, [['a', view(rec('a', 'exited', 0))]], { sandbox: false })
  t.equal(done.phase, 'Succeeded')
  t.match(cond(done, 'Ready'), { status: 'False', reason: 'PodCompleted' })
  t.match(cond(done, 'Initialized'), { status: 'True', reason: 'PodCompleted' })
  t.match(cond(done, 'PodReadyToStartContainers'), { status: 'False' })

  const deleted = status(pod({}, {}, { deletionTimestamp: '2026-03-01T10:00:00Z' }), [], { terminal: true, sandbox: false })
  t.equal(deleted.phase, 'Failed', 'a pod stopped before anything ran')
  t.match((deleted.containerStatuses as Json[])[0], { state: { terminated: { exitCode: 137, reason: 'ContainerStatusUnknown', message: 'The container could not be located when the pod was terminated' } } })

  const sticky = status(pod({}, { phase: 'Failed', reason: 'Evicted', message: 'gone' }), [['a', view(rec('a', 'running'))]])
  t.match(sticky, { phase: 'Failed', reason: 'Evicted', message: 'gone' }, 'a terminal phase never goes back; its reason stays')

  const ended = generatePodStatus({ pod: pod({}), views: new Map([['a', view(rec('a', 'exited', 0))]]), hostIP: 'h', sandboxReady: false, terminal: true, now, ended: { reason: 'DeadlineExceeded', message: 'too long' } })
  t.match(ended, { phase: 'Failed', reason: 'DeadlineExceeded', message: 'too long' })
})

t.test('conditions others own stay; a readiness gate holds Ready back', async (t) => {
  const p = pod({ readinessGates: [{ conditionType: 'example.com/lb' }] }, { conditions: [{ type: 'DisruptionTarget', status: 'True', reason: 'Preemption' }] })
  const s = status(p, [['a', view(rec('a', 'running'))]])
  t.equal((s.conditions as Json[])[0]!.type, 'DisruptionTarget')
  t.match(cond(s, 'Ready'), { status: 'False', reason: 'ReadinessGatesNotReady', message: 'corresponding condition of pod readiness gate "example.com/lb" does not exist.' })
  t.match(cond(s, 'ContainersReady'), { status: 'True' })
  const gated = status(pod(p.spec as Json, { conditions: [{ type: 'example.com/lb', status: 'True' }] }), [['a', view(rec('a', 'running'))]])
  t.match(cond(gated, 'Ready'), { status: 'True' })
})

t.test('a pod refused by admission', async (t) => {
  const s = rejectedStatus(pod({}, { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True' }, { type: 'Custom', status: 'True' }] }), 'OutOfcpu', 'no cpu', now)
  t.same(s, { phase: 'Failed', reason: 'OutOfcpu', message: 'Pod was rejected: no cpu', conditions: [{ type: 'Custom', status: 'True' }], startTime: '2026-03-01T10:00:00Z', qosClass: 'BestEffort' })
})

t.test('two statuses that differ only in spelling are the same', async (t) => {
  t.ok(sameStatus({ a: 1, b: { c: null }, d: [{ x: 1, lastProbeTime: null }] }, { d: [{ x: 1 }], a: 1 }))
  t.notOk(sameStatus({ a: 1 }, { a: 2 }))
})
