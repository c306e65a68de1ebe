import { Inflights } from './inflights.js'

export enum ProgressState {
  /** Unknown match: send one MsgApp at a time and wait for the answer. */
  Probe = 'StateProbe',
  /** Known match: stream MsgApps optimistically, bounded by the inflight window. */
  Replicate = 'StateReplicate',
  /** The follower needs a snapshot; no MsgApp until it reports back. */
  Snapshot = 'StateSnapshot',
}

/** The leader's view of one follower's log. */
export class Progress {
  match = 0
  next: number
  state = ProgressState.Probe
  /** Index of the snapshot being sent (Snapshot state). */
  pendingSnapshot = 0
  /** Heard from since the last check-quorum round. */
  recentActive = false
  /** In Probe: a MsgApp is out; wait for its answer or a heartbeat response. */
  probeSent = false
  readonly inflights: Inflights

  constructor(
    next: number,
    maxInflight: number,
    maxInflightBytes: number,
    public isLearner: boolean,
  ) {
    this.next = next
    this.inflights = new Inflights(maxInflight, maxInflightBytes)
  }

  private resetState(state: ProgressState): void {
    this.probeSent = false
    this.pendingSnapshot = 0
    this.state = state
    this.inflights.reset()
  }

  becomeProbe(): void {
    if (this.state === ProgressState.Snapshot) {
      // Resume right after the snapshot the follower now has.
      const pending = this.pendingSnapshot
      this.resetState(ProgressState.Probe)
      this.next = Math.max(this.match + 1, pending + 1)
    } else {
      this.resetState(ProgressState.Probe)
      this.next = this.match + 1
    }
  }

  becomeReplicate(): void {
    this.resetState(ProgressState.Replicate)
    this.next = this.match + 1
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState(ProgressState.Snapshot)
    this.pendingSnapshot = snapshotIndex
  }

  /** An AppResp acknowledged n. Returns false for a stale (already known) acknowledgement. */
  maybeUpdate(n: number): boolean {
    let updated = false
    if (this.match < n) {
      this.match = n
      updated = true
      this.probeSent = false
    }
    this.next = Math.max(this.next, n + 1)
    return updated
  }

  /** Pipelining: assume the MsgApp ending at n will succeed. */
  optimisticUpdate(n: number): void {
    this.next = n + 1
  }

  /**
   * The follower rejected a MsgApp at `rejected`; `matchHint` is its guess of where the
   * logs agree. Returns false when the rejection is stale.
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === ProgressState.Replicate) {
      if (rejected <= this.match) return false
      this.next = this.match + 1
      return true
    }
    if (this.next - 1 !== rejected) return false
    this.next = Math.max(Math.min(rejected, matchHint + 1), 1)
    this.probeSent = false
    return true
  }

  isPaused(): boolean {
    switch (this.state) {
      case ProgressState.Probe:
        return this.probeSent
      case ProgressState.Replicate:
        return this.inflights.full()
      case ProgressState.Snapshot:
        return true
    }
  }

  toString(): string {
    return `${this.state} match=${this.match} next=${this.next}${this.isLearner ? ' learner' : ''}${this.state === ProgressState.Snapshot ? ` pendingSnap=${this.pendingSnapshot}` : ''}${this.probeSent ? ' paused' : ''} inflight=${this.inflights.length}`
  }
}
