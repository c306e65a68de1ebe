// Log replication in whole clusters: the paper's figure 8, fast log backtracking,
// flow control, proposal forwarding, lossy links.
import t from 'tap'
import { ProposalDroppedError } from '../../src/raft/errors.js'
import { MemoryStorage } from '../../src/raft/storage.js'
import { ProgressState } from '../../src/raft/tracker/progress.js'
import type { Raft } from '../../src/raft/raft.js'
import { type Entry, EntryType, MessageType, NONE, StateType, entrySize, message } from '../../src/raft/types.js'
import { ELECTION_TICK, Network, acceptAndReply, bytes, ents, newTestRaft, readMessages, shape } from './helpers/network.js'

function storageWith(peers: number[], log: Entry[], hs: { term: number; vote?: number; commit?: number }): MemoryStorage {
  const s = MemoryStorage.withPeers(peers)
  s.append(log)
  s.setHardState({ term: hs.term, vote: hs.vote ?? NONE, commit: hs.commit ?? 0 })
  return s
}

/** A log from index 1 made of runs of [count, term]. */
const log = (...runs: Array<[number, number]>): Entry[] => ents(1, ...runs.flatMap(([n, term]) => Array.from({ length: n }, () => term)))

// ---- figure 8 ----------------------------------------------------------------------

/**
 * Figure 8 of the Raft paper, state (c): S1 leads in term 4 with S2 and S3 holding
 * its term-2 entry at index 2 (a majority of five), S5 holds a term-3 entry at index 2
 * that no one else has. S4 and S5 are cut off. Messages carrying S1's own term-4
 * entries are held back until `release()`.
 */
function figure8(): { net: Network; release: () => void } {
  const peers = [1, 2, 3, 4, 5]
  const net = new Network({
    voters: peers,
    storageFor: (id) => {
      switch (id) {
        case 1:
        case 2:
          return storageWith(peers, ents(1, 1, 2), { term: 3, commit: 1 })
        case 5:
          return storageWith(peers, ents(1, 1, 3), { term: 3, vote: 5, commit: 1 })
        default:
          return storageWith(peers, ents(1, 1), { term: 3, vote: 5, commit: 1 })
      }
    },
  })
  let hold = true
  net.msgHook = (m) => {
    if (hold && m.type === MessageType.App) m.entries = m.entries.filter((e) => e.term < 4)
    return true
  }
  net.isolate(4)
  net.isolate(5)
  net.elect(1)
  return {
    net,
    release: () => {
      hold = false
    },
  }
}

t.test('figure 8: an entry of an older term stored on a majority is not committed by counting replicas', async (t) => {
  const { net } = figure8()
  const s1 = net.raft(1)
  t.equal(s1.term, 4)
  for (const id of [1, 2, 3]) t.equal(net.raft(id).raftLog.termOrZero(2), 2, `S${id} holds (index 2, term 2)`)
  t.equal(s1.prs.progress.get(2)!.match, 2)
  t.equal(s1.prs.progress.get(3)!.match, 2)
  t.equal(s1.raftLog.committed, 1, 'the leader does not commit index 2: it is not from its term')
  net.tick(3 * ELECTION_TICK, [1, 2, 3])
  t.equal(s1.raftLog.committed, 1, 'nor later, while its own term-4 entry has not reached a majority')
  for (const id of [1, 2, 3]) t.equal(net.node(id).appliedIndex, 1, `S${id} did not apply index 2`)
})

t.test('figure 8 (d): that entry may indeed be overwritten by a later leader, which is why it could not be committed', async (t) => {
  const { net, release } = figure8()
  net.stop(1)
  net.recover()
  release()
  // S5's last entry has term 3 > 2: S2, S3 and S4 may elect it (in term 5; in term 4
  // S2 and S3 had already voted for S1).
  net.campaign(5)
  if (net.raft(5).state !== StateType.Leader) net.campaign(5)
  t.equal(net.raft(5).state, StateType.Leader)
  t.equal(net.raft(5).term, 5)
  for (const id of [2, 3, 4, 5]) {
    t.equal(net.raft(id).raftLog.termOrZero(2), 3, `S${id} now has (index 2, term 3)`)
    t.equal(net.node(id).applied[1]?.term, 3, `S${id} applied S5's entry at index 2`)
  }
})

t.test("figure 8 (e): once an entry of the leader's own term reaches a majority, the older entry before it is committed and never overwritten", async (t) => {
  const { net, release } = figure8()
  release()
  net.tick(1, [1]) // the next heartbeat round carries the term-4 no-op to S2 and S3
  const s1 = net.raft(1)
  t.equal(s1.raftLog.committed, 3, 'index 3 (term 4) and with it index 2 (term 2) are committed')
  t.same(shape(net.node(1).applied), [
    [1, 1],
    [2, 2],
    [3, 4],
  ])
  net.stop(1)
  net.recover()
  for (let i = 0; i < 3; i++) net.campaign(5)
  t.not(net.raft(5).state, StateType.Leader, "S5 cannot win: a majority's log is more up to date than its own")
  net.tickUntil(() => net.leader() !== NONE, 20 * ELECTION_TICK)
  const lead = net.leader()
  t.ok(lead === 2 || lead === 3, `a server holding the committed entries leads (${lead})`)
  net.propose(lead, 'after')
  for (const id of [2, 3, 4, 5]) {
    t.equal(net.raft(id).raftLog.termOrZero(2), 2, `S${id} has (index 2, term 2)`)
    t.same(net.node(id).appliedData(), ['after'])
  }
})

// ---- fast backtracking -------------------------------------------------------------

t.test('fast log backtracking: a follower with a long divergent tail is repaired in one round trip per term, not one per entry', async (t) => {
  const cases = [
    {
      name: 'a long tail of an older term',
      leader: log([5, 1], [5, 3]),
      follower: log([5, 1], [100, 2]),
    },
    {
      name: 'a tail spanning several older terms, longer than the leader',
      leader: log([5, 1], [5, 3], [5, 5]),
      follower: log([5, 1], [45, 2], [50, 4]),
    },
    {
      name: 'a long tail of a higher term than the leader’s last entries',
      leader: log([5, 1], [5, 2]),
      follower: log([5, 1], [95, 4]),
    },
    {
      name: 'a follower far behind (missing entries, no conflict)',
      leader: log([5, 1], [100, 2]),
      follower: log([5, 1]),
    },
  ]
  for (const c of cases) {
    const peers = [1, 2, 3, 4, 5]
    const leaderTerm = Math.max(c.leader.at(-1)!.term, c.follower.at(-1)!.term)
    const net = new Network({
      voters: peers,
      storageFor: (id) =>
        id === 2 ? storageWith(peers, c.follower, { term: leaderTerm, commit: 5 }) : storageWith(peers, c.leader, { term: leaderTerm, commit: 5 }),
    })
    net.elect(1)
    net.propose(1, 'x')
    const rejections = net.count((m) => m.type === MessageType.AppResp && m.from === 2 && m.reject)
    t.ok(rejections <= 1, `${c.name}: ${rejections} rejected MsgAppResp`)
    t.same(shape(net.raft(2).raftLog.allEntries()), shape(net.raft(1).raftLog.allEntries()), `${c.name}: logs match`)
    t.equal(net.raft(2).raftLog.committed, net.raft(1).raftLog.lastIndex())
  }
})

t.test('each rejection lets the leader skip every entry of a term that cannot match: interleaved divergent terms cost one round trip each', async (t) => {
  // Leader: 1 1 3 3 3 5 5 5. Follower: 1 1 2 2 2 4 4 4 … (20 entries of term 4).
  // Probe at 8 (term 5) → hint (8, term 4) → leader skips its term-5 entries, probes
  // at 5 (term 3) → hint (5, term 2) → leader skips its term-3 entries, probes at 2 → match.
  const leaderLog = ents(1, 1, 1, 3, 3, 3, 5, 5, 5)
  const followerLog = ents(1, 1, 1, 2, 2, 2, ...Array.from({ length: 20 }, () => 4))
  const r = newTestRaft(1, storageWith([1, 2], leaderLog, { term: 5 }))
  r.becomeCandidate()
  r.becomeLeader()
  readMessages(r)
  const f = newTestRaft(2, storageWith([1, 2], followerLog, { term: 5 }))
  const probes: number[] = []
  r.sendAppend(2)
  for (let i = 0; i < 50; i++) {
    const app = readMessages(r).find((m) => m.type === MessageType.App && m.to === 2)
    if (!app) break
    probes.push(app.index)
    f.step(app)
    const resp = readMessages(f).find((m) => m.type === MessageType.AppResp)!
    r.step(resp)
    if (!resp.reject) break
  }
  t.same(probes, [8, 5, 2], 'probes at its last entry, then at the end of each older term of its log')
  t.same(shape(f.raftLog.allEntries()), shape(r.raftLog.allEntries()), 'then the logs match')
})

// ---- flow control ------------------------------------------------------------------

/** A leader of {1,2} with 2 in Replicate state and nothing in flight. */
function replicatingLeader(cfg: { maxInflightMsgs?: number; maxInflightBytes?: number }): Raft {
  const r = newTestRaft(1, [1, 2], cfg)
  r.becomeCandidate()
  r.becomeLeader()
  r.bcastAppend()
  for (const m of readMessages(r)) r.step(acceptAndReply(m))
  readMessages(r)
  const pr = r.prs.progress.get(2)!
  if (pr.state !== ProgressState.Replicate || pr.inflights.length !== 0) throw new Error(`unexpected progress ${pr}`)
  return r
}

const propose = (r: Raft, data: Uint8Array): void =>
  r.step(message({ type: MessageType.Prop, from: 1, to: 1, entries: [{ term: 0, index: 0, type: EntryType.Normal, data }] }))

const apps = (r: Raft) => readMessages(r).filter((m) => m.type === MessageType.App)

t.test('flow control: in Replicate state at most maxInflightMsgs unacknowledged MsgApps are out, and an acknowledgement frees slots', async (t) => {
  const r = replicatingLeader({ maxInflightMsgs: 3 })
  const pr = r.prs.progress.get(2)!
  const sent = []
  for (let i = 0; i < 3; i++) {
    propose(r, bytes(`e${i}`))
    sent.push(...apps(r))
  }
  t.equal(sent.length, 3, 'one MsgApp per proposal while the window has room')
  t.ok(pr.inflights.full(), 'the window is full')
  for (let i = 0; i < 5; i++) propose(r, bytes(`more${i}`))
  t.same(apps(r), [], 'nothing more is sent to a full window')

  // Acknowledging the first MsgApp frees its slot: the next one goes out, carrying
  // every entry proposed meanwhile.
  r.step(acceptAndReply(sent[0]!))
  const after = apps(r)
  t.equal(after.length, 1)
  t.equal(after[0]!.entries.length, 5)
  t.ok(pr.inflights.full(), 'full again')

  // Acknowledging everything frees everything.
  r.step(message({ type: MessageType.AppResp, from: 2, to: 1, term: r.term, index: r.raftLog.lastIndex() }))
  t.equal(pr.inflights.length, 0)
})

t.test('flow control: the bytes limit closes the window before the message count does', async (t) => {
  const payload = new Uint8Array(100)
  const size = entrySize({ term: 1, index: 1, type: EntryType.Normal, data: payload })
  const r = replicatingLeader({ maxInflightMsgs: 256, maxInflightBytes: 3 * size })
  const pr = r.prs.progress.get(2)!
  let sent = 0
  for (let i = 0; i < 10; i++) {
    propose(r, payload)
    sent += apps(r).length
  }
  t.equal(sent, 3, 'three messages of one entry each fill maxInflightBytes')
  t.ok(pr.inflights.full())
})

t.test('flow control: a heartbeat response frees one slot of a full window, so lost MsgApps cannot stall replication forever', async (t) => {
  const r = replicatingLeader({ maxInflightMsgs: 3 })
  const pr = r.prs.progress.get(2)!
  for (let i = 0; i < 3; i++) propose(r, bytes(`e${i}`))
  readMessages(r)
  t.ok(pr.inflights.full())
  for (let round = 0; round < 3; round++) {
    propose(r, bytes(`x${round}`))
    t.same(apps(r), [], 'full: the proposal is not sent')
    r.step(message({ type: MessageType.HeartbeatResp, from: 2, to: 1, term: r.term }))
    const msgs = apps(r)
    t.equal(msgs.length, 1, `heartbeat response ${round + 1} lets exactly one MsgApp out`)
    t.ok(pr.inflights.full(), 'and the window is full again')
  }
})

t.test('flow control: in Probe state the leader sends one MsgApp and waits for its answer or a heartbeat response', async (t) => {
  const r = newTestRaft(1, [1, 2])
  r.becomeCandidate()
  r.becomeLeader()
  readMessages(r)
  const pr = r.prs.progress.get(2)!
  pr.becomeProbe()

  propose(r, bytes('first'))
  const first = apps(r)
  t.equal(first.length, 1, 'one probe')
  t.ok(pr.probeSent, 'then paused')
  for (let i = 0; i < 10; i++) propose(r, bytes(`more${i}`))
  t.same(apps(r), [], 'no more while the probe is unanswered')

  r.tick() // heartbeat
  t.same(readMessages(r).map((m) => MessageType[m.type]), ['Heartbeat'], 'heartbeats still go out')
  t.ok(pr.probeSent)

  r.step(message({ type: MessageType.HeartbeatResp, from: 2, to: 1, term: r.term }))
  const next = apps(r)
  t.equal(next.length, 1, 'a heartbeat response allows the next probe')
  t.equal(next[0]!.index, first[0]!.index, 'probing from the same place')
  t.ok(pr.probeSent)

  r.step(acceptAndReply(next[0]!))
  t.equal(pr.state, ProgressState.Replicate, 'a successful probe moves to Replicate')
})

t.test('a heartbeat never advances a follower’s commit index beyond what it is known to hold', async (t) => {
  const r = replicatingLeader({})
  r.prs.progress.get(2)!.becomeProbe()
  r.prs.progress.get(2)!.match = 0
  r.tick()
  const hb = readMessages(r).find((m) => m.type === MessageType.Heartbeat)!
  t.equal(hb.commit, 0, 'match 0: commit 0 although the leader committed 1')
})

// ---- proposals ---------------------------------------------------------------------

t.test('a follower forwards proposals to the leader; with forwarding disabled or no leader it refuses them', async (t) => {
  const net = new Network({ voters: [1, 2, 3] })
  net.elect(1)
  net.propose(2, 'via follower')
  for (const id of [1, 2, 3]) t.same(net.node(id).appliedData(), ['via follower'])

  const strict = new Network({ voters: [1, 2, 3], configFor: (id) => (id === 2 ? { disableProposalForwarding: true } : {}) })
  strict.elect(1)
  t.throws(() => strict.propose(2, 'x'), ProposalDroppedError)

  const leaderless = new Network({ voters: [1, 2, 3] })
  t.throws(() => leaderless.propose(2, 'x'), ProposalDroppedError, 'a follower that knows no leader')
  leaderless.isolate(1)
  leaderless.campaign(1)
  t.throws(() => leaderless.propose(1, 'x'), ProposalDroppedError, 'a candidate')
})

t.test('a leader refuses proposals beyond maxUncommittedEntriesSize until earlier ones are applied', async (t) => {
  const net = new Network({ voters: [1, 2, 3], config: { maxUncommittedEntriesSize: 250 } })
  net.elect(1)
  net.isolate(2)
  net.isolate(3)
  const payload = new Uint8Array(100)
  net.propose(1, payload)
  net.propose(1, payload)
  t.throws(() => net.propose(1, payload), ProposalDroppedError, 'a third 100-byte proposal would exceed 250 uncommitted bytes')
  net.recover()
  net.tick(1)
  t.equal(net.node(1).appliedIndex, 3, 'the two proposals committed and were applied')
  net.propose(1, payload)
  t.equal(net.raft(1).raftLog.lastIndex(), 4, 'room again')
})

t.test('with a fifth of all messages lost the cluster still elects a leader and commits every accepted proposal', async (t) => {
  const net = new Network({ voters: [1, 2, 3, 4, 5], seed: 42 })
  for (const a of net.ids()) for (const b of net.ids()) if (a !== b) net.drop(a, b, 0.2)
  const accepted: string[] = []
  for (let i = 0; i < 40; i++) {
    net.tickUntil(() => net.leader() !== NONE, 50 * ELECTION_TICK)
    try {
      net.propose(net.leader(), `v${i}`)
      accepted.push(`v${i}`)
    } catch (err) {
      if (!(err instanceof ProposalDroppedError)) throw err
    }
    net.tick(3)
  }
  net.recover()
  net.tick(5 * ELECTION_TICK)
  const lead = net.leader()
  net.propose(lead, 'final')
  const applied = net.node(lead).appliedData()
  for (const id of net.ids()) t.same(net.node(id).appliedData(), applied, `${id} applied the same sequence`)
  t.ok(accepted.length > 20, `${accepted.length} proposals were accepted`)
  // A proposal a leader accepted may be lost if that leader is deposed before it
  // commits; the ones that survive appear in order.
  const order = applied.filter((d) => d !== 'final').map((d) => Number(d.slice(1)))
  t.same(order, [...order].sort((a, b) => a - b), 'in proposal order')
})
