import type { ConfState, NodeId } from '../types.js'
import { Progress } from './progress.js'
import { VoteResult, committedIndex, majority, voteResult } from './quorum.js'

/**
 * Membership (voters and learners), each member's replication progress, and the
 * votes of the current election. Changes are applied one member at a time.
 */
export class ProgressTracker {
  readonly voters = new Set<NodeId>()
  readonly learners = new Set<NodeId>()
  readonly progress = new Map<NodeId, Progress>()
  readonly votes = new Map<NodeId, boolean>()

  constructor(
    readonly maxInflight: number,
    readonly maxInflightBytes: number,
  ) {}

  confState(): ConfState {
    return {
      voters: [...this.voters].sort((a, b) => a - b),
      learners: [...this.learners].sort((a, b) => a - b),
    }
  }

  isVoter(id: NodeId): boolean {
    return this.voters.has(id)
  }

  /** Every member's progress, in id order so message order is deterministic. */
  ids(): NodeId[] {
    return [...this.progress.keys()].sort((a, b) => a - b)
  }

  newProgress(next: number, isLearner: boolean): Progress {
    return new Progress(next, this.maxInflight, this.maxInflightBytes, isLearner)
  }

  committed(): number {
    return committedIndex(this.voters, (id) => this.progress.get(id)?.match ?? 0)
  }

  /** Did a quorum of voters talk to us recently? The leader counts itself. */
  quorumActive(self: NodeId): boolean {
    let active = 0
    for (const id of this.voters) {
      if (id === self || this.progress.get(id)?.recentActive) active++
    }
    return active >= majority(this.voters.size)
  }

  hasQuorum(acks: ReadonlySet<NodeId>): boolean {
    let n = 0
    for (const id of this.voters) if (acks.has(id)) n++
    return n >= majority(this.voters.size)
  }

  resetVotes(): void {
    this.votes.clear()
  }

  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted)
  }

  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0
    let rejected = 0
    for (const id of this.voters) {
      const v = this.votes.get(id)
      if (v === true) granted++
      else if (v === false) rejected++
    }
    return { granted, rejected, result: voteResult(this.voters, this.votes) }
  }
}
