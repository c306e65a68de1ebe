// A port in use is reported with the process that holds it: found through
// /proc/net/tcp{,6} and the holders' /proc/<pid>/fd, for a real listener in a child
// process, and named by `raftplane up` and `raftplane master` when they cannot listen.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import t, { type Test } from 'tap'
import { findPortHolder, listeningInodes, portInUse } from '../../src/cli/port-holder.js'
import { RAFTPLANE } from '../apiserver/e2e/helpers/cluster.js'

/** A child process listening on host:0; resolves with it and its port. */
async function listener(t: Test, host: string): Promise<{ child: ChildProcess; port: number }> {
  const script = `/* raftplane-port-holder-test */ const s = require('net').createServer()\ns.listen(0, ${JSON.stringify(host)}, () => console.log(s.address().port))`
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'ignore'] })
  t.teardown(() => {
    child.kill('SIGKILL')
  })
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())))
    child.once('exit', (code) => reject(new Error(`listener on ${host} exited (${code})`)))
  })
  return { child, port }
}

function raftplane(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(RAFTPLANE[0]!, [...RAFTPLANE.slice(1), ...args], { encoding: 'utf8', timeout: 60_000 })
}

t.test('the listening socket of another process is traced to its pid and command line', async (t) => {
  const { child, port } = await listener(t, '127.0.0.1')
  const holder = await findPortHolder(port)
  t.ok(holder, `a holder of port ${port}`)
  t.equal(holder?.pid, child.pid)
  t.equal(holder?.comm, 'node')
  t.match(holder?.cmdline, 'raftplane-port-holder-test')
})

/** Whether this host has an IPv6 loopback to listen on. */
async function hasIPv6Loopback(): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer()
    s.once('error', () => resolve(false))
    s.listen(0, '::1', () => s.close(() => resolve(true)))
  })
}

t.test('an IPv6 listener is found through /proc/net/tcp6', { skip: (await hasIPv6Loopback()) ? false : 'no IPv6 loopback here' }, async (t) => {
  const { child, port } = await listener(t, '::1')
  t.equal((await findPortHolder(port))?.pid, child.pid)
})

t.test('a port nobody listens on has no holder', async (t) => {
  const { child, port } = await listener(t, '127.0.0.1')
  child.kill('SIGKILL')
  await once(child, 'exit')
  t.equal(await findPortHolder(port), undefined)
  t.equal(await portInUse('127.0.0.1', port), false)
})

t.test('only LISTEN rows of the asked port count', async (t) => {
  // Rows from a real /proc/net/tcp: a listener on 0.0.0.0:2024 (0x07E8), an established connection from port 0x90B2.
  const table = [
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '   0: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 567 1 000000005703ed3f 100 0 0 10 0',
    '   1: 0100007F:90B2 0100007F:88AD 01 00000000:00000000 03:00001486 00000000     0        0 991 3 000000000f5de9eb',
  ].join('\n')
  t.same(listeningInodes(table, 2024), ['567'])
  t.same(listeningInodes(table, 0x90b2), [])
})

t.test('raftplane up names the holder of its load balancer port', async (t) => {
  const { child, port } = await listener(t, '127.0.0.1')
  const dir = t.testdir({})
  const r = raftplane(['up', '--data', dir, '--base-port', String(port), '--masters', '1', '--nodes', '0'])
  t.equal(r.status, 1)
  t.equal(r.stderr.trim().split('\n').length, 1, 'one line', { stderr: r.stderr })
  t.match(r.stderr, `raftplane up: port ${port} (the apiservers' load balancer) is already in use by pid ${child.pid} (`)
  t.match(r.stderr, 'raftplane-port-holder-test')
  t.match(r.stderr, 'stop it or use --data with another directory and --base-port')
})

t.test('raftplane master names the holder of its --secure-port before starting anything', async (t) => {
  const { child, port } = await listener(t, '127.0.0.1')
  const dir = t.testdir({})
  const r = raftplane([
    'master', '--insecure', '--name', 'm1', '--data-dir', `${dir}/m1`, '--bind-address', '127.0.0.1', '--secure-port', String(port), '--node-api-port', '0',
    '--listen-client-urls', 'http://127.0.0.1:0', '--listen-peer-urls', 'http://127.0.0.1:0',
  ])
  t.equal(r.status, 1)
  t.match(r.stderr, `raftplane master: port ${port} (--secure-port) is already in use by pid ${child.pid} (`)
  t.match(r.stderr, 'stop it or change --secure-port')
})
