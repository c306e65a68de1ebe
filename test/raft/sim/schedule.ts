import { ConfChangeType, StateType } from '../../../src/raft/types.js'
import { SimCluster } from './cluster.js'
import { Rng } from './rng.js'

export interface ScheduleResult {
  seed: number
  size: number
  steps: number
  stats: SimCluster['stats']
  acked: number
  reads: number
}

/** The cluster size a seed runs with: odd seeds 5 nodes, even seeds 3. */
export function sizeForSeed(seed: number): number {
  return seed % 2 === 1 ? 5 : 3
}

/** One seed in ten runs five times longer, to reach states short runs never do. */
export function stepsForSeed(seed: number): number {
  return seed % 10 === 0 ? 2000 : 400
}

/**
 * One random schedule: a cluster under client load while the network drops, duplicates
 * and reorders messages, partitions come and go, nodes crash and restart from disk,
 * snapshots compact logs and leadership is transferred. Safety is checked after every
 * step (by SimCluster); at the end the faults stop and the cluster must converge with
 * every acknowledged write on every node. Throws on any violation.
 */
export function runSchedule(seed: number, steps = stepsForSeed(seed)): ScheduleResult {
  const rng = new Rng(seed)
  const size = sizeForSeed(seed)
  const ids = Array.from({ length: size }, (_, i) => i + 1)
  const net = { drop: rng.next() * 0.1, duplicate: rng.next() * 0.05, maxDelay: 1 + rng.int(4) }
  const c = new SimCluster(ids, rng, net, {
    preVote: rng.chance(0.7),
    checkQuorum: rng.chance(0.7),
    crashMidReady: 0.002,
    maxWriteSteps: rng.int(3),
  })
  // A third of the schedules churn membership ten times as fast, so that changes
  // overlap with elections, crashes and each other.
  const churn = rng.chance(1 / 3) ? 10 : 1

  for (let s = 0; s < steps; s++) {
    const members = c.members()
    if (s % 2 === 0) c.tick()
    if (rng.chance(0.3)) c.propose(rng.pick(members))
    if (rng.chance(0.1)) c.read(rng.pick(members))
    if (rng.chance(0.01)) {
      const shuffled = [...members].sort(() => rng.next() - 0.5)
      const cut = 1 + rng.int(shuffled.length - 1)
      c.partitionInto([shuffled.slice(0, cut), shuffled.slice(cut)])
    }
    if (rng.chance(0.02)) c.heal()
    if (rng.chance(0.008) && c.canCrash()) c.crash(rng.pick(c.alive()).id)
    // Leaders are where the subtle bugs live (figure 8): cut them off or kill them often.
    if (rng.chance(0.01)) {
      const leader = c.leaders()[0]
      if (leader && c.canCrash() && rng.chance(0.5)) c.crash(leader.id)
      else if (leader) c.partitionInto([[leader.id], members.filter((id) => id !== leader.id)])
    }
    if (rng.chance(0.03)) {
      const dead = [...c.nodes.values()].filter((n) => !n.alive && !c.removed.has(n.id))
      if (dead.length > 0) c.restart(rng.pick(dead).id)
    }
    if (rng.chance(0.01)) c.compact(rng.pick(members), rng.int(5))
    if (rng.chance(0.004)) {
      const leader = c.leaders()[0]
      if (leader) c.transfer(leader.id, rng.pick(members))
    }
    // Membership, one member at a time: learners join and are promoted, voters (the
    // leader included) and learners are removed; at least three voters remain.
    if (rng.chance(0.004 * churn) && members.length < 7) c.changeMembership(ConfChangeType.AddLearnerNode)
    if (rng.chance(0.004 * churn) && c.learners.size > 0) c.changeMembership(ConfChangeType.AddNode, rng.pick([...c.learners]))
    if (rng.chance(0.003 * churn) && c.voters.size > 3) c.changeMembership(ConfChangeType.RemoveNode, rng.pick([...c.voters]))
    if (rng.chance(0.002 * churn) && c.learners.size > 0) c.changeMembership(ConfChangeType.RemoveNode, rng.pick([...c.learners]))
    c.step()
  }

  // Stop the faults. A healthy cluster must elect a leader, commit, and converge.
  c.heal()
  c.net = { drop: 0, duplicate: 0, maxDelay: 1 }
  c.opts.crashMidReady = 0
  for (const n of c.nodes.values()) if (!n.alive) c.restart(n.id)
  let converged = false
  for (let s = 0; s < 3000 && !converged; s++) {
    if (s % 2 === 0) c.tick()
    c.step()
    if (s % 20 === 0) {
      const leader = c.leaders()[0]
      if (leader && leader.node.raft.state === StateType.Leader) c.propose(leader.id)
    }
    converged = isConverged(c)
  }
  if (!converged) {
    const desc = [...c.nodes.values()].map((n) => `${n.id}:${n.node.raft.state}/t${n.node.raft.term}/c${n.node.raft.raftLog.committed}/a${n.appliedIndex}`)
    throw new Error(`liveness: cluster did not converge after faults stopped [${desc.join(' ')}]`)
  }
  for (const n of current(c)) {
    for (const w of c.acked) {
      if (!n.state.has(w)) throw new Error(`durability: acknowledged write ${w} missing on node ${n.id}`)
    }
  }
  return { seed, size, steps, stats: c.stats, acked: c.acked.size, reads: c.readsChecker.reads }
}

/** The nodes of the committed configuration; removed ones and never-added ones do not count. */
function current(c: SimCluster) {
  return c.members().map((id) => c.node(id))
}

function isConverged(c: SimCluster): boolean {
  const leaders = c.leaders()
  if (leaders.length !== 1) return false
  const commit = leaders[0]!.node.raft.raftLog.committed
  // The leader must have committed an entry of its own term (so commit is final) and
  // every node must have applied up to it.
  if (!leaders[0]!.node.raft.committedEntryInCurrentTerm()) return false
  const nodes = current(c)
  for (const n of nodes) if (!n.alive || n.appliedIndex < commit) return false
  for (const n of nodes) {
    if (n.state.size !== nodes[0]!.state.size) return false
  }
  return true
}
