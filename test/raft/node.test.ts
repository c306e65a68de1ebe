import * as grpc from '@grpc/grpc-js'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { type AppliedEntry, type Member, RaftNode } from '../../src/raft/node.js'
import { GrpcTransport } from '../../src/raft/transport/grpc-transport.js'

// RaftNode end to end in one process: real WAL on disk, real gRPC transport on
// loopback ports chosen by the OS. Each member's state machine is its list of values.

interface Running {
  id: number
  node: RaftNode<number>
  server: grpc.Server
  values: string[]
}

async function bindServer(address = '127.0.0.1:0'): Promise<{ server: grpc.Server; address: string }> {
  const server = new grpc.Server()
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  )
  return { server, address: `127.0.0.1:${port}` }
}

function listMachine(values: string[]) {
  return {
    apply: (es: AppliedEntry[]) => es.map((e) => values.push(Buffer.from(e.data).toString())),
    snapshot: () => Buffer.from(JSON.stringify(values)),
    restore: (data: Uint8Array) => {
      values.length = 0
      values.push(...(JSON.parse(Buffer.from(data).toString()) as string[]))
    },
  }
}

async function startMember(
  dir: string,
  id: number,
  server: grpc.Server,
  cluster: Member[],
  opts: { join?: boolean; snapshotCount?: number; catchUp?: number } = {},
): Promise<Running> {
  const values: string[] = []
  const node = await RaftNode.start<number>({
    id,
    dataDir: join(dir, `m${id}`),
    initialCluster: cluster,
    join: opts.join,
    stateMachine: listMachine(values),
    transport: (handler) => new GrpcTransport({ id, clusterId: 'node-test', server, handler }),
    tickMs: 20, // a fast clock keeps the test short; ratios (heartbeat 1, election 10) as etcd
    snapshotCount: opts.snapshotCount,
    snapshotCatchUpEntries: opts.catchUp,
    proposalTimeoutMs: 5000,
  })
  return { id, node, server, values }
}

async function until(what: string, f: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await f())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

async function leaderOf(ms: Running[]): Promise<Running> {
  let leader: Running | undefined
  await until('a leader', () => {
    leader = ms.find((m) => m.node.isLeader())
    return leader !== undefined
  })
  return leader!
}

/**
 * Start members on the given (or OS-chosen) addresses. Everything started, servers
 * included, goes into `running` at once, so a teardown stops it even if a later
 * member fails to start.
 */
async function startCluster(
  dir: string,
  running: Running[],
  servers: grpc.Server[],
  addresses: string[],
  opts: { snapshotCount?: number; catchUp?: number } = {},
) {
  const bound = await Promise.all(addresses.map((a) => bindServer(a)))
  servers.push(...bound.map((b) => b.server))
  const cluster = bound.map((b, i) => ({ id: i + 1, address: b.address }))
  await Promise.all(
    bound.map(async (b, i) => {
      running.push(await startMember(dir, i + 1, b.server, cluster, opts))
    }),
  )
  return { cluster, members: [...running].sort((a, b) => a.id - b.id) }
}

async function stop(running: Running[], servers: grpc.Server[]): Promise<void> {
  for (const m of running.splice(0)) await m.node.stop()
  for (const s of servers.splice(0)) s.forceShutdown()
}

function fresh(t: Test): { running: Running[]; servers: grpc.Server[] } {
  const running: Running[] = []
  const servers: grpc.Server[] = []
  t.teardown(() => stop(running, servers))
  return { running, servers }
}

const ANY3 = ['127.0.0.1:0', '127.0.0.1:0', '127.0.0.1:0']

t.test('proposals through any member are applied everywhere in the same order, across the 32-bit id wrap; reads are linearizable', async (t) => {
  const { running, servers } = fresh(t)
  const { members } = await startCluster(t.testdir(), running, servers, ANY3)
  const leader = await leaderOf(members)
  const follower = members.find((m) => m !== leader)!
  // Request ids travel as 32 bits: start both members just below the wrap.
  for (const m of [leader, follower]) (m.node as unknown as { seq: number }).seq = 2 ** 32 - 20
  const results = await Promise.all([
    ...Array.from({ length: 50 }, (_, i) => leader.node.propose(Buffer.from(`l${i}`))),
    ...Array.from({ length: 50 }, (_, i) => follower.node.propose(Buffer.from(`f${i}`))),
  ])
  t.equal(new Set(results).size, 100, 'each proposal got its own result from the state machine')
  // After a read barrier on the follower, it has applied every write acknowledged before.
  await follower.node.readIndex()
  t.equal(follower.values.length, 100, 'a follower read after the writes sees all of them')
  await until('all members to apply', () => members.every((m) => m.values.length === 100))
  t.same(members[1]!.values, members[0]!.values)
  t.same(members[2]!.values, members[0]!.values)
})

t.test('reads queued behind an in-flight ReadIndex round each see every write acknowledged before they began', async (t) => {
  const { running, servers } = fresh(t)
  const { members } = await startCluster(t.testdir(), running, servers, ANY3)
  const leader = await leaderOf(members)
  const follower = members.find((m) => m !== leader)!
  let acked = 0
  const checks: Promise<void>[] = []
  // Writes and reads interleaved across event-loop turns, so reads arrive while a
  // round is out and must wait for the next one rather than join it.
  for (let i = 0; i < 40; i++) {
    await leader.node.propose(Buffer.from(`w${i}`))
    acked++
    for (const m of [leader, follower]) {
      const before = acked
      checks.push(
        m.node.readIndex().then(() => {
          if (m.values.length < before) throw new Error(`member ${m.id} read after ${before} acknowledged writes saw ${m.values.length}`)
        }),
      )
    }
    if (i % 4 === 0) await new Promise((r) => setImmediate(r))
  }
  await Promise.all(checks)
  t.equal(checks.length, 80, 'every read completed and saw the writes acknowledged before it')
})

t.test('a member joins as a learner, catches up from a snapshot, is promoted; the leader removes itself', async (t) => {
  const dir = t.testdir()
  const { running, servers } = fresh(t)
  const { cluster, members } = await startCluster(dir, running, servers, ANY3, { snapshotCount: 50, catchUp: 5 })
  let leader = await leaderOf(members)
  for (let i = 0; i < 120; i++) await leader.node.propose(Buffer.from(`v${i}`))
  t.ok(leader.node.status().appliedIndex > 50, 'the log went past the snapshot threshold')

  const b4 = await bindServer()
  servers.push(b4.server)
  const conf = await leader.node.addMember({ id: 4, address: b4.address }, { learner: true })
  t.same(conf.learners, [4], 'member 4 is a learner')
  const m4 = await startMember(dir, 4, b4.server, [...cluster, { id: 4, address: b4.address }], { join: true, snapshotCount: 50, catchUp: 5 })
  running.push(m4)
  await until('the learner to catch up', () => m4.values.length === 120)
  t.same(m4.values, leader.values, 'the learner got the state through a snapshot and the log after it')
  t.notOk(m4.node.isLeader(), 'a learner never leads')

  const promoted = await leader.node.promoteMember(4)
  t.same(promoted.voters, [1, 2, 3, 4], 'member 4 is a voter')

  const oldLeader = leader
  const afterRemoval = await oldLeader.node.removeMember(oldLeader.id)
  t.notOk(afterRemoval.voters.includes(oldLeader.id), 'the old leader left the configuration')
  const rest = running.filter((m) => m !== oldLeader)
  leader = await leaderOf(rest)
  t.not(leader.id, oldLeader.id, `member ${leader.id} leads after the leader removed itself`)
  await leader.node.propose(Buffer.from('after'))
  await until('the remaining members to apply', () => rest.every((m) => m.values.at(-1) === 'after'))
  t.pass('the smaller cluster keeps committing')
})

t.test('all members restart from disk with every committed entry present', async (t) => {
  const dir = t.testdir()
  const { running, servers } = fresh(t)
  const { cluster, members } = await startCluster(dir, running, servers, ANY3)
  const leader = await leaderOf(members)
  for (let i = 0; i < 200; i++) await leader.node.propose(Buffer.from(`v${i}`))
  const expected = [...leader.values]
  await stop(running, servers)

  const { members: again } = await startCluster(dir, running, servers, cluster.map((m) => m.address))
  const newLeader = await leaderOf(again)
  // The new leader commits an entry of its own term, and with it everything before.
  await newLeader.node.propose(Buffer.from('new-term'))
  await until('all to apply', () => again.every((m) => m.values.length === expected.length + 1))
  for (const m of again) t.same(m.values.slice(0, expected.length), expected, `member ${m.id} has all 200 committed entries`)
})
