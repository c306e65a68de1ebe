// `raftplane certs`: a CA and, signed by it, each master's certificates with the
// SANs it is reached at, each node's and the admin's client certificates and an
// admin kubeconfig; run again it adds without replacing, --force replaces (never the CA).
import { spawnSync } from 'node:child_process'
import { createPrivateKey, X509Certificate } from 'node:crypto'
import { readFileSync, statSync, unlinkSync } from 'node:fs'
import { join, relative } from 'node:path'
import t, { type Test } from 'tap'
import { parse as parseYaml } from 'yaml'
import { buildProgram } from '../../../src/cli/main.js'
import { RAFTPLANE } from '../../apiserver/e2e/helpers/cluster.js'

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1'
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2'

function certs(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(RAFTPLANE[0]!, [...RAFTPLANE.slice(1), 'certs', ...args], { encoding: 'utf8', timeout: 60_000 })
}

/**
 * `raftplane certs ARGS` run in this process (a spawn costs seconds on this machine):
 * what it printed and the exit code it set.
 */
async function certsHere(t: Test, args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const out = t.capture(console, 'log')
  const err = t.capture(console, 'error')
  process.exitCode = undefined
  try {
    await buildProgram().parseAsync(['node', 'raftplane', 'certs', ...args])
    const lines = (calls: { args: unknown[] }[]): string => calls.map((c) => `${c.args.join(' ')}\n`).join('')
    return { status: process.exitCode ?? 0, stdout: lines(out()), stderr: lines(err()) }
  } finally {
    process.exitCode = undefined
    out.restore()
    err.restore()
  }
}

/** A path as the command prints it (relative to its working directory, this one). */
const shown = (p: string): string => relative(process.cwd(), p)

const cert = (dir: string, base: string): X509Certificate => new X509Certificate(readFileSync(join(dir, `${base}.crt`)))

/** Signed by the CA in `dir`, and its key is the one beside it. */
function checkSigned(t: Test, dir: string, base: string): X509Certificate {
  const ca = cert(dir, 'ca')
  const c = cert(dir, base)
  t.equal(c.issuer, ca.subject, `${base}: issuer is the CA`)
  t.ok(c.checkIssued(ca) && c.verify(ca.publicKey), `${base}: signed by ca.key`)
  t.ok(c.checkPrivateKey(createPrivateKey(readFileSync(join(dir, `${base}.key`)))), `${base}.key matches`)
  t.equal(statSync(join(dir, `${base}.key`)).mode & 0o777, 0o600, `${base}.key is private`)
  t.equal(c.ca, false)
  return c
}

t.test('a CA, masters with their SANs, nodes, the admin and a kubeconfig', async (t) => {
  const dir = join(t.testdir({}), 'pki')
  const r = certs([
    '--dir', dir,
    '--master', 'm1=m1.example.internal,10.0.0.11',
    '--master', 'm2=10.0.0.12,m2.example.internal',
    '--node', 'n1',
    '--server', 'https://lb.example.internal:7443',
  ])
  t.equal(r.status, 0, r.stderr)
  t.match(r.stdout, `wrote ${shown(dir)}/ca.crt`)
  t.match(r.stdout, `wrote ${shown(dir)}/m1-apiserver.crt`)
  t.match(r.stdout, `wrote ${shown(dir)}/kubeconfig`)

  const ca = cert(dir, 'ca')
  t.equal(ca.ca, true, 'ca.crt is a CA')
  t.equal(ca.subject, ca.issuer, 'self-signed')

  const m1 = checkSigned(t, dir, 'm1-apiserver')
  t.equal(m1.subject, 'CN=kube-apiserver')
  for (const host of ['m1', 'm1.example.internal', 'localhost', 'kubernetes.default.svc']) t.equal(m1.checkHost(host, { wildcards: false }), host, `m1 serves ${host}`)
  for (const ip of ['10.0.0.11', '127.0.0.1', '::1', '10.96.0.1']) t.equal(m1.checkIP(ip), ip, `m1 serves ${ip}`)
  t.equal(m1.checkIP('10.0.0.12'), undefined, "m1's certificate does not carry m2's IP")
  t.equal(m1.checkHost('m2.example.internal'), undefined)
  t.same(m1.keyUsage, [SERVER_AUTH])
  const m2 = checkSigned(t, dir, 'm2-apiserver')
  t.match(m2.subjectAltName, /DNS:m2, DNS:m2\.example\.internal, DNS:localhost.*IP Address:10\.0\.0\.12, IP Address:127\.0\.0\.1/)
  const peer = checkSigned(t, dir, 'm2-peer')
  t.equal(peer.subject, 'CN=m2')
  t.equal(peer.checkIP('10.0.0.12'), '10.0.0.12')
  t.same([...peer.keyUsage].sort(), [SERVER_AUTH, CLIENT_AUTH])

  const n1 = checkSigned(t, dir, 'n1-kubelet')
  t.equal(n1.subject, 'CN=system:node:n1\nO=system:nodes')
  t.same(n1.keyUsage, [CLIENT_AUTH])
  const admin = checkSigned(t, dir, 'admin')
  t.equal(admin.subject, 'CN=kubernetes-admin\nO=system:masters')
  t.same(admin.keyUsage, [CLIENT_AUTH])

  const kc = parseYaml(readFileSync(join(dir, 'kubeconfig'), 'utf8')) as {
    clusters: { name: string; cluster: { server: string; 'certificate-authority-data': string } }[]
    users: { name: string; user: Record<string, string> }[]
    contexts: { name: string; context: { cluster: string; user: string } }[]
    'current-context': string
  }
  t.same(kc.clusters.map((c) => [c.name, c.cluster.server]), [
    ['raftplane', 'https://lb.example.internal:7443'],
    ['raftplane-m1', 'https://m1.example.internal:6443'],
    ['raftplane-m2', 'https://10.0.0.12:6443'],
  ])
  t.equal(Buffer.from(kc.clusters[0]!.cluster['certificate-authority-data'], 'base64').toString(), readFileSync(join(dir, 'ca.crt'), 'utf8'))
  t.equal(Buffer.from(kc.users[0]!.user['client-certificate-data']!, 'base64').toString(), readFileSync(join(dir, 'admin.crt'), 'utf8'))
  t.equal(Buffer.from(kc.users[0]!.user['client-key-data']!, 'base64').toString(), readFileSync(join(dir, 'admin.key'), 'utf8'))
  t.same(kc.contexts.map((c) => c.name), ['raftplane', 'm1', 'm2'])
  t.equal(kc['current-context'], 'raftplane')
  t.equal(statSync(join(dir, 'kubeconfig')).mode & 0o777, 0o600)
})

t.test('run again, it adds masters and nodes and keeps what is there; --force replaces, never the CA', async (t) => {
  const dir = join(t.testdir({}), 'pki')
  t.equal((await certsHere(t, ['--dir', dir, '--master', 'm1=10.0.0.11', '--node', 'n1'])).status, 0)
  const read = (f: string): string => readFileSync(join(dir, f), 'utf8')
  const before = { ca: read('ca.crt'), caKey: read('ca.key'), m1: read('m1-apiserver.crt'), m1Key: read('m1-apiserver.key'), n1: read('n1-kubelet.crt'), admin: read('admin.crt') }

  const again = await certsHere(t, ['--dir', dir, '--master', 'm1=10.0.0.11', '--master', 'm3=10.0.0.13', '--node', 'n1', '--node', 'n2'])
  t.equal(again.status, 0, again.stderr)
  t.match(again.stdout, `kept  ${shown(dir)}/ca.crt`)
  t.match(again.stdout, `kept  ${shown(dir)}/m1-apiserver.crt, .key  (m1 serving: apiserver and node API; exists, --force replaces it)`)
  t.match(again.stdout, `wrote ${shown(dir)}/m3-apiserver.crt`)
  t.match(again.stdout, `wrote ${shown(dir)}/n2-kubelet.crt`)
  t.same({ ca: read('ca.crt'), caKey: read('ca.key'), m1: read('m1-apiserver.crt'), m1Key: read('m1-apiserver.key'), n1: read('n1-kubelet.crt'), admin: read('admin.crt') }, before, 'nothing replaced')
  checkSigned(t, dir, 'm3-apiserver')
  checkSigned(t, dir, 'n2-kubelet')

  const moved = await certsHere(t, ['--dir', dir, '--master', 'm1=10.0.0.99'])
  t.equal(moved.status, 0)
  t.match(moved.stdout, 'WARNING: it lacks 10.0.0.99 — --force replaces it', 'a kept certificate without an asked-for SAN is flagged')
  t.equal(read('m1-apiserver.crt'), before.m1)

  const forced = await certsHere(t, ['--dir', dir, '--master', 'm1=10.0.0.99', '--force'])
  t.equal(forced.status, 0, forced.stderr)
  t.match(forced.stdout, `replaced ${shown(dir)}/m1-apiserver.crt`)
  t.not(read('m1-apiserver.crt'), before.m1)
  t.not(read('m1-apiserver.key'), before.m1Key)
  t.equal(read('ca.crt'), before.ca, 'the CA is kept under --force')
  t.equal(read('n1-kubelet.crt'), before.n1, 'certificates not named are kept under --force')
  const m1 = checkSigned(t, dir, 'm1-apiserver')
  t.equal(m1.checkIP('10.0.0.99'), '10.0.0.99')
})

t.test('refusals: bad names and hosts are usage errors; a CA without its key is an error', async (t) => {
  const dir = join(t.testdir({}), 'pki')
  for (const args of [['--master', 'M1=10.0.0.1'], ['--master', 'm1=bad_host'], ['--master', 'm1=a', '--master', 'm1=b'], ['--node', 'Node_1'], ['--server', 'http://x:6443']]) {
    // In this process (a spawn each is slow): commander's error, as the CLI would print it.
    const program = buildProgram()
    const cmd = program.commands.find((c) => c.name() === 'certs')!
    let stderr = ''
    cmd.exitOverride().configureOutput({ writeErr: (s) => (stderr += s), writeOut: () => undefined })
    cmd.action(() => {
      t.fail('no action on a usage error')
    })
    await t.rejects(program.parseAsync(['node', 'raftplane', 'certs', '--dir', dir, ...args]), { code: 'commander.invalidArgument', exitCode: 1 }, args.join(' '))
    t.equal(stderr.trim().split('\n').length, 1, 'one line')
    t.match(stderr, /^error: option '--\w+ .*' argument '.*' is invalid\./)
  }
  const usage = certs(['--dir', dir, '--master', 'm1=bad_host'])
  t.equal(usage.status, 1, 'the CLI exits 1 on a usage error, as on every commander usage error')
  t.equal(usage.stdout, '')
  t.equal((await certsHere(t, ['--dir', dir])).status, 0, 'no masters or nodes: the CA and the admin certificate')
  unlinkSync(join(dir, 'ca.key'))
  const r = await certsHere(t, ['--dir', dir, '--node', 'n1'])
  t.equal(r.status, 1)
  t.match(r.stderr, `raftplane certs: ${dir}/ca.key is missing: both ca.crt and ca.key are needed to sign`)
})
