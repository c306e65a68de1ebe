import t from 'tap'
import { MemberCluster, type MemberProcess } from '../../bench/raft/processes.js'

// Three members as separate OS processes over gRPC on loopback, real fsync. The leader
// is killed with SIGKILL while clients are writing; a new leader must take over, and
// after the old leader restarts from its data dir, every write a client saw succeed is
// on every member, in the same order.

async function writeLoop(
  targets: () => MemberProcess[],
  acked: string[],
  until: () => boolean,
  prefix: string,
): Promise<number> {
  let failed = 0
  let n = 0
  await Promise.all(
    Array.from({ length: 8 }, async (_, w) => {
      while (!until()) {
        const live = targets().filter((m) => m.alive)
        if (live.length === 0) break
        const m = live[(w + n) % live.length]!
        const v = `${prefix}-${w}-${n++}`
        try {
          await m.propose(v)
          acked.push(v)
        } catch {
          // Indeterminate (the member died or no leader): the write may or may not land.
          failed++
          await new Promise((r) => setTimeout(r, 20))
        }
      }
    }),
  )
  return failed
}

t.test('kill -9 of the leader during proposals: a new leader is elected and no acknowledged entry is lost', async (t) => {
  const c = new MemberCluster(t.testdir(), 3)
  t.teardown(() => c.killAll())
  await c.start()
  const oldLeader = await c.waitForLeader()
  t.pass(`member ${oldLeader.id} leads`)

  const acked: string[] = []
  let stopWrites = false
  // Clients write through every member (followers forward to the leader).
  const writing = writeLoop(() => c.members, acked, () => stopWrites, 'w')
  await new Promise((r) => setTimeout(r, 1500))
  const before = acked.length
  t.ok(before > 0, `${before} writes acknowledged before the crash`)

  await oldLeader.kill()
  const newLeader = await c.waitForLeader(15_000, oldLeader.id)
  t.not(newLeader.id, oldLeader.id, `member ${newLeader.id} took over`)
  const afterFailover = acked.length
  await new Promise((r) => setTimeout(r, 1500))
  t.ok(acked.length > afterFailover, `${acked.length - afterFailover} writes acknowledged by the new leader`)

  await c.restart(oldLeader)
  await new Promise((r) => setTimeout(r, 500))
  stopWrites = true
  await writing

  // Let every member apply everything the leader committed.
  const leader = await c.waitForLeader()
  const target = (await leader.status()).commit
  const deadline = Date.now() + 15_000
  for (;;) {
    const st = await Promise.all(c.members.map((m) => m.status()))
    if (st.every((s) => s.applied >= target)) break
    if (Date.now() > deadline) t.fail(`members did not catch up to ${target}: ${JSON.stringify(st)}`)
    await new Promise((r) => setTimeout(r, 50))
  }

  const logs = await Promise.all(c.members.map((m) => m.values()))
  for (const [i, log] of logs.entries()) {
    const have = new Set(log)
    const missing = acked.filter((v) => !have.has(v))
    t.same(missing, [], `member ${i + 1} holds all ${acked.length} acknowledged writes`)
    t.equal(have.size, log.length, `member ${i + 1} applied no entry twice`)
  }
  // State machine safety across processes: the applied sequences agree on their common prefix.
  const shortest = Math.min(...logs.map((l) => l.length))
  for (let i = 1; i < logs.length; i++) {
    t.same(logs[i]!.slice(0, shortest), logs[0]!.slice(0, shortest), `member ${i + 1} applied the same sequence as member 1`)
  }
  await c.stopAll()
})
