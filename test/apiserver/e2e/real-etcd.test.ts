// The API server on a real etcd 3.4 (Debian's etcd-server) instead of its embedded
// store member: `raftplane master --etcd-servers …`, driven by the real kubectl. The
// same registry code runs on both stores; here it must keep kube-apiserver's layout
// in etcd (objects under /registry/<resource>/<namespace>/<name>).
import { execFile, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { freePort, StoreCluster } from '../../../bench/kv/cluster.js'
import { kubectl, RAFTPLANE } from './helpers/cluster.js'

const ETCD = '/usr/bin/etcd'

t.test('apiserver over a real etcd', async (t) => {
  if (!existsSync(ETCD)) {
    t.fail(`${ETCD} is not installed (scripts/install-deps.sh installs etcd-server)`)
    return
  }
  const etcd = await StoreCluster.start({ command: [ETCD], label: 'etcd', size: 1, startTimeoutMs: 30_000 })
  t.teardown(() => etcd.stopAll())
  const dir = await mkdtemp(join(tmpdir(), 'raftplane-etcd-e2e-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const port = await freePort()
  const master = spawn(
    RAFTPLANE[0]!,
    [...RAFTPLANE.slice(1), 'master', '--name', 'm1', '--etcd-servers', etcd.endpoints.join(','), '--bind-address', '127.0.0.1', '--secure-port', String(port), '--node-api-port', '0', '--insecure'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let log = ''
  master.stderr.on('data', (d: Buffer) => (log += d.toString()))
  t.teardown(async () => {
    if (master.exitCode === null) {
      const exited = new Promise((r) => master.once('exit', r))
      master.kill('SIGTERM')
      await exited
    }
  })
  const deadline = Date.now() + 60_000
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (r) => r.ok,
      () => false,
    )
    if (ok) break
    if (master.exitCode !== null || Date.now() > deadline) throw new Error(`master did not become ready:\n${log}`)
    await new Promise((r) => setTimeout(r, 200))
  }
  const kubeconfig = join(dir, 'kubeconfig')
  await writeFile(
    kubeconfig,
    `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: "http://127.0.0.1:${port}"}\nusers:\n- name: u\n  user: {}\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\ncurrent-context: c\n`,
  )
  const k = (args: string[], input?: string) => kubectl(kubeconfig, args, input === undefined ? {} : { input })

  const ns = (await k(['get', 'namespaces', '--no-headers'])).stdout
  t.match(ns, /^kube-system\s+Active/m, 'the bootstrap namespaces are in etcd')
  await k(['apply', '-f', '-'], 'apiVersion: v1\nkind: Namespace\nmetadata: {name: on-etcd}\n')
  const dep = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: on-etcd}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx}]}
`
  t.match((await k(['apply', '-f', '-'], dep)).stdout, 'deployment.apps/web created')
  await k(['scale', 'deployment', 'web', '-n', 'on-etcd', '--replicas', '4'])
  t.equal((await k(['get', 'deploy', 'web', '-n', 'on-etcd', '-o', 'jsonpath={.spec.replicas}'])).stdout, '4')
  const stale = await kubectl(kubeconfig, ['apply', '-f', '-'], { input: dep.replace('replicas: 2', 'replicas: two'), allowFail: true })
  t.not(stale.code, 0)

  // The object is where kube-apiserver keeps it, as JSON, at the revision it reports.
  const { stdout } = await promisify(execFile)('etcdctl', ['--endpoints', etcd.endpoints.join(','), 'get', '/registry/deployments/on-etcd/web', '-w', 'json'], {
    env: { ...process.env, ETCDCTL_API: '3' },
  })
  const kv = (JSON.parse(stdout) as { kvs: { value: string; mod_revision: number }[] }).kvs[0]!
  const stored = JSON.parse(Buffer.from(kv.value, 'base64').toString()) as { spec: { replicas: number }; metadata: Record<string, unknown> }
  t.equal(stored.spec.replicas, 4)
  t.equal(stored.metadata.resourceVersion, undefined, 'resourceVersion is not stored: it is the mod revision')
  const rv = (await k(['get', 'deploy', 'web', '-n', 'on-etcd', '-o', 'jsonpath={.metadata.resourceVersion}'])).stdout
  t.equal(rv, String(kv.mod_revision))

  await k(['delete', 'deployment', 'web', '-n', 'on-etcd'])
  const gone = await kubectl(kubeconfig, ['get', 'deploy', 'web', '-n', 'on-etcd'], { allowFail: true })
  t.match(gone.stderr, /not found/)
})
