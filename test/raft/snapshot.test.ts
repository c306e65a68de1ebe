// Log compaction and snapshots (Raft paper §7): a follower behind the leader's
// compacted log is caught up with InstallSnapshot (MsgSnap), then by MsgApp again.
import t from 'tap'
import { MemoryStorage } from '../../src/raft/storage.js'
import { ProgressState } from '../../src/raft/tracker/progress.js'
import { type Message, MessageType, NONE, type Snapshot, StateType, message } from '../../src/raft/types.js'
import { ELECTION_TICK, Network, ents, newTestRaft, readMessages, summary, text } from './helpers/network.js'

function snapshot(index: number, term: number, voters: number[], learners: number[] = []): Snapshot {
  return { metadata: { index, term, confState: { voters, learners } }, data: new Uint8Array(0) }
}

/** A cluster whose leader 1 compacted its log while 3 was cut off: 3 needs a snapshot. */
function behindCompactedLeader(): { net: Network; snap: Snapshot; held: Message[] } {
  const net = new Network({ voters: [1, 2, 3] })
  net.elect(1)
  net.isolate(3)
  for (let i = 0; i < 10; i++) net.propose(1, `e${i}`)
  const snap = net.node(1).compact()
  net.recover()
  const held: Message[] = []
  net.msgHook = (m) => {
    if (m.type !== MessageType.Snap) return true
    held.push(m)
    return false
  }
  net.tick(1) // heartbeat → 3 answers → the leader probes, finds the entries gone, sends a snapshot
  return { net, snap, held }
}

t.test('a follower far behind a compacted leader log receives MsgSnap, restores it, reports back, then continues with MsgApp', async (t) => {
  const { net, snap, held } = behindCompactedLeader()
  t.equal(snap.metadata.index, 11)
  t.equal(held.length, 1, 'the leader sent one MsgSnap')
  t.same(summary(held[0]!), { type: 'Snap', from: 1, to: 3, term: 1 })
  t.equal(held[0]!.snapshot!.metadata.index, 11)
  const pr = net.raft(1).prs.progress.get(3)!
  t.equal(pr.state, ProgressState.Snapshot)
  t.equal(pr.pendingSnapshot, 11)

  const appsTo3 = () => net.count((m) => m.type === MessageType.App && m.to === 3)
  const before = appsTo3()
  net.propose(1, 'during')
  net.tick(2)
  t.equal(appsTo3(), before, 'no MsgApp while the snapshot is in flight')
  t.equal(held.length, 1, 'and no second snapshot')

  // The transport reports the snapshot delivered; the leader waits for 3's answer.
  net.node(1).rawNode.reportSnapshot(3, true)
  t.equal(pr.state, ProgressState.Probe)
  t.equal(pr.next, 12, 'probing right after the snapshot')

  net.msgHook = undefined
  net.send(held)
  const n3 = net.node(3)
  t.same(n3.snapshotsApplied.map((s) => s.metadata.index), [11], '3 installed the snapshot')
  t.equal(n3.storage.snapshot().metadata.index, 11)
  t.equal(n3.storage.firstIndex(), 12)
  t.equal(pr.state, ProgressState.Replicate, 'the leader replicates to 3 again')
  const firstApp = net.delivered.find((m) => m.type === MessageType.App && m.to === 3 && m.entries.length > 0 && net.delivered.indexOf(m) > net.delivered.indexOf(held[0]!))
  t.equal(firstApp?.entries[0]?.index, 12, 'with MsgApp from the entry after the snapshot')
  t.same(n3.appliedData(), ['during'], 'entries after the snapshot are applied from the log')
  t.equal(n3.appliedIndex, net.node(1).appliedIndex)
  t.equal(net.raft(3).raftLog.committed, net.raft(1).raftLog.committed)
})

t.test('after installing a snapshot a node counts it as applied and may campaign at once', async (t) => {
  const { net, held } = behindCompactedLeader()
  net.msgHook = undefined
  net.send(held)
  t.equal(net.node(3).rawNode.status().applied, 11, 'applied = snapshot index')
  net.stop(1)
  net.campaign(3)
  t.equal(net.raft(3).state, StateType.Leader, 'no error looking for unapplied conf changes in the compacted log')
})

t.test('a snapshot that could not be sent is retried: the follower goes back to Probe and the next heartbeat answer triggers a new MsgSnap', async (t) => {
  const { net, held } = behindCompactedLeader()
  const pr = net.raft(1).prs.progress.get(3)!
  net.node(1).rawNode.reportSnapshot(3, false)
  t.equal(pr.state, ProgressState.Probe)
  t.equal(pr.pendingSnapshot, 0)
  t.ok(pr.probeSent, 'paused until the follower is heard from')
  net.tick(1)
  t.equal(held.length, 2, 'a second MsgSnap')
  net.msgHook = undefined
  net.node(1).rawNode.reportSnapshot(3, true)
  net.send([held[1]!])
  t.equal(pr.state, ProgressState.Replicate)
  t.equal(net.node(3).appliedIndex, 11)
})

t.test('a SnapStatus for a follower that is not waiting for a snapshot is ignored', async (t) => {
  const net = new Network({ voters: [1, 2, 3] })
  net.elect(1)
  const pr = net.raft(1).prs.progress.get(2)!
  t.equal(pr.state, ProgressState.Replicate)
  net.node(1).rawNode.reportSnapshot(2, false)
  t.equal(pr.state, ProgressState.Replicate)
})

t.test('a follower with a log matching the snapshot fast-forwards its commit index and keeps its log', async (t) => {
  const s = MemoryStorage.withPeers([1, 2])
  s.append(ents(1, 1, 1, 1))
  s.setHardState({ term: 1, vote: NONE, commit: 1 })
  const r = newTestRaft(1, s)
  r.becomeFollower(2, 2)
  r.step(message({ type: MessageType.Snap, from: 2, to: 1, term: 2, snapshot: snapshot(2, 1, [1, 2]) }))
  t.equal(r.raftLog.committed, 2, 'commit moved to the snapshot index')
  t.equal(r.raftLog.lastIndex(), 3, 'the entry after it is kept')
  t.notOk(r.raftLog.hasPendingSnapshot(), 'nothing to install')
  t.same(readMessages(r).map(summary), [{ type: 'AppResp', from: 1, to: 2, term: 2, index: 2 }])
})

t.test('a snapshot at or below the commit index is ignored', async (t) => {
  const s = MemoryStorage.withPeers([1, 2])
  s.append(ents(1, 1, 1, 1))
  s.setHardState({ term: 1, vote: NONE, commit: 3 })
  const r = newTestRaft(1, s)
  r.becomeFollower(2, 2)
  r.step(message({ type: MessageType.Snap, from: 2, to: 1, term: 2, snapshot: snapshot(2, 1, [1, 2]) }))
  t.equal(r.raftLog.committed, 3)
  t.notOk(r.raftLog.hasPendingSnapshot())
  t.same(readMessages(r).map(summary), [{ type: 'AppResp', from: 1, to: 2, term: 2, index: 3 }])
})

t.test('installing a snapshot replaces the log and adopts the snapshot’s membership; the node cannot campaign until it is persisted', async (t) => {
  const r = newTestRaft(1, [1, 2])
  r.becomeFollower(2, 2)
  r.step(message({ type: MessageType.Snap, from: 2, to: 1, term: 2, snapshot: snapshot(11, 2, [1, 2, 3], [4]) }))
  t.equal(r.raftLog.lastIndex(), 11)
  t.equal(r.raftLog.term(11), 2)
  t.equal(r.raftLog.committed, 11)
  t.ok(r.raftLog.hasPendingSnapshot())
  t.same(r.prs.confState(), { voters: [1, 2, 3], learners: [4] })
  t.same(readMessages(r).map(summary), [{ type: 'AppResp', from: 1, to: 2, term: 2, index: 11 }])
  for (let i = 0; i < 3 * ELECTION_TICK; i++) r.tick()
  t.equal(r.state, StateType.Follower, 'a pending snapshot makes the node unpromotable')
})

t.test('a node refuses a snapshot whose membership does not include it', async (t) => {
  const r = newTestRaft(1, [1, 2])
  r.becomeFollower(2, 2)
  r.step(message({ type: MessageType.Snap, from: 2, to: 1, term: 2, snapshot: snapshot(11, 2, [2, 3]) }))
  t.equal(r.raftLog.lastIndex(), 0)
  t.notOk(r.raftLog.hasPendingSnapshot())
  t.same(readMessages(r).map(summary), [{ type: 'AppResp', from: 1, to: 2, term: 2 }], 'answers with its (unchanged) commit index')
})

t.test('a node restarted from storage holding a snapshot starts at the snapshot, with its membership', async (t) => {
  const { net, held } = behindCompactedLeader()
  net.msgHook = undefined
  net.send(held)
  net.propose(1, 'x')
  net.stop(3)
  const n3 = net.restart(3)
  t.same(n3.raft.prs.confState(), { voters: [1, 2, 3], learners: [] })
  t.equal(n3.raft.raftLog.firstIndex(), 12)
  t.equal(n3.appliedIndex, 12, 're-applied the committed entry after the snapshot')
  t.same(n3.appliedData(), ['x'])
  t.equal(text(n3.storage.snapshot().data), 'applied=11')
})

t.test('a new leader sends no snapshot to a follower until it has heard from it', async (t) => {
  const net = new Network({ voters: [1, 2, 3] })
  net.elect(1)
  net.isolate(3)
  for (let i = 0; i < 5; i++) net.propose(1, `e${i}`)
  net.node(1).compact()
  // 2 takes over; it also compacts, so 3 will need a snapshot from it.
  net.transferLeadership(1, 2)
  net.node(2).compact()
  const pr = net.raft(2).prs.progress.get(3)!
  t.notOk(pr.recentActive, '3 has not answered the new leader')
  net.raft(2).sendAppend(3)
  t.same(net.raft(2).msgs.filter((m) => m.type === MessageType.Snap), [], 'no snapshot for a follower that may be down')
  net.recover()
  net.tick(1)
  t.equal(net.count((m) => m.type === MessageType.Snap && m.from === 2 && m.to === 3), 1, 'sent once 3 answered a heartbeat')
  t.same(net.node(3).snapshotsApplied.map((s) => s.metadata.index), [net.node(2).storage.snapshot().metadata.index])
})
