// Fault: SIGKILL the leader of a 3-member `raftplane store` cluster under continuous
// write load (16 writers, distinct keys), then restart it on the same ports and data
// dir. Writes must resume on a new leader within a few seconds; once the load stops,
// every acknowledged put is on every member (serializable reads, member by member)
// with its value and revision, and HashKV agrees at one revision.
// The other fault scenarios: faults-*.test.ts. FAULTS_TARGET=etcd runs them on etcd.
import t from 'tap'
import { checkHashes, converged, duplicateRevisions, figures, liveLeader, sleep, startFaultCluster, verifyAcked } from './helpers/fault-harness.js'
import { WriteLoad } from './helpers/fault-load.js'

/** "Writes resume on the new leader within a few seconds." */
const RESUME_WITHIN_MS = 5000

t.test('SIGKILL the leader under write load, restart it', async (t) => {
  const fc = await startFaultCluster(t)
  const { cluster } = fc
  const leader = await liveLeader(cluster)
  const load = new WriteLoad(cluster.endpoints, { prefix: 'faults/leader/', writers: 16 }).start()
  fc.loads.push(load)
  await sleep(3000)
  const before = load.acked.size
  t.ok(before > 0, `writes acknowledged before the kill (${before})`)

  const killedAt = Date.now()
  await cluster.kill(leader, 'SIGKILL')
  const resumed = await load.waitAckAfter(killedAt, 20_000)
  const newLeader = await liveLeader(cluster)
  t.not(newLeader, leader, `a new leader: ${cluster.members[newLeader]!.name} (was ${cluster.members[leader]!.name})`)
  t.ok(resumed !== undefined && resumed <= RESUME_WITHIN_MS, `writes resume within ${RESUME_WITHIN_MS} ms of the kill (took ${resumed ?? 'more than 20000'} ms)`)

  await sleep(2000)
  const restartAt = Date.now()
  await cluster.restart(leader)
  const restartMs = Date.now() - restartAt
  await sleep(3000)
  await load.stop()
  const gap = load.maxAckGap(killedAt, load.stoppedAt)

  const { revision } = await converged(cluster)
  t.ok(revision >= load.maxAckedRevision, `revision ${revision} ≥ highest acknowledged ${load.maxAckedRevision}`)
  t.same(duplicateRevisions(load).slice(0, 5), [], 'no two puts acknowledged at one revision')
  const v = await verifyAcked(t, cluster, load, 'after restart')
  await checkHashes(t, cluster, revision, 'after restart')

  t.comment(`leader kill: ${figures(load)}`)
  t.comment(
    `leader kill: first write sent after the kill acknowledged in ${resumed} ms; longest gap between acks ${gap} ms; ` +
      `killed member answered Status ${restartMs} ms after restart; unknown-outcome puts applied: ${v.unknownApplied}/${load.unknown.size}; keys ${v.keys}; revision ${revision}`,
  )
})
