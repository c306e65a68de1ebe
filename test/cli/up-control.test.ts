// Operating a running `raftplane up` from another shell (the refusals are in
// up-refusals.test.ts): `raftplane kill master-2` takes one master down for good (the
// cluster keeps serving, `status` shows it down), `raftplane start master-2` brings it
// back, kubectl keeps working through the load balancer when
// master-1 dies, and `raftplane down` stops everything.
import { execFileSync, spawnSync } from 'node:child_process'
import t from 'tap'
import { clusterStatus, type ClusterStatus } from '../../src/cli/commands/status.js'
import { loadCluster } from '../../src/cli/cluster-access.js'
import { RAFTPLANE, startCluster } from '../apiserver/e2e/helpers/cluster.js'

function raftplane(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(RAFTPLANE[0]!, [...RAFTPLANE.slice(1), ...args], { encoding: 'utf8', timeout: 90_000 })
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await probe()
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 500))
  }
}

/** What `raftplane status -o json` says, asked in-process (the CLI itself is tested in up.test.ts). */
async function status(dir: string): Promise<ClusterStatus> {
  const { layout, pki } = await loadCluster(dir)
  return clusterStatus(dir, layout, pki)
}

t.test('up is operated through kill, start and down', async (t) => {
  const c = await startCluster(t, { nodes: 1 })

  const kill = raftplane(['kill', 'master-2', '--data', c.dataDir])
  t.equal(kill.status, 0, kill.stderr)
  t.match(kill.stdout, /^master-2 killed \(pid \d+\)/)
  const down = (await status(c.dataDir)).masters.find((m) => m.name === 'master-2')!
  t.match(down, { apiserverReady: false, storeUp: false, raftLeader: false })
  const nodes = await c.kubectl(['get', 'nodes', '--no-headers'])
  t.match(nodes.stdout, /^node-1\s+Ready/, 'the cluster keeps serving on two masters')

  const start = raftplane(['start', 'master-2', '--data', c.dataDir])
  t.equal(start.status, 0, start.stderr)
  t.match(start.stdout, /^master-2 started \(pid \d+\)/)
  await eventually('master-2 ready again', async () => ((await status(c.dataDir)).masters.find((m) => m.name === 'master-2')?.apiserverReady ? true : undefined))
  t.pass('master-2 serves again')

  // The kubeconfig goes through the load balancer: losing master-1 does not break kubectl.
  t.equal(raftplane(['kill', 'master-1', '--data', c.dataDir]).status, 0)
  const viaLb = await c.kubectl(['get', 'nodes', '--no-headers'])
  t.match(viaLb.stdout, /^node-1\s+Ready/, 'kubectl through the load balancer with master-1 dead')

  const stop = raftplane(['down', '--data', c.dataDir])
  t.equal(stop.status, 0, stop.stderr)
  t.match(stop.stdout, 'cluster stopped')
  // `down` has stopped every part; `up` then exits by itself (a Ctrl-C sent now could
  // meet it half-way through its own exit).
  const code = await Promise.race([c.exited, new Promise<string>((r) => setTimeout(() => r('still running after 30 s'), 30_000))])
  t.equal(code, 0, 'up exited cleanly by itself')
  const left = execFileSync('ps', ['-eo', 'args='], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(c.dataDir) && !l.includes('ps -eo'))
  t.same(left, [], 'no process of the cluster is left')
})
