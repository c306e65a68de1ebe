// A follower's WAL damaged while it is down. A torn tail (the last record cut short,
// as a crash in the middle of a write leaves it) is cut off on start: the member
// comes back and catches up. A flipped byte inside the log is corruption: the member
// refuses to start, naming the file and offset, and serves nothing; the other two go
// on. The operator's way out, as with etcd: `etcdctl member remove`, wipe the data
// dir, `etcdctl member add`, start it with --initial-cluster-state=existing — after
// which every acknowledged write is on all three and HashKV agrees. (The WAL's own
// tests, test/raft/wal/, cover the damage cases record by record.)
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { checkHashes, converged, liveLeader, sleep, startFaultCluster, verifyAcked } from '../kv/e2e/helpers/fault-harness.js'
import { WriteLoad } from '../kv/e2e/helpers/fault-load.js'

/** The member's WAL segments, oldest first. */
function segments(dataDir: string): string[] {
  const dir = join(dataDir, 'member', 'raft')
  return readdirSync(dir)
    .filter((f) => f.endsWith('.wal'))
    .sort()
    .map((f) => join(dir, f))
}

t.test('a torn WAL tail is cut off; a flipped byte stops the member with a clear error', async (t) => {
  const fc = await startFaultCluster(t)
  const { cluster } = fc
  const leader = await liveLeader(cluster)
  const victim = [0, 1, 2].find((i) => i !== leader)!
  const m = cluster.members[victim]!
  const memberId = BigInt((await cluster.status(victim)).memberId).toString(16)
  const load = new WriteLoad(cluster.endpoints, { prefix: 'faults/wal/', writers: 8, valueBytes: 256 })
  fc.loads.push(load.start())
  await sleep(2000)

  await t.test('torn tail', async (t) => {
    await cluster.kill(victim, 'SIGKILL')
    const last = segments(m.dataDir).at(-1)!
    const size = statSync(last).size
    truncateSync(last, size - 7)
    await cluster.restart(victim, { extraArgs: ['--log-level=info'] })
    t.match(m.stderrTail, /torn tail in .*\.wal at offset \d+/, 'the member says it cut the torn tail')
    await sleep(2000)
  })

  await t.test('a flipped byte', async (t) => {
    await cluster.kill(victim, 'SIGTERM')
    const first = segments(m.dataDir)[0]!
    const bytes = readFileSync(first)
    const at = Math.floor(bytes.length / 2)
    bytes[at] = bytes[at]! ^ 0x5a
    writeFileSync(first, bytes)
    const refused = await cluster.restart(victim, { timeoutMs: 20_000 }).then(
      () => undefined,
      (err: Error) => err,
    )
    t.ok(refused !== undefined && !m.alive, 'the member refuses to start')
    t.not(m.exitCode, 0, `with a non-zero exit code (${String(m.exitCode)})`)
    t.match(m.stderrTail, new RegExp(`${first.split('/').at(-1)!.replace('.', '\\.')}.*offset \\d+|offset \\d+.*${first.split('/').at(-1)!.replace('.', '\\.')}`), 'naming the file and the offset')
    t.notMatch(m.stderrTail, /triggerUncaughtException|^\s+at /m, 'in words, not a crash')
    t.comment(m.stderrTail.split('\n').filter((l) => l !== '' && !l.startsWith('{')).join('\n'))
    const before = load.acked.size
    await sleep(1500)
    t.ok(load.acked.size > before, 'the other two keep taking writes')
  })

  await t.test('removed, wiped and added again', async (t) => {
    const others = cluster.members.filter((x) => x !== m).map((x) => x.endpoint).join(',')
    const etcdctl = (...args: string[]): string => execFileSync('etcdctl', [`--endpoints=${others}`, ...args], { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' } })
    t.match(etcdctl('member', 'remove', memberId), /removed from cluster/)
    rmSync(m.dataDir, { recursive: true, force: true })
    t.match(etcdctl('member', 'add', m.name, `--peer-urls=${m.peerUrl}`), /added to cluster/)
    await cluster.restart(victim, { extraArgs: ['--initial-cluster-state=existing'] })
    await sleep(1500)
  })

  await load.stop()
  const { revision } = await converged(cluster)
  await verifyAcked(t, cluster, load, 'after the member was replaced')
  await checkHashes(t, cluster, revision, 'after the member was replaced')
})
