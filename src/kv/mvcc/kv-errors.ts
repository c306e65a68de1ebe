// Errors of the MVCC store's reads, writes and compaction, worded as etcd's
// (server/storage/mvcc/kvstore.go) so the gRPC layer can prefix `etcdserver: ` and
// answer OUT_OF_RANGE exactly as etcd does (COMPAT.md).

/** A read, compaction or hash at a revision below the compacted one (etcd's ErrCompacted). */
export class CompactedError extends Error {
  constructor() {
    super('mvcc: required revision has been compacted')
    this.name = 'CompactedError'
  }
}

/** A read, compaction or hash at a revision above the current one (etcd's ErrFutureRev). */
export class FutureRevisionError extends Error {
  constructor() {
    super('mvcc: required revision is a future revision')
    this.name = 'FutureRevisionError'
  }
}

/** The store was closed, or a failed backend write left it unusable (etcd panics there). */
export class StoreClosedError extends Error {
  constructor(reason = 'mvcc: store is closed') {
    super(reason)
    this.name = 'StoreClosedError'
  }
}
