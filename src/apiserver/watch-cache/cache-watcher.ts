// One watch registered with the cache: its filter, and the queue between the cache
// and the consumer. Events go straight to the consumer while it keeps up; they are
// queued while replayed history is pending or while the consumer has asked for a
// pause (onEvent returned false, as Writable.write does). A consumer that falls more
// than `queueLimit` events behind is terminated with onClose('stopped'), as
// kube-apiserver terminates unresponsive watchers: its client re-watches from the last
// resourceVersion it saw, and one stuck client never holds memory or other watchers up.
import type { Logger } from 'pino'
import type { CacheEvent, CacheFilter, CacheWatcher } from './types.js'

type EventType = CacheEvent['type']
type Item = { ev: CacheEvent; type: EventType } | { bookmark: number }

export interface WatcherHooks {
  /** Unregisters the watcher from the cache (it is closed or stopped). */
  remove(w: RegisteredWatcher): void
  delivered(n: number): void
  terminated(): void
  log: Logger
}

export class RegisteredWatcher {
  readonly keyPrefix: string | undefined
  private readonly matches: CacheFilter['matches']
  private queue: (Item | undefined)[] = []
  private head = 0
  /** Replayed events queued at the start, which do not count against the limit. */
  private allowance = 0
  private paused = false
  private drainScheduled = false
  private done = false

  constructor(
    private readonly w: CacheWatcher,
    filter: CacheFilter,
    readonly bookmarks: boolean,
    /** The revision the client asked to watch after. */
    readonly afterRevision: number,
    /** Live events at or below this were part of the replay (or before the watch). */
    readonly liveAfter: number,
    private readonly queueLimit: number,
    private readonly hooks: WatcherHooks,
  ) {
    this.keyPrefix = filter.keyPrefix === '' ? undefined : filter.keyPrefix
    this.matches = filter.matches
  }

  get closed(): boolean {
    return this.done
  }

  /** The type this watcher sees `ev` as, or undefined when the event is not for it. */
  typeFor(ev: CacheEvent): EventType | undefined {
    if (this.keyPrefix !== undefined && !ev.object.key.startsWith(this.keyPrefix)) return undefined
    const m = this.matches
    if (m === undefined) return ev.type
    if (ev.type === 'ADDED') return m(ev.object.object) ? 'ADDED' : undefined
    if (ev.type === 'DELETED') return m(ev.prev?.object ?? ev.object.object) ? 'DELETED' : undefined
    const now = m(ev.object.object)
    const before = ev.prev !== undefined && m(ev.prev.object)
    if (now) return before ? 'MODIFIED' : 'ADDED'
    return before ? 'DELETED' : undefined
  }

  /** Queues the replayed history; delivered after the caller has its handle. */
  replay(events: readonly CacheEvent[]): void {
    for (const ev of events) {
      const type = this.filterEvent(ev)
      if (this.done) return
      if (type !== undefined) this.queue.push({ ev, type })
    }
    this.allowance = this.queue.length
    this.scheduleDrain()
  }

  offer(ev: CacheEvent): void {
    if (this.done || ev.revision <= this.liveAfter) return
    const type = this.filterEvent(ev)
    if (type === undefined) return
    if (this.mustQueue()) this.enqueue({ ev, type })
    else this.deliverEvent(ev, type)
  }

  bookmark(revision: number): void {
    if (this.done || !this.bookmarks || revision < this.afterRevision) return
    if (this.mustQueue()) this.enqueue({ bookmark: revision })
    else this.deliverBookmark(revision)
  }

  resume(): void {
    if (this.done || !this.paused) return
    this.paused = false
    this.scheduleDrain()
  }

  /** Ends the watch from the cache's side; the consumer hears `reason`. */
  close(reason: 'expired' | 'stopped'): void {
    if (this.done) return
    this.stop()
    try {
      this.w.onClose(reason)
    } catch (err) {
      this.hooks.log.warn({ err }, 'watcher onClose threw')
    }
  }

  /** Ends the watch from the consumer's side: nothing more is delivered. */
  stop(): void {
    if (this.done) return
    this.done = true
    this.queue = []
    this.head = 0
    this.hooks.remove(this)
  }

  private mustQueue(): boolean {
    return this.paused || this.head < this.queue.length
  }

  private enqueue(item: Item): void {
    this.queue.push(item)
    if (this.queue.length - this.head > this.queueLimit + this.allowance) {
      this.hooks.log.info({ keyPrefix: this.keyPrefix, queued: this.queue.length - this.head }, 'forcing watcher close due to unresponsiveness')
      this.hooks.terminated()
      this.close('stopped')
    }
  }

  // try/catch inline rather than through a helper taking a closure: these run once per
  // watcher per event, 10,000 times over for one event on a busy resource.

  private filterEvent(ev: CacheEvent): EventType | undefined {
    try {
      return this.typeFor(ev)
    } catch (err) {
      this.fail(err)
      return undefined
    }
  }

  private deliverEvent(ev: CacheEvent, type: EventType): void {
    this.hooks.delivered(1)
    try {
      // CacheWatcher.onEvent is typed void; a consumer may still return false to pause.
      const accepted: unknown = this.w.onEvent(ev, type)
      if (accepted === false) this.paused = true
    } catch (err) {
      this.fail(err)
    }
  }

  private deliverBookmark(revision: number): void {
    try {
      this.w.onBookmark(revision)
    } catch (err) {
      this.fail(err)
    }
  }

  private scheduleDrain(): void {
    if (this.drainScheduled || this.done) return
    this.drainScheduled = true
    queueMicrotask(() => this.drain())
  }

  private drain(): void {
    this.drainScheduled = false
    while (!this.done && !this.paused && this.head < this.queue.length) {
      const item = this.queue[this.head]!
      this.queue[this.head++] = undefined
      if ('bookmark' in item) this.deliverBookmark(item.bookmark)
      else this.deliverEvent(item.ev, item.type)
    }
    if (this.head >= this.queue.length) {
      this.queue = []
      this.head = 0
      this.allowance = 0
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head)
      this.head = 0
    }
  }

  /** A consumer or filter that throws is cut off rather than breaking the dispatch loop. */
  private fail(err: unknown): void {
    this.hooks.log.warn({ err, keyPrefix: this.keyPrefix }, 'watcher threw; closing it')
    this.close('stopped')
  }
}
