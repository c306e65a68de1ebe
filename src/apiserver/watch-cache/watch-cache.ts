// A resource's watch cache (the role of k8s.io/apiserver's cacher): one store watch
// per resource keeps an in-memory copy that serves lists, gets and every watcher.
//
// Sync loop: list the prefix in pages at one revision, then watch from that revision.
// A watch that ends as `compacted` cannot be resumed (history was lost), so the cache
// lists again and closes, as `expired`, every watcher that was live across the gap (its
// client relists on 410, as after kube-apiserver's cacher restarts). A watch that ends
// with `error` is resumed from the cache's revision, after a back-off that doubles from
// 50 ms to 5 s and resets once the store answers again.
//
// Revision: advances with events and with the store's progress notifications, so a
// quiet resource still catches up with writes elsewhere (waitUntilFresh and bookmarks
// rely on that).
import { pino, type Logger } from 'pino'
import type { Storage, StoredKV, WatchEvent, WatchHandle } from '../storage/interface.js'
import { CacheEventImpl, versioned } from './cache-event.js'
import { RegisteredWatcher, type WatcherHooks } from './cache-watcher.js'
import { systemClock, type Clock, type TimerHandle } from './clock.js'
import { EventWindow } from './event-window.js'
import { ObjectStore } from './object-store.js'
import {
  TooLargeResourceVersionError,
  type CacheEvent,
  type CacheFilter,
  type CachedObject,
  type CacheListResult,
  type CacheWatcher,
  type KubeObject,
  type WatchCacheApi,
} from './types.js'
import { WatcherIndex } from './watcher-index.js'

export interface WatchCacheOptions {
  /** Decodes a stored value; throws on bad data (the object is logged and skipped). */
  decode(bytes: Uint8Array, key: string): KubeObject
  /** Events kept for watches that start from a past revision. */
  capacity?: number
  /** Events a paused or slow watcher may fall behind before it is terminated. */
  watcherQueueLimit?: number
  /** How often watchers that asked for bookmarks get one (Kubernetes: about a minute). */
  bookmarkIntervalMs?: number
  /** Items per page of the initial list. */
  pageSize?: number
  logger?: Logger
  clock?: Clock
}

/** The watch handle this cache returns: `resume()` after the watcher's onEvent returned false. */
export interface CacheWatchHandle {
  stop(): void
  resume(): void
}

/** Counters for metrics (cumulative unless noted). */
export interface WatchCacheStats {
  /** Store events received. */
  eventsReceived: number
  /** Events delivered to watchers (one per watcher per event). */
  eventsDelivered: number
  decodeFailures: number
  /** Lists after the first one (after compaction). */
  relists: number
  /** Store watches resumed after an error. */
  rewatches: number
  /** Watchers closed for falling too far behind or throwing. */
  watchersTerminated: number
  /** Now: registered watchers. */
  watchers: number
  /** Now: cached objects. */
  objects: number
  /** Now: the cache's revision. */
  revision: number
}

export const DEFAULT_CAPACITY = 10_000
export const DEFAULT_WATCHER_QUEUE_LIMIT = 10_000
export const DEFAULT_BOOKMARK_INTERVAL_MS = 60_000
export const DEFAULT_PAGE_SIZE = 1000
export const DEFAULT_FRESH_TIMEOUT_MS = 3000
/** While a waitUntilFresh is pending, the store is asked for progress this often (as kube-apiserver). */
const PROGRESS_POLL_MS = 100
const RETRY_MIN_MS = 50
const RETRY_MAX_MS = 5000

interface FreshWaiter {
  revision: number
  resolve(): void
  reject(err: Error): void
  timer: TimerHandle
}

export class WatchCache implements WatchCacheApi {
  private readonly store = new ObjectStore()
  private readonly window: EventWindow
  private readonly watchers: WatcherIndex
  private readonly hooks: WatcherHooks
  private readonly log: Logger
  private readonly clock: Clock
  private readonly queueLimit: number
  private readonly bookmarkIntervalMs: number
  private readonly pageSize: number

  private rev = 0
  private loaded = false
  private stopped = false
  private readonly readyPromise: Promise<void>
  private settleReady!: { resolve(): void; reject(err: Error): void }
  private handle: WatchHandle | undefined
  /** Identifies the current list or store watch; callbacks of earlier ones are ignored. */
  private generation = 0
  private retryDelayMs = 0
  private retryTimer: TimerHandle | undefined
  private bookmarkTimer: TimerHandle | undefined
  private progressTimer: TimerHandle | undefined
  /** Bookmarks wait for the answer to a progress request. */
  private bookmarkDue = false
  private waiters: FreshWaiter[] = []
  private readonly counters = { eventsReceived: 0, eventsDelivered: 0, decodeFailures: 0, relists: 0, rewatches: 0, watchersTerminated: 0 }

  constructor(
    private readonly storage: Storage,
    readonly prefix: string,
    private readonly opts: WatchCacheOptions,
  ) {
    this.window = new EventWindow(opts.capacity ?? DEFAULT_CAPACITY)
    this.watchers = new WatcherIndex(prefix)
    this.log = (opts.logger ?? pino({ level: 'silent' })).child({ component: 'watch-cache', prefix })
    this.clock = opts.clock ?? systemClock
    this.queueLimit = opts.watcherQueueLimit ?? DEFAULT_WATCHER_QUEUE_LIMIT
    this.bookmarkIntervalMs = opts.bookmarkIntervalMs ?? DEFAULT_BOOKMARK_INTERVAL_MS
    this.pageSize = opts.pageSize ?? DEFAULT_PAGE_SIZE
    this.hooks = {
      remove: (w) => this.watchers.remove(w),
      delivered: (n) => (this.counters.eventsDelivered += n),
      terminated: () => this.counters.watchersTerminated++,
      log: this.log,
    }
    this.readyPromise = new Promise<void>((resolve, reject) => (this.settleReady = { resolve, reject }))
    // Nobody may be waiting when stop() rejects it; that is not an unhandled error.
    this.readyPromise.catch(() => {})
    this.scheduleBookmarks()
    void this.relist()
  }

  get revision(): number {
    return this.rev
  }

  ready(): Promise<void> {
    return this.readyPromise
  }

  waitUntilFresh(revision: number, timeoutMs = DEFAULT_FRESH_TIMEOUT_MS): Promise<void> {
    if (this.loaded && revision <= this.rev) return Promise.resolve()
    if (this.stopped) return Promise.reject(new Error('watch cache is stopped'))
    return new Promise<void>((resolve, reject) => {
      const waiter: FreshWaiter = { revision, resolve, reject, timer: undefined }
      waiter.timer = this.clock.setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter)
        reject(new TooLargeResourceVersionError(revision, this.rev))
      }, timeoutMs)
      this.waiters.push(waiter)
      this.handle?.requestProgress()
      this.pollProgress()
    })
  }

  get(key: string): CachedObject | undefined {
    return this.store.get(key)
  }

  list(filter: CacheFilter = {}): CacheListResult {
    return { items: this.store.list(filter.keyPrefix, filter.matches), revision: this.rev }
  }

  /**
   * Replays buffered events after `afterRevision` (delivered once this returns), then
   * live ones. The watcher's onEvent may return false to pause (as Writable.write):
   * events queue until `resume()`; past the queue limit the watcher is closed with
   * onClose('stopped') and its client re-watches from the last resourceVersion it saw.
   */
  watch(afterRevision: number, filter: CacheFilter, w: CacheWatcher, opts: { bookmarks?: boolean } = {}): CacheWatchHandle {
    if (this.stopped) {
      queueMicrotask(() => w.onClose('stopped'))
      return { stop() {}, resume() {} }
    }
    const replay = this.window.since(afterRevision)
    const entry = new RegisteredWatcher(w, filter, opts.bookmarks === true, afterRevision, Math.max(afterRevision, this.rev), this.queueLimit, this.hooks)
    this.watchers.add(entry)
    entry.replay(replay)
    return { stop: () => entry.stop(), resume: () => entry.resume() }
  }

  stop(): void {
    if (this.stopped) return
    this.stopped = true
    this.generation++
    this.handle?.cancel()
    this.handle = undefined
    for (const t of [this.retryTimer, this.bookmarkTimer, this.progressTimer]) if (t !== undefined) this.clock.clearTimeout(t)
    for (const w of this.watchers.all()) w.close('stopped')
    const err = new Error('watch cache is stopped')
    for (const w of this.waiters) {
      this.clock.clearTimeout(w.timer)
      w.reject(err)
    }
    this.waiters = []
    if (!this.loaded) this.settleReady.reject(err)
    this.log.debug('stopped')
  }

  stats(): WatchCacheStats {
    return { ...this.counters, watchers: this.watchers.size, objects: this.store.size, revision: this.rev }
  }

  // --- keeping in sync with the store ---

  private async relist(): Promise<void> {
    const gen = ++this.generation
    this.handle = undefined
    try {
      const { items, revision } = await this.listAll()
      if (gen !== this.generation || this.stopped) return
      this.applyList(items, revision)
      this.startWatch(revision)
    } catch (err) {
      if (gen !== this.generation || this.stopped) return
      this.log.warn({ err }, 'listing failed; retrying')
      this.retry(() => void this.relist())
    }
  }

  /** Every object under the prefix at one revision, in pages. */
  private async listAll(): Promise<{ items: CachedObject[]; revision: number }> {
    const items: CachedObject[] = []
    let revision = 0
    let startKey: string | undefined
    for (;;) {
      const page = await this.storage.list(this.prefix, { revision: revision || undefined, limit: this.pageSize, startKey })
      if (revision === 0) revision = page.revision
      for (const kv of page.items) {
        const obj = this.decode(kv)
        if (obj !== undefined) items.push(obj)
      }
      const last = page.items[page.items.length - 1]
      if (!page.more || last === undefined) return { items, revision }
      startKey = last.key + '\0'
    }
  }

  private applyList(items: CachedObject[], revision: number): void {
    const before = this.rev
    this.store.replace(items)
    this.window.reset(revision)
    if (revision < before) this.log.warn({ revision, cached: before }, 'store revision went backwards')
    this.rev = Math.max(before, revision)
    this.retryDelayMs = 0
    if (this.loaded) this.counters.relists++
    this.log.info({ revision, objects: items.length, relist: this.loaded }, 'listed')
    // Changes between what a watcher last got and this list are unknown (a key may have
    // come and gone in between): only watchers starting at or after the list can go on.
    for (const w of this.watchers.all()) if (Math.max(w.liveAfter, before) < revision) w.close('expired')
    if (!this.loaded) {
      this.loaded = true
      this.settleReady.resolve()
    }
    this.resolveWaiters()
  }

  private startWatch(afterRevision: number): void {
    const gen = ++this.generation
    try {
      this.handle = this.storage.watch(
        this.prefix,
        afterRevision,
        {
          onEvents: (events, revision) => {
            if (gen === this.generation) this.onEvents(events, revision)
          },
          onProgress: (revision) => {
            if (gen === this.generation) this.onProgress(revision)
          },
          onClose: (reason, err) => {
            if (gen === this.generation) this.onWatchClosed(reason, err)
          },
        },
        // The cache holds every object: a change's previous state is its own entry.
        { prevValues: false },
      )
    } catch (err) {
      this.onWatchClosed('error', err instanceof Error ? err : new Error(String(err)))
    }
  }

  private onWatchClosed(reason: 'compacted' | 'error', err: Error | undefined): void {
    this.generation++
    this.handle = undefined
    if (reason === 'compacted') {
      this.log.info({ revision: this.rev, err }, 'store watch compacted; relisting')
      void this.relist()
      return
    }
    this.log.warn({ revision: this.rev, err }, 'store watch failed; re-watching')
    this.counters.rewatches++
    this.retry(() => this.startWatch(this.rev))
  }

  private retry(fn: () => void): void {
    this.retryDelayMs = Math.min(Math.max(RETRY_MIN_MS, this.retryDelayMs * 2), RETRY_MAX_MS)
    this.retryTimer = this.clock.setTimeout(() => {
      this.retryTimer = undefined
      if (!this.stopped) fn()
    }, this.retryDelayMs)
  }

  private onEvents(events: WatchEvent[], revision: number): void {
    this.retryDelayMs = 0
    if (revision <= this.rev) {
      this.log.warn({ revision, cached: this.rev }, 'ignoring store events at or below the cached revision')
      return
    }
    const applied: CacheEvent[] = []
    for (const e of events) {
      this.counters.eventsReceived++
      const ev = this.toCacheEvent(e, revision)
      if (ev === undefined) continue
      if (ev.type === 'DELETED') this.store.delete(ev.object.key)
      else this.store.set(ev.object)
      this.window.push(ev)
      applied.push(ev)
    }
    // State and revision first, so a watcher reacting to an event sees them consistent.
    this.rev = revision
    for (const ev of applied) this.watchers.forKey(ev.object.key, (w) => w.offer(ev))
    this.resolveWaiters()
  }

  private toCacheEvent(e: WatchEvent, revision: number): CacheEvent | undefined {
    const prev = this.store.get(e.kv.key)
    if (e.type === 'PUT') {
      const obj = this.decode(e.kv)
      return obj === undefined ? undefined : new CacheEventImpl(prev === undefined ? 'ADDED' : 'MODIFIED', obj, prev, revision)
    }
    // A key the cache does not hold (its value never decoded) has nothing to delete.
    if (prev === undefined) return undefined
    return new CacheEventImpl('DELETED', versioned(prev.key, prev.object, revision), prev, revision)
  }

  private decode(kv: StoredKV): CachedObject | undefined {
    try {
      return versioned(kv.key, this.opts.decode(kv.value, kv.key), kv.modRevision)
    } catch (err) {
      this.counters.decodeFailures++
      this.log.error({ err, key: kv.key, modRevision: kv.modRevision }, 'cannot decode stored object; skipping it')
      return undefined
    }
  }

  private onProgress(revision: number): void {
    this.retryDelayMs = 0
    if (revision > this.rev) {
      this.rev = revision
      this.resolveWaiters()
    }
    if (this.bookmarkDue) this.sendBookmarks()
  }

  // --- freshness and bookmarks ---

  private resolveWaiters(): void {
    if (!this.loaded || this.waiters.length === 0) return
    const still: FreshWaiter[] = []
    for (const w of this.waiters) {
      if (w.revision > this.rev) {
        still.push(w)
        continue
      }
      this.clock.clearTimeout(w.timer)
      w.resolve()
    }
    this.waiters = still
  }

  private pollProgress(): void {
    if (this.progressTimer !== undefined) return
    this.progressTimer = this.clock.setTimeout(() => {
      this.progressTimer = undefined
      if (this.waiters.length === 0 || this.stopped) return
      this.handle?.requestProgress()
      this.pollProgress()
    }, PROGRESS_POLL_MS)
  }

  /**
   * Each interval the store is asked for progress and the bookmarks go out with its
   * answer, so they carry writes made elsewhere in the store meanwhile. Without a store
   * watch, or when the last request went unanswered, they go out at what the cache has.
   */
  private scheduleBookmarks(): void {
    this.bookmarkTimer = this.clock.setTimeout(() => {
      this.bookmarkTimer = undefined
      if (this.stopped) return
      if (this.bookmarkDue || this.handle === undefined) this.sendBookmarks()
      else if (this.loaded && this.watchers.bookmarkWatchers > 0) {
        this.bookmarkDue = true
        this.handle.requestProgress()
      }
      this.scheduleBookmarks()
    }, this.bookmarkIntervalMs)
  }

  private sendBookmarks(): void {
    this.bookmarkDue = false
    if (!this.loaded || this.watchers.bookmarkWatchers === 0) return
    const revision = this.rev
    this.watchers.forBookmarks((w) => w.bookmark(revision))
  }
}
