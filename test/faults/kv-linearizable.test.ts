// Linearizability of the KV under leader kills: eight clients read, write and
// compare-and-set four keys on a 3-member `raftplane store` cluster, each operation
// to a member picked at random, while the leader is killed with SIGKILL twice and
// restarted; the history must be linearizable (./checker/). The same workload
// with serializable reads sent to a member paused behind the others must not be:
// proof that the checker can fail on a real store's history, not only on hand-made
// ones. FAULTS_TARGET=etcd runs both on etcd.
import t from 'tap'
import { liveLeader, sleep, startFaultCluster } from '../kv/e2e/helpers/fault-harness.js'
import { checkRegisters } from './checker/register.js'
import { RegisterLoad } from './register-load.js'

const KEYS = ['lin/a', 'lin/b', 'lin/c', 'lin/d']

t.test('linearizable through two leader kills', async (t) => {
  const { cluster } = await startFaultCluster(t)
  const load = new RegisterLoad({ endpoints: cluster.endpoints, keys: KEYS, clients: 8, maxOperations: 40_000 }).start()
  t.teardown(() => load.close())
  await sleep(2000)
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
