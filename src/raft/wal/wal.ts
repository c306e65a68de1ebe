// The write-ahead log of a raft member: append-only segment files in one directory.
//
// save() only encodes into memory; sync() writes and fdatasyncs. At most one
// write+fsync is in flight: everything saved meanwhile waits and goes out together in
// the next one (group commit), so the fsync rate of the disk, not the number of
// writers, bounds throughput.
import { type FileHandle, open, unlink } from 'node:fs/promises'
import { type Entry, type HardState } from '../types.js'
import { ensureDir, fsyncDir, writeAll, writeFileAtomic } from './fsutil.js'
import { encodeEntries, encodeHardState, encodeSnapshotMarker } from './record.js'
import { replay } from './replay.js'
import { type LogPosition, type Segment, type SnapshotMarker, segmentPath, segmentStart } from './segment.js'

export type { SnapshotMarker } from './segment.js'

export interface WalOptions {
  /** A segment that has grown past this is closed and a new one started. Default 64 MiB. */
  segmentBytes?: number
  /** Told about repairs made on open (a torn tail cut off). Default: process.emitWarning. */
  onWarn?: (msg: string) => void
}

export interface WalStats {
  fsyncs: number
  entriesSynced: number
  bytesWritten: number
}

export interface WalOpenResult {
  wal: Wal
  hardState: HardState
  /**
   * The log as raft's appends left it, including entries at or below snapshots; the
   * caller keeps those after the snapshot it loads.
   */
  entries: Entry[]
  lastMarker: SnapshotMarker | undefined
}

interface Deferred {
  promise: Promise<void>
  resolve(): void
  reject(err: unknown): void
}

function deferred(): Deferred {
  let resolve!: () => void
  let reject!: (err: unknown) => void
  const promise = new Promise<void>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

export class Wal {
  readonly stats: WalStats = { fsyncs: 0, entriesSynced: 0, bytesWritten: 0 }
  /** Told how long each fsync took, in seconds (etcd_disk_wal_fsync_duration_seconds). */
  onFsync: ((seconds: number) => void) | undefined
  private pending: Buffer[] = []
  private pendingEntries = 0
  /** Position including what is only buffered. */
  private saved: LogPosition
  /** Position of what is on disk: what a new segment restates. */
  private written: LogPosition
  /** Waiters for the next write+fsync, which will cover everything pending now. */
  private waiting: Deferred | undefined
  private inFlight: Deferred | undefined
  /** After a failed write or fsync the file's state is unknown; the WAL refuses further use. */
  private failure: unknown
  private closed = false

  private constructor(
    private readonly dir: string,
    private readonly segmentBytes: number,
    private readonly segments: Segment[],
    private fh: FileHandle,
    private size: number,
    position: LogPosition,
  ) {
    this.saved = position
    this.written = position
  }

  static async open(dir: string, opts: WalOptions = {}): Promise<WalOpenResult> {
    const onWarn = opts.onWarn ?? ((msg: string) => process.emitWarning(msg))
    await ensureDir(dir)
    const r = await replay(dir, onWarn)
    let size = r.tailSize
    if (r.segments.length === 0) {
      const seg = { seq: 1, firstIndex: r.position.highWater + 1, path: segmentPath(dir, 1, r.position.highWater + 1) }
      const start = segmentStart(seg.seq, r.position)
      await writeFileAtomic(seg.path, [start])
      r.segments.push(seg)
      size = start.length
    }
    const fh = await open(r.segments.at(-1)!.path, 'r+')
    const wal = new Wal(dir, opts.segmentBytes ?? 64 * 1024 * 1024, r.segments, fh, size, r.position)
    return { wal, hardState: r.position.hardState, entries: r.entries, lastMarker: r.position.marker }
  }

  /** Buffer a hard state and/or entries; nothing is written until sync(). */
  save(hardState: HardState | undefined, entries: Entry[]): void {
    this.checkUsable()
    // Entries before the hard state: a torn write that keeps the hard state keeps the
    // entries its commit index may point at.
    if (entries.length > 0) {
      this.pending.push(encodeEntries(entries))
      this.pendingEntries += entries.length
      this.saved = { ...this.saved, highWater: Math.max(this.saved.highWater, entries.at(-1)!.index) }
    }
    if (hardState !== undefined) {
      this.pending.push(encodeHardState(hardState))
      this.saved = { ...this.saved, hardState: { ...hardState } }
    }
  }

  /** Buffer a record that a snapshot at (index, term) is saved. */
  saveSnapshotMarker(index: number, term: number): void {
    this.checkUsable()
    this.pending.push(encodeSnapshotMarker(index, term))
    this.saved = { ...this.saved, highWater: Math.max(this.saved.highWater, index), marker: { index, term } }
  }

  /** Resolves once everything saved before the call is on disk. */
  sync(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    // Nothing new: what was saved is durable or in the write under way.
    if (this.pending.length === 0) return this.inFlight?.promise ?? Promise.resolve()
    this.waiting ??= deferred()
    const done = this.waiting.promise
    if (this.inFlight === undefined) this.flush()
    return done
  }

  /**
   * Delete the oldest segments whose entries are all ≤ index (a snapshot covers them).
   * The segment being written is kept, and so is every segment after one kept.
   */
  async releaseTo(index: number): Promise<void> {
    let n = 0
    while (n < this.segments.length - 1 && this.segments[n + 1]!.firstIndex - 1 <= index) n++
    if (n === 0) return
    // Oldest first, so a crash part-way leaves a contiguous run of segments.
    for (const seg of this.segments.splice(0, n)) await unlink(seg.path)
    await fsyncDir(this.dir)
  }

  /** Sync what is buffered, then close. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    try {
      await this.sync()
    } finally {
      await this.fh.close()
    }
  }

  private checkUsable(): void {
    if (this.failure !== undefined) throw this.failure
    if (this.closed) throw new Error('wal: closed')
  }

  private flush(): void {
    const done = this.waiting!
    this.waiting = undefined
    this.inFlight = done
    const batch = this.pending
    const entries = this.pendingEntries
    const position = this.saved
    this.pending = []
    this.pendingEntries = 0
    this.write(batch, entries, position).then(
      () => {
        this.inFlight = undefined
        done.resolve()
        if (this.waiting !== undefined) this.flush()
      },
      (err: unknown) => {
        this.failure = err
        this.inFlight = undefined
        done.reject(err)
        this.waiting?.reject(err)
        this.waiting = undefined
      },
    )
  }

  private async write(batch: Buffer[], entries: number, position: LogPosition): Promise<void> {
    if (this.size >= this.segmentBytes) await this.cut()
    const data = batch.length === 1 ? batch[0]! : Buffer.concat(batch)
    await writeAll(this.fh, data, this.size)
    this.size += data.length
    const syncStart = performance.now()
    await this.fh.datasync()
    this.onFsync?.((performance.now() - syncStart) / 1000)
    this.written = position
    this.stats.fsyncs++
    this.stats.entriesSynced += entries
    this.stats.bytesWritten += data.length
  }

  /** Start the next segment. The current one is already fsynced: every write is. */
  private async cut(): Promise<void> {
    const seq = this.segments.at(-1)!.seq + 1
    const firstIndex = this.written.highWater + 1
    const seg = { seq, firstIndex, path: segmentPath(this.dir, seq, firstIndex) }
    const start = segmentStart(seq, this.written)
    await writeFileAtomic(seg.path, [start])
    const fh = await open(seg.path, 'r+')
    await this.fh.close()
    this.fh = fh
    this.size = start.length
    this.segments.push(seg)
    this.stats.bytesWritten += start.length
  }
}
