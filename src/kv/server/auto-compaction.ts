// etcd's auto-compaction (server/etcdserver/api/v3compactor), run only on the leader:
//  - periodic: remember the store revision every retention/10 and compact at the
//    revision seen one retention ago, so about one retention of history is kept;
//  - revision: every 5 minutes compact at (current revision − retention).
import type { Logger } from 'pino'

export interface CompactionTarget {
  isLeader(): boolean
  currentRevision(): number
  compactedRevision(): number
  compact(revision: number): Promise<unknown>
}

export class AutoCompactor {
  private timer: NodeJS.Timeout | undefined
  private samples: { at: number; rev: number }[] = []

  constructor(
    private readonly mode: 'periodic' | 'revision',
    /** periodic: ms; revision: revisions to keep. */
    private readonly retention: number,
    private readonly target: CompactionTarget,
    private readonly logger: Logger,
    /** How often `revision` mode checks (etcd: 5 min). */
    private readonly revisionCheckMs = 5 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    if (this.retention <= 0) return
    const every = this.mode === 'periodic' ? Math.max(100, this.retention / 10) : this.revisionCheckMs
    this.timer = setInterval(() => void this.tick(), every)
    this.timer.unref()
  }

  stop(): void {
    clearInterval(this.timer)
  }

  /** One check; exported for tests. */
  async tick(): Promise<void> {
    const now = this.now()
    const cur = this.target.currentRevision()
    if (!this.target.isLeader()) {
      this.samples = []
      return
    }
    let rev: number
    if (this.mode === 'revision') {
      rev = cur - this.retention
    } else {
      this.samples.push({ at: now, rev: cur })
      const old = this.samples.filter((s) => s.at <= now - this.retention)
      if (old.length === 0) return
      rev = old[old.length - 1]!.rev
      this.samples = this.samples.filter((s) => s.at > now - this.retention)
    }
    if (rev <= this.target.compactedRevision() || rev <= 0) return
    try {
      await this.target.compact(rev)
      this.logger.info({ revision: rev, mode: this.mode }, 'auto-compacted')
    } catch (err) {
      this.logger.warn({ err, revision: rev }, 'auto-compaction failed')
    }
  }
}
