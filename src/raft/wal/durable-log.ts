// The durable log of one raft member: WAL segments in `dir`, snapshot files in
// `dir/snap`, and the MemoryStorage the raft core reads, rebuilt from both on open
// (as etcd's raftexample and etcdserver do).
import { join } from 'node:path'
import { MemoryStorage } from '../storage.js'
import { type Entry, type HardState, NONE, type Snapshot, isEmptySnapshot } from '../types.js'
import { LogGapError } from './errors.js'
import { Snapshotter } from './snapshotter.js'
import { Wal, type WalStats } from './wal.js'

export interface DurableLogOptions {
  /** WAL segment size. Default 64 MiB. */
  segmentBytes?: number
  /** Entries kept in memory below a new snapshot, so slow followers catch up without one. Default 5000. */
  keepEntries?: number
  /** Snapshot files kept; the WAL keeps what the oldest of them needs. Default 3. */
  keepSnapshots?: number
  /** Repairs made on open: a torn WAL tail cut off, a corrupt snapshot skipped. */
  onWarn?: (msg: string) => void
}

export class DurableLog {
  private constructor(
    readonly storage: MemoryStorage,
    private readonly wal: Wal,
    private readonly snapshotter: Snapshotter,
    private readonly keepEntries: number,
    private readonly keepSnapshots: number,
  ) {}

  static async open(dir: string, opts: DurableLogOptions = {}): Promise<DurableLog> {
    const snapshotter = await Snapshotter.open(join(dir, 'snap'), { onWarn: opts.onWarn })
    const snapshot = await snapshotter.loadNewest()
    const walOpts = { segmentBytes: opts.segmentBytes, onWarn: opts.onWarn }
    const { wal, hardState, entries } = await Wal.open(dir, walOpts)
    try {
      const storage = rebuild(snapshot, hardState, entries)
      return new DurableLog(storage, wal, snapshotter, opts.keepEntries ?? 5000, opts.keepSnapshots ?? 3)
    } catch (err) {
      await wal.close()
      throw err
    }
  }

  get hardState(): HardState {
    return this.storage.initialState().hardState
  }

  /** Fsync and write counters, for benchmarks (entries per fsync). */
  get stats(): Readonly<WalStats> {
    return this.wal.stats
  }

  /** Told how long each WAL fsync took, in seconds. */
  set onFsync(fn: ((seconds: number) => void) | undefined) {
    this.wal.onFsync = fn
  }

  get snapshot(): Snapshot | undefined {
    const snap = this.storage.snapshot()
    return isEmptySnapshot(snap) ? undefined : snap
  }

  /**
   * Persist what a Ready asks for, in raft's order: the snapshot file first, then its
   * marker, hard state and entries in the WAL, fsynced when mustSync. `storage` is
   * updated only after the write, so the core never reads an entry that could still
   * vanish in a crash.
   */
  async persist(hardState: HardState | undefined, entries: Entry[], snapshot: Snapshot | undefined, mustSync: boolean): Promise<void> {
    const withSnapshot = snapshot !== undefined && !isEmptySnapshot(snapshot)
    if (withSnapshot) {
      await this.snapshotter.save(snapshot)
      this.wal.saveSnapshotMarker(snapshot.metadata.index, snapshot.metadata.term)
    }
    this.wal.save(hardState, entries)
    if (mustSync) await this.wal.sync()
    if (withSnapshot) this.storage.applySnapshot(snapshot)
    this.storage.append(entries)
    if (hardState !== undefined) this.storage.setHardState(hardState)
  }

  /**
   * The application made a snapshot of its state at snapshot.metadata.index (≤ applied).
   * Records it in storage (so the core can send it to followers), saves it, then trims
   * memory to `keepEntries` below it and deletes snapshot files and WAL segments no
   * longer needed. The WAL keeps what the oldest kept snapshot needs, so a damaged
   * newest snapshot file still leaves an older one to start from.
   */
  async compact(snapshot: Snapshot): Promise<void> {
    const { index, term, confState } = snapshot.metadata
    const logTerm = this.storage.term(index)
    if (logTerm !== term) throw new Error(`durable log: snapshot at ${index} has term ${term}, the log has ${logTerm}`)
    const snap = this.storage.createSnapshot(index, confState, snapshot.data)
    await this.snapshotter.save(snap)
    this.wal.saveSnapshotMarker(index, term)
    await this.wal.sync()
    const compactIndex = index - this.keepEntries
    if (compactIndex >= this.storage.firstIndex()) this.storage.compact(compactIndex)
    await this.snapshotter.purge(this.keepSnapshots)
    const kept = await this.snapshotter.list()
    await this.wal.releaseTo(kept.at(-1)?.index ?? 0)
  }

  async close(): Promise<void> {
    await this.wal.close()
  }
}

/**
 * The MemoryStorage the member had before it stopped: the snapshot, then the WAL's
 * entries after it.
 */
function rebuild(snapshot: Snapshot | undefined, walHardState: HardState, walEntries: Entry[]): MemoryStorage {
  const storage = new MemoryStorage()
  let hardState = walHardState
  let entries = walEntries
  const base = snapshot?.metadata.index ?? 0
  if (snapshot !== undefined) {
    storage.applySnapshot(snapshot)
    entries = entriesAfterSnapshot(snapshot, entries)
    // The snapshot file is written before the WAL records of the same Ready, so a
    // crash between them leaves a hard state older than the snapshot. The snapshot is
    // committed by definition; a term change without its vote record never voted.
    if (hardState.term < snapshot.metadata.term) hardState = { term: snapshot.metadata.term, vote: NONE, commit: hardState.commit }
    if (hardState.commit < base) hardState = { ...hardState, commit: base }
  }
  const first = entries[0]?.index
  if (first !== undefined && first !== base + 1) throw new LogGapError(base, first)
  storage.setHardState(hardState)
  storage.append(entries)
  return storage
}

/**
 * Raft's restore rule: if the log holds the snapshot's last entry, the entries after
 * it stay; if not, the snapshot replaced the log (a leader sent it to a follower that
 * had diverged or fallen behind) and nothing after it is ours.
 */
function entriesAfterSnapshot(snapshot: Snapshot, entries: Entry[]): Entry[] {
  const { index, term } = snapshot.metadata
  const first = entries[0]?.index
  if (first === undefined || first > index) return entries
  const last = entries.at(-1)!.index
  if (last < index || entries[index - first]!.term !== term) return []
  return entries.slice(index + 1 - first)
}
