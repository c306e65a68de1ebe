// Which run of a container `kubectl logs [--previous]` reads, and the kubelet's
// refusals, from what the runtime holds.
import t from 'tap'
import { kubeletLogSource, logRun } from '../../../src/kubelet/container-logs.js'
import type { ContainerRecord, ContainerRuntime } from '../../../src/kubelet/runtime/types.js'
import { LogError, type ContainerLogOptions } from '../../../src/kubelet/server.js'

const ended = { exitCode: 1, reason: 'Error', finishedAt: new Date(0), containerID: 'hollow://x' }
const record = (state: ContainerRecord['state'], restartCount: number, last = restartCount > 0): ContainerRecord => ({
  name: 'app',
  containerID: 'hollow://x',
  image: 'img',
  imageID: 'img',
  restartCount,
  state,
  ...(last ? { lastTerminated: ended } : {}),
})

t.test('logRun', async (t) => {
  t.equal(logRun('p', 'app', record('running', 0), false), 0)
  t.equal(logRun('p', 'app', record('exited', 2), false), 2, 'an exited run waiting out its back-off')
  t.equal(logRun('p', 'app', record('created', 3), false), 2, 'a restart being created shows the run before it')
  t.equal(logRun('p', 'app', record('running', 3), true), 2)
  t.throws(() => logRun('p', 'app', undefined, false), { code: 400, message: 'container "app" in pod "p" is waiting to start: ContainerCreating' })
  t.throws(() => logRun('p', 'app', record('created', 0), false), LogError)
  t.throws(() => logRun('p', 'app', record('running', 0), true), { code: 400, message: 'previous terminated container "app" in pod "p" not found' })
})

t.test('kubeletLogSource: pods and containers it does not run are 404s; a runtime without logs gives an empty one', async (t) => {
  const pod = { metadata: { namespace: 'default', name: 'web', uid: 'u1' }, spec: { containers: [{ name: 'app' }] } }
  const runtime = { containers: (uid: string) => (uid === 'u1' ? [record('running', 0)] : []) } as unknown as ContainerRuntime
  const source = kubeletLogSource((ns, name) => (ns === 'default' && name === 'web' ? pod : undefined), runtime)
  const opts: ContainerLogOptions = { follow: false, previous: false, timestamps: false }
  const signal = new AbortController().signal
  await t.rejects(source.containerLogs('default', 'nope', 'app', opts, signal), { code: 404, message: 'pod "nope" does not exist' })
  await t.rejects(source.containerLogs('default', 'web', 'side', opts, signal), { code: 404, message: 'container "side" not found in pod "web"' })
  const chunks: (string | Buffer)[] = []
  for await (const c of await source.containerLogs('default', 'web', 'app', opts, signal)) chunks.push(c)
  t.same(chunks, [])
  // --previous of a restarted container: the run before, never followed.
  const asked: unknown[][] = []
  const withLogs = {
    containers: () => [record('running', 1)],
    logs: (...a: unknown[]) => {
      asked.push(a)
      return (async function* () {
        yield 'hi\n'
      })()
    },
  } as unknown as ContainerRuntime
  const got: (string | Buffer)[] = []
  for await (const c of await kubeletLogSource(() => pod, withLogs).containerLogs('default', 'web', 'app', { ...opts, follow: true, previous: true }, signal)) got.push(c)
  t.same(got, ['hi\n'])
  t.match(asked[0], ['u1', 'app', 0, { follow: false, previous: true }])
})
