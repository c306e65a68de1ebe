import type { NodeId } from '../types.js'

export enum VoteResult {
  Pending = 'VotePending',
  Lost = 'VoteLost',
  Won = 'VoteWon',
}

export function majority(n: number): number {
  return Math.floor(n / 2) + 1
}

/**
 * The largest index acknowledged by a majority of voters. A voter missing from `match`
 * counts as 0. An empty configuration commits nothing... except that etcd treats it as
 * "infinitely committed" for joint configs; we have no joint configs, so return 0.
 */
export function committedIndex(voters: ReadonlySet<NodeId>, match: (id: NodeId) => number): number {
  const n = voters.size
  if (n === 0) return 0
  const srt: number[] = []
  for (const id of voters) srt.push(match(id))
  srt.sort((a, b) => b - a)
  return srt[majority(n) - 1]!
}

export function voteResult(voters: ReadonlySet<NodeId>, votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  if (voters.size === 0) return VoteResult.Won
  let granted = 0
  let missing = 0
  for (const id of voters) {
    const v = votes.get(id)
    if (v === undefined) missing++
    else if (v) granted++
  }
  const q = majority(voters.size)
  if (granted >= q) return VoteResult.Won
  if (granted + missing >= q) return VoteResult.Pending
  return VoteResult.Lost
}
