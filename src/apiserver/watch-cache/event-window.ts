// The recent history a watch can start from: the last `capacity` events, plus the
// revision after which that history is complete (`start`). A watch from revision R
// can be served when R >= start: every change after R is either buffered or did not
// touch this resource. Eviction drops whole revisions, so a revision is never served
// half (a store Txn may change several keys at once).
import type { CacheEvent } from './types.js'
import { ExpiredError } from './types.js'

export class EventWindow {
  private events: CacheEvent[] = []
  private head = 0
  private startRevision = 0

  constructor(private readonly capacity: number) {
    if (!(capacity >= 1)) throw new RangeError(`watch cache capacity must be at least 1, got ${capacity}`)
  }

  /** History is complete after this revision. */
  get start(): number {
    return this.startRevision
  }

  get size(): number {
    return this.events.length - this.head
  }

  /** Forgets every event: history now begins after `revision` (a fresh list). */
  reset(revision: number): void {
    this.events = []
    this.head = 0
    this.startRevision = revision
  }

  push(ev: CacheEvent): void {
    this.events.push(ev)
    while (this.size > this.capacity) {
      const evicted = this.events[this.head]!.revision
      while (this.head < this.events.length && this.events[this.head]!.revision === evicted) this.head++
      this.startRevision = evicted
    }
    // Drop the evicted prefix now and then rather than shifting on every push.
    if (this.head > 1024 && this.head * 2 > this.events.length) {
      this.events = this.events.slice(this.head)
      this.head = 0
    }
  }

  /** Events with revision > `afterRevision`, oldest first; ExpiredError when history does not reach back that far. */
  since(afterRevision: number): CacheEvent[] {
    if (afterRevision < this.startRevision) throw new ExpiredError(afterRevision, this.startRevision)
    let lo = this.head
    let hi = this.events.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.events[mid]!.revision <= afterRevision) lo = mid + 1
      else hi = mid
    }
    return this.events.slice(lo)
  }
}
