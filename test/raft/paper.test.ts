// The Raft paper (Ongaro & Ousterhout, "In Search of an Understandable Consensus
// Algorithm", https://raft.github.io/raft.pdf), claim by claim. Each test names the
// section and states the behaviour it checks, so a reviewer can hold the paper against
// this file. Modelled on etcd-io/raft's raft_paper_test.go: set up a state directly,
// step messages in, check the messages out and the state.
import t from 'tap'
import { MemoryStorage } from '../../src/raft/storage.js'
import { ProgressState } from '../../src/raft/tracker/progress.js'
import { EntryType, MessageType, NONE, StateType, message } from '../../src/raft/types.js'
import {
  ELECTION_TICK,
  Network,
  acceptAndReply,
  bytes,
  commitNoopEntry,
  ents,
  newTestRaft,
  readMessages,
  shape,
  summary,
} from './helpers/network.js'

const ids = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1)

function storageWith(peers: number[], entries: ReturnType<typeof ents>, hs?: { term?: number; vote?: number; commit?: number }): MemoryStorage {
  const s = MemoryStorage.withPeers(peers)
  s.append(entries)
  if (hs) s.setHardState({ term: hs.term ?? 0, vote: hs.vote ?? NONE, commit: hs.commit ?? 0 })
  return s
}

// ---- §5.1 Raft basics --------------------------------------------------------------

t.test('§5.1 a server that sees a higher term adopts it, and a candidate or leader reverts to follower', async (t) => {
  for (const state of [StateType.Follower, StateType.Candidate, StateType.Leader]) {
    const r = newTestRaft(1, [1, 2, 3])
    if (state === StateType.Follower) r.becomeFollower(1, 2)
    if (state === StateType.Candidate) r.becomeCandidate()
    if (state === StateType.Leader) {
      r.becomeCandidate()
      r.becomeLeader()
    }
    t.equal(r.state, state, `starts as ${state}`)
    r.step(message({ type: MessageType.App, from: 2, to: 1, term: 2 }))
    t.equal(r.term, 2, `${state} adopts term 2`)
    t.equal(r.state, StateType.Follower, `${state} is now a follower`)
  }
})

t.test('§5.1 a request with a stale term is ignored: no reply, no change to log or leader', async (t) => {
  const s = storageWith([1, 2, 3], [], { term: 2 })
  const r = newTestRaft(1, s)
  r.step(message({ type: MessageType.App, from: 2, to: 1, term: 1, entries: ents(1, 1) }))
  r.step(message({ type: MessageType.Heartbeat, from: 2, to: 1, term: 1, commit: 1 }))
  r.step(message({ type: MessageType.Vote, from: 2, to: 1, term: 1 }))
  t.same(readMessages(r), [], 'nothing answered')
  t.equal(r.term, 2)
  t.equal(r.lead, NONE, 'the stale sender is not taken for the leader')
  t.equal(r.raftLog.lastIndex(), 0, 'nothing appended')
  t.equal(r.raftLog.committed, 0)
})

// ---- §5.2 Leader election ----------------------------------------------------------

t.test('§5.2 servers start up as followers', async (t) => {
  const r = newTestRaft(1, [1, 2, 3])
  t.equal(r.state, StateType.Follower)
  t.equal(r.term, 0)
  t.equal(r.lead, NONE)
})

t.test('§5.2 a leader sends empty heartbeats to every follower each heartbeat interval', async (t) => {
  const r = newTestRaft(1, [1, 2, 3])
  r.becomeCandidate()
  r.becomeLeader()
  for (let i = 0; i < 10; i++) r.appendEntry([{ term: 0, index: 0, type: EntryType.Normal, data: bytes(`e${i}`) }])
  readMessages(r)
  r.tick() // heartbeat interval is one tick
  t.same(readMessages(r).map(summary), [
    { type: 'Heartbeat', from: 1, to: 2, term: 1 },
    { type: 'Heartbeat', from: 1, to: 3, term: 1 },
  ])
})

t.test('§5.2 a follower that hears nothing for an election timeout becomes a candidate, votes for itself and requests votes', async (t) => {
  const r = newTestRaft(1, [1, 2, 3])
  r.becomeFollower(1, 2)
  for (let i = 1; i < 2 * ELECTION_TICK; i++) r.tick()
  t.equal(r.term, 2, 'increments its term')
  t.equal(r.state, StateType.Candidate)
  t.equal(r.vote, 1, 'votes for itself')
  t.equal(r.prs.votes.get(1), true)
  t.same(readMessages(r).map(summary), [
    { type: 'Vote', from: 1, to: 2, term: 2 },
    { type: 'Vote', from: 1, to: 3, term: 2 },
  ], 'asks every other server in parallel')
})

t.test('§5.2 a candidate that neither wins nor loses times out and starts a new election in the next term', async (t) => {
  const r = newTestRaft(1, [1, 2, 3])
  r.becomeCandidate()
  t.equal(r.term, 1)
  for (let i = 1; i < 2 * ELECTION_TICK; i++) r.tick()
  t.equal(r.term, 2)
  t.equal(r.state, StateType.Candidate)
  t.equal(r.prs.votes.get(1), true)
  t.same(readMessages(r).map(summary), [
    { type: 'Vote', from: 1, to: 2, term: 2 },
    { type: 'Vote', from: 1, to: 3, term: 2 },
  ])
})

t.test('§5.2 a candidate wins with votes from a majority, returns to follower when a majority refuses, and otherwise keeps waiting', async (t) => {
  const cases: Array<{ size: number; votes: Record<number, boolean>; want: StateType }> = [
    { size: 1, votes: {}, want: StateType.Leader },
    { size: 3, votes: { 2: true, 3: true }, want: StateType.Leader },
    { size: 3, votes: { 2: true }, want: StateType.Leader },
    { size: 5, votes: { 2: true, 3: true, 4: true, 5: true }, want: StateType.Leader },
    { size: 5, votes: { 2: true, 3: true, 4: true }, want: StateType.Leader },
    { size: 5, votes: { 2: true, 3: true }, want: StateType.Leader },
    { size: 3, votes: { 2: false, 3: false }, want: StateType.Follower },
    { size: 5, votes: { 2: false, 3: false, 4: false, 5: false }, want: StateType.Follower },
    { size: 5, votes: { 2: true, 3: false, 4: false, 5: false }, want: StateType.Follower },
    { size: 3, votes: {}, want: StateType.Candidate },
    { size: 5, votes: { 2: true }, want: StateType.Candidate },
    { size: 5, votes: { 2: false, 3: false }, want: StateType.Candidate },
    { size: 5, votes: {}, want: StateType.Candidate },
  ]
  for (const c of cases) {
    const r = newTestRaft(1, ids(c.size))
    r.step(message({ type: MessageType.Hup, from: 1, to: 1 }))
    for (const [id, granted] of Object.entries(c.votes)) {
      r.step(message({ type: MessageType.VoteResp, from: Number(id), to: 1, term: r.term, reject: !granted }))
    }
    t.equal(r.state, c.want, `${c.size} voters, votes ${JSON.stringify(c.votes)}`)
    t.equal(r.term, 1, 'stays in the term it campaigned in')
  }
})

t.test('§5.2 a server votes for at most one candidate per term, first come first served', async (t) => {
  const cases = [
    { vote: NONE, candidate: 2, reject: false },
    { vote: NONE, candidate: 3, reject: false },
    { vote: 2, candidate: 2, reject: false },
    { vote: 3, candidate: 3, reject: false },
    { vote: 2, candidate: 3, reject: true },
    { vote: 3, candidate: 2, reject: true },
  ]
  for (const c of cases) {
    const r = newTestRaft(1, storageWith([1, 2, 3], [], { term: 1, vote: c.vote }))
    r.step(message({ type: MessageType.Vote, from: c.candidate, to: 1, term: 1 }))
    const want = { type: 'VoteResp', from: 1, to: c.candidate, term: 1, ...(c.reject ? { reject: true } : {}) }
    t.same(readMessages(r).map(summary), [want], `voted for ${c.vote}, asked by ${c.candidate}`)
  }
})

t.test('§5.2 a candidate that hears from a leader with a term at least as large as its own returns to follower', async (t) => {
  for (const term of [1, 2]) {
    const r = newTestRaft(1, [1, 2, 3])
    r.step(message({ type: MessageType.Hup, from: 1, to: 1 }))
    t.equal(r.state, StateType.Candidate)
    r.step(message({ type: MessageType.App, from: 2, to: 1, term }))
    t.equal(r.state, StateType.Follower, `leader at term ${term}`)
    t.equal(r.term, term)
    t.equal(r.lead, 2, 'and recognises it as leader')
  }
})

for (const state of [StateType.Follower, StateType.Candidate]) {
  t.test(`§5.2 a ${state.toLowerCase()}'s election timeout is randomized over [electionTimeout, 2×electionTimeout)`, async (t) => {
    const r = newTestRaft(1, [1, 2, 3])
    const seen = new Set<number>()
    for (let round = 0; round < 50 * ELECTION_TICK; round++) {
      if (state === StateType.Follower) r.becomeFollower(r.term + 1, 2)
      else r.becomeCandidate()
      readMessages(r)
      let ticks = 0
      while (readMessages(r).length === 0) {
        r.tick()
        ticks++
      }
      seen.add(ticks)
    }
    for (let d = ELECTION_TICK; d < 2 * ELECTION_TICK; d++) t.ok(seen.has(d), `a timeout of ${d} ticks happens`)
    t.equal(Math.min(...seen), ELECTION_TICK, 'never sooner than electionTimeout')
    t.equal(Math.max(...seen), 2 * ELECTION_TICK - 1, 'never later than 2×electionTimeout - 1')
  })

  t.test(`§5.2 randomized timeouts make it rare for several ${state.toLowerCase()}s to time out at once (split votes)`, async (t) => {
    const rs = ids(5).map((id) => newTestRaft(id, ids(5)))
    let conflicts = 0
    const rounds = 1000
    for (let round = 0; round < rounds; round++) {
      for (const r of rs) {
        if (state === StateType.Follower) r.becomeFollower(r.term + 1, NONE)
        else r.becomeCandidate()
        readMessages(r)
      }
      let timedOut = 0
      while (timedOut === 0) {
        for (const r of rs) {
          r.tick()
          if (readMessages(r).length > 0) timedOut++
        }
      }
      if (timedOut > 1) conflicts++
    }
    t.ok(conflicts / rounds <= 0.3, `${conflicts} of ${rounds} rounds had simultaneous timeouts`)
  })
}

// ---- §5.3 Log replication ----------------------------------------------------------

t.test('§5.3 the leader appends a proposal to its log and sends it to every follower with the index and term preceding it', async (t) => {
  const s = MemoryStorage.withPeers([1, 2, 3])
  const r = newTestRaft(1, s)
  r.becomeCandidate()
  r.becomeLeader()
  commitNoopEntry(r, s)
  const li = r.raftLog.lastIndex()
  r.step(message({ type: MessageType.Prop, from: 1, to: 1, entries: [{ term: 0, index: 0, type: EntryType.Normal, data: bytes('some data') }] }))
  t.equal(r.raftLog.lastIndex(), li + 1)
  t.equal(r.raftLog.committed, li, 'not committed yet')
  t.same(readMessages(r).map(summary), [
    { type: 'App', from: 1, to: 2, term: 1, index: li, logTerm: 1, commit: li, entries: [[li + 1, 1]] },
    { type: 'App', from: 1, to: 3, term: 1, index: li, logTerm: 1, commit: li, entries: [[li + 1, 1]] },
  ])
  t.same(shape(r.raftLog.unstableEntries()), [[li + 1, 1]], 'the new entry is to be written to stable storage')
})

t.test('§5.3 once an entry is replicated on a majority the leader commits it, hands it out to apply, and tells followers the new commit index', async (t) => {
  const s = MemoryStorage.withPeers([1, 2, 3])
  const r = newTestRaft(1, s)
  r.becomeCandidate()
  r.becomeLeader()
  commitNoopEntry(r, s)
  const li = r.raftLog.lastIndex()
  r.step(message({ type: MessageType.Prop, from: 1, to: 1, entries: [{ term: 0, index: 0, type: EntryType.Normal, data: bytes('some data') }] }))
  for (const m of readMessages(r)) r.step(acceptAndReply(m))
  t.equal(r.raftLog.committed, li + 1)
  const next = r.raftLog.nextEnts()
  t.same(shape(next), [[li + 1, 1]])
  t.equal(new TextDecoder().decode(next[0]!.data), 'some data')
  const msgs = readMessages(r)
  t.same(msgs.map((m) => [m.to, MessageType[m.type], m.commit]), [
    [2, 'App', li + 1],
    [3, 'App', li + 1],
  ])
})

t.test('§5.3 an entry is committed once the leader has replicated it on a majority of the servers', async (t) => {
  const cases: Array<{ size: number; acceptors: number[]; committed: boolean }> = [
    { size: 1, acceptors: [], committed: true },
    { size: 3, acceptors: [], committed: false },
    { size: 3, acceptors: [2], committed: true },
    { size: 3, acceptors: [2, 3], committed: true },
    { size: 5, acceptors: [], committed: false },
    { size: 5, acceptors: [2], committed: false },
    { size: 5, acceptors: [2, 3], committed: true },
    { size: 5, acceptors: [2, 3, 4], committed: true },
    { size: 5, acceptors: [2, 3, 4, 5], committed: true },
  ]
  for (const c of cases) {
    const s = MemoryStorage.withPeers(ids(c.size))
    const r = newTestRaft(1, s)
    r.becomeCandidate()
    r.becomeLeader()
    commitNoopEntry(r, s)
    const li = r.raftLog.lastIndex()
    r.step(message({ type: MessageType.Prop, from: 1, to: 1, entries: [{ term: 0, index: 0, type: EntryType.Normal, data: bytes('x') }] }))
    for (const m of readMessages(r)) if (c.acceptors.includes(m.to)) r.step(acceptAndReply(m))
    t.equal(r.raftLog.committed > li, c.committed, `${c.size} servers, accepted by leader + ${JSON.stringify(c.acceptors)}`)
  }
})

t.test("§5.3 committing an entry commits every entry before it, including those of earlier leaders, and they apply in log order", async (t) => {
  const cases = [[], ents(1, 2), ents(1, 1, 2), ents(1, 1)]
  for (const prior of cases) {
    const r = newTestRaft(1, storageWith([1, 2, 3], prior, { term: 2 }))
    r.becomeCandidate()
    r.becomeLeader()
    r.step(message({ type: MessageType.Prop, from: 1, to: 1, entries: [{ term: 0, index: 0, type: EntryType.Normal, data: bytes('some data') }] }))
    for (const m of readMessages(r)) r.step(acceptAndReply(m))
    const li = prior.length
    t.same(shape(r.raftLog.nextEnts()), [...shape(prior), [li + 1, 3], [li + 2, 3]], `earlier log ${JSON.stringify(shape(prior))}`)
  }
})

t.test('§5.3 a follower applies entries, in log order, once it learns they are committed', async (t) => {
  const data = (...xs: string[]) => xs.map((x, i) => ({ term: 1, index: i + 1, type: EntryType.Normal, data: bytes(x) }))
  const cases = [
    { entries: data('some data'), commit: 1 },
    { entries: data('some data', 'some data2'), commit: 2 },
    { entries: data('some data2', 'some data'), commit: 2 },
    { entries: data('some data', 'some data2'), commit: 1 },
  ]
  for (const c of cases) {
    const r = newTestRaft(1, [1, 2, 3])
    r.becomeFollower(1, 2)
    r.step(message({ type: MessageType.App, from: 2, to: 1, term: 1, entries: c.entries, commit: c.commit }))
    t.equal(r.raftLog.committed, c.commit)
    t.same(
      r.raftLog.nextEnts().map((e) => new TextDecoder().decode(e.data)),
      c.entries.slice(0, c.commit).map((e) => new TextDecoder().decode(e.data)),
    )
  }
})

t.test('§5.3 consistency check: a follower refuses AppendEntries unless its log holds the preceding entry with the same term', async (t) => {
  const cases = [
    // matches a committed entry
    { logTerm: 0, index: 0, want: { index: 1 } },
    { logTerm: 1, index: 1, want: { index: 1 } },
    // matches an uncommitted entry
    { logTerm: 2, index: 2, want: { index: 2 } },
    // the entry at index 2 has another term: refuse, hint (1, term 1)
    { logTerm: 1, index: 2, want: { index: 2, reject: true, rejectHint: 1, logTerm: 1 } },
    // no entry at index 3: refuse, hint our last entry (2, term 2)
    { logTerm: 3, index: 3, want: { index: 3, reject: true, rejectHint: 2, logTerm: 2 } },
  ]
  for (const c of cases) {
    const r = newTestRaft(1, storageWith([1, 2, 3], ents(1, 1, 2), { commit: 1 }))
    r.becomeFollower(2, 2)
    r.step(message({ type: MessageType.App, from: 2, to: 1, term: 2, logTerm: c.logTerm, index: c.index }))
    t.same(readMessages(r).map(summary), [{ type: 'AppResp', from: 1, to: 2, term: 2, ...c.want }], `prev (${c.index}, term ${c.logTerm})`)
  }
})

t.test('§5.3 a follower deletes a conflicting entry and all that follow it, and appends new entries not already in its log', async (t) => {
  const cases = [
    { index: 2, logTerm: 2, entries: ents(3, 3), want: ents(1, 1, 2, 3), unstable: ents(3, 3) },
    { index: 1, logTerm: 1, entries: ents(2, 3, 4), want: ents(1, 1, 3, 4), unstable: ents(2, 3, 4) },
    { index: 0, logTerm: 0, entries: ents(1, 1), want: ents(1, 1, 2), unstable: [] },
    { index: 0, logTerm: 0, entries: ents(1, 3), want: ents(1, 3), unstable: ents(1, 3) },
  ]
  for (const c of cases) {
    const r = newTestRaft(1, storageWith([1, 2, 3], ents(1, 1, 2)))
    r.becomeFollower(2, 2)
    r.step(message({ type: MessageType.App, from: 2, to: 1, term: 2, logTerm: c.logTerm, index: c.index, entries: c.entries }))
    t.same(shape(r.raftLog.allEntries()), shape(c.want), `append ${JSON.stringify(shape(c.entries))} after (${c.index}, ${c.logTerm}): log`)
    t.same(shape(r.raftLog.unstableEntries()), shape(c.unstable), 'to be persisted')
  }
})

t.test("§5.3 the leader forces followers' logs to duplicate its own (figure 7: missing, extra and conflicting entries)", async (t) => {
  const leaderLog = ents(1, 1, 1, 1, 4, 4, 5, 5, 6, 6, 6)
  const term = 8
  const followers = {
    a: ents(1, 1, 1, 1, 4, 4, 5, 5, 6, 6),
    b: ents(1, 1, 1, 1, 4),
    c: ents(1, 1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6),
    d: ents(1, 1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7),
    e: ents(1, 1, 1, 1, 4, 4, 4, 4),
    f: ents(1, 1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3),
  }
  for (const [name, log] of Object.entries(followers)) {
    // Three members: the follower may have the more up-to-date log, so the leader
    // needs the vote of the third member (which we play by hand).
    const net = new Network({
      voters: [1, 2, 3],
      blackholes: [3],
      storageFor: (id) =>
        id === 1 ? storageWith([1, 2, 3], leaderLog, { term, commit: leaderLog.length }) : storageWith([1, 2, 3], log, { term: term - 1 }),
    })
    net.send([message({ type: MessageType.Hup, from: 1, to: 1 })])
    net.send([message({ type: MessageType.VoteResp, from: 3, to: 1, term: term + 1 })])
    t.equal(net.raft(1).state, StateType.Leader, `(${name}) 1 leads`)
    net.propose(1, '')
    const lead = net.raft(1)
    const follower = net.raft(2)
    t.same(shape(follower.raftLog.allEntries()), shape(lead.raftLog.allEntries()), `(${name}) follower's log equals the leader's`)
    t.equal(follower.raftLog.committed, lead.raftLog.committed, `(${name}) and so does its commit index`)
  }
})

// ---- §5.4.1 Election restriction -----------------------------------------------------

t.test("§5.4.1 a vote request carries the candidate's last log index and term, and goes to every other server", async (t) => {
  const cases = [
    { entries: ents(1, 1), term: 2 },
    { entries: ents(1, 1, 2), term: 3 },
  ]
  for (const c of cases) {
    const r = newTestRaft(1, [1, 2, 3])
    r.step(message({ type: MessageType.App, from: 2, to: 1, term: c.term - 1, entries: c.entries }))
    readMessages(r)
    for (let i = 1; i < 2 * ELECTION_TICK; i++) r.tick()
    const last = c.entries[c.entries.length - 1]!
    t.same(readMessages(r).map(summary), [
      { type: 'Vote', from: 1, to: 2, term: c.term, index: last.index, logTerm: last.term },
      { type: 'Vote', from: 1, to: 3, term: c.term, index: last.index, logTerm: last.term },
    ])
  }
})

t.test('§5.4.1 a voter denies its vote to a candidate whose log is less up to date than its own', async (t) => {
  const cases = [
    // same last term: the longer log is more up to date
    { log: ents(1, 1), logTerm: 1, index: 1, reject: false },
    { log: ents(1, 1), logTerm: 1, index: 2, reject: false },
    { log: ents(1, 1, 1), logTerm: 1, index: 1, reject: true },
    // the candidate's last term is higher: it wins whatever the lengths
    { log: ents(1, 1), logTerm: 2, index: 1, reject: false },
    { log: ents(1, 1), logTerm: 2, index: 2, reject: false },
    { log: ents(1, 1, 1), logTerm: 2, index: 1, reject: false },
    // the voter's last term is higher
    { log: ents(1, 2), logTerm: 1, index: 1, reject: true },
    { log: ents(1, 2), logTerm: 1, index: 2, reject: true },
    { log: ents(1, 2, 2), logTerm: 1, index: 1, reject: true },
    { log: ents(1, 1, 1), logTerm: 1, index: 1, reject: true },
  ]
  for (const c of cases) {
    const r = newTestRaft(1, storageWith([1, 2], c.log))
    r.step(message({ type: MessageType.Vote, from: 2, to: 1, term: 3, logTerm: c.logTerm, index: c.index }))
    const msgs = readMessages(r)
    t.equal(msgs.length, 1)
    t.equal(msgs[0]!.type, MessageType.VoteResp)
    t.equal(msgs[0]!.reject, c.reject, `voter ${JSON.stringify(shape(c.log))}, candidate last (${c.index}, term ${c.logTerm})`)
  }
})

t.test('§5.4.1 a server missing a committed entry cannot be elected', async (t) => {
  const net = new Network({ voters: [1, 2, 3] })
  net.elect(1)
  net.isolate(3)
  net.propose(1, 'committed on 1 and 2 only')
  t.equal(net.raft(1).raftLog.committed, 2)
  net.recover()
  net.isolate(1)
  net.campaign(3)
  t.not(net.raft(3).state, StateType.Leader, '3 lacks entry 2 and 2 refuses its vote')
  net.campaign(2)
  t.equal(net.raft(2).state, StateType.Leader, '2 has it and wins')
  t.same(net.node(2).appliedData(), ['committed on 1 and 2 only'])
})

// ---- §5.4.2 Committing entries from previous terms -----------------------------------

t.test("§5.4.2 a leader commits by counting replicas only entries of its current term; earlier ones commit with them", async (t) => {
  const cases = [
    // a majority has entries of earlier terms: not enough
    { acked: 1, committed: 0 },
    { acked: 2, committed: 0 },
    // a majority has the current term's no-op: it and all before it commit
    { acked: 3, committed: 3 },
  ]
  for (const c of cases) {
    const r = newTestRaft(1, storageWith([1, 2], ents(1, 1, 2), { term: 2 }))
    r.becomeCandidate()
    r.becomeLeader() // term 3, no-op at index 3
    readMessages(r)
    r.step(message({ type: MessageType.Prop, from: 1, to: 1, entries: [{ term: 0, index: 0, type: EntryType.Normal, data: new Uint8Array(0) }] }))
    r.step(message({ type: MessageType.AppResp, from: 2, to: 1, term: r.term, index: c.acked }))
    t.equal(r.raftLog.committed, c.committed, `follower acknowledged up to ${c.acked}`)
    t.equal(r.prs.progress.get(2)!.state, ProgressState.Replicate)
  }
})
