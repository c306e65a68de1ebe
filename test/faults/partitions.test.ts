// Network partitions on a 3-member `raftplane store` cluster whose members each live
// in their own network namespace (./netns-lab.ts): clients reach every member, the
// members' links to each other are cut and healed. Under each partition clients read,
// write and compare-and-set through random members and the history must be
// linearizable:
//  - the leader isolated: it steps down (check-quorum), the other two elect a leader
//    and go on;
//  - a bridge: two members cannot see each other, the third sees both;
//  - a follower isolated, read with serializable reads: those are stale, and the
//    checker must say so (the proof that it can catch a partitioned follower).
// After each, the links heal and the members agree on HashKV. Needs root.
import t, { type Test } from 'tap'
import { checkHashes, converged, liveLeader, sleep, startFaultCluster } from '../kv/e2e/helpers/fault-harness.js'
import { checkRegisters } from './checker/register.js'
import { NetnsLab } from './netns-lab.js'
import { RegisterLoad } from './register-load.js'
import type { StoreCluster } from '../../bench/kv/cluster.js'

const lab = NetnsLab.available() ? new NetnsLab(3) : undefined
t.teardown(() => lab?.destroy())

function linearizable(t: Test, load: RegisterLoad, label: string): void {
  const counts = load.counts()
  t.comment(`${label}: ${JSON.stringify(counts)}; errors ${JSON.stringify(Object.fromEntries(load.errors))}`)
  // A low bar: a loaded 2-core machine answers few; the verdict needs some of each kind, not many.
  t.ok(counts.write! + counts.cas! > 20 && counts.read! > 20, `${label}: enough answered operations`)
  const r = checkRegisters(load.history)
  t.ok(r.conclusive, `${label}: the check finished`)
  for (const o of r.objects) t.ok(o.linearizable, `${label}: ${o.object}, ${o.operations} operations, linearizable${o.explanation ? `\n${o.explanation}` : ''}`)
}

async function leaderOf(cluster: StoreCluster, i: number): Promise<string | undefined> {
  try {
    return (await cluster.status(i, 500)).leader
  } catch {
    return undefined
  }
}

t.test('partitions', { skip: lab === undefined ? 'needs root and network namespaces' : false }, async (t) => {
  const { cluster } = await startFaultCluster(t, { hosts: lab!.hosts, wrap: (i) => lab!.wrap(i) })
  const ids = await Promise.all([0, 1, 2].map(async (i) => (await cluster.status(i)).memberId))

  await t.test('the leader isolated', async (t) => {
    const leader = await liveLeader(cluster)
    const load = new RegisterLoad({ endpoints: cluster.endpoints, keys: ['p1/a', 'p1/b'], clients: 6, timeoutMs: 2000 }).start()
    t.teardown(() => load.close())
    await sleep(1500)
    const cutAt = Date.now()
    lab!.isolate(leader)
    let steppedDown: number | undefined
    while (Date.now() - cutAt < 8000 && steppedDown === undefined) {
      if ((await leaderOf(cluster, leader)) !== ids[leader]) steppedDown = Date.now() - cutAt
      else await sleep(100)
    }
    t.ok(steppedDown !== undefined, `the isolated leader stops leading (after ${steppedDown} ms)`)
    const others = [0, 1, 2].filter((i) => i !== leader)
    let newLeader: string | undefined
    while (Date.now() - cutAt < 10_000) {
      const seen = await Promise.all(others.map((i) => leaderOf(cluster, i)))
      if (seen[0] !== undefined && seen[0] !== '0' && seen[0] !== ids[leader] && seen[0] === seen[1]) {
        newLeader = seen[0]
        break
      }
      await sleep(100)
    }
    t.ok(newLeader !== undefined, `the other two agree on a new leader (${Date.now() - cutAt} ms after the cut)`)
    await sleep(3000)
    lab!.healAll()
    await sleep(1500)
    await load.stop()
    linearizable(t, load, 'isolated leader')
  })

  await t.test('a bridge: two members cut from each other, the third sees both', async (t) => {
    const load = new RegisterLoad({ endpoints: cluster.endpoints, keys: ['p2/a', 'p2/b'], clients: 6, timeoutMs: 2000 }).start()
    t.teardown(() => load.close())
    await sleep(1000)
    lab!.cut(0, 1)
    await sleep(5000)
    const during = load.counts()
    lab!.healAll()
    await sleep(1000)
    await load.stop()
    t.ok(during.write! + during.cas! > 20, 'writes went on during the bridge partition')
    linearizable(t, load, 'bridge')
  })

  await t.test('serializable reads from an isolated follower are caught as stale', async (t) => {
    const leader = await liveLeader(cluster)
    const follower = [0, 1, 2].find((i) => i !== leader)!
    const others = [0, 1, 2].filter((i) => i !== follower)
    const load = new RegisterLoad({
      endpoints: cluster.endpoints,
      keys: ['p3/a'],
      clients: 6,
      timeoutMs: 2000,
      serializable: true,
      readers: 2,
      pick: (c) => (c >= 4 ? follower : others[c % 2]!),
    }).start()
    t.teardown(() => load.close())
    await sleep(1000)
    lab!.isolate(follower)
    await sleep(3000)
    lab!.healAll()
    await load.stop()
    const r = checkRegisters(load.history)
    t.ok(r.conclusive)
    t.notOk(r.linearizable, `the stale reads are found (${JSON.stringify(load.counts())})`)
    t.comment(r.objects.find((o) => !o.linearizable)?.explanation?.split('\n').slice(0, 3).join('\n') ?? '')
  })

  const { revision } = await converged(cluster)
  await checkHashes(t, cluster, revision, 'after the partitions healed')
})
