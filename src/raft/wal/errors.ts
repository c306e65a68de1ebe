// Errors of the durable log. Each names the file (and offset) at fault, because the
// operator's next step is to look at that file: the member refuses to start rather than
// run on a log it cannot trust.

/** A WAL record that is damaged somewhere a crash cannot explain (not the torn tail). */
export class WalCorruptError extends Error {
  constructor(
    readonly path: string,
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`wal: corrupt record in ${path} at offset ${offset}: ${reason}`)
    this.name = 'WalCorruptError'
  }
}

/** Snapshot files exist but none of them verifies. */
export class SnapshotCorruptError extends Error {
  constructor(readonly failures: { path: string; reason: string }[]) {
    super(`snap: no valid snapshot file: ${failures.map((f) => `${f.path} (${f.reason})`).join(', ')}`)
    this.name = 'SnapshotCorruptError'
  }
}

/** The WAL does not continue where the snapshot ends, so the log cannot be rebuilt. */
export class LogGapError extends Error {
  constructor(snapshotIndex: number, firstEntry: number) {
    super(
      `wal: entries ${snapshotIndex + 1}..${firstEntry - 1} are missing: ` +
        `the newest usable snapshot ends at ${snapshotIndex} and the WAL resumes at ${firstEntry}`,
    )
    this.name = 'LogGapError'
  }
}

/** A record whose checksum holds but whose payload does not parse: a bug, not a crash. */
export class MalformedRecordError extends Error {
  constructor(reason: string) {
    super(reason)
    this.name = 'MalformedRecordError'
  }
}
