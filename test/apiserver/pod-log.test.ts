// pods/log end to end inside one process: an apiserver on loopback, a Node whose
// status names a KubeletServer, and a LogSource standing in for the runtime. The
// apiserver picks the container as upstream does, passes the log options through,
// streams a followed log as it is written, and turns the kubelet's refusals and
// unreachable nodes into Statuses.
import { request } from 'node:http'
import { Registry } from 'prom-client'
import t, { type Test } from 'tap'
import { createApiServer } from '../../src/apiserver/index.js'
import { kubeletAddress, logContainer } from '../../src/apiserver/http/pod-log.js'
import { MemoryStorage } from '../../src/apiserver/storage/memory.js'
import { findResource } from '../../src/api/resources.js'
import { type ContainerLogOptions, KubeletServer, LogError, parseLogQuery } from '../../src/kubelet/server.js'

const PODS = findResource('', 'v1', 'pods')!
const NODES = findResource('', 'v1', 'nodes')!
const write = { dryRun: false, fieldManager: 'test' }

t.test('logContainer: the only container, the default-container annotation, or upstream errors', async (t) => {
  const pod = (containers: string[], init: string[] = [], annotations: Record<string, string> = {}): Record<string, unknown> => ({
    metadata: { name: 'p', annotations },
    spec: { containers: containers.map((name) => ({ name })), initContainers: init.map((name) => ({ name })) },
  })
  t.equal(logContainer(pod(['app']), null), 'app')
  t.equal(logContainer(pod(['a', 'b'], [], { 'kubectl.kubernetes.io/default-container': 'b' }), null), 'b')
  t.equal(logContainer(pod(['a', 'b'], ['setup']), 'setup'), 'setup')
  t.throws(() => logContainer(pod(['a', 'b'], ['setup']), ''), { code: 400, message: 'a container name must be specified for pod p, choose one of: [a b] or one of the init containers: [setup]' })
  t.throws(() => logContainer(pod(['a']), 'c'), { code: 400, message: 'container c is not valid for pod p' })
})

t.test('kubeletAddress: preferred address type and the daemon endpoint port', async (t) => {
  const node = (addresses: { type: string; address: string }[], port?: number): Record<string, unknown> => ({
    metadata: { name: 'n' },
    status: { addresses, ...(port === undefined ? {} : { daemonEndpoints: { kubeletEndpoint: { Port: port } } }) },
  })
  t.same(kubeletAddress(node([{ type: 'Hostname', address: 'n' }, { type: 'InternalIP', address: '10.0.0.2' }], 10250)), { host: '10.0.0.2', port: 10250 })
  t.same(kubeletAddress(node([{ type: 'InternalIP', address: '10.0.0.2' }, { type: 'Hostname', address: 'n' }], 10250), ['Hostname']), { host: 'n', port: 10250 })
  t.throws(() => kubeletAddress(node([{ type: 'InternalIP', address: '10.0.0.2' }])), { code: 503 })
})

t.test('parseLogQuery: PodLogOptions as the kubelet reads them', async (t) => {
  const q = (s: string): ContainerLogOptions => parseLogQuery(new URLSearchParams(s), 1_000_000)
  t.same(q('follow=true&tailLines=3&timestamps=true'), { follow: true, previous: false, timestamps: true, tailLines: 3 })
  t.same(q('sinceSeconds=10&limitBytes=5&previous=true'), { follow: false, previous: true, timestamps: false, limitBytes: 5, sinceTime: new Date(990_000) })
  t.throws(() => q('tailLines=-1'), LogError)
  t.throws(() => q('sinceTime=yesterday'), LogError)
})

interface Fixture {
  port: number
  get(path: string): Promise<{ code: number; body: string }>
  calls: { ns: string; pod: string; container: string; opts: ContainerLogOptions }[]
  /** Lines a followed log yields, one per push. */
  push(line: string | null): void
}

async function fixture(t: Test): Promise<Fixture> {
  const api = createApiServer({ storage: new MemoryStorage(), metrics: new Registry() })
  await api.ready()
  const port = await api.listen({ host: '127.0.0.1', port: 0 })
  const calls: Fixture['calls'] = []
  const pending: ((line: string | null) => void)[] = []
  const queued: (string | null)[] = []
  const push = (line: string | null): void => {
    const waiter = pending.shift()
    if (waiter !== undefined) waiter(line)
    else queued.push(line)
  }
  const next = (): Promise<string | null> => (queued.length > 0 ? Promise.resolve(queued.shift()!) : new Promise((r) => pending.push(r)))
  const kubelet = new KubeletServer({
    hostnames: ['n1'],
    ips: ['127.0.0.1'],
    logs: {
      async containerLogs(ns, pod, container, opts, signal) {
        calls.push({ ns, pod, container, opts })
        if (container === 'waiting') throw new LogError(400, `container "waiting" in pod "${pod}" is waiting to start: ContainerCreating`)
        if (!opts.follow) {
          return (async function* () {
            yield 'one\n'
            yield 'two\n'
          })()
        }
        return (async function* () {
          for (;;) {
            const line = await Promise.race([next(), new Promise<null>((r) => signal.addEventListener('abort', () => r(null)))])
            if (line === null) return
            yield line
          }
        })()
      },
    },
  })
  const kubeletPort = await kubelet.listen('127.0.0.1', 0)
  t.teardown(async () => {
    await kubelet.close()
    await api.stop()
  })
  const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } }
  await api.store(NODES).create('', node, write)
  const status = { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: kubeletPort } } }
  await api.store(NODES).update('', 'n1', (cur) => ({ ...cur!, status }), write, { subresource: 'status' })
  const pod = (name: string, nodeName?: string): Record<string, unknown> => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { ...(nodeName === undefined ? {} : { nodeName }), containers: [{ name: 'app', image: 'x' }, { name: 'waiting', image: 'x' }] },
  })
  await api.store(PODS).create('default', pod('web', 'n1'), write)
  await api.store(PODS).create('default', pod('pending'), write)
  const get = (path: string): Promise<{ code: number; body: string }> =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path }, (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (d: string) => (body += d))
        res.on('end', () => resolve({ code: res.statusCode ?? 0, body }))
      })
      req.on('error', reject)
      req.end()
    })
  return { port, get, calls, push }
}

t.test('GET pods/log through the apiserver to the kubelet', async (t) => {
  const f = await fixture(t)
  const ok = await f.get('/api/v1/namespaces/default/pods/web/log?container=app&tailLines=2&timestamps=true&pretty=true')
  t.same(ok, { code: 200, body: 'one\ntwo\n' })
  t.match(f.calls[0], { ns: 'default', pod: 'web', container: 'app', opts: { tailLines: 2, timestamps: true, follow: false } })

  const choose = await f.get('/api/v1/namespaces/default/pods/web/log')
  t.equal(choose.code, 400)
  t.match(JSON.parse(choose.body), { kind: 'Status', reason: 'BadRequest', message: 'a container name must be specified for pod web, choose one of: [app waiting]' })

  const waiting = await f.get('/api/v1/namespaces/default/pods/web/log?container=waiting')
  t.equal(waiting.code, 400)
  t.match(JSON.parse(waiting.body), { reason: 'BadRequest', message: 'container "waiting" in pod "web" is waiting to start: ContainerCreating' })

  const unbound = await f.get('/api/v1/namespaces/default/pods/pending/log?container=app')
  t.equal(unbound.code, 400)
  t.match(JSON.parse(unbound.body), { message: 'pod pending does not have a host assigned' })

  const missing = await f.get('/api/v1/namespaces/default/pods/nope/log')
  t.equal(missing.code, 404)
  t.match(JSON.parse(missing.body), { reason: 'NotFound', message: 'pods "nope" not found' })

  const bad = await f.get('/api/v1/namespaces/default/pods/web/log?container=app&tailLines=x')
  t.equal(bad.code, 400)
})

t.test('a followed log streams lines as the kubelet writes them', async (t) => {
  const f = await fixture(t)
  const body = await new Promise<string>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: f.port, path: '/api/v1/namespaces/default/pods/web/log?container=app&follow=true' }, (res) => {
      let got = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => {
        got += d
        // Each line arrives before the next is written: streamed, not buffered.
        if (got === 'first\n') f.push('second\n')
        if (got === 'first\nsecond\n') f.push(null)
      })
      res.on('end', () => resolve(got))
    })
    req.on('error', reject)
    req.end()
    f.push('first\n')
  })
  t.equal(body, 'first\nsecond\n')
  t.match(f.calls[0]?.opts, { follow: true })
})
