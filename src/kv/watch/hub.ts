// The watch hub (etcd's watchableStore): every watcher of every stream, split into
//  - synced: caught up with the hub's revision; notify() hands them live events;
//  - unsynced: new watchers starting at or below the current revision, and watchers
//    moved aside because their stream backed up (etcd's victims). A background loop
//    catches them up from KVStore.history in bounded chunks, then moves them to
//    synced, with neither a gap nor a duplicate across the switch.
// notify() is synchronous and does no I/O: it matches each change against the synced
// group and appends the (shared) event to each watcher's small buffer; the streams
// encode and write after the apply loop's turn. A watcher whose stream is backed up
// (or whose buffer is full) is moved to unsynced at once, dropping its buffer, so a
// slow consumer costs neither notify() nor other watchers anything, and no more memory
// than its bounded buffer: it re-reads what it missed from history once it drains.

import type { KeyValue } from '../mvcc/key-value.js'
import { CompactedError } from '../mvcc/kv-errors.js'
import type { KVStore } from '../mvcc/kv-store.js'
import { HeaderEncoder, type HeaderInfo } from './encode.js'
import { HubEvent } from './event.js'
import { WatchStream, type WatchSink } from './stream.js'
import type { Watcher } from './watcher.js'
import { WatcherGroup } from './watcher-group.js'

export interface WatchHubOptions {
  /** cluster_id, member_id and raft_term for every response header (revision is the hub's). */
  header: () => HeaderInfo
  /** progress_notify period; etcd's default is 10 minutes (plus up to 10% jitter). */
  progressIntervalMs?: number
  /**
   * Fragmenting threshold for watches created with fragment: true. etcd uses
   * max-request-bytes plus its 512 KiB gRPC overhead: 1.5 MiB + 512 KiB by default.
   */
  maxResponseBytes?: number
  /** Live events a watcher may hold before its stream writes them; beyond, it falls back to history. */
  maxBufferedEvents?: number
  /** Events read from history per catch-up step. */
  historyChunk?: number
  /** Watchers caught up per step (etcd's maxWatchersPerSync). */
  maxWatchersPerSync?: number
  /** Called with unexpected errors (default: ignore). Never throws into the apply loop. */
  onError?: (message: string, err: unknown) => void
}

export const DEFAULT_PROGRESS_INTERVAL_MS = 10 * 60 * 1000
export const DEFAULT_MAX_RESPONSE_BYTES = 1.5 * 1024 * 1024 + 512 * 1024

const RETRY_MS = 100

export class WatchHub {
  readonly progressIntervalMs: number
  readonly maxResponseBytes: number
  readonly maxBufferedEvents: number
  private readonly historyChunk: number
  private readonly maxWatchersPerSync: number
  private readonly headers: HeaderEncoder
  private readonly onError: (message: string, err: unknown) => void

  private rev: number
  private readonly synced = new WatcherGroup()
  private readonly unsynced = new Set<Watcher>()
  private readonly streams = new Set<WatchStream>()
  private syncing = false
  private retryTimer: NodeJS.Timeout | undefined
  private closed = false

  constructor(
    readonly store: KVStore,
    opts: WatchHubOptions,
  ) {
    this.rev = store.currentRevision
    this.headers = new HeaderEncoder(opts.header)
    this.progressIntervalMs = opts.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS
    this.maxResponseBytes = opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES
    this.maxBufferedEvents = opts.maxBufferedEvents ?? 1000
    this.historyChunk = opts.historyChunk ?? 1000
    this.maxWatchersPerSync = opts.maxWatchersPerSync ?? 512
    this.onError = opts.onError ?? (() => undefined)
  }

  /** The last revision notified (the store's revision when the hub was made, before any). */
  get revision(): number {
    return this.rev
  }

  /** Watchers getting live events / catching up (for metrics and tests). */
  get counts(): { synced: number; unsynced: number; streams: number } {
    return { synced: this.synced.size, unsynced: this.unsynced.size, streams: this.streams.size }
  }

  /**
   * Called by the apply loop after each committed store write, in revision order,
   * with the write's `revision` and `changes`. Synchronous, no I/O, never throws.
   */
  notify(revision: number, changes: readonly KeyValue[]): void {
    if (revision > this.rev) this.rev = revision
    if (changes.length === 0 || this.synced.size === 0 || this.closed) return
    try {
      for (const kv of changes) {
        const ev = HubEvent.fromChange(kv)
        const rev = ev.rev
        this.synced.forEachMatch(ev.key, (w) => {
          if (rev >= w.nextRev || rev === w.liveRev) w.stream.enqueue(w, ev)
        })
      }
    } catch (err) {
      this.onError('watch: notify failed', err)
    }
  }

  /**
   * The store was replaced by a raft snapshot (a member far behind): the revisions it
   * skipped were never notified, so every live watcher goes back to catching up from
   * history at its next unsent revision (or is cancelled as compacted there).
   */
  restored(): void {
    if (this.closed) return
    for (const w of [...this.synced.watchers()]) {
      const resume = w.buf.length > 0 ? w.buf[0]!.rev : Math.max(w.nextRev, w.liveRev + 1)
      this.moveAside(w, resume)
    }
    this.rev = Math.max(this.rev, this.store.currentRevision)
  }

  /** A new client stream writing to sink. */
  openStream(sink: WatchSink): WatchStream {
    if (this.closed) throw new Error('watch: hub is closed')
    const s = new WatchStream(this, sink)
    this.streams.add(s)
    return s
  }

  /** Stops catching up and closes every stream (their sinks' close() is called). */
  close(): void {
    if (this.closed) return
    this.closed = true
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer)
    for (const s of [...this.streams]) s.shutdown()
  }

  // ------------------------------------------------------------ used by streams

  header(revision: number): Uint8Array {
    return this.headers.encode(revision)
  }

  log(message: string, err: unknown): void {
    this.onError(message, err)
  }

  /** etcd's watch(): synced if it starts after the current revision, else unsynced. */
  addWatcher(w: Watcher): void {
    if (w.startRev === 0 || w.startRev > this.rev) {
      w.nextRev = Math.max(this.rev + 1, w.startRev)
      w.state = 'synced'
      this.synced.add(w)
    } else {
      w.nextRev = w.startRev
      w.state = 'unsynced'
      this.unsynced.add(w)
      this.kickSync()
    }
  }

  removeWatcher(w: Watcher): void {
    this.synced.delete(w)
    this.unsynced.delete(w)
    w.state = 'canceled'
    w.buf = []
  }

  /** A victim: out of the live path, to resume from nextRev through history. */
  moveAside(w: Watcher, nextRev: number): void {
    if (w.state !== 'synced') return
    this.synced.delete(w)
    w.buf = []
    w.nextRev = nextRev
    w.state = 'unsynced'
    this.unsynced.add(w)
    this.kickSync()
  }

  streamClosed(s: WatchStream): void {
    this.streams.delete(s)
  }

  /** Starts the catch-up loop if it is idle and someone may need it. */
  kickSync(): void {
    if (this.syncing || this.closed || this.unsynced.size === 0 || this.retryTimer !== undefined) return
    this.syncing = true
    setImmediate(() => {
      this.syncLoop().catch((err) => this.onError('watch: catch-up failed', err))
    })
  }

  // ------------------------------------------------------------ catch-up

  private async syncLoop(): Promise<void> {
    let retry = false
    try {
      while (!this.closed) {
        const chosen = this.chooseUnsynced()
        if (chosen.length === 0) break
        await this.syncStep(chosen)
      }
    } catch (err) {
      // The store failed (or closed): try again later rather than spin.
      this.onError('watch: catch-up from history failed', err)
      retry = true
    } finally {
      this.syncing = false
    }
    if (retry && !this.closed) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined
        this.kickSync()
      }, RETRY_MS)
      this.retryTimer.unref()
    }
  }

  /** Up to maxWatchersPerSync unsynced watchers whose streams can take data. */
  private chooseUnsynced(): Watcher[] {
    const out: Watcher[] = []
    for (const w of this.unsynced) {
      if (w.busy || w.stream.blocked) continue
      out.push(w)
      if (out.length >= this.maxWatchersPerSync) break
    }
    return out
  }

  private async syncStep(chosen: Watcher[]): Promise<void> {
    const compacted = this.store.compactedRevision
    const group = new WatcherGroup()
    let from = Number.MAX_SAFE_INTEGER
    for (const w of chosen) {
      if (w.nextRev < compacted) {
        w.stream.sendCompacted(w, compacted)
        continue
      }
      group.add(w)
      if (w.nextRev < from) from = w.nextRev
    }
    if (group.size === 0) return
    const to = this.rev
    let events: HubEvent[] = []
    let upTo = to
    if (from <= to) {
      let read
      try {
        read = await this.store.history(from, to, this.historyChunk)
      } catch (err) {
        if (err instanceof CompactedError) return // compacted meanwhile: the next step cancels them
        throw err
      }
      if (read.length >= this.historyChunk) {
        // A full chunk may end inside a revision: keep whole revisions only, or, if
        // one revision fills the chunk, read that revision whole.
        const last = read[read.length - 1].kv.modRevision
        if (read[0].kv.modRevision === last) {
          read = await this.store.history(last, last)
          upTo = last
        } else {
          while (read[read.length - 1].kv.modRevision === last) read.pop()
          upTo = last - 1
        }
      }
      events = read.map((h) => new HubEvent(h.kv, h.deleted))
    }

    // Route events with the group's index, in revision order, per watcher.
    const batches = new Map<Watcher, HubEvent[]>()
    for (const ev of events) {
      group.forEachMatch(ev.key, (w) => {
        if (ev.rev < w.nextRev || w.filtered(ev)) return
        let b = batches.get(w)
        if (b === undefined) batches.set(w, (b = []))
        b.push(ev)
      })
    }
    for (const w of group.watchers()) {
      // Canceled, or its stream closed, while history was read.
      if (w.state !== 'unsynced' || !this.unsynced.has(w)) continue
      if (w.nextRev > upTo) {
        // Already beyond this step (it joined with a later start while we read).
      } else {
        const b = batches.get(w)
        if (b !== undefined) w.stream.deliver(w, b, upTo)
        w.nextRev = upTo + 1
      }
      // In sync when it has everything notify() has announced; notify() hands it the
      // rest. Checked and done in one turn, so no revision falls between.
      if (w.nextRev > this.rev && !w.stream.blocked) {
        this.unsynced.delete(w)
        w.state = 'synced'
        this.synced.add(w)
      }
    }
  }
}
