// Linearizable reads without writing to the log (Raft thesis §6.4): ReadIndex
// confirmed by a heartbeat round (safe), or by the leader lease (lease-based).
import t from 'tap'
import { ReadOnlyOption } from '../../src/raft/read-only.js'
import { MessageType, NONE, StateType } from '../../src/raft/types.js'
import { ELECTION_TICK, Network, text } from './helpers/network.js'

const states = (net: Network, id: number) => net.node(id).readStates.map((rs) => ({ index: rs.index, ctx: text(rs.requestCtx) }))

t.test('a ReadIndex on the leader is answered with its commit index once a heartbeat round confirms it still leads', async (t) => {
  const net = new Network({ voters: [1, 2, 3] })
  net.elect(1)
  net.propose(1, 'a')
  const before = net.count((m) => m.type === MessageType.Heartbeat)
  net.readIndex(1, 'r1')
  t.ok(net.count((m) => m.type === MessageType.Heartbeat) > before, 'the leader sent a heartbeat round carrying the request')
  t.same(states(net, 1), [{ index: 2, ctx: 'r1' }])
  t.equal(net.raft(1).readOnly.size, 0, 'and the leader forgot the request')
})

t.test('a safe ReadIndex is answered only after a quorum acknowledged the leader, and a later acknowledgement confirms every earlier request', async (t) => {
  const net = new Network({ voters: [1, 2, 3] })
  net.elect(1)
  net.isolate(2)
  net.isolate(3)
  net.readIndex(1, 'a')
  net.readIndex(1, 'b')
  net.readIndex(1, 'c')
  net.tick(3, [1])
  t.same(states(net, 1), [], 'no quorum, no answer')
  net.recover()
  net.tick(1, [1]) // the next heartbeat carries the newest pending request
  t.same(states(net, 1), [
    { index: 1, ctx: 'a' },
    { index: 1, ctx: 'b' },
    { index: 1, ctx: 'c' },
  ], 'all three, in order')
})

t.test('a ReadIndex on a follower is forwarded to the leader and answered to the follower with the leader’s commit index', async (t) => {
  const net = new Network({ voters: [1, 2, 3] })
  net.elect(1)
  net.propose(1, 'a')
  net.propose(1, 'b')
  net.readIndex(2, 'from-follower')
  t.ok(net.count((m) => m.type === MessageType.ReadIndex && m.from === 2 && m.to === 1) === 1, 'forwarded')
  t.ok(net.count((m) => m.type === MessageType.ReadIndexResp && m.to === 2) === 1, 'answered')
  t.same(states(net, 2), [{ index: 3, ctx: 'from-follower' }])
  t.same(states(net, 1), [], 'the leader keeps no ReadState for someone else’s request')
})

t.test('a follower that knows no leader drops a ReadIndex', async (t) => {
  const net = new Network({ voters: [1, 2, 3] })
  net.readIndex(2, 'nobody')
  net.elect(1)
  net.tick(3)
  t.same(states(net, 2), [])
  t.equal(net.count((m) => m.type === MessageType.ReadIndex), 0)
})

t.test('ReadIndex requests that reach a new leader before it committed an entry of its term are answered after it does, never earlier', async (t) => {
  const net = new Network({ voters: [1, 2, 3] })
  net.ignore(MessageType.AppResp) // the no-op cannot commit yet
  net.elect(1)
  t.equal(net.raft(1).raftLog.committed, 0)
  net.readIndex(1, 'on-leader')
  net.readIndex(2, 'on-follower')
  t.same(states(net, 1), [], 'not answered: the leader’s commit index may be stale')
  t.same(states(net, 2), [])

  net.recover()
  net.tick(1) // heartbeats → the followers answer → the leader re-sends, they ack the no-op
  t.equal(net.raft(1).raftLog.committed, 1, 'the no-op committed')
  t.same(states(net, 1), [{ index: 1, ctx: 'on-leader' }], 'then the queued read is answered at the no-op’s index')
  t.same(states(net, 2), [{ index: 1, ctx: 'on-follower' }])
})

t.test('lease-based reads are answered at once, without a heartbeat round, when enabled', async (t) => {
  const net = new Network({ voters: [1, 2, 3], config: { checkQuorum: true, readOnlyOption: ReadOnlyOption.LeaseBased } })
  net.elect(1)
  net.propose(1, 'a')
  const heartbeats = net.count((m) => m.type === MessageType.Heartbeat)
  net.isolate(2)
  net.isolate(3)
  net.readIndex(1, 'lease')
  t.same(states(net, 1), [{ index: 2, ctx: 'lease' }], 'answered from the lease, no acknowledgement needed')
  t.equal(net.count((m) => m.type === MessageType.Heartbeat), heartbeats, 'no heartbeat was sent for it')
  net.recover()
  net.readIndex(3, 'lease-from-follower')
  t.same(states(net, 3), [{ index: 2, ctx: 'lease-from-follower' }])
})

t.test('a lease-based read needs check-quorum, which bounds how long a deposed leader can believe it leads', async (t) => {
  t.throws(() => new Network({ voters: [1, 2, 3], config: { readOnlyOption: ReadOnlyOption.LeaseBased } }), /checkQuorum/)
})

t.test('a single-member cluster answers a ReadIndex at once', async (t) => {
  const net = new Network({ voters: [1] })
  net.elect(1)
  net.propose(1, 'a')
  net.readIndex(1, 'solo')
  t.same(states(net, 1), [{ index: 2, ctx: 'solo' }])
})

t.test('a read index is the commit index when the request arrived: later writes do not move it', async (t) => {
  const net = new Network({ voters: [1, 2, 3] })
  net.elect(1)
  net.isolate(3)
  // The read waits for a quorum; meanwhile more entries commit through 2.
  net.cut(1, 2)
  net.readIndex(1, 'r')
  net.recover()
  net.isolate(3)
  net.propose(1, 'w1')
  net.propose(1, 'w2')
  const committed = net.raft(1).raftLog.committed
  t.equal(committed, 3)
  t.same(states(net, 1), [], 'not yet confirmed')
  net.tick(1, [1]) // the next heartbeat round confirms it
  const rs = states(net, 1)
  t.same(rs, [{ index: 1, ctx: 'r' }], 'answered with the commit index at the time of the request')
})

t.test('a deposed leader never answers a pending read', async (t) => {
  const net = new Network({ voters: [1, 2, 3] })
  net.elect(1)
  net.isolate(1)
  net.readIndex(1, 'stale')
  net.tickUntil(() => net.leader() !== NONE && net.leader() !== 1, 20 * ELECTION_TICK, [2, 3])
  net.recover()
  net.tick(2)
  t.not(net.raft(1).state, StateType.Leader)
  t.same(states(net, 1), [])
})
