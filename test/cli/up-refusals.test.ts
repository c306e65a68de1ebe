// What the operating commands refuse, with one line saying why: a second `up` on a
// data dir in use, an unknown part, and down/kill/start/status without a cluster.
import { spawnSync } from 'node:child_process'
import t from 'tap'
import { RAFTPLANE, startCluster } from '../apiserver/e2e/helpers/cluster.js'

function raftplane(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(RAFTPLANE[0]!, [...RAFTPLANE.slice(1), ...args], { encoding: 'utf8', timeout: 90_000 })
}

t.test('a running cluster: a second up and unknown parts are refused', async (t) => {
  const c = await startCluster(t, { masters: 1, nodes: 1 })
  const again = raftplane(['up', '--data', c.dataDir, '--base-port', '0'])
  t.equal(again.status, 1)
  t.match(again.stderr, `raftplane up: a cluster is already running from ${c.dataDir} (pid `)
  const unknown = raftplane(['kill', 'master-9', '--data', c.dataDir])
  t.equal(unknown.status, 1)
  t.match(unknown.stderr, 'raftplane kill: no part named "master-9"; the parts are master-1, node-1')
})

t.test('no cluster: down and status say so and exit 1', async (t) => {
  const dir = t.testdir({})
  const down = raftplane(['down', '--data', dir])
  t.equal(down.status, 1)
  t.match(down.stderr, `raftplane down: no cluster is running from ${dir}`)
  const status = raftplane(['status', '--data', dir])
  t.equal(status.status, 1)
  t.equal(status.stdout, '')
  t.match(status.stderr, `raftplane status: no cluster in ${dir} (no cluster.json): start one with \`raftplane up --data ${dir}\``)
})
