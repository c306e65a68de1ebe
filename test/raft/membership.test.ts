// Membership changes one server at a time (Raft thesis §4.1, §4.2.1 learners):
// a change takes effect when its entry is applied; only one may be pending.
import t from 'tap'
import { encodeConfChange } from '../../src/raft/confchange.js'
import { ProposalDroppedError } from '../../src/raft/errors.js'
import { MemoryStorage } from '../../src/raft/storage.js'
import { ConfChangeType, EntryType, MessageType, NONE, StateType, message } from '../../src/raft/types.js'
import { ELECTION_TICK, Network, newTestRaft, readMessages } from './helpers/network.js'

const add = (nodeId: number) => ({ type: ConfChangeType.AddNode, nodeId })
const addLearner = (nodeId: number) => ({ type: ConfChangeType.AddLearnerNode, nodeId })
const remove = (nodeId: number) => ({ type: ConfChangeType.RemoveNode, nodeId })

t.test('an added node catches up with the log and then counts towards the quorum', async (t) => {
  const net = new Network({ voters: [1, 2, 3] })
  net.elect(1)
  net.propose(1, 'before')
  net.addNode(4)
  net.proposeConfChange(1, add(4))
  net.tick(1)
  for (const id of [1, 2, 3, 4]) t.same(net.node(id).confState.voters, [1, 2, 3, 4], `${id} applied the change`)
  t.same(net.node(4).appliedData(), ['before'], 'the new node caught up')
  t.equal(net.raft(1).prs.progress.get(4)!.match, net.raft(1).raftLog.lastIndex())

  // Four voters: a quorum is three. With 2 and 3 away, 1 and 4 cannot commit...
  net.isolate(2)
  net.isolate(3)
  net.propose(1, 'needs three')
  t.equal(net.node(1).appliedData().length, 1, 'two of four is not a quorum')
  // ...and with only 2 away, 4's acknowledgement is what makes a quorum.
  net.recover()
  net.isolate(2)
  net.tick(1)
  t.same(net.node(4).appliedData(), ['before', 'needs three'], '1, 3 and 4 committed it')
  t.same(net.node(1).appliedData(), ['before', 'needs three'])
})

t.test('an added node that was down when it was added catches up later and can be elected', async (t) => {
  const net = new Network({ voters: [1, 2, 3] })
  net.elect(1)
  net.proposeConfChange(1, add(4))
  net.propose(1, 'x')
  net.addNode(4)
  net.tick(2)
  t.same(net.node(4).appliedData(), ['x'])
  net.stop(1)
  net.campaign(4)
  t.equal(net.raft(4).state, StateType.Leader, 'the new member is a full voter')
})

t.test('removing a follower shrinks the quorum: entries that waited for its acknowledgement commit', async (t) => {
  const s = MemoryStorage.withPeers([1, 2])
  const r = newTestRaft(1, s)
  r.becomeCandidate()
  r.becomeLeader()
  r.step(message({ type: MessageType.Prop, from: 1, to: 1, entries: [{ term: 0, index: 0, type: EntryType.ConfChange, data: encodeConfChange(remove(2)) }] }))
  const ccIndex = r.raftLog.lastIndex()
  r.step(message({ type: MessageType.Prop, from: 1, to: 1, entries: [{ term: 0, index: 0, type: EntryType.Normal, data: new TextEncoder().encode('hello') }] }))
  t.equal(r.raftLog.committed, 0, 'nothing commits without 2')

  r.step(message({ type: MessageType.AppResp, from: 2, to: 1, term: r.term, index: ccIndex }))
  t.same(r.raftLog.nextEnts().map((e) => e.type), [EntryType.Normal, EntryType.ConfChange], 'the no-op and the removal committed; "hello" waits for 2')
  r.raftLog.appliedTo(ccIndex)

  r.applyConfChange(remove(2))
  const ents = r.raftLog.nextEnts()
  t.equal(ents.length, 1, 'with 2 gone the leader alone is a quorum')
  t.equal(new TextDecoder().decode(ents[0]!.data), 'hello')
})

t.test('removing a follower: the rest go on without it and it no longer counts', async (t) => {
  const net = new Network({ voters: [1, 2, 3] })
  net.elect(1)
  net.proposeConfChange(1, remove(3))
  for (const id of [1, 2]) t.same(net.node(id).confState.voters, [1, 2])
  net.stop(3)
  net.propose(1, 'two of two')
  t.same(net.node(2).appliedData(), ['two of two'])
  t.notOk(net.raft(1).prs.progress.has(3))
})

t.test('removing the leader: it steps down and hands over at once with TimeoutNow to a caught-up voter', async (t) => {
  const net = new Network({ voters: [1, 2, 3] })
  net.elect(1)
  net.propose(1, 'a')
  net.proposeConfChange(1, remove(1))
  t.not(net.raft(1).state, StateType.Leader, 'the removed leader stepped down')
  t.equal(net.count((m) => m.type === MessageType.TimeoutNow && m.from === 1), 1, 'and sent TimeoutNow')
  const lead = net.leader()
  t.ok(lead === 2 || lead === 3, `a remaining member (${lead}) leads without waiting for an election timeout`)
  t.equal(net.raft(lead).term, 2)
  t.same(net.raft(lead).prs.confState().voters, [2, 3])
  net.propose(lead, 'b')
  for (const id of [2, 3]) t.same(net.node(id).appliedData(), ['a', 'b'])
  t.throws(() => net.propose(1, 'x'), ProposalDroppedError, 'the removed node has no leader to forward to')
  net.tick(5 * ELECTION_TICK)
  t.equal(net.raft(1).state, StateType.Follower, 'and never campaigns again')
  t.equal(net.leader(), lead)
})

t.test('removing the leader when its TimeoutNow is lost: the remaining members elect a leader after an election timeout', async (t) => {
  const net = new Network({ voters: [1, 2, 3] })
  net.elect(1)
  net.ignore(MessageType.TimeoutNow)
  net.proposeConfChange(1, remove(1))
  t.not(net.raft(1).state, StateType.Leader)
  t.equal(net.leader(), NONE, 'nobody leads yet')
  net.recover()
  const ticks = net.tickUntil(() => net.leader() !== NONE, 10 * ELECTION_TICK)
  t.ok(ticks >= ELECTION_TICK, `elected after ${ticks} ticks`)
  t.not(net.leader(), 1)
})

t.test('only one unapplied conf change at a time: a second proposal is dropped until the first is applied', async (t) => {
  const net = new Network({ voters: [1, 2, 3] })
  net.elect(1)
  net.isolate(2)
  net.isolate(3)
  net.proposeConfChange(1, add(4))
  t.throws(() => net.proposeConfChange(1, add(5)), ProposalDroppedError)
  t.equal(net.raft(1).raftLog.lastIndex(), 2, 'only the first was appended')
  net.propose(1, 'normal entries are still accepted')
  net.recover()
  net.tick(1)
  t.same(net.node(1).confState.voters, [1, 2, 3, 4], 'the first applied')
  net.proposeConfChange(1, add(5))
  t.same(net.node(1).confState.voters, [1, 2, 3, 4, 5], 'now the second is accepted')
})

t.test('two conf changes in one proposal batch: the second is refused and the batch leaves no trace', async (t) => {
  const net = new Network({ voters: [1, 2, 3] })
  net.elect(1)
  const raft = net.raft(1)
  const cc = (id: number) => ({ term: 0, index: 0, type: EntryType.ConfChange, data: encodeConfChange(add(id)) })
  const last = raft.raftLog.lastIndex()
  t.throws(() => raft.step(message({ type: MessageType.Prop, from: 1, to: 1, entries: [cc(4), cc(5)] })), ProposalDroppedError)
  t.equal(raft.raftLog.lastIndex(), last, 'nothing appended')
  net.flush()
  net.proposeConfChange(1, add(4))
  t.same(net.node(1).confState.voters, [1, 2, 3, 4], 'a single conf change is accepted afterwards')
})

t.test('a new leader accepts no conf change until it has applied every entry that was in its log when it was elected', async (t) => {
  const net = new Network({ voters: [1, 2, 3] })
  net.elect(1)
  net.ignore(MessageType.AppResp)
  net.propose(1, 'uncommitted') // replicated to 2 and 3, never acknowledged
  net.stop(1)
  net.campaign(2)
  t.equal(net.raft(2).state, StateType.Leader)
  t.equal(net.raft(2).raftLog.committed, 1, 'index 2 (maybe a conf change, as far as 2 cares) is not committed')
  t.throws(() => net.proposeConfChange(2, add(4)), ProposalDroppedError, 'so a conf change is refused')
  net.recover()
  net.tick(1)
  t.same(net.node(2).appliedData(), ['uncommitted'])
  net.proposeConfChange(2, add(4))
  t.same(net.node(2).confState.voters, [1, 2, 3, 4], 'accepted once it is applied')
})

t.test('a node does not campaign while a committed conf change is not yet applied', async (t) => {
  const s = MemoryStorage.withPeers([1, 2, 3])
  s.append([{ term: 1, index: 1, type: EntryType.ConfChange, data: encodeConfChange(add(4)) }])
  s.setHardState({ term: 1, vote: NONE, commit: 1 })
  const r = newTestRaft(1, s)
  r.step(message({ type: MessageType.Hup, from: 1, to: 1 }))
  t.equal(r.state, StateType.Follower)
  t.same(readMessages(r), [])
  r.raftLog.appliedTo(1)
  r.applyConfChange(add(4))
  r.step(message({ type: MessageType.Hup, from: 1, to: 1 }))
  t.equal(r.state, StateType.Candidate, 'once applied it may')
  t.same(readMessages(r).map((m) => m.to), [2, 3, 4])
})

// ---- learners ----------------------------------------------------------------------

t.test('learners receive the log but never vote and never campaign', async (t) => {
  const net = new Network({ voters: [1, 2, 3], learners: [4] })
  net.elect(1)
  t.equal(net.count((m) => (m.type === MessageType.Vote || m.type === MessageType.PreVote) && m.to === 4), 0, 'no vote request goes to a learner')
  net.propose(1, 'x')
  t.same(net.node(4).appliedData(), ['x'], 'the learner applied the entry')

  net.isolate(4)
  net.tick(10 * ELECTION_TICK, [4])
  t.equal(net.raft(4).state, StateType.Follower, 'cut off, it still does not campaign')
  net.campaign(4)
  t.equal(net.raft(4).state, StateType.Follower, 'not even when asked to')
  t.equal(net.raft(4).term, 1)
})

t.test('a learner is not counted for commit', async (t) => {
  const net = new Network({ voters: [1, 2], learners: [3] })
  net.elect(1)
  net.isolate(2)
  net.propose(1, 'x')
  t.equal(net.raft(3).raftLog.lastIndex(), 2, 'the learner has the entry')
  t.equal(net.raft(1).raftLog.committed, 1, 'yet it is not committed: the learner’s copy does not count')
  net.recover()
  net.tick(1)
  t.equal(net.raft(1).raftLog.committed, 2)
})

t.test('a learner added by AddLearnerNode catches up; AddNode then promotes it to a voter that counts and may lead', async (t) => {
  const net = new Network({ voters: [1, 2, 3] })
  net.elect(1)
  net.propose(1, 'a')
  net.addNode(4)
  net.proposeConfChange(1, addLearner(4))
  net.tick(1)
  t.same(net.node(1).confState, { voters: [1, 2, 3], learners: [4] })
  t.same(net.node(4).appliedData(), ['a'])
  t.ok(net.raft(1).prs.progress.get(4)!.isLearner)

  net.proposeConfChange(1, add(4))
  for (const id of [1, 2, 3, 4]) t.same(net.node(id).confState, { voters: [1, 2, 3, 4], learners: [] }, `${id} sees 4 promoted`)
  t.notOk(net.raft(1).prs.progress.get(4)!.isLearner)

  net.isolate(2)
  net.isolate(3)
  net.propose(1, 'b')
  t.equal(net.node(1).appliedData().length, 1, 'four voters: 1 and 4 are not a quorum')
  net.recover()
  net.isolate(2)
  net.tick(1)
  t.same(net.node(1).appliedData(), ['a', 'b'], '1, 3 and the promoted 4 are')
  net.recover()
  net.stop(1)
  net.campaign(4)
  t.equal(net.raft(4).state, StateType.Leader, 'the promoted learner can be elected')
})

t.test('a voter is not demoted by AddLearnerNode (only one-at-a-time changes are supported)', async (t) => {
  const r = newTestRaft(1, [1, 2, 3])
  r.applyConfChange(addLearner(2))
  t.same(r.prs.confState(), { voters: [1, 2, 3], learners: [] })
})

t.test('removing a learner: it stops receiving the log and nothing else changes', async (t) => {
  const net = new Network({ voters: [1, 2], learners: [3] })
  net.elect(1)
  net.proposeConfChange(1, remove(3))
  t.same(net.node(1).confState, { voters: [1, 2], learners: [] })
  const before = net.count((m) => m.to === 3)
  net.propose(1, 'x')
  net.tick(2)
  t.equal(net.count((m) => m.to === 3), before, 'no message goes to the removed learner')
})
