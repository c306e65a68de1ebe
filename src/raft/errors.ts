// Errors a Storage reports for indexes it cannot serve; the core reacts to each
// differently (a compacted index means "send a snapshot", unavailable is a bug).
export class CompactedError extends Error {
  constructor() {
    super('requested index is unavailable due to compaction')
    this.name = 'CompactedError'
  }
}

export class SnapOutOfDateError extends Error {
  constructor() {
    super('requested index is older than the existing snapshot')
    this.name = 'SnapOutOfDateError'
  }
}

export class UnavailableError extends Error {
  constructor() {
    super('requested entry at index is unavailable')
    this.name = 'UnavailableError'
  }
}

/** A proposal the node cannot take now (no leader, transfer in flight, not a member). */
export class ProposalDroppedError extends Error {
  constructor(reason = 'raft proposal dropped') {
    super(reason)
    this.name = 'ProposalDroppedError'
  }
}
