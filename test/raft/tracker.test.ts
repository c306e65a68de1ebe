// The leader's bookkeeping: the inflight window, each follower's progress state
// machine, and the majority math. Cases follow etcd-io/raft's tracker/ and quorum/ tests.
import t from 'tap'
import { Inflights } from '../../src/raft/tracker/inflights.js'
import { Progress, ProgressState } from '../../src/raft/tracker/progress.js'
import { VoteResult, committedIndex, majority, voteResult } from '../../src/raft/tracker/quorum.js'
import { ProgressTracker } from '../../src/raft/tracker/tracker.js'

// ---- inflights -----------------------------------------------------------------------

t.test('inflights: fills up to its size, then refuses more', async (t) => {
  const in_ = new Inflights(10, 0)
  for (let i = 0; i < 5; i++) in_.add(i, 1)
  t.equal(in_.length, 5)
  t.notOk(in_.full())
  for (let i = 5; i < 10; i++) in_.add(i, 1)
  t.equal(in_.length, 10)
  t.ok(in_.full())
  t.throws(() => in_.add(10, 1), /full/)
})

t.test('inflights: freeLE frees every message up to an index, and the ring wraps around', async (t) => {
  const in_ = new Inflights(10, 0)
  for (let i = 0; i < 10; i++) in_.add(i, 1)
  in_.freeLE(0)
  t.equal(in_.length, 9)
  in_.freeLE(4)
  t.equal(in_.length, 5, '0..4 freed')
  in_.freeLE(3)
  t.equal(in_.length, 5, 'freeing below the window does nothing')
  // The ring now starts in the middle of its buffer: adding wraps around the end.
  for (let i = 10; i < 15; i++) in_.add(i, 1)
  t.ok(in_.full())
  in_.freeLE(8)
  t.equal(in_.length, 6, '5..8 freed across the wrap')
  for (let i = 15; i < 19; i++) in_.add(i, 1)
  t.ok(in_.full())
  in_.freeLE(14)
  t.equal(in_.length, 4)
  in_.freeLE(100)
  t.equal(in_.length, 0, 'everything freed')
  for (let i = 0; i < 10; i++) in_.add(100 + i, 1)
  t.ok(in_.full(), 'an emptied window takes a full load again')
})

t.test('inflights: freeFirstOne frees exactly the oldest message', async (t) => {
  const in_ = new Inflights(10, 0)
  for (let i = 0; i < 10; i++) in_.add(i, 1)
  in_.freeFirstOne()
  t.equal(in_.length, 9)
  in_.freeLE(5)
  t.equal(in_.length, 4)
  in_.freeFirstOne()
  t.equal(in_.length, 3)
  const empty = new Inflights(3, 0)
  empty.freeFirstOne()
  t.equal(empty.length, 0, 'a no-op on an empty window')
})

t.test('inflights: a byte limit makes the window full before its count is reached, and freeing bytes reopens it', async (t) => {
  const in_ = new Inflights(10, 100)
  in_.add(1, 30)
  in_.add(2, 30)
  in_.add(3, 30)
  t.notOk(in_.full(), '90 of 100 bytes')
  in_.add(4, 30)
  t.ok(in_.full(), '120 bytes ≥ 100, with 4 of 10 messages')
  in_.freeLE(1)
  t.notOk(in_.full(), '90 bytes again')
  in_.freeLE(4)
  t.equal(in_.length, 0)
  in_.add(5, 500)
  t.ok(in_.full(), 'a single oversized message is allowed, then the window is full')
})

t.test('inflights: reset empties the window; clone copies it independently', async (t) => {
  const in_ = new Inflights(4, 100)
  in_.add(1, 40)
  in_.add(2, 40)
  const c = in_.clone()
  in_.reset()
  t.equal(in_.length, 0)
  t.notOk(in_.full())
  t.equal(c.length, 2)
  c.add(3, 40)
  t.ok(c.full(), 'the clone kept the bytes')
})

// ---- progress --------------------------------------------------------------------------

function progress(state: ProgressState, match: number, next: number, pendingSnapshot = 0): Progress {
  const pr = new Progress(next, 256, 0, false)
  pr.state = state
  pr.match = match
  pr.pendingSnapshot = pendingSnapshot
  return pr
}

t.test('progress: becomeProbe resumes after the match, or after a snapshot the follower now has', async (t) => {
  const cases: Array<[Progress, number]> = [
    [progress(ProgressState.Replicate, 1, 5), 2],
    [progress(ProgressState.Snapshot, 1, 5, 10), 11],
    [progress(ProgressState.Snapshot, 1, 5, 0), 2],
    [progress(ProgressState.Snapshot, 12, 13, 10), 13],
  ]
  for (const [pr, next] of cases) {
    const from = pr.state
    pr.becomeProbe()
    t.equal(pr.state, ProgressState.Probe)
    t.equal(pr.next, next, `from ${from} match ${pr.match}`)
    t.equal(pr.pendingSnapshot, 0)
  }
})

t.test('progress: becomeReplicate streams from after the match with an empty window; becomeSnapshot pauses', async (t) => {
  const pr = progress(ProgressState.Probe, 1, 5)
  pr.becomeReplicate()
  t.equal(pr.state, ProgressState.Replicate)
  t.equal(pr.next, 2)
  t.equal(pr.inflights.length, 0)
  pr.inflights.add(3, 1)
  pr.becomeSnapshot(10)
  t.equal(pr.state, ProgressState.Snapshot)
  t.equal(pr.pendingSnapshot, 10)
  t.equal(pr.inflights.length, 0, 'the window is reset')
  t.ok(pr.isPaused())
})

t.test('progress: maybeUpdate raises match (never lowers it) and keeps next beyond it', async (t) => {
  const cases: Array<[number, boolean, number, number]> = [
    [2, false, 3, 5], // an old acknowledgement
    [3, false, 3, 5],
    [4, true, 4, 5],
    [5, true, 5, 6],
    [6, true, 6, 7],
  ]
  for (const [n, updated, match, next] of cases) {
    const pr = progress(ProgressState.Probe, 3, 5)
    t.equal(pr.maybeUpdate(n), updated, `ack ${n}`)
    t.equal(pr.match, match)
    t.equal(pr.next, next)
  }
})

t.test('progress: maybeDecrTo backs off on a rejection, ignoring stale ones', async (t) => {
  const cases: Array<{ state: ProgressState; match: number; next: number; rejected: number; hint: number; ok: boolean; wantNext: number }> = [
    // Replicate: a rejection at or below the match is stale
    { state: ProgressState.Replicate, match: 5, next: 10, rejected: 5, hint: 5, ok: false, wantNext: 10 },
    { state: ProgressState.Replicate, match: 5, next: 10, rejected: 4, hint: 4, ok: false, wantNext: 10 },
    // Replicate: otherwise go straight back to match + 1
    { state: ProgressState.Replicate, match: 5, next: 10, rejected: 9, hint: 9, ok: true, wantNext: 6 },
    // Probe: only a rejection of the last probe (next - 1) counts
    { state: ProgressState.Probe, match: 0, next: 0, rejected: 0, hint: 0, ok: false, wantNext: 0 },
    { state: ProgressState.Probe, match: 0, next: 10, rejected: 5, hint: 5, ok: false, wantNext: 10 },
    { state: ProgressState.Probe, match: 0, next: 10, rejected: 9, hint: 9, ok: true, wantNext: 9 },
    { state: ProgressState.Probe, match: 0, next: 2, rejected: 1, hint: 1, ok: true, wantNext: 1 },
    { state: ProgressState.Probe, match: 0, next: 1, rejected: 0, hint: 0, ok: true, wantNext: 1 },
    // Probe: jump to the follower's hint
    { state: ProgressState.Probe, match: 0, next: 10, rejected: 9, hint: 2, ok: true, wantNext: 3 },
    { state: ProgressState.Probe, match: 0, next: 10, rejected: 9, hint: 0, ok: true, wantNext: 1 },
  ]
  for (const c of cases) {
    const pr = progress(c.state, c.match, c.next)
    pr.probeSent = true
    const name = `${c.state} match ${c.match} next ${c.next}, rejected ${c.rejected} hint ${c.hint}`
    t.equal(pr.maybeDecrTo(c.rejected, c.hint), c.ok, name)
    t.equal(pr.next, c.wantNext, `${name}: next`)
    if (c.ok && c.state === ProgressState.Probe) t.notOk(pr.probeSent, `${name}: may probe again`)
  }
})

t.test('progress: paused when a probe is out, when the window is full, and always while a snapshot is pending', async (t) => {
  const probe = progress(ProgressState.Probe, 0, 1)
  t.notOk(probe.isPaused())
  probe.probeSent = true
  t.ok(probe.isPaused())
  probe.maybeUpdate(1)
  t.notOk(probe.isPaused(), 'an acknowledgement resumes a probing follower')

  const repl = new Progress(1, 2, 0, false)
  repl.becomeReplicate()
  repl.probeSent = true
  t.notOk(repl.isPaused(), 'probeSent does not matter in Replicate')
  repl.inflights.add(1, 1)
  repl.inflights.add(2, 1)
  t.ok(repl.isPaused(), 'full window')

  t.ok(progress(ProgressState.Snapshot, 0, 1).isPaused())
})

// ---- quorum ----------------------------------------------------------------------------

t.test('quorum: a majority of n voters is ⌊n/2⌋+1', async (t) => {
  t.same([1, 2, 3, 4, 5, 6, 7].map(majority), [1, 2, 2, 3, 3, 4, 4])
})

t.test('quorum: the committed index is the highest index acknowledged by a majority, for 1 to 7 voters', async (t) => {
  for (let n = 1; n <= 7; n++) {
    const voters = new Set(Array.from({ length: n }, (_, i) => i + 1))
    // voter i acknowledged index 10*i: a majority has acknowledged 10*(n - q + 1)
    const q = majority(n)
    t.equal(committedIndex(voters, (id) => 10 * id), 10 * (n - q + 1), `${n} voters, acks 10..${10 * n}`)
    t.equal(committedIndex(voters, () => 7), 7, `${n} voters all at 7`)
  }
  const five = new Set([1, 2, 3, 4, 5])
  const acks = (m: Record<number, number>) => (id: number) => m[id] ?? 0
  t.equal(committedIndex(five, acks({ 1: 100, 2: 101, 3: 99 })), 99, 'voters 4 and 5 unknown count as 0')
  t.equal(committedIndex(five, acks({ 1: 100, 2: 101 })), 0, 'two of five is not a majority')
  t.equal(committedIndex(five, acks({ 1: 12, 2: 12, 3: 11, 4: 11, 5: 10 })), 11)
  t.equal(committedIndex(new Set([1, 2]), acks({ 1: 5, 2: 3 })), 3, 'with two voters both must have it')
  t.equal(committedIndex(new Set([1, 2, 3, 4]), acks({ 1: 5, 2: 4, 3: 3, 4: 2 })), 3, 'with four, three must')
  t.equal(committedIndex(new Set(), () => 5), 0, 'an empty configuration commits nothing')
})

t.test('quorum: an election is won with a majority of grants, lost when a majority can no longer grant, pending otherwise (1 to 7 voters)', async (t) => {
  for (let n = 1; n <= 7; n++) {
    const ids = Array.from({ length: n }, (_, i) => i + 1)
    const voters = new Set(ids)
    const q = majority(n)
    for (let granted = 0; granted <= n; granted++) {
      for (let rejected = 0; granted + rejected <= n; rejected++) {
        const votes = new Map<number, boolean>()
        ids.slice(0, granted).forEach((id) => votes.set(id, true))
        ids.slice(granted, granted + rejected).forEach((id) => votes.set(id, false))
        const missing = n - granted - rejected
        const want = granted >= q ? VoteResult.Won : granted + missing < q ? VoteResult.Lost : VoteResult.Pending
        t.equal(voteResult(voters, votes), want, `${n} voters: ${granted} yes, ${rejected} no, ${missing} missing`)
      }
    }
  }
  t.equal(voteResult(new Set([1, 2, 3]), new Map([[9, true], [8, true]])), VoteResult.Pending, 'votes of non-voters do not count')
})

t.test('quorum: spot checks of election results', async (t) => {
  const three = new Set([1, 2, 3])
  const five = new Set([1, 2, 3, 4, 5])
  const v = (...pairs: Array<[number, boolean]>) => new Map(pairs)
  t.equal(voteResult(three, v([1, true], [2, true])), VoteResult.Won)
  t.equal(voteResult(three, v([1, true], [2, false])), VoteResult.Pending)
  t.equal(voteResult(three, v([1, true], [2, false], [3, false])), VoteResult.Lost)
  t.equal(voteResult(five, v([1, true], [2, true])), VoteResult.Pending)
  t.equal(voteResult(five, v([1, true], [2, false], [3, false], [4, false])), VoteResult.Lost)
  t.equal(voteResult(new Set(), v()), VoteResult.Won, 'by convention an empty configuration wins')
})

// ---- tracker ---------------------------------------------------------------------------

function tracker(voters: number[], learners: number[] = []): ProgressTracker {
  const p = new ProgressTracker(256, 0)
  for (const id of voters) {
    p.voters.add(id)
    p.progress.set(id, p.newProgress(1, false))
  }
  for (const id of learners) {
    p.learners.add(id)
    p.progress.set(id, p.newProgress(1, true))
  }
  return p
}

t.test('tracker: learners do not count for commit, for vote results or for an active quorum', async (t) => {
  const p = tracker([1, 2, 3], [4, 5])
  p.progress.get(1)!.match = 10
  p.progress.get(4)!.match = 10
  p.progress.get(5)!.match = 10
  t.equal(p.committed(), 0, 'the learners’ copies do not make a majority')
  p.progress.get(2)!.match = 8
  t.equal(p.committed(), 8)

  p.recordVote(4, true)
  p.recordVote(5, true)
  p.recordVote(1, true)
  t.same(p.tallyVotes(), { granted: 1, rejected: 0, result: VoteResult.Pending })

  p.progress.get(4)!.recentActive = true
  p.progress.get(5)!.recentActive = true
  t.notOk(p.quorumActive(1), 'the leader and two learners are not a quorum')
  p.progress.get(3)!.recentActive = true
  t.ok(p.quorumActive(1), 'the leader (counted implicitly) and 3 are')
  t.notOk(p.hasQuorum(new Set([1, 4, 5])))
  t.ok(p.hasQuorum(new Set([1, 3])))
})

t.test('tracker: a vote, once recorded, cannot be changed', async (t) => {
  const p = tracker([1, 2, 3])
  p.recordVote(2, false)
  p.recordVote(2, true)
  t.same(p.tallyVotes(), { granted: 0, rejected: 1, result: VoteResult.Pending })
  p.resetVotes()
  p.recordVote(2, true)
  p.recordVote(1, true)
  t.same(p.tallyVotes(), { granted: 2, rejected: 0, result: VoteResult.Won })
})

t.test('tracker: the ConfState and ids come out sorted', async (t) => {
  const p = tracker([3, 1, 2], [5, 4])
  t.same(p.confState(), { voters: [1, 2, 3], learners: [4, 5] })
  t.same(p.ids(), [1, 2, 3, 4, 5])
})
