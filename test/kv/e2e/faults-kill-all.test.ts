// Fault: SIGKILL all three members at once in the middle of a write load, start them
// again on the same data dirs while the writers keep trying: every put acknowledged
// before the crash (and after) is there on every member, and HashKV agrees. Then the
// same with a graceful stop (SIGTERM to all) in the middle of a load.
import t from 'tap'
import { checkHashes, converged, duplicateRevisions, figures, sleep, startFaultCluster, verifyAcked } from './helpers/fault-harness.js'
import { WriteLoad } from './helpers/fault-load.js'

t.test('SIGKILL all members at once under write load, restart them; then SIGTERM all mid-load', async (t) => {
  const fc = await startFaultCluster(t)
  const { cluster } = fc
  const load = new WriteLoad(cluster.endpoints, { prefix: 'faults/kill-all/', writers: 16, backoffMs: 100 }).start()
  fc.loads.push(load)
  await sleep(4000)
  const killedAt = Date.now()
  await cluster.stopAll('SIGKILL')
  const ackedBeforeKill = [...load.acked.values()].filter((a) => a.ackAt <= killedAt).length
  const maxRevBeforeKill = load.maxAckedRevision
  t.ok(ackedBeforeKill > 0, `writes acknowledged before the crash (${ackedBeforeKill})`)

  await sleep(500)
  const startAt = Date.now()
  await cluster.startAll({ timeoutMs: 60_000 })
  const leaderMs = Date.now() - startAt
  const resumed = await load.waitAckAfter(killedAt, 30_000)
  t.ok(resumed !== undefined, `writes resume after the restart (${resumed === undefined ? 'none within 30 s' : `${resumed} ms after the kill`})`)
  await sleep(3000)
  await load.stop()

  const { revision } = await converged(cluster)
  t.ok(revision >= load.maxAckedRevision, `revision ${revision} ≥ highest acknowledged ${load.maxAckedRevision}`)
  t.same(duplicateRevisions(load).slice(0, 5), [], 'no two puts acknowledged at one revision')
  const v = await verifyAcked(t, cluster, load, 'after kill -9 of all')
  await checkHashes(t, cluster, revision, 'after kill -9 of all')

  t.comment(`kill all: ${figures(load)}; unknown-outcome puts applied: ${v.unknownApplied}/${load.unknown.size}`)
  t.comment(
    `kill all: ${ackedBeforeKill} puts acknowledged before the crash (up to revision ${maxRevBeforeKill}); restarted cluster had a leader ${leaderMs} ms after start; ` +
      `first write sent after the kill acknowledged ${resumed} ms after the kill (${resumed === undefined ? '-' : resumed - (startAt - killedAt)} ms after the restart began); revision ${revision}`,
  )

  // Then, on the same cluster, a graceful stop of all three in the middle of a load.
  const load2 = new WriteLoad(cluster.endpoints, { prefix: 'faults/term-all/', writers: 16, backoffMs: 100 }).start()
  fc.loads.push(load2)
  await sleep(3000)
  const termAt = Date.now()
  await cluster.stopAll('SIGTERM', 10_000)
  const termMs = Date.now() - termAt
  for (const m of cluster.members) t.ok(m.exitCode === 0 || m.exitCode === 'SIGTERM', `${m.name} exits on SIGTERM mid-load by itself (${String(m.exitCode)})`)
  const start2 = Date.now()
  await cluster.startAll({ timeoutMs: 60_000 })
  const resumed2 = await load2.waitAckAfter(termAt, 30_000)
  t.ok(resumed2 !== undefined, `writes resume after the restart (${resumed2 === undefined ? 'none within 30 s' : `${resumed2} ms after the stop`})`)
  await sleep(2000)
  await load2.stop()
  const end = await converged(cluster)
  t.same(duplicateRevisions(load2).slice(0, 5), [], 'no two puts acknowledged at one revision')
  await verifyAcked(t, cluster, load, 'after SIGTERM of all (the first load)')
  const v2 = await verifyAcked(t, cluster, load2, 'after SIGTERM of all mid-load')
  await checkHashes(t, cluster, end.revision, 'after SIGTERM of all mid-load')
  t.comment(`SIGTERM all mid-load: ${figures(load2)}; unknown-outcome puts applied: ${v2.unknownApplied}/${load2.unknown.size}`)
  t.comment(`SIGTERM all mid-load: members exited in ${termMs} ms; first write sent after the stop acknowledged ${resumed2} ms after it (${resumed2 === undefined ? '-' : resumed2 - (start2 - termAt)} ms after the restart began); revision ${end.revision}`)
})
