// `etcdctl snapshot save` from a 3-member raftplane store, then `raftplane store
// restore` into new data dirs, a NEW 1-member and a NEW 3-member cluster started from
// them, and the data read back with etcdctl.
import t from 'tap'
import { execFile } from 'node:child_process'
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { ctlOk, etcdctl, memberFlags, spawnTracked, startStoreCluster, STORE_COMMAND, tempDir, twoPorts, waitFor } from './helpers/etcdctl-helpers.js'

const run = promisify(execFile)
t.setTimeout(110_000)

async function restore(file: string, name: string, dataDir: string, initialCluster: string, peerUrl: string, token: string): Promise<string> {
  const [cmd, ...args] = STORE_COMMAND
  const { stdout } = await run(cmd!, [...args, 'restore', file, `--name=${name}`, `--data-dir=${dataDir}`, `--initial-cluster=${initialCluster}`, `--initial-advertise-peer-urls=${peerUrl}`, `--initial-cluster-token=${token}`], { timeout: 30_000 })
  return stdout
}

t.test('snapshot save, restore into new 1- and 3-member clusters', async (t) => {
  const cluster = await startStoreCluster(t)
  const all = { endpoints: cluster.endpoints }
  for (let i = 0; i < 20; i++) await ctlOk(['put', `/snap/${String(i).padStart(2, '0')}`, `v${i}`], all)
  await ctlOk(['del', '/snap/19'], all)
  const rev = (JSON.parse(await ctlOk(['get', 'x', '-w', 'json'], all)) as { header: { revision: number } }).header.revision
  const dir = tempDir(t)
  const file = join(dir, 'snap.db')
  const saved = await etcdctl(['snapshot', 'save', file], { endpoints: cluster.endpoints[1]! })
  t.equal(saved.code, 0, saved.stderr)
  t.equal(saved.stdout, `Snapshot saved at ${file}\n`)
  t.ok(statSync(file).size > 0)
  await cluster.stop()

  const want = Array.from({ length: 19 }, (_, i) => `/snap/${String(i).padStart(2, '0')}\nv${i}\n`).join('')

  await t.test('a new 1-member cluster', async (t) => {
    const [clientPort, peerPort] = await twoPorts()
    const peerUrl = `http://127.0.0.1:${peerPort}`
    const dataDir = join(dir, 'one')
    const out = await restore(file, 'r1', dataDir, `r1=${peerUrl}`, peerUrl, 'restored-one')
    t.match(out, `into ${dataDir}`, 'restore honours --data-dir')
    spawnTracked(t, 'restored r1', [...STORE_COMMAND, ...memberFlags({ name: 'r1', dataDir, clientPort, peerPort, initialCluster: `r1=${peerUrl}`, state: 'new', token: 'restored-one' })])
    const ep = `127.0.0.1:${clientPort}`
    const got = await waitFor('the restored member to answer', async () => (await etcdctl(['get', '/snap', '--prefix'], { endpoints: ep, timeoutMs: 5000 })).stdout || false, 30_000, 300)
    t.equal(got, want)
    const head = JSON.parse(await ctlOk(['get', 'x', '-w', 'json'], { endpoints: ep })) as { header: { revision: number } }
    t.equal(head.header.revision, rev, 'the revision survives the restore')
    t.equal(await ctlOk(['put', '/snap/new', 'n'], { endpoints: ep }), 'OK\n')
    t.match(await ctlOk(['member', 'list'], { endpoints: ep }), new RegExp(`^[0-9a-f]+, started, r1, ${peerUrl}, http://${ep}, false\\n$`))
  })

  await t.test('a new 3-member cluster', async (t) => {
    const ports = await Promise.all([twoPorts(), twoPorts(), twoPorts()])
    const names = ['n1', 'n2', 'n3']
    const initialCluster = names.map((n, i) => `${n}=http://127.0.0.1:${ports[i]![1]}`).join(',')
    for (const [i, n] of names.entries()) {
      await restore(file, n, join(dir, n), initialCluster, `http://127.0.0.1:${ports[i]![1]}`, 'restored-three')
    }
    for (const [i, n] of names.entries()) {
      spawnTracked(t, `restored ${n}`, [...STORE_COMMAND, ...memberFlags({ name: n, dataDir: join(dir, n), clientPort: ports[i]![0], peerPort: ports[i]![1], initialCluster, state: 'new', token: 'restored-three' })])
    }
    const eps = ports.map(([c]) => `127.0.0.1:${c}`)
    for (const ep of eps) {
      const got = await waitFor(`restored member ${ep}`, async () => (await etcdctl(['get', '/snap', '--prefix'], { endpoints: ep, timeoutMs: 5000 })).stdout || false, 30_000, 300)
      t.equal(got, want, `data on ${ep}`)
    }
    t.equal(await ctlOk(['put', '/snap/after', 'a'], { endpoints: eps }), 'OK\n')
    for (const ep of eps) t.equal(await ctlOk(['get', '/snap/after', '--print-value-only', '--consistency=l'], { endpoints: ep }), 'a\n')
    const members = await ctlOk(['member', 'list'], { endpoints: eps })
    t.equal(members.split('\n').filter((l) => l.includes(', started, n')).length, 3)
  })
})
