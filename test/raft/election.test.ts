// Leader election beyond the paper's basics: whole clusters on the in-memory network,
// pre-vote (thesis §9.6), check-quorum and the leader lease (thesis §6.2, §4.2.3).
import t from 'tap'
import { MemoryStorage } from '../../src/raft/storage.js'
import { MessageType, NONE, StateType, message } from '../../src/raft/types.js'
import { ELECTION_TICK, Network, ents, newTestRaft, readMessages, summary } from './helpers/network.js'

function storageWith(peers: number[], log: ReturnType<typeof ents>, term: number): MemoryStorage {
  const s = MemoryStorage.withPeers(peers)
  s.append(log)
  s.setHardState({ term, vote: NONE, commit: 0 })
  return s
}

for (const preVote of [false, true]) {
  const mode = preVote ? 'with pre-vote' : 'without pre-vote'
  t.test(`a candidate needs a majority of the whole membership, down members included (${mode})`, async (t) => {
    // When it cannot win, a pre-candidate stays in its term; a candidate moved to term 1.
    const stuck = preVote ? { state: StateType.PreCandidate, term: 0 } : { state: StateType.Candidate, term: 1 }
    const cases = [
      { voters: [1, 2, 3], down: [], want: { state: StateType.Leader, term: 1 } },
      { voters: [1, 2, 3], down: [3], want: { state: StateType.Leader, term: 1 } },
      { voters: [1, 2, 3], down: [2, 3], want: stuck },
      { voters: [1, 2, 3, 4], down: [2, 3], want: stuck },
      { voters: [1, 2, 3, 4, 5], down: [2, 3], want: { state: StateType.Leader, term: 1 } },
    ]
    for (const c of cases) {
      const net = new Network({ voters: c.voters, blackholes: c.down, config: { preVote } })
      net.campaign(1)
      t.equal(net.raft(1).state, c.want.state, `${c.voters.length} voters, ${JSON.stringify(c.down)} down`)
      t.equal(net.raft(1).term, c.want.term)
    }
  })

  t.test(`a candidate whose log is behind a majority's loses, even in the same term (${mode})`, async (t) => {
    // 2, 3 and 4 have entries 1 does not; they answer with rejections, not silence.
    const peers = [1, 2, 3, 4, 5]
    const net = new Network({
      voters: peers,
      config: { preVote },
      storageFor: (id) =>
        id === 2 || id === 3 ? storageWith(peers, ents(1, 1), 1) : id === 4 ? storageWith(peers, ents(1, 1, 1), 1) : undefined,
    })
    net.campaign(1)
    t.equal(net.raft(1).state, StateType.Follower)
    t.equal(net.raft(1).term, 1)
  })
}

t.test('a single-member cluster elects itself at once, and after one election timeout on its own', async (t) => {
  const net = new Network({ voters: [1] })
  net.campaign(1)
  t.equal(net.raft(1).state, StateType.Leader)
  t.equal(net.raft(1).raftLog.committed, 1, 'its no-op commits without anyone else')

  const alone = new Network({ voters: [1], config: { preVote: true } })
  const ticks = alone.tickUntil(() => alone.raft(1).state === StateType.Leader, 2 * ELECTION_TICK)
  t.ok(ticks >= ELECTION_TICK && ticks < 2 * ELECTION_TICK, `elected after ${ticks} ticks`)
})

t.test('a cluster with no leader elects exactly one by timeouts alone', async (t) => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const net = new Network({ voters: [1, 2, 3, 4, 5], seed })
    net.tickUntil(() => net.leader() !== NONE, 10 * ELECTION_TICK)
    const leaders = net.ids().filter((id) => net.raft(id).state === StateType.Leader)
    t.equal(leaders.length, 1, `seed ${seed}: one leader (${leaders})`)
    for (const id of net.ids()) t.equal(net.raft(id).lead, leaders[0], `seed ${seed}: ${id} follows it`)
  }
})

t.test('a split vote elects no one, and a later election with a new term resolves it', async (t) => {
  const net = new Network({ voters: [1, 2, 3, 4] })
  // 1 gets 2's vote and 3 gets 4's: two of four each, no majority.
  net.cut(1, 3)
  net.cut(1, 4)
  net.campaign(1)
  net.recover()
  net.cut(3, 1)
  net.cut(3, 2)
  net.campaign(3)
  net.recover()
  t.equal(net.raft(1).state, StateType.Candidate)
  t.equal(net.raft(3).state, StateType.Candidate)
  t.equal(net.raft(1).term, 1)
  t.equal(net.raft(3).term, 1)
  t.equal(net.leader(), NONE, 'no leader in term 1')

  net.tickUntil(() => net.leader() !== NONE, 10 * ELECTION_TICK)
  const lead = net.leader()
  t.ok(net.raft(lead).term > 1, `a leader (${lead}) emerges in a later term (${net.raft(lead).term})`)
  t.equal(net.ids().filter((id) => net.raft(id).state === StateType.Leader).length, 1)
})

for (const config of [{ preVote: true }, { preVote: true, checkQuorum: true }]) {
  t.test(`a partitioned node rejoining does not depose a healthy leader (${JSON.stringify(config)})`, async (t) => {
    const net = new Network({ voters: [1, 2, 3], config })
    net.elect(1)
    net.propose(1, 'a')
    net.isolate(3)
    net.tick(10 * ELECTION_TICK)
    t.equal(net.raft(3).term, 1, 'the partitioned node campaigned with pre-votes only: its term did not grow')
    t.not(net.raft(3).state, StateType.Leader)
    t.equal(net.raft(1).state, StateType.Leader, 'the majority side kept its leader')
    net.propose(1, 'b')

    net.recover()
    net.tick(2 * ELECTION_TICK)
    t.equal(net.raft(1).state, StateType.Leader, 'the leader keeps its leadership after the heal')
    t.equal(net.raft(1).term, 1, 'and its term')
    t.equal(net.raft(3).state, StateType.Follower)
    t.equal(net.raft(3).lead, 1)
    t.same(net.node(3).appliedData(), ['a', 'b'], 'the rejoined node caught up')
  })
}

t.test('without pre-vote, by contrast, a rejoining node with an inflated term forces a new election', async (t) => {
  const net = new Network({ voters: [1, 2, 3] })
  net.elect(1)
  net.isolate(3)
  net.tick(10 * ELECTION_TICK)
  t.ok(net.raft(3).term > 1, `the partitioned node's term grew to ${net.raft(3).term}`)
  net.recover()
  net.tickUntil(() => net.leader() !== NONE && net.raft(net.leader()).term >= net.raft(3).term, 10 * ELECTION_TICK)
  t.ok(net.raft(net.leader()).term > 1, 'the cluster had to move to a new term')
})

t.test('with pre-vote, a pre-candidate does not bump its term until it wins the pre-vote', async (t) => {
  const r = newTestRaft(1, [1, 2, 3], { preVote: true })
  r.becomeFollower(1, NONE)
  r.step(message({ type: MessageType.Hup, from: 1, to: 1 }))
  t.equal(r.state, StateType.PreCandidate)
  t.equal(r.term, 1, 'term unchanged')
  t.equal(r.vote, NONE, 'vote unchanged')
  t.same(readMessages(r).map(summary), [
    { type: 'PreVote', from: 1, to: 2, term: 2 },
    { type: 'PreVote', from: 1, to: 3, term: 2 },
  ], 'pre-votes name the term it would campaign in')
  r.step(message({ type: MessageType.PreVoteResp, from: 2, to: 1, term: 2 }))
  t.equal(r.state, StateType.Candidate, 'a majority of pre-votes starts the real election')
  t.equal(r.term, 2)
  t.same(readMessages(r).map((m) => MessageType[m.type]), ['Vote', 'Vote'])
})

t.test('with check-quorum, a follower that heard from its leader within the election timeout ignores vote requests (leader lease)', async (t) => {
  const r = newTestRaft(1, [1, 2, 3], { checkQuorum: true })
  r.becomeFollower(1, 2)
  r.step(message({ type: MessageType.Vote, from: 3, to: 1, term: 2, index: 10, logTerm: 1 }))
  t.same(readMessages(r), [], 'no answer')
  t.equal(r.term, 1, 'term unchanged')
  t.equal(r.lead, 2, 'still follows its leader')

  // A leadership transfer is the leader's own wish: it bypasses the lease.
  r.step(message({ type: MessageType.Vote, from: 3, to: 1, term: 2, index: 10, logTerm: 1, context: new TextEncoder().encode('CampaignTransfer') }))
  t.equal(r.term, 2)
  t.same(readMessages(r).map(summary), [{ type: 'VoteResp', from: 1, to: 3, term: 2 }])

  // Once the lease has run out, a vote request is answered again.
  const r2 = newTestRaft(1, [1, 2, 3], { checkQuorum: true })
  r2.becomeFollower(1, 2)
  for (let i = 0; i < ELECTION_TICK; i++) r2.electionElapsed++
  r2.step(message({ type: MessageType.Vote, from: 3, to: 1, term: 2, index: 10, logTerm: 1 }))
  t.equal(r2.term, 2)
  t.same(readMessages(r2).map(summary), [{ type: 'VoteResp', from: 1, to: 3, term: 2 }])
})

t.test('check-quorum: a leader cut off from a quorum steps down within an election timeout of its last quorum check, and a ReadIndex issued on it never produces a ReadState', async (t) => {
  const net = new Network({ voters: [1, 2, 3], config: { checkQuorum: true } })
  net.elect(1)
  net.propose(1, 'a')
  // Cut it off on the last tick of a check-quorum round: that round still counts the
  // followers' answers from before the cut, the next one hears nobody.
  net.tickUntil(() => net.raft(1).electionElapsed === ELECTION_TICK - 1)
  net.isolate(1)
  net.readIndex(1, 'stale-read')
  net.tick(1, [1])
  t.equal(net.raft(1).state, StateType.Leader, 'the check covering the time before the cut passes')
  let ticks = 0
  while (net.raft(1).state === StateType.Leader && ticks <= 2 * ELECTION_TICK) {
    net.tick(1, [1])
    ticks++
  }
  t.equal(net.raft(1).state, StateType.Follower, 'the leader stepped down')
  t.equal(ticks, ELECTION_TICK, 'exactly one election timeout after its last successful check')
  t.equal(net.raft(1).lead, NONE)

  net.tick(5 * ELECTION_TICK)
  t.same(net.node(1).readStates, [], 'the read was never confirmed')
  const lead = net.leader()
  t.ok(lead === 2 || lead === 3, 'the majority elected a new leader')
  t.not(net.raft(1).state, StateType.Leader)
})

t.test('check-quorum: an isolated leader steps down within two election timeouts wherever in the round it was cut off', async (t) => {
  for (let offset = 0; offset < ELECTION_TICK; offset++) {
    const net = new Network({ voters: [1, 2, 3], config: { checkQuorum: true } })
    net.elect(1)
    net.tick(offset)
    net.isolate(1)
    const ticks = net.tickUntil(() => net.raft(1).state !== StateType.Leader, 3 * ELECTION_TICK, [1])
    t.ok(ticks <= 2 * ELECTION_TICK, `cut off ${offset} ticks into its term: stepped down after ${ticks} ticks`)
  }
})

t.test('check-quorum: a stale leader learns a higher term from the answer to its heartbeat and steps down, freeing a stuck candidate', async (t) => {
  const net = new Network({ voters: [1, 2, 3], config: { checkQuorum: true } })
  net.elect(1)
  net.isolate(1)
  net.tickUntil(() => net.leader() !== NONE && net.leader() !== 1, 10 * ELECTION_TICK, [2, 3])
  const newLead = net.leader()
  const newTerm = net.raft(newLead).term
  t.equal(net.raft(1).state, StateType.Leader, 'the old leader has not noticed yet')
  net.recover()
  net.tick(1, [1]) // its heartbeat reaches the others, who answer with their term
  t.equal(net.raft(1).state, StateType.Follower)
  t.equal(net.raft(1).term, newTerm)
})

t.test('a leader in a minority partition cannot commit, and after the heal its uncommitted entries are replaced', async (t) => {
  const net = new Network({ voters: [1, 2, 3, 4, 5] })
  net.elect(1)
  net.cut(1, 3)
  net.cut(1, 4)
  net.cut(1, 5)
  net.cut(2, 3)
  net.cut(2, 4)
  net.cut(2, 5)
  net.propose(1, 'lost')
  t.equal(net.raft(1).raftLog.committed, 1, 'two of five cannot commit')
  net.campaign(3)
  t.equal(net.raft(3).state, StateType.Leader, 'the majority side elects 3')
  net.propose(3, 'kept')
  net.recover()
  net.tick(2) // heartbeats reach the old side
  t.equal(net.raft(1).state, StateType.Follower)
  for (const id of net.ids()) {
    t.same(net.node(id).appliedData(), ['kept'], `${id} applied only the majority's entry`)
  }
  t.equal(net.raft(1).raftLog.lastIndex(), net.raft(3).raftLog.lastIndex(), "1's uncommitted entry was overwritten")
})

t.test('with pre-vote, a pre-vote from an older term is refused with the current term, and the stale pre-candidate adopts it', async (t) => {
  const r = newTestRaft(1, [1, 2, 3], { preVote: true })
  r.becomeFollower(5, NONE)
  r.step(message({ type: MessageType.PreVote, from: 2, to: 1, term: 3, index: 100, logTerm: 2 }))
  t.same(readMessages(r).map(summary), [{ type: 'PreVoteResp', from: 1, to: 2, term: 5, reject: true }])

  const c = newTestRaft(2, [1, 2, 3], { preVote: true })
  c.becomeFollower(2, NONE)
  c.step(message({ type: MessageType.Hup, from: 2, to: 2 }))
  t.equal(c.state, StateType.PreCandidate)
  c.step(message({ type: MessageType.PreVoteResp, from: 1, to: 2, term: 5, reject: true }))
  t.equal(c.state, StateType.Follower)
  t.equal(c.term, 5, 'a rejection from a higher term moves it to that term')
})

t.test('with pre-vote, a granted pre-vote carries the future term but changes neither side’s term', async (t) => {
  const r = newTestRaft(1, [1, 2, 3], { preVote: true })
  r.becomeFollower(2, NONE)
  r.step(message({ type: MessageType.PreVote, from: 2, to: 1, term: 3 }))
  t.same(readMessages(r).map(summary), [{ type: 'PreVoteResp', from: 1, to: 2, term: 3 }])
  t.equal(r.term, 2, 'the voter stays in its term')
  t.equal(r.vote, NONE, 'and records no vote')
})

t.test('campaigning on a leader is a no-op', async (t) => {
  const net = new Network({ voters: [1, 2, 3] })
  net.elect(1)
  net.campaign(1)
  t.equal(net.raft(1).state, StateType.Leader)
  t.equal(net.raft(1).term, 1)
})

t.test('a candidate with a stale log can raise the term but cannot win; an up-to-date member is elected again', async (t) => {
  const net = new Network({ voters: [1, 2, 3] })
  net.cut(1, 3)
  net.campaign(1)
  net.campaign(3)
  t.equal(net.raft(1).state, StateType.Leader, '1 won with 2’s vote')
  t.equal(net.raft(3).state, StateType.Candidate, '3 got only its own vote')
  t.equal(net.raft(2).raftLog.lastIndex(), 1, '2 has the leader’s no-op, 3 has not')
  net.recover()
  net.campaign(3)
  t.equal(net.raft(3).state, StateType.Follower, 'refused: its log is behind')
  t.equal(net.raft(1).state, StateType.Follower, 'but the higher term deposed the leader')
  for (const id of [1, 2, 3]) t.equal(net.raft(id).term, 2)
  net.tickUntil(() => net.leader() !== NONE, 10 * ELECTION_TICK)
  t.not(net.leader(), 3, 'the stale node is never elected')
})

t.test('state transitions that skip an election are refused', async (t) => {
  const r = newTestRaft(1, [1, 2, 3])
  t.throws(() => r.becomeLeader(), /follower -> leader/)
  r.becomeCandidate()
  r.becomeLeader()
  t.throws(() => r.becomeCandidate(), /leader -> candidate/)
  t.throws(() => r.becomePreCandidate(), /leader -> pre-candidate/)
})

t.test('only a leader sends heartbeats', async (t) => {
  const r = newTestRaft(1, [1, 2, 3])
  r.step(message({ type: MessageType.Beat, from: 1, to: 1 }))
  t.same(readMessages(r), [], 'a follower ignores MsgBeat')
  r.becomeCandidate()
  r.step(message({ type: MessageType.Beat, from: 1, to: 1 }))
  t.same(readMessages(r), [], 'so does a candidate')
  r.becomeLeader()
  r.step(message({ type: MessageType.Beat, from: 1, to: 1 }))
  t.same(readMessages(r).map((m) => MessageType[m.type]), ['Heartbeat', 'Heartbeat'])
})
