// Linearizability of the KV under leader kills: eight clients read, write and
// compare-and-set four keys on a 3-member `raftplane store` cluster, each operation
// to a member picked at random, while the leader is killed with SIGKILL twice and
// restarted; the history must be linearizable (./checker/). Three watchers, one per
// member at first, resume on another member when theirs dies: each must see the
// store's history in order, without duplicates or gaps (./checker/watch.ts), and that
// history must hold every acknowledged write at its revision. The same workload
// with serializable reads sent to a member paused behind the others must not be:
// proof that the checker can fail on a real store's history, not only on hand-made
// ones. FAULTS_TARGET=etcd runs both on etcd.
import t from 'tap'
import { converged, liveLeader, sleep, startFaultCluster } from '../kv/e2e/helpers/fault-harness.js'
import { checkRegisters } from './checker/register.js'
import { checkWatch } from './checker/watch.js'
import { RegisterLoad } from './register-load.js'
import { ResumingWatcher } from './resuming-watcher.js'

const KEYS = ['lin/a', 'lin/b', 'lin/c', 'lin/d']

t.test('linearizable through two leader kills', async (t) => {
  const { cluster } = await startFaultCluster(t)
  const load = new RegisterLoad({ endpoints: cluster.endpoints, keys: KEYS, clients: 8, maxOperations: 40_000 }).start()
  t.teardown(() => load.close())
  const watchers = [0, 1, 2].map((m) => new ResumingWatcher(cluster.endpoints, 'lin/', 1, m))
  t.teardown(() => watchers.forEach((w) => w.close()))
  await sleep(1000)
  // One more that joins late, from a revision in the past.
  const late = new ResumingWatcher(cluster.endpoints, 'lin/', Math.max(1, Math.floor(watchers[0]!.revision / 2)), 2)
  watchers.push(late)
  await sleep(1000)
  for (let round = 0; round < 2; round++) {
    const leader = await liveLeader(cluster)
    await cluster.kill(leader, 'SIGKILL')
    await sleep(1500)
    const restarting = Date.now()
    await cluster.restart(leader)
    t.comment(`round ${round + 1}: ${cluster.members[leader]!.name} killed, back in ${Date.now() - restarting} ms`)
    await sleep(1500)
  }
  await load.stop()
  const counts = load.counts()
  t.comment(`operations: ${JSON.stringify(counts)}; errors: ${JSON.stringify(Object.fromEntries(load.errors))}`)
  t.ok(counts.read! > 200 && counts.write! > 100 && counts.cas! > 100, 'enough answered operations of each kind to mean something')
  const checkedAt = performance.now()
  const result = checkRegisters(load.history)
  t.comment(`checked in ${Math.round(performance.now() - checkedAt)} ms`)
  t.ok(result.conclusive, 'the search finished within its budget')
  for (const o of result.objects) t.ok(o.linearizable, `${o.object}: ${o.operations} operations linearizable (${o.explored} configurations)${o.explanation ? `\n${o.explanation}` : ''}`)

  // The store's history, read once more by a new watcher from the first revision.
  const { revision } = await converged(cluster)
  const reference = new ResumingWatcher(cluster.endpoints, 'lin/', 1, await liveLeader(cluster))
  t.teardown(() => reference.close())
  t.ok(await reference.caughtUp(revision, 20_000), `the reference watcher reached revision ${revision}`)
  const history = reference.events
  const byRevision = new Map(history.map((e) => [`${e.revision}\0${e.value}`, e]))
  const missing = [...load.acked].filter(([value, rev]) => !byRevision.has(`${rev}\0${value}`))
  t.same(missing.slice(0, 5), [], `every acknowledged write (${load.acked.size}) is in the history at its revision`)
  t.same(checkWatch(history, history, 1), [], 'the history itself is ordered and unique')
  for (const [i, w] of watchers.entries()) {
    t.ok(await w.caughtUp(revision, 20_000), `watcher ${i} reached revision ${revision}`)
    t.same(checkWatch(w.events, history, w.startRevision), [], `watcher ${i} (from revision ${w.startRevision}, ${w.resumes} resumes): ${w.events.length} events, none out of order, repeated or missing`)
  }
  t.ok(watchers.some((w) => w.resumes > 0), 'some watcher had to resume on another member')
})

t.test('serializable reads from a member that is behind are caught as stale', async (t) => {
  const { cluster } = await startFaultCluster(t)
  const leader = await liveLeader(cluster)
  const lagging = [0, 1, 2].find((i) => i !== leader)!
  const others = [0, 1, 2].filter((i) => i !== lagging)
  // Clients 0-3 write and compare-and-set through the two members that stay; clients
  // 4-5 only read, serializably, from the member that is paused for a while, so their
  // reads, queued while it sleeps, are answered from its old state when it wakes.
  const load = new RegisterLoad({
    endpoints: cluster.endpoints,
    keys: KEYS.slice(0, 1),
    clients: 6,
    serializable: true,
    timeoutMs: 10_000,
    readers: 2,
    pick: (c) => (c >= 4 ? lagging : others[c % 2]!),
  }).start()
  t.teardown(() => load.close())
  const pid = cluster.members[lagging]!.pid!
  // Never leave it stopped: teardown's SIGTERM would not reach a stopped process.
  t.teardown(() => {
    try {
      process.kill(pid, 'SIGCONT')
    } catch {
      // It exited already.
    }
  })
  let found = false
  for (let round = 0; round < 5 && !found; round++) {
    await sleep(1000)
    process.kill(pid, 'SIGSTOP')
    await sleep(1500)
    process.kill(pid, 'SIGCONT')
    await sleep(500)
    found = !checkRegisters(load.history.filter((o) => o.client < 4 || o.input.f === 'read')).linearizable
  }
  await load.stop()
  t.comment(`operations: ${JSON.stringify(load.counts())}`)
  const result = checkRegisters(load.history)
  t.ok(result.conclusive)
  t.notOk(result.linearizable, 'the stale reads are found')
  t.comment(result.objects.find((o) => !o.linearizable)?.explanation ?? '')
})
