// A multi-machine deployment, with network namespaces as the machines: three masters
// and a node each in their own namespace with their own address on a bridge, started
// from config files with TLS material from `raftplane certs`; `raftplane lb` on the
// host in front of the three apiservers, and kubectl through it with the admin
// kubeconfig. Then the raft leader's link goes down (a pulled cable: packets vanish):
// kubectl through the load balancer keeps working, the node keeps renewing its Lease
// through another master, and when the link comes back the master catches up.
// Needs root and `ip netns`; skipped otherwise.
import { execFile, spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { stringify } from 'yaml'
import { KUBECTL, RAFTPLANE } from '../apiserver/e2e/helpers/cluster.js'
import { freePort } from '../../bench/kv/cluster.js'
import { NetnsLab } from '../faults/netns-lab.js'
import { processes } from './helpers/processes.js'

const API = 6443
const NODE_API = 7443

function run(cmd: string, args: string[], timeout = 15_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout }, (err, stdout, stderr) => resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr }))
  })
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const v = await probe()
    if (v !== undefined) return v
    await new Promise((r) => setTimeout(r, 250))
  }
  throw new Error(`${what}: not within ${timeoutMs / 1000} s`)
}

t.test('masters and a node on separate hosts over TLS, kubectl through raftplane lb, the leader cut off', { skip: NetnsLab.available() ? false : 'needs root and network namespaces' }, async (t) => {
  const lab = new NetnsLab(4)
  t.teardown(() => lab.destroy())
  const masters = [0, 1, 2]
  const nodeHost = 3
  const dir = t.testdir({})
  const pki = join(dir, 'pki')
  const lbPort = await freePort()
  const certs = spawnSync(
    RAFTPLANE[0]!,
    [...RAFTPLANE.slice(1), 'certs', '--dir', pki, ...masters.flatMap((i) => ['--master', `m${i + 1}=${lab.hosts[i]}`]), '--node', 'n1', '--secure-port', String(API), '--server', `https://127.0.0.1:${lbPort}`],
    { encoding: 'utf8', timeout: 60_000 },
  )
  t.equal(certs.status, 0, certs.stderr)

  const spawnLogged = processes(t, dir)
  const start = (name: string, host: number | undefined, args: string[]): void => {
    spawnLogged(name, [...(host === undefined ? [] : lab.wrap(host)), ...RAFTPLANE, ...args])
  }

  const initialCluster = masters.map((i) => `m${i + 1}=http://${lab.hosts[i]}:2380`)
  for (const i of masters) {
    const name = `m${i + 1}`
    const h = lab.hosts[i]!
    const file = join(dir, `${name}.yaml`)
    writeFileSync(
      file,
      stringify({
        name,
        'data-dir': join(dir, name),
        'listen-client-urls': `http://${h}:2379`,
        'listen-peer-urls': `http://${h}:2380`,
        'initial-cluster': initialCluster,
        'initial-cluster-token': 'multi-host-e2e',
        'bind-address': h,
        'secure-port': API,
        'node-api-port': NODE_API,
        'tls-cert-file': join(pki, `${name}-apiserver.crt`),
        'tls-private-key-file': join(pki, `${name}-apiserver.key`),
      }),
    )
    start(name, i, ['master', '--config', file])
  }
  start('lb', undefined, ['lb', '--listen', `127.0.0.1:${lbPort}`, '--backend', masters.map((i) => `${lab.hosts[i]}:${API}`).join(','), '--certificate-authority', join(pki, 'ca.crt')])

  const kubeconfig = join(pki, 'kubeconfig')
  const kubectl = (...args: string[]) => run(KUBECTL, ['--kubeconfig', kubeconfig, '--request-timeout', '5s', ...args])
  t.equal(await until('/readyz through the load balancer', 90_000, async () => ((await kubectl('get', '--raw', '/readyz')).stdout === 'ok' ? 'ok' : undefined)), 'ok', 'kubectl reaches the cluster through raftplane lb')

  const nodeFile = join(dir, 'n1.yaml')
  writeFileSync(
    nodeFile,
    stringify({
      name: 'n1',
      apiservers: masters.map((i) => `${lab.hosts[i]}:${NODE_API}`),
      'certificate-authority': join(pki, 'ca.crt'),
      runtime: 'hollow',
      address: lab.hosts[nodeHost],
      'node-ip': lab.hosts[nodeHost],
      'no-kube-proxy': true,
      'node-lease-renew-interval': '2s',
    }),
  )
  start('n1', nodeHost, ['node', '--config', nodeFile])
  await until('node n1 Ready', 60_000, async () => {
    const r = await kubectl('get', 'node', 'n1', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}')
    return r.stdout === 'True' ? true : undefined
  })
  t.pass('the node on its own host registered over TLS and is Ready')

  // The raft leader, as the members' etcd API reports it.
  const status = await run('etcdctl', ['--endpoints', masters.map((i) => `${lab.hosts[i]}:2379`).join(','), 'endpoint', 'status', '-w', 'json'])
  t.equal(status.code, 0, status.stderr)
  const members = JSON.parse(status.stdout) as { Endpoint: string; Status: { header: { member_id: number | string }; leader: number | string } }[]
  const leaderEndpoint = members.find((m) => String(m.Status.header.member_id) === String(m.Status.leader))?.Endpoint
  const leader = masters.find((i) => leaderEndpoint?.startsWith(`${lab.hosts[i]}:`))
  t.ok(leader !== undefined, `the raft leader is ${leaderEndpoint}`)

  const renewed = async (): Promise<string> => (await kubectl('get', 'lease', 'n1', '-n', 'kube-node-lease', '-o', 'jsonpath={.spec.renewTime}')).stdout
  const cutAt = Date.now()
  lab.linkDown(leader!)
  const lastRenew = await renewed().catch(() => '')
  await until('a write through the load balancer after the cut', 30_000, async () => ((await kubectl('create', 'namespace', 'after-cut')).code === 0 ? true : undefined))
  t.comment(`first write through the load balancer ${Date.now() - cutAt} ms after the leader's link went down`)
  t.pass('kubectl through raftplane lb writes with the old leader cut off')
  await until("the node's Lease renewed through another master", 30_000, async () => {
    const now = await renewed()
    return now !== '' && now !== lastRenew ? now : undefined
  })
  t.pass('the node keeps renewing its Lease')
  const pods = await kubectl('get', 'namespaces', '-o', 'name')
  t.match(pods.stdout, /namespace\/after-cut/)

  lab.linkUp(leader!)
  const name = `m${leader! + 1}`
  await until(`${name} caught up after its link came back`, 30_000, async () => ((await kubectl('--context', name, 'get', 'namespace', 'after-cut', '-o', 'name')).stdout.trim() === 'namespace/after-cut' ? true : undefined))
  t.pass(`${name} serves the write made while it was cut off`)
})
