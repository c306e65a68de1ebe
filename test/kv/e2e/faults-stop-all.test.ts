// Fault: stop all three members (SIGTERM) and start them again on the same data dirs.
// Everything acknowledged before the stop is there, at the same revision and with the
// same HashKV; leases granted before the stop still exist and still expire (deleting
// their keys) after the restart, new leases expire too, and the cluster takes writes.
import t from 'tap'
import { Clients } from './helpers/fault-etcd.js'
import { checkHashes, converged, duplicateRevisions, figures, liveLeader, sleep, startFaultCluster, verifyAcked } from './helpers/fault-harness.js'
import { WriteLoad } from './helpers/fault-load.js'

const SHORT_TTL = 15
const NEW_TTL = 5
/** Slack over a TTL for expiry: the leader checks every 500 ms, and etcd extends leases by an election timeout on promotion. */
const EXPIRY_SLACK_MS = 5000

t.test('SIGTERM all members, start them again: data, revision, leases', async (t) => {
  const fc = await startFaultCluster(t)
  const { cluster } = fc
  const leader = await liveLeader(cluster)
  let c = new Clients(cluster.endpoints)
  t.teardown(() => c.close())

  const long = await c.m[leader]!.leaseGrant(300)
  await c.m[leader]!.put('faults/lease/long', 'long', long.id)
  const shortGrantedAt = Date.now()
  const short = await c.m[leader]!.leaseGrant(SHORT_TTL)
  await c.m[leader]!.put('faults/lease/short', 'short', short.id)

  const load = new WriteLoad(cluster.endpoints, { prefix: 'faults/stop-all/', writers: 16 }).start()
  fc.loads.push(load)
  await sleep(4000)
  await load.stop()
  const { revision } = await converged(cluster)
  t.ok(revision >= load.maxAckedRevision, `revision ${revision} ≥ highest acknowledged ${load.maxAckedRevision}`)
  const hashBefore = await checkHashes(t, cluster, revision, 'before the stop')

  c.close()
  const stopAt = Date.now()
  await cluster.stopAll('SIGTERM', 10_000)
  const stopMs = Date.now() - stopAt
  for (const m of cluster.members) {
    t.ok(m.exitCode === 0 || m.exitCode === 'SIGTERM', `${m.name} exits on SIGTERM by itself (${String(m.exitCode)}) without being SIGKILLed`)
  }

  const startAt = Date.now()
  await cluster.startAll({ timeoutMs: 60_000 })
  const leaderMs = Date.now() - startAt
  c = new Clients(cluster.endpoints)
  const after = await converged(cluster)
  t.equal(after.revision, revision, `the revision after the restart is the one before (${revision})`)
  t.same(duplicateRevisions(load).slice(0, 5), [], 'no two puts acknowledged at one revision')
  const v = await verifyAcked(t, cluster, load, 'after stop/start')
  const hashAfter = await checkHashes(t, cluster, revision, 'after stop/start')
  t.equal(hashAfter, hashBefore, `HashKV at ${revision} is the one from before the stop`)

  // Leases granted before the stop still exist, on every member.
  for (let i = 0; i < c.m.length; i++) {
    const leases = await c.m[i]!.leaseLeases()
    t.ok(leases.includes(long.id) && leases.includes(short.id), `${cluster.members[i]!.name}: LeaseLeases lists both leases granted before the stop (${leases.join(', ')})`)
  }
  const lead = await liveLeader(cluster)
  const longTtl = await c.m[lead]!.leaseTimeToLive(long.id)
  t.ok(longTtl.ttl > 0 && longTtl.ttl <= 300, `long lease alive after restart (TTL ${longTtl.ttl})`)
  t.same(longTtl.keys, ['faults/lease/long'], 'long lease still holds its key')
  const shortTtl = await c.m[lead]!.leaseTimeToLive(short.id)
  t.ok(shortTtl.ttl > 0, `short lease alive right after restart (TTL ${shortTtl.ttl})`)

  // The cluster accepts writes, through every member.
  const writeRevs: number[] = []
  for (let i = 0; i < c.m.length; i++) writeRevs.push(await c.m[i]!.put(`faults/after/${i}`, `after-${i}`))
  t.ok(writeRevs.every((r) => r > revision), `writes after the restart are acknowledged (revisions ${writeRevs.join(', ')})`)
  const newGrantedAt = Date.now()
  const fresh = await c.m[lead]!.leaseGrant(NEW_TTL)
  await c.m[lead]!.put('faults/lease/new', 'new', fresh.id)

  // Both short leases expire: not before their TTL, and not long after.
  const expiredAt = new Map<string, number>()
  const until = Date.now() + (SHORT_TTL + NEW_TTL) * 1000 + 2 * EXPIRY_SLACK_MS
  while (expiredAt.size < 2 && Date.now() < until) {
    const l = await liveLeader(cluster)
    const leases = await c.m[l]!.leaseLeases().catch(() => undefined)
    if (leases) for (const id of [short.id, fresh.id]) if (!leases.includes(id) && !expiredAt.has(id)) expiredAt.set(id, Date.now())
    await sleep(200)
  }
  const shortGone = expiredAt.get(short.id)
  const freshGone = expiredAt.get(fresh.id)
  t.ok(shortGone !== undefined, `the short lease granted before the stop expired (${shortGone === undefined ? 'still there' : `${shortGone - leaderMs - startAt} ms after the restarted cluster had a leader`})`)
  t.ok(
    shortGone === undefined || (shortGone - shortGrantedAt >= SHORT_TTL * 1000 && shortGone - (startAt + leaderMs) <= SHORT_TTL * 1000 + EXPIRY_SLACK_MS),
    `…not before its TTL, and within TTL + ${EXPIRY_SLACK_MS} ms of the restart`,
  )
  t.ok(
    freshGone !== undefined && freshGone - newGrantedAt >= NEW_TTL * 1000 - 500 && freshGone - newGrantedAt <= NEW_TTL * 1000 + EXPIRY_SLACK_MS,
    `a lease granted after the restart expires on time (${freshGone === undefined ? 'still there' : `${freshGone - newGrantedAt} ms after grant, TTL ${NEW_TTL} s`})`,
  )
  const end = await converged(cluster)
  for (let i = 0; i < c.m.length; i++) {
    const name = cluster.members[i]!.name
    const got = await c.m[i]!.range('faults/lease/')
    t.same([...got.kvs.keys()].sort(), ['faults/lease/long'], `${name}: the expired leases' keys are deleted, the long lease's key is kept`)
    t.ok((await c.m[i]!.leaseLeases()).includes(long.id), `${name}: the long lease still exists`)
  }
  await checkHashes(t, cluster, end.revision, 'after the leases expired')

  t.comment(`stop all: ${figures(load)}; unknown-outcome puts applied: ${v.unknownApplied}/${load.unknown.size}; revision ${revision}`)
  t.comment(
    `stop all: SIGTERM to all exited in ${stopMs} ms; restarted cluster had a leader after ${leaderMs} ms; ` +
      `short lease (TTL ${SHORT_TTL}s) gone ${shortGone === undefined ? '-' : shortGone - shortGrantedAt} ms after grant / ${shortGone === undefined ? '-' : shortGone - startAt - leaderMs} ms after the new leader; ` +
      `new lease (TTL ${NEW_TTL}s) gone ${freshGone === undefined ? '-' : freshGone - newGrantedAt} ms after grant`,
  )
})
