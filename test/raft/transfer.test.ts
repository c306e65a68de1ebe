// Leadership transfer (Raft thesis §3.10): the leader brings the target up to date,
// then sends it TimeoutNow so it campaigns at once, without waiting for a timeout.
import t, { type Test } from 'tap'
import { ProposalDroppedError } from '../../src/raft/errors.js'
import { ConfChangeType, MessageType, NONE, StateType } from '../../src/raft/types.js'
import { ELECTION_TICK, Network, type NodeConfig } from './helpers/network.js'

function checkLeader(t: Test, net: Network, lead: number, term: number, msg: string): void {
  t.equal(net.leader(), lead, `${msg}: ${lead} leads`)
  t.equal(net.raft(lead).term, term, `${msg}: in term ${term}`)
  for (const id of net.ids()) {
    if (id !== lead) {
      t.equal(net.raft(id).state, StateType.Follower, `${msg}: ${id} follows`)
      t.equal(net.raft(id).lead, lead, `${msg}: ${id} knows the leader`)
    }
  }
}

const configs: NodeConfig[] = [{}, { preVote: true, checkQuorum: true }]

for (const config of configs) {
  t.test(`a transfer to an up-to-date follower: TimeoutNow, and it is elected at once in a higher term (${JSON.stringify(config)})`, async (t) => {
    const net = new Network({ voters: [1, 2, 3], config })
    net.elect(1)
    net.propose(1, 'a')
    net.transferLeadership(1, 2)
    t.equal(net.count((m) => m.type === MessageType.TimeoutNow && m.from === 1 && m.to === 2), 1, 'TimeoutNow sent')
    checkLeader(t, net, 2, 2, 'after the transfer')
    t.equal(net.raft(1).leadTransferee, NONE)
    net.propose(2, 'b')
    for (const id of [1, 2, 3]) t.same(net.node(id).appliedData(), ['a', 'b'])

    // And back again.
    net.transferLeadership(2, 1)
    checkLeader(t, net, 1, 3, 'after transferring back')
  })
}

t.test('a transfer requested on a follower is forwarded to the leader and names the requested target', async (t) => {
  const net = new Network({ voters: [1, 2, 3] })
  net.elect(1)
  net.transferLeadership(2, 3) // asked on follower 2, for 3
  checkLeader(t, net, 3, 2, 'forwarded request')

  net.transferLeadership(1, 2) // asked on follower 1, for 2
  checkLeader(t, net, 2, 3, 'second forwarded request')
})

t.test('a transfer to a lagging follower first brings it up to date, then sends TimeoutNow', async (t) => {
  const net = new Network({ voters: [1, 2, 3] })
  net.elect(1)
  net.isolate(3)
  for (let i = 0; i < 5; i++) net.propose(1, `e${i}`)
  net.recover()
  t.ok(net.raft(3).raftLog.lastIndex() < net.raft(1).raftLog.lastIndex(), '3 is behind')

  net.transferLeadership(1, 3)
  const timeoutNow = net.delivered.findIndex((m) => m.type === MessageType.TimeoutNow)
  const lastApp = net.delivered.findLastIndex((m, i) => i < timeoutNow && m.type === MessageType.App && m.to === 3)
  t.ok(lastApp >= 0 && lastApp < timeoutNow, 'MsgApp to 3 came before TimeoutNow')
  checkLeader(t, net, 3, 2, 'after catching up')
  t.same(net.node(3).appliedData(), ['e0', 'e1', 'e2', 'e3', 'e4'])
})

t.test('proposals are refused with ProposalDroppedError while a transfer is in flight', async (t) => {
  const net = new Network({ voters: [1, 2, 3] })
  net.elect(1)
  net.isolate(3)
  net.transferLeadership(1, 3)
  t.equal(net.raft(1).leadTransferee, 3)
  t.throws(() => net.propose(1, 'x'), ProposalDroppedError)
  net.propose(2, 'forwarded') // the leader drops it; the follower's proposer would time out
  t.equal(net.raft(1).raftLog.lastIndex(), 1, 'nothing was appended')
})

t.test('a transfer whose target stays down is abandoned after an election timeout; the leader keeps leading and accepts proposals again', async (t) => {
  const net = new Network({ voters: [1, 2, 3] })
  net.elect(1)
  net.isolate(3)
  net.transferLeadership(1, 3)
  net.tick(ELECTION_TICK - 1, [1])
  t.equal(net.raft(1).leadTransferee, 3, 'still trying just before the timeout')
  net.tick(1, [1])
  t.equal(net.raft(1).leadTransferee, NONE, 'abandoned after one election timeout')
  t.equal(net.raft(1).state, StateType.Leader)
  t.equal(net.raft(1).term, 1)
  net.propose(1, 'ok')
  t.same(net.node(2).appliedData(), ['ok'])
})

t.test('a transfer to the leader itself, to a learner, or to a non-member is ignored', async (t) => {
  const net = new Network({ voters: [1, 2, 3], learners: [4] })
  net.elect(1)
  for (const target of [1, 4, 9]) {
    net.transferLeadership(1, target)
    t.equal(net.raft(1).leadTransferee, NONE, `transfer to ${target} ignored`)
    checkLeader(t, net, 1, 1, `after transfer to ${target}`)
    net.propose(1, `after ${target}`) // proposals still accepted
  }
})

t.test('repeating a transfer to the same target changes nothing; a transfer to another target replaces it', async (t) => {
  const net = new Network({ voters: [1, 2, 3] })
  net.elect(1)
  net.isolate(3)
  net.transferLeadership(1, 3)
  net.tick(ELECTION_TICK - 2, [1])
  net.transferLeadership(1, 3)
  net.tick(2, [1])
  t.equal(net.raft(1).leadTransferee, NONE, 'the repeated request did not extend the deadline')

  net.transferLeadership(1, 3)
  t.equal(net.raft(1).leadTransferee, 3)
  net.transferLeadership(1, 2)
  net.recover()
  net.tick(1)
  checkLeader(t, net, 2, 2, 'the second target took over')
})

t.test('a follower that gets TimeoutNow campaigns even inside the leader lease and with pre-vote on', async (t) => {
  const net = new Network({ voters: [1, 2, 3], config: { preVote: true, checkQuorum: true } })
  net.elect(1)
  net.tick(2) // everyone recently heard from the leader
  net.transferLeadership(1, 3)
  t.equal(net.count((m) => m.type === MessageType.PreVote && m.from === 3), 0, 'no pre-vote round for a transfer')
  checkLeader(t, net, 3, 2, 'transfer inside the lease')
})

t.test('a transfer whose target is removed from the configuration is aborted', async (t) => {
  const net = new Network({ voters: [1, 2, 3] })
  net.elect(1)
  net.isolate(3)
  net.transferLeadership(1, 3)
  t.equal(net.raft(1).leadTransferee, 3)
  // The transfer blocks proposals, so it is the application that removes 3 while the
  // transfer is pending (the conf change was committed earlier and is applied now).
  net.raft(1).applyConfChange({ type: ConfChangeType.RemoveNode, nodeId: 3 })
  t.equal(net.raft(1).leadTransferee, NONE)
})

t.test('a candidate or a leader ignores TimeoutNow', async (t) => {
  const net = new Network({ voters: [1, 2, 3] })
  net.elect(1)
  const term = net.raft(1).term
  net.send([{ ...net.delivered[0]!, type: MessageType.TimeoutNow, from: 2, to: 1, term, entries: [] }])
  t.equal(net.raft(1).state, StateType.Leader)
  t.equal(net.raft(1).term, term)
})

t.test('asking the leader to transfer to itself cancels a pending transfer', async (t) => {
  const net = new Network({ voters: [1, 2, 3] })
  net.elect(1)
  net.isolate(3)
  net.transferLeadership(1, 3)
  t.equal(net.raft(1).leadTransferee, 3)
  net.transferLeadership(1, 1)
  t.equal(net.raft(1).leadTransferee, NONE)
  net.propose(1, 'accepted again')
  t.same(net.node(2).appliedData(), ['accepted again'])
})

t.test('a leader in the middle of a transfer steps down on a higher-term vote request', async (t) => {
  const net = new Network({ voters: [1, 2, 3] })
  net.elect(1)
  net.isolate(3)
  net.transferLeadership(1, 3)
  net.recover()
  net.isolate(3)
  net.campaign(2)
  t.equal(net.raft(2).state, StateType.Leader)
  t.equal(net.raft(1).state, StateType.Follower)
  t.equal(net.raft(1).leadTransferee, NONE)
})

t.test('a node that is not a voter ignores TimeoutNow', async (t) => {
  const net = new Network({ voters: [1, 2], learners: [3] })
  net.elect(1)
  net.send([{ ...net.delivered[0]!, type: MessageType.TimeoutNow, from: 1, to: 3, term: 1, entries: [] }])
  t.equal(net.raft(3).state, StateType.Follower)
  t.equal(net.raft(3).term, 1)
  t.equal(net.leader(), 1)
})
