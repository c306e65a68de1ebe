// What a pod needs next: init containers one by one, then every container, restarts
// as the restart policy says.
import t from 'tap'
import { computePodActions, shouldRestart } from '../../../src/kubelet/pod-actions.js'
import type { ContainerRecord } from '../../../src/kubelet/runtime/types.js'

function exited(name: string, exitCode: number): ContainerRecord {
  return { name, containerID: `x://${name}`, image: 'i', imageID: 'i', restartCount: 0, state: 'exited', terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', finishedAt: new Date(0), containerID: `x://${name}` } }
}
function running(name: string): ContainerRecord {
  return { name, containerID: `x://${name}`, image: 'i', imageID: 'i', restartCount: 0, state: 'running', startedAt: new Date(0) }
}
const spec = (restartPolicy?: string) => ({ restartPolicy, initContainers: [{ name: 'i1' }, { name: 'i2' }], containers: [{ name: 'a' }, { name: 'b' }] })
const names = (a: ReturnType<typeof computePodActions>) => a.start.map((s) => s.name)

t.test('init containers run one at a time in order, then all containers at once', async (t) => {
  t.same(names(computePodActions(spec(), new Map())), ['i1'])
  t.same(names(computePodActions(spec(), new Map([['i1', running('i1')]]))), [], 'wait for the running one')
  t.same(names(computePodActions(spec(), new Map([['i1', exited('i1', 0)]]))), ['i2'])
  const all = computePodActions(spec(), new Map([['i1', exited('i1', 0)], ['i2', exited('i2', 0)]]))
  t.same(names(all), ['a', 'b'])
  t.notOk(all.finished)
  t.same(names(computePodActions(spec(), new Map([['a', running('a')]]))), ['b'], 'once a container ran, init is not looked at again')
})

t.test('a failed init container runs again, unless the policy is Never: then the pod fails', async (t) => {
  const failed = new Map([['i1', exited('i1', 1)]])
  const again = computePodActions(spec('OnFailure'), failed)
  t.same(again.start, [{ name: 'i1', init: true, replaces: failed.get('i1')!.terminated }])
  const never = computePodActions(spec('Never'), failed)
  t.same(never, { start: [], initFailed: true, finished: true })
})

t.test('restart policies', async (t) => {
  t.ok(shouldRestart('Always', 0))
  t.ok(shouldRestart('OnFailure', 1))
  t.notOk(shouldRestart('OnFailure', 0))
  t.notOk(shouldRestart('Never', 1))
  const simple = (p?: string) => ({ restartPolicy: p, containers: [{ name: 'a' }, { name: 'b' }] })
  const done = new Map([['a', exited('a', 0)], ['b', exited('b', 1)]])
  t.same(names(computePodActions(simple(), done)), ['a', 'b'], 'Always: both again')
  t.same(names(computePodActions(simple('OnFailure'), done)), ['b'], 'OnFailure: the failed one')
  const never = computePodActions(simple('Never'), done)
  t.same(never, { start: [], initFailed: false, finished: true }, 'Never: finished')
  t.notOk(computePodActions(simple('Never'), new Map([['a', exited('a', 0)], ['b', running('b')]])).finished, 'not while one runs')
})
