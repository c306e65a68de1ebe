// The RawNode contract: what a Ready holds and when, what advance() acknowledges,
// and how a node restarted from its storage resumes.
import t from 'tap'
import { decodeConfChange } from '../../src/raft/confchange.js'
import { ProposalDroppedError } from '../../src/raft/errors.js'
import { RawNode, persistToMemory } from '../../src/raft/rawnode.js'
import { MemoryStorage } from '../../src/raft/storage.js'
import { ProgressState } from '../../src/raft/tracker/progress.js'
import { ConfChangeType, type Entry, EntryType, MessageType, NONE, type Ready, StateType, message } from '../../src/raft/types.js'
import { ELECTION_TICK, HEARTBEAT_TICK, Network, bytes, ents, seededRandom, shape, summary, text } from './helpers/network.js'

function rawNode(id: number, storage: MemoryStorage, applied?: number): RawNode {
  return new RawNode({ id, storage, electionTick: ELECTION_TICK, heartbeatTick: HEARTBEAT_TICK, random: seededRandom(id), applied })
}

/** Persist and acknowledge a Ready the way an application would. */
function handle(rn: RawNode, storage: MemoryStorage): Ready {
  const rd = rn.ready()
  persistToMemory(storage, rd)
  rn.advance()
  return rd
}

t.test('Ready: a campaign yields the new soft state, a hard state to fsync, and the vote requests', async (t) => {
  const s = MemoryStorage.withPeers([1, 2, 3])
  const rn = rawNode(1, s)
  t.notOk(rn.hasReady(), 'a fresh node has nothing to do')
  rn.campaign()
  t.ok(rn.hasReady())
  const rd = rn.ready()
  t.same(rd.softState, { lead: NONE, state: StateType.Candidate })
  t.same(rd.hardState, { term: 1, vote: 1, commit: 0 })
  t.equal(rd.mustSync, true, 'term and vote must be durable before the requests go out')
  t.same(rd.entries, [])
  t.same(rd.committedEntries, [])
  t.same(rd.messages.map(summary), [
    { type: 'Vote', from: 1, to: 2, term: 1 },
    { type: 'Vote', from: 1, to: 3, term: 1 },
  ])
  persistToMemory(s, rd)
  rn.advance()
  t.notOk(rn.hasReady(), 'nothing left once advanced')
  t.same(s.initialState().hardState, { term: 1, vote: 1, commit: 0 })
})

t.test('Ready: a single-member leader gets its no-op to persist and, in the same Ready, to apply', async (t) => {
  const s = MemoryStorage.withPeers([1])
  const rn = rawNode(1, s)
  rn.campaign()
  const rd = rn.ready()
  t.same(rd.softState, { lead: 1, state: StateType.Leader })
  t.same(rd.hardState, { term: 1, vote: 1, commit: 1 })
  t.same(shape(rd.entries), [[1, 1]])
  t.same(shape(rd.committedEntries), [[1, 1]])
  t.equal(rd.mustSync, true)
  t.same(rd.messages, [])
  persistToMemory(s, rd)
  rn.advance()
  t.equal(rn.status().applied, 1)

  rn.propose(bytes('foo'))
  const rd2 = rn.ready()
  t.equal(rd2.softState, undefined, 'no soft state when it did not change')
  t.same(rd2.hardState, { term: 1, vote: 1, commit: 2 })
  t.same(shape(rd2.entries), [[2, 1]])
  t.equal(text(rd2.committedEntries[0]!.data), 'foo')
  rn.advance()
})

t.test('Ready: mustSync only when term, vote or entries change, not for the commit index alone', async (t) => {
  const s = MemoryStorage.withPeers([1, 2])
  const rn = rawNode(1, s)
  rn.step(message({ type: MessageType.App, from: 2, to: 1, term: 1, entries: ents(1, 1, 1) }))
  const rd1 = handle(rn, s)
  t.equal(rd1.mustSync, true, 'new term and entries')
  rn.step(message({ type: MessageType.Heartbeat, from: 2, to: 1, term: 1, commit: 2 }))
  const rd2 = handle(rn, s)
  t.same(rd2.hardState, { term: 1, vote: NONE, commit: 2 })
  t.equal(rd2.mustSync, false, 'only the commit index moved')
  t.same(shape(rd2.committedEntries), [[1, 1], [2, 1]])
  t.same(rd2.messages.map(summary), [{ type: 'HeartbeatResp', from: 1, to: 2, term: 1 }])
})

t.test('Ready: only a leader whose term and vote are unchanged may send before persisting (its appends), never a vote or an acknowledgement', async (t) => {
  const s1 = MemoryStorage.withPeers([1, 2])
  const s2 = MemoryStorage.withPeers([1, 2])
  const n1 = rawNode(1, s1)
  const n2 = rawNode(2, s2)
  const deliver = (from: RawNode, fromStorage: MemoryStorage, to: RawNode): Ready => {
    const rd = handle(from, fromStorage)
    for (const m of rd.messages) to.step(m)
    return rd
  }
  n1.campaign()
  t.equal(deliver(n1, s1, n2).sendBeforePersist, false, 'vote requests wait for the new term and vote to be durable')
  t.equal(deliver(n2, s2, n1).sendBeforePersist, false, 'so does the vote')
  const elected = deliver(n1, s1, n2)
  t.equal(elected.softState?.state, StateType.Leader)
  t.equal(elected.sendBeforePersist, true, 'the new leader’s MsgApp may go out while its no-op is written')
  t.equal(deliver(n2, s2, n1).sendBeforePersist, false, 'a follower’s acknowledgement waits for its write')
  n1.propose(bytes('x'))
  const rd = n1.ready()
  t.same(shape(rd.entries), [[2, 1]])
  t.equal(rd.sendBeforePersist, true)
  n1.advance()
})

t.test('Ready: ready() twice without advance() throws, and so does advance() without ready()', async (t) => {
  const s = MemoryStorage.withPeers([1])
  const rn = rawNode(1, s)
  t.throws(() => rn.advance(), /advance\(\) without ready\(\)/)
  rn.campaign()
  rn.ready()
  t.throws(() => rn.ready(), /ready\(\) called again before advance\(\)/)
  rn.advance()
  t.doesNotThrow(() => rn.ready())
})

t.test('step() refuses local messages: they never come from the network', async (t) => {
  const rn = rawNode(1, MemoryStorage.withPeers([1, 2]))
  for (const type of [MessageType.Hup, MessageType.Beat, MessageType.Unreachable, MessageType.SnapStatus, MessageType.CheckQuorum]) {
    t.throws(() => rn.step(message({ type, from: 2, to: 1 })), /local message/, MessageType[type])
  }
  t.equal(rn.raft.state, StateType.Follower, 'none of them took effect')
  t.equal(rn.raft.term, 0)
})

t.test('step() ignores a response from a node that is not a member', async (t) => {
  const s = MemoryStorage.withPeers([1])
  const rn = rawNode(1, s)
  rn.campaign()
  handle(rn, s)
  rn.step(message({ type: MessageType.AppResp, from: 9, to: 1, term: 1, index: 1 }))
  rn.step(message({ type: MessageType.HeartbeatResp, from: 9, to: 1, term: 1 }))
  t.equal(rn.raft.state, StateType.Leader)
  t.notOk(rn.hasReady())
})

t.test('readIndex() answers through Ready.readStates', async (t) => {
  const s = MemoryStorage.withPeers([1])
  const rn = rawNode(1, s)
  rn.campaign()
  handle(rn, s)
  rn.readIndex(bytes('ctx'))
  t.ok(rn.hasReady())
  const rd = handle(rn, s)
  t.same(rd.readStates.map((rs) => ({ index: rs.index, ctx: text(rs.requestCtx) })), [{ index: 1, ctx: 'ctx' }])
  t.notOk(rn.hasReady())
})

t.test('propose() throws ProposalDroppedError when there is no leader to take it', async (t) => {
  const rn = rawNode(1, MemoryStorage.withPeers([1, 2, 3]))
  t.throws(() => rn.propose(bytes('x')), ProposalDroppedError)
  rn.campaign()
  t.throws(() => rn.proposeBatch([bytes('x')]), ProposalDroppedError, 'a candidate neither')
})

t.test('proposeBatch() appends every entry and replicates them in one MsgApp', async (t) => {
  const net = new Network({ voters: [1, 2] })
  net.elect(1)
  const before = net.count((m) => m.type === MessageType.App)
  net.node(1).rawNode.proposeBatch([bytes('a'), bytes('b'), bytes('c')])
  net.flush()
  t.equal(net.count((m) => m.type === MessageType.App) - before, 2, 'one MsgApp with the entries, one carrying the new commit index')
  t.same(net.node(2).appliedData(), ['a', 'b', 'c'])
})

t.test('status() reports the replication progress of every member, on the leader only', async (t) => {
  const net = new Network({ voters: [1, 2, 3] })
  net.elect(1)
  net.propose(1, 'x')
  const st = net.node(1).rawNode.status()
  t.equal(st.state, StateType.Leader)
  t.equal(st.lead, 1)
  t.same(st.confState, { voters: [1, 2, 3], learners: [] })
  t.same([...st.progress!.keys()].sort(), [1, 2, 3])
  t.equal(st.progress!.get(2)!.match, 2)
  t.equal(net.node(2).rawNode.status().progress, undefined)
})

t.test('reportUnreachable() moves a replicating follower back to Probe', async (t) => {
  const net = new Network({ voters: [1, 2] })
  net.elect(1)
  const pr = net.raft(1).prs.progress.get(2)!
  t.equal(pr.state, ProgressState.Replicate)
  net.node(1).rawNode.reportUnreachable(2)
  t.equal(pr.state, ProgressState.Probe)
})

t.test('bootstrap() writes the initial members as committed conf changes that the first Ready hands out', async (t) => {
  const s = new MemoryStorage()
  const rn = rawNode(1, s)
  rn.bootstrap([1, 2, 3])
  t.throws(() => rn.bootstrap([1]), /nonempty/, 'only once')
  const rd = rn.ready()
  t.same(rd.hardState, { term: 1, vote: NONE, commit: 3 })
  t.same(shape(rd.entries), [[1, 1], [2, 1], [3, 1]])
  t.same(rd.committedEntries.map((e) => e.type), [EntryType.ConfChange, EntryType.ConfChange, EntryType.ConfChange])
  t.same(rd.committedEntries.map((e) => decodeConfChange(e.data)), [1, 2, 3].map((nodeId) => ({ type: ConfChangeType.AddNode, nodeId })))
  persistToMemory(s, rd)
  for (const e of rd.committedEntries) rn.applyConfChange(decodeConfChange(e.data))
  rn.advance()
  t.same(rn.status().confState, { voters: [1, 2, 3], learners: [] })
  rn.campaign()
  t.equal(rn.raft.state, StateType.Candidate, 'once they are applied it may campaign')
  t.equal(rn.raft.term, 2)
})

t.test('a bootstrapped node does not campaign before the bootstrap conf changes are applied', async (t) => {
  const rn = rawNode(1, new MemoryStorage())
  rn.bootstrap([1, 2, 3])
  rn.campaign()
  t.equal(rn.raft.state, StateType.Follower)
})

// ---- restart -------------------------------------------------------------------------

t.test('a RawNode rebuilt from the same storage keeps its term, vote and commit index', async (t) => {
  const net = new Network({ voters: [1, 2, 3] })
  net.elect(1)
  net.propose(1, 'a')
  net.propose(1, 'b')
  const before = net.node(2).rawNode.status()
  net.stop(2)
  const n2 = net.restart(2)
  const after = n2.rawNode.status()
  t.equal(after.term, before.term)
  t.equal(after.vote, before.vote)
  t.equal(after.commit, before.commit)
  t.equal(after.state, StateType.Follower)
  t.same(n2.appliedData(), ['a', 'b'], 're-applied what was committed')
  net.propose(1, 'c')
  t.same(n2.appliedData(), ['a', 'b', 'c'], 'and goes on replicating')
})

t.test('the first Ready of a restarted node hands out the committed but unapplied entries, and nothing to persist', async (t) => {
  const s = MemoryStorage.withPeers([1, 2])
  const log: Entry[] = [
    { term: 1, index: 1, type: EntryType.Normal, data: new Uint8Array(0) },
    { term: 1, index: 2, type: EntryType.Normal, data: bytes('foo') },
    { term: 1, index: 3, type: EntryType.Normal, data: bytes('bar') },
  ]
  s.append(log)
  s.setHardState({ term: 1, vote: 1, commit: 2 })

  const rn = rawNode(1, s)
  t.same({ term: rn.raft.term, vote: rn.raft.vote, commit: rn.raft.raftLog.committed }, { term: 1, vote: 1, commit: 2 })
  const rd = rn.ready()
  t.equal(rd.hardState, undefined, 'the hard state is already durable')
  t.same(rd.entries, [], 'so are the entries')
  t.same(shape(rd.committedEntries), [[1, 1], [2, 1]], 'committed entries up to the commit index, not beyond')
  t.same(rd.messages, [])
  rn.advance()
  t.notOk(rn.hasReady())

  // An application that already applied some entries says so with Config.applied.
  const rn2 = rawNode(1, s, 1)
  t.same(shape(rn2.ready().committedEntries), [[2, 1]])
})

t.test('a restarted node does not vote again for another candidate in a term it already voted in', async (t) => {
  const s = MemoryStorage.withPeers([1, 2, 3])
  s.setHardState({ term: 5, vote: 2, commit: 0 })
  const rn = rawNode(1, s)
  rn.step(message({ type: MessageType.Vote, from: 3, to: 1, term: 5 }))
  const rd = rn.ready()
  t.same(rd.messages.map(summary), [{ type: 'VoteResp', from: 1, to: 3, term: 5, reject: true }])
})
