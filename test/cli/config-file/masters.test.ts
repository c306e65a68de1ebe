// Three masters and a node started from config files alone, with TLS material from
// `raftplane certs`, as on separate machines: each master on its own loopback address
// (127.0.0.11-13, the same ports on each), its certificate carrying that address;
// real kubectl with the generated admin kubeconfig reaches every master, and the
// node registers over TLS through the masters' node API.
import { execFile, spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import t from 'tap'
import { stringify } from 'yaml'
import { KUBECTL, RAFTPLANE } from '../../apiserver/e2e/helpers/cluster.js'
import { processes } from '../helpers/processes.js'

const HOSTS = ['127.0.0.11', '127.0.0.12', '127.0.0.13']

/** A port free on every address right now (bound on the wildcard and released). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '0.0.0.0', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

function kubectl(kubeconfig: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(KUBECTL, ['--kubeconfig', kubeconfig, '--request-timeout', '5s', ...args], { timeout: 15_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr })
    })
  })
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const v = await probe()
    if (v !== undefined) return v
    await new Promise((r) => setTimeout(r, 500))
  }
  throw new Error(`${what}: not after ${timeoutMs / 1000} s`)
}

t.test('3 masters and a node from config files and `raftplane certs`; kubectl with the admin kubeconfig', async (t) => {
  const dir = t.testdir({})
  const pki = join(dir, 'pki')
  const [api, nodeApi, client, peer] = [await freePort(), await freePort(), await freePort(), await freePort()]
  const certs = spawnSync(
    RAFTPLANE[0]!,
    [...RAFTPLANE.slice(1), 'certs', '--dir', pki, ...HOSTS.flatMap((h, i) => ['--master', `m${i + 1}=${h}`]), '--node', 'n1', '--secure-port', String(api)],
    { encoding: 'utf8', timeout: 60_000 },
  )
  t.equal(certs.status, 0, certs.stderr)

  const spawnLogged = processes(t, dir)
  const start = (name: string, args: string[]): void => {
    spawnLogged(name, [...RAFTPLANE, ...args])
  }

  const initialCluster = HOSTS.map((h, i) => `m${i + 1}=http://${h}:${peer}`)
  HOSTS.forEach((h, i) => {
    const name = `m${i + 1}`
    const file = join(dir, `${name}.yaml`)
    writeFileSync(
      file,
      stringify({
        name,
        'data-dir': join(dir, name),
        'listen-client-urls': `http://${h}:${client}`,
        'listen-peer-urls': `http://${h}:${peer}`,
        'initial-cluster': initialCluster,
        'initial-cluster-token': 'config-file-e2e',
        'bind-address': h,
        'secure-port': api,
        'node-api-port': nodeApi,
        'tls-cert-file': join(pki, `${name}-apiserver.crt`),
        'tls-private-key-file': join(pki, `${name}-apiserver.key`),
      }),
    )
    start(name, ['master', '--config', file])
  })

  const kubeconfig = join(pki, 'kubeconfig')
  for (const [i, h] of HOSTS.entries()) {
    const ready = await until(`m${i + 1} /readyz`, 60_000, async () => {
      const r = await kubectl(kubeconfig, ['--context', `m${i + 1}`, 'get', '--raw', '/readyz'])
      return r.code === 0 ? r.stdout : undefined
    })
    t.equal(ready, 'ok', `kubectl --context m${i + 1} (https://${h}:${api}) get --raw /readyz`)
  }
  const viaDefault = await kubectl(kubeconfig, ['get', '--raw', '/readyz'])
  t.same({ code: viaDefault.code, stdout: viaDefault.stdout }, { code: 0, stdout: 'ok' }, 'the default context')

  const nodeFile = join(dir, 'node.yaml')
  writeFileSync(
    nodeFile,
    stringify({
      name: 'n1',
      apiservers: HOSTS.map((h) => `${h}:${nodeApi}`),
      'certificate-authority': join(pki, 'ca.crt'),
      runtime: 'hollow',
      address: '127.0.0.1',
      'kubelet-port': 0,
      'no-kube-proxy': true,
    }),
  )
  start('n1', ['node', '--config', nodeFile])
  const ready = await until('node n1 Ready', 45_000, async () => {
    const r = await kubectl(kubeconfig, ['get', 'node', 'n1', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])
    return r.stdout === 'True' ? r.stdout : undefined
  })
  t.equal(ready, 'True', 'the node registered over TLS and is Ready')
  // Written through one master, read through another: they are one cluster, not three.
  const created = await kubectl(kubeconfig, ['--context', 'm2', 'create', 'namespace', 'from-m2'])
  t.equal(created.code, 0, created.stderr)
  const seen = await until('namespace through m3', 10_000, async () => {
    const r = await kubectl(kubeconfig, ['--context', 'm3', 'get', 'namespace', 'from-m2', '-o', 'name'])
    return r.code === 0 ? r.stdout.trim() : undefined
  })
  t.equal(seen, 'namespace/from-m2')
})
