// Fault: SIGKILL a follower under write load with --snapshot-count=50, keep writing
// until the leader's raft log no longer holds what the follower lacks, restart it:
// it must catch up by installing the leader's snapshot (it logs so, at info level),
// then hold every acknowledged put, and HashKV agrees on all members.
//
// The leader keeps 5000 entries below its latest snapshot for slow followers (as
// etcd's SnapshotCatchUpEntries), so the follower must be more than 5000 + 50 entries
// behind; the load uses more writers than faults.test.ts to get there sooner.
import t from 'tap'
import { Clients } from './helpers/fault-etcd.js'
import {
  checkHashes,
  converged,
  duplicateRevisions,
  figures,
  liveLeader,
  SNAPSHOT_INSTALLED,
  sleep,
  startFaultCluster,
  verifyAcked,
} from './helpers/fault-harness.js'
import { WriteLoad } from './helpers/fault-load.js'

const SNAPSHOT_COUNT = 50
/** Entries the leader keeps below a snapshot (src/raft/wal/durable-log.ts keepEntries; etcd's SnapshotCatchUpEntries). */
const CATCH_UP_ENTRIES = 5000
const BEHIND = CATCH_UP_ENTRIES + 2 * SNAPSHOT_COUNT + 200
const MAX_WAIT_MS = 70_000

t.test('SIGKILL a follower under write load, restart it: it catches up by snapshot', async (t) => {
  const fc = await startFaultCluster(t, { snapshotCount: SNAPSHOT_COUNT })
  const { cluster } = fc
  const leader = await liveLeader(cluster)
  const follower = (leader + 1) % cluster.members.length
  const load = new WriteLoad(cluster.endpoints, { prefix: 'faults/follower/', writers: 48 }).start()
  fc.loads.push(load)
  await sleep(2000)

  const c = new Clients(cluster.endpoints)
  t.teardown(() => c.close())
  const followerApplied = (await c.m[follower]!.status()).raftAppliedIndex
  const killedAt = Date.now()
  await cluster.kill(follower, 'SIGKILL')
  const resumed = await load.waitAckAfter(killedAt, 20_000)
  t.ok(resumed !== undefined && resumed <= 5000, `writes go on without the follower (first ack ${resumed ?? '>20000'} ms after the kill)`)

  // Write until the leader has compacted its log past what the follower has.
  let leaderIndex = 0
  while (Date.now() - killedAt < MAX_WAIT_MS) {
    const lead = await liveLeader(cluster)
    leaderIndex = (await c.m[lead]!.status()).raftIndex
    if (leaderIndex - followerApplied >= BEHIND) break
    await sleep(500)
  }
  const downMs = Date.now() - killedAt
  t.ok(leaderIndex - followerApplied >= BEHIND, `follower is ${leaderIndex - followerApplied} entries behind (need ${BEHIND}) after ${downMs} ms down`)

  let installed = ''
  const off = cluster.members[follower]!.onOutput((text) => {
    const line = text.split('\n').find((l) => SNAPSHOT_INSTALLED.test(l))
    if (line && !installed) installed = line
  })
  t.teardown(off)
  const restartAt = Date.now()
  await cluster.restart(follower, { extraArgs: ['--log-level=info'] })
  const restartMs = Date.now() - restartAt
  // Caught up: its applied index reaches the leader's commit index of now, under load.
  let caughtUpMs: number | undefined
  {
    const lead = await liveLeader(cluster)
    const target = (await c.m[lead]!.status()).raftIndex
    const until = Date.now() + 40_000
    while (Date.now() < until) {
      const st = await c.m[follower]!.status().catch(() => undefined)
      if (st && st.raftAppliedIndex >= target) {
        caughtUpMs = Date.now() - restartAt
        break
      }
      await sleep(200)
    }
  }
  t.ok(caughtUpMs !== undefined, `restarted follower applied up to the leader's commit index (${caughtUpMs ?? '>40000 + restart'} ms after restart)`)
  await sleep(2000)
  await load.stop()

  const { revision, status } = await converged(cluster)
  t.ok(installed !== '', `the restarted follower installed a snapshot from the leader: ${installed.trim().slice(0, 200) || 'no such line in its log'}`)
  t.ok(status[follower]!.raftAppliedIndex > followerApplied + BEHIND, `its applied index went from ${followerApplied} to ${status[follower]!.raftAppliedIndex}`)
  t.ok(revision >= load.maxAckedRevision, `revision ${revision} ≥ highest acknowledged ${load.maxAckedRevision}`)
  t.same(duplicateRevisions(load).slice(0, 5), [], 'no two puts acknowledged at one revision')
  const v = await verifyAcked(t, cluster, load, 'after snapshot catch-up')
  await checkHashes(t, cluster, revision, 'after snapshot catch-up')

  t.comment(`follower kill (--snapshot-count=${SNAPSHOT_COUNT}): ${figures(load)}`)
  t.comment(
    `follower kill: first write sent after the kill acknowledged in ${resumed} ms; follower down ${downMs} ms, ${leaderIndex - followerApplied} entries behind; ` +
      `answered Status ${restartMs} ms after restart, caught up ${caughtUpMs} ms after restart; unknown-outcome puts applied: ${v.unknownApplied}/${load.unknown.size}; keys ${v.keys}; revision ${revision}`,
  )
})
