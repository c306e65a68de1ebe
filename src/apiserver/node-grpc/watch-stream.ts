// One watch over gRPC: a server stream of WatchEvent messages fed by the resource's
// watch cache, with the semantics documented in proto/node.proto (initial state, then
// changes; periodic bookmarks; OUT_OF_RANGE when too old; OK to re-watch; UNAVAILABLE
// when the master stops).
//
// Bookmarks: besides the cache's own (about a minute apart), each stream sends one at
// the cache's revision every `bookmarkIntervalMs` when the cache moved on, so a client
// can resume close to the head even when nothing it watches changed. That is only
// true while the stream is not paused: then every event of the cache up to its
// revision has reached the stream (the cache delivers synchronously unless paused).
import type * as grpc from '@grpc/grpc-js'
import { expired, serviceUnavailable } from '../status.js'
import type { CacheFilter, KubeObject, WatchCacheApi } from '../watch-cache/types.js'
import { ExpiredError } from '../watch-cache/types.js'
import { encodeBookmark, encodeCacheEvent, encodeInitial } from './encode.js'
import { toGrpcError } from './errors.js'

export type WatchCall = grpc.ServerWritableStream<unknown, Buffer>

export interface WatchStreamOptions {
  cache: WatchCacheApi
  filter: CacheFilter
  /** Changes after this revision are sent live. */
  afterRevision: number
  /** When set: sent as ADDED first, then a BOOKMARK marked initial_events_end at afterRevision. */
  initial?: readonly KubeObject[]
  bookmarkIntervalMs: number
  /** The stream ends (OK) after this long: the client re-watches. */
  timeoutMs: number
}

interface PausableHandle {
  stop(): void
  /** WatchCache's handle has it: delivery resumes after onEvent returned false. */
  resume?: () => void
}

export class WatchStream {
  private closed = false
  private paused = false
  private lastRevision: number
  private handle: PausableHandle | undefined
  private bookmarkTimer: NodeJS.Timeout | undefined
  private readonly timeoutTimer: NodeJS.Timeout

  constructor(
    private readonly call: WatchCall,
    private readonly o: WatchStreamOptions,
    private readonly onDone: (w: WatchStream) => void,
  ) {
    this.lastRevision = o.afterRevision
    this.timeoutTimer = setTimeout(() => this.end(), o.timeoutMs)
    this.timeoutTimer.unref()
    call.on('cancelled', () => this.finish())
  }

  /** Sends the initial state (if any) and registers with the cache. */
  start(): void {
    if (this.closed) return
    const o = this.o
    if (o.initial !== undefined) {
      for (const obj of o.initial) this.write(encodeInitial(obj))
      this.write(encodeBookmark(o.afterRevision, true))
    }
    let handle: PausableHandle
    try {
      handle = o.cache.watch(
        o.afterRevision,
        o.filter,
        {
          onEvent: (ev, type) => {
            this.lastRevision = Math.max(this.lastRevision, ev.revision)
            const more = this.write(encodeCacheEvent(ev, type))
            // false asks the cache to hold further events until resume() (see the 'drain' in write()).
            return more || this.handle?.resume === undefined ? undefined : false
          },
          onBookmark: (revision) => this.bookmark(revision),
          onClose: (reason) => {
            if (reason === 'expired') this.fail(expiredError(this.lastRevision, o.cache.revision))
            else this.end()
          },
        },
        { bookmarks: true },
      )
    } catch (err) {
      this.fail(err instanceof ExpiredError ? expiredError(err.requested, err.oldest) : err)
      return
    }
    this.handle = handle
    if (this.closed) {
      handle.stop()
      return
    }
    this.scheduleBookmark()
  }

  /** Ends the stream with UNAVAILABLE (503): this master is going away. */
  shutdown(): void {
    this.fail(serviceUnavailable('the master is shutting down; watch again on another master'))
  }

  /** Ends the stream with an error status (after what was already written). */
  fail(err: unknown): void {
    if (this.closed) return
    this.finish()
    this.call.emit('error', toGrpcError(err))
  }

  /** Ends the stream with OK: the client re-watches from its last resourceVersion. */
  end(): void {
    if (this.closed) return
    this.finish()
    this.call.end()
  }

  private finish(): void {
    if (this.closed) return
    this.closed = true
    clearTimeout(this.timeoutTimer)
    if (this.bookmarkTimer !== undefined) clearTimeout(this.bookmarkTimer)
    this.handle?.stop()
    this.onDone(this)
  }

  private write(bytes: Buffer): boolean {
    if (this.closed) return true
    const more = this.call.write(bytes)
    if (!more && !this.paused) {
      this.paused = true
      this.call.once('drain', () => {
        this.paused = false
        if (!this.closed) this.handle?.resume?.()
      })
    }
    return more
  }

  private bookmark(revision: number): void {
    if (revision <= this.lastRevision) return
    this.lastRevision = revision
    this.write(encodeBookmark(revision))
  }

  private scheduleBookmark(): void {
    // Jittered so that thousands of streams do not all send in the same turn.
    const delay = this.o.bookmarkIntervalMs * (0.5 + Math.random())
    this.bookmarkTimer = setTimeout(() => {
      this.bookmarkTimer = undefined
      if (this.closed) return
      if (!this.paused) this.bookmark(this.o.cache.revision)
      this.scheduleBookmark()
    }, delay)
    this.bookmarkTimer.unref()
  }
}

function expiredError(requested: number, oldest: number) {
  return expired(`too old resource version: ${requested} (${oldest})`)
}
