// `raftplane node` as a process: hollow nodes register with the masters named on
// the command line and run pods; a single node runs kube-proxy and the cluster DNS
// beside its kubelet; SIGTERM stops them; the process runtime, not written yet, is
// refused with a clear error.
import { spawn, spawnSync } from 'node:child_process'
import { Resolver } from 'node:dns/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { SERVICES } from '../apiserver/node-grpc/helpers/masters.js'
import { NODES, condition, createPod, eventually, podObject, podWhen, startEnv, write, type Json } from './helpers.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const cli = ['--import', 'tsx', join('src', 'cli', 'main.ts'), 'node']

t.test('the process runtime is refused with a clear error and a non-zero exit', async (t) => {
  const r = spawnSync(process.execPath, [...cli, '--name', 'n', '--apiservers', '127.0.0.1:1', '--insecure'], { cwd: root, encoding: 'utf8', timeout: 60_000 })
  t.equal(r.status, 2)
  t.match(r.stderr, /the process runtime is not available yet; run simulated pods with --runtime hollow/)
  const noCa = spawnSync(process.execPath, [...cli, '--name', 'n', '--apiservers', '127.0.0.1:1', '--runtime', 'hollow'], { cwd: root, encoding: 'utf8', timeout: 60_000 })
  t.equal(noCa.status, 2)
  t.match(noCa.stderr, /--certificate-authority <ca.crt> is required/)
  const badTaint = spawnSync(process.execPath, [...cli, '--name', 'n', '--apiservers', 'x:1', '--runtime', 'hollow', '--register-with-taints', 'k=v:Sometimes'], { cwd: root, encoding: 'utf8', timeout: 60_000 })
  t.equal(badTaint.status, 1)
  t.match(badTaint.stderr, /invalid taint effect "Sometimes"/)
})

t.test('raftplane node --runtime hollow: nodes register, run pods, and stop on SIGTERM', async (t) => {
  const env = await startEnv(t)
  const child = spawn(
    process.execPath,
    [
      ...cli,
      '--runtime', 'hollow', '--insecure', '--apiservers', env.master.address, '--name', 'cli', '--hollow-nodes', '2',
      '--cpu', '3', '--memory', '2Gi', '--node-labels', 'pool=hollow', '--register-with-taints', 'dedicated=sim:NoSchedule',
      '--node-lease-renew-interval', '1s', '--log-level', 'warn', '--dns-port', '0',
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let stderr = ''
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL')
  })
  const nodes = env.master.api.store(NODES)
  const registered = await eventually('both nodes', async () => {
    const list = await nodes.list('', { resourceVersion: '' })
    return list.items.length === 2 ? list.items : undefined
  }, 60_000)
  t.same(registered.map((n) => n.metadata?.name).sort(), ['cli-0', 'cli-1'])
  for (const n of registered) {
    t.match(n.metadata?.labels, { pool: 'hollow', 'kubernetes.io/hostname': n.metadata?.name })
    t.match((n.status as Json).capacity, { cpu: '3', memory: '2Gi', pods: '110' })
    t.same((n.spec as Json).taints, [{ key: 'dedicated', value: 'sim', effect: 'NoSchedule' }])
  }
  await createPod(env, podObject('p', 'cli-1'))
  const running = await podWhen(env, 'p', 'Ready', (p) => condition(p, 'Ready')?.status === 'True', 60_000)
  t.match((running.status as Json).podIP, /^10\.128\.1\.\d+$/, 'node 1 hands out IPs from its own range')
  child.kill('SIGTERM')
  t.equal(await exited, 0, 'a clean exit on SIGTERM')
  t.notMatch(stderr, /"level":(50|60)/, 'no errors logged')
})

t.test('a single node runs kube-proxy: its cluster DNS answers for Services', async (t) => {
  const env = await startEnv(t)
  await env.master.api.store(SERVICES).create('default', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { clusterIP: '10.96.7.7', ports: [{ name: 'http', port: 8080 }] } }, write)
  const child = spawn(
    process.execPath,
    [...cli, '--runtime', 'hollow', '--insecure', '--apiservers', env.master.address, '--name', 'solo', '--dns-port', '0', '--log-level', 'info'],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let stderr = ''
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL')
  })
  const dns = await eventually('kube-proxy started', async () => /"dns":"([\d.]+:\d+)".*"msg":"kube-proxy started"/.exec(stderr)?.[1], 60_000)
  const resolver = new Resolver({ timeout: 2000, tries: 1 })
  resolver.setServers([dns])
  const answer = await eventually('web resolves', async () => (await resolver.resolve4('web.default.svc.cluster.local').catch(() => undefined))?.[0], 30_000)
  t.equal(answer, '127.96.7.7', 'the cluster IP as this node serves it (10.96/12 mapped into 127/8)')
  child.kill('SIGTERM')
  t.equal(await exited, 0, 'a clean exit on SIGTERM')
})
