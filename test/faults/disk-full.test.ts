// A member's disk fills up: its data dir is a small tmpfs, nearly full, while the
// cluster takes writes of 16 KiB values. The member must stop cleanly with an error
// that says why (as etcd does) — never serve data it could not persist — while the
// other two keep accepting writes. Once space is freed and it is started again, it
// catches up: every acknowledged write is on every member and HashKV agrees.
// Needs root (mount); skipped otherwise.
import { execFileSync } from 'node:child_process'
import { cpSync, mkdirSync, renameSync, rmSync, statfsSync, writeFileSync } from 'node:fs'
import t from 'tap'
import { checkHashes, converged, figures, liveLeader, sleep, startFaultCluster, verifyAcked } from '../kv/e2e/helpers/fault-harness.js'
import { WriteLoad } from '../kv/e2e/helpers/fault-load.js'

const root = process.getuid?.() === 0

t.test('a member whose disk fills up stops with a clear error; the others go on; freed, it catches up', { skip: root ? false : 'needs root to mount a tmpfs' }, async (t) => {
  const fc = await startFaultCluster(t)
  const { cluster } = fc
  const leader = await liveLeader(cluster)
  const victim = [0, 1, 2].find((i) => i !== leader)!
  const m = cluster.members[victim]!

  // Move the follower's data onto a 256 MiB tmpfs and fill it but for 3 MiB.
  await cluster.kill(victim, 'SIGTERM')
  const dir = m.dataDir
  renameSync(dir, `${dir}.disk`)
  mkdirSync(dir)
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256m', 'tmpfs', dir])
  t.teardown(() => {
    try {
      execFileSync('umount', ['-l', dir])
    } catch {
      // Not mounted (any more).
    }
  })
  cpSync(`${dir}.disk`, dir, { recursive: true })
  rmSync(`${dir}.disk`, { recursive: true })
  const fs = statfsSync(dir)
  const filler = `${dir}/filler`
  writeFileSync(filler, Buffer.alloc(Math.max(0, fs.bavail * fs.bsize - 3 * 2 ** 20)))
  await cluster.restart(victim)

  const load = new WriteLoad(cluster.endpoints, { prefix: 'faults/disk/', writers: 8, valueBytes: 16 * 1024 })
  fc.loads.push(load.start())
  const exited = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 30_000)
    m.child!.once('exit', () => (clearTimeout(timer), resolve(true)))
  })
  t.ok(exited, `${m.name} stopped once its disk was full`)
  t.match(m.stderrTail, /stopped: ENOSPC: no space left on device/, 'and said why, in one line')
  t.notMatch(m.stderrTail, /triggerUncaughtException|^\s+at /m, 'not as a crash')
  t.comment(`${m.name} exited with ${String(m.exitCode)}; last output:\n${m.stderrTail.split('\n').slice(-4).join('\n')}`)
  const before = load.acked.size
  await sleep(2000)
  t.ok(load.acked.size > before, `the other two still take writes (${load.acked.size - before} more in 2 s)`)

  await load.stop()
  rmSync(filler)
  await cluster.restart(victim)
  const { revision } = await converged(cluster)
  await verifyAcked(t, cluster, load, 'after the disk was freed')
  await checkHashes(t, cluster, revision, 'after the disk was freed')
  t.comment(`disk full: ${figures(load)}`)
})
