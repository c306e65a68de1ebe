// One client's watch stream (etcd's serverWatchStream + mvcc watchStream): many
// watches multiplexed, each answered with etcd's created / canceled / progress
// responses, events batched per watcher and written as pre-encoded WatchResponses.
// Transport-neutral: it writes Buffers to a WatchSink; grpc.ts adapts a grpc-js call.
//
// Ordering per watcher: the created response is written synchronously when the
// watch is created; its events come later (a flush after notify, or the hub's
// catch-up), so they always follow it. A watcher's events go out in revision order:
// live events wait in its buf while a prev_kv send or a catch-up is in flight.

import { type ByteString, toByteString } from '../mvcc/byte-string.js'
import { encodeResponse, eventFieldSize, int64Varint, type ResponseParts, responseBaseSize } from './encode.js'
import type { HubEvent } from './event.js'
import type { WatchHub } from './hub.js'
import { Watcher, type WatcherSpec } from './watcher.js'

/** Where a stream's encoded WatchResponses go. */
export interface WatchSink {
  /**
   * Writes one encoded WatchResponse. false: the transport is backed up; the stream
   * then moves live watchers aside (to catch up from history later) until the owner
   * calls `WatchStream.resume()`.
   */
  write(response: Buffer): boolean
  /** Called once when the hub closes the stream (server shutdown), not on client close. */
  close?(): void
}

/** A WatchRequest as proto-loader decodes it (keepCase, longs String, enums String). */
export interface WatchRequest {
  request_union?: string
  create_request?: CreateRequest | null
  cancel_request?: { watch_id?: string | number | null } | null
  progress_request?: object | null
}

export interface CreateRequest {
  key?: Uint8Array | null
  range_end?: Uint8Array | null
  start_revision?: string | number | null
  progress_notify?: boolean | null
  filters?: (string | number)[] | null
  prev_kv?: boolean | null
  watch_id?: string | number | null
  fragment?: boolean | null
}

// etcd's texts (mvcc/watcher.go, v3rpc/rpctypes).
export const ERR_DUPLICATE_ID = 'mvcc: duplicate watch ID provided on the WatchStream'
export const ERR_EMPTY_RANGE = 'mvcc: watcher range is empty'
export const ERR_COMPACTED = 'etcdserver: mvcc: required revision has been compacted'

const INVALID_ID = int64Varint(-1n)

export class WatchStream {
  private readonly byId = new Map<bigint, Watcher>()
  private nextId = 0n
  private pending: Watcher[] = []
  private flushScheduled = false
  private progressTimer: NodeJS.Timeout | undefined
  /** The sink said it is backed up; cleared by resume(). */
  blocked = false
  closed = false

  constructor(
    private readonly hub: WatchHub,
    private readonly sink: WatchSink,
  ) {}

  /** The stream's watchers (live ones only). */
  get watchers(): ReadonlyMap<bigint, Watcher> {
    return this.byId
  }

  /** Handles one request; never throws (a malformed request is ignored). */
  handle(req: WatchRequest): void {
    if (this.closed || req === null || typeof req !== 'object') return
    try {
      const kind = req.request_union ?? (req.create_request ? 'create_request' : req.cancel_request ? 'cancel_request' : req.progress_request ? 'progress_request' : '')
      if (kind === 'create_request' && req.create_request) this.create(req.create_request)
      else if (kind === 'cancel_request' && req.cancel_request) this.cancel(toBigInt(req.cancel_request.watch_id))
      else if (kind === 'progress_request' && req.progress_request) this.requestProgress()
    } catch (err) {
      this.hub.log('watch: bad request ignored', err)
    }
  }

  /** Creates a watch; returns its id, or -1n if refused (the refusal was written, as etcd). */
  create(req: CreateRequest): bigint {
    let key: ByteString = req.key && req.key.length > 0 ? toByteString(req.key) : '\0'
    if (key.length === 0) key = '\0'
    const startRev = toNumber(req.start_revision)
    if (startRev < 0) return this.refuse(ERR_COMPACTED)
    let end: ByteString | undefined
    if (req.range_end && req.range_end.length > 0) {
      end = req.range_end.length === 1 && req.range_end[0] === 0 ? '' : toByteString(req.range_end)
      if (end !== '' && key >= end) return this.refuse(ERR_EMPTY_RANGE)
    }
    let id = toBigInt(req.watch_id)
    if (id === 0n) {
      while (this.byId.has(this.nextId)) this.nextId++
      id = this.nextId++
    } else if (this.byId.has(id)) {
      return this.refuse(ERR_DUPLICATE_ID)
    }
    const filters = (req.filters ?? []).map(String)
    const spec: WatcherSpec = {
      key,
      end,
      startRev,
      noPut: filters.includes('NOPUT') || filters.includes('0'),
      noDelete: filters.includes('NODELETE') || filters.includes('1'),
      prevKv: req.prev_kv === true,
      progressNotify: req.progress_notify === true,
      fragment: req.fragment === true,
    }
    const w = new Watcher(id, id === 0n ? undefined : int64Varint(id), this, spec, startRev)
    this.byId.set(id, w)
    this.write({ header: this.hub.header(this.hub.revision), watchId: w.idBytes, created: true })
    this.hub.addWatcher(w)
    if (spec.progressNotify) this.startProgressTimer()
    return id
  }

  /** Cancels a watch of this stream; false (and nothing written) if there is none. */
  cancel(id: bigint): boolean {
    const w = this.byId.get(id)
    if (w === undefined) return false
    this.drop(w)
    this.write({ header: this.hub.header(this.hub.revision), watchId: w.idBytes, canceled: true })
    return true
  }

  /**
   * etcd 3.5's progress request: if every watcher of the stream is synced (and not
   * waiting for a future start revision), one response with watch_id -1 and the
   * current revision: every event at or below it has been sent. Otherwise, and when
   * the stream has no watchers, nothing.
   */
  requestProgress(): void {
    this.flush()
    if (this.byId.size === 0 || this.blocked) return
    const rev = this.hub.revision
    for (const w of this.byId.values()) if (!this.isCurrent(w, rev)) return
    this.write({ header: this.hub.header(rev), watchId: INVALID_ID })
  }

  /** The sink drained: watchers moved aside catch up from history. */
  resume(): void {
    if (!this.blocked || this.closed) return
    this.blocked = false
    this.hub.kickSync()
  }

  /** Ends every watch of the stream (client gone or server closing). */
  close(): void {
    if (this.closed) return
    this.closed = true
    if (this.progressTimer !== undefined) clearInterval(this.progressTimer)
    for (const w of this.byId.values()) this.hub.removeWatcher(w)
    this.byId.clear()
    this.pending = []
    this.hub.streamClosed(this)
  }

  // ------------------------------------------------------------ used by the hub

  /** The hub is closing: end the watches and tell the transport. */
  shutdown(): void {
    if (this.closed) return
    this.close()
    try {
      this.sink.close?.()
    } catch (err) {
      this.hub.log('watch: sink close failed', err)
    }
  }

  /** A live event for a synced watcher (called from notify: must stay cheap). */
  enqueue(w: Watcher, ev: HubEvent): void {
    w.liveRev = ev.rev
    if (w.filtered(ev)) {
      // Seen (and dropped by the filter): a catch-up need not read it again.
      if (w.buf.length === 0) w.nextRev = ev.rev + 1
      return
    }
    if (this.blocked || w.buf.length >= this.hub.maxBufferedEvents) {
      this.hub.moveAside(w, w.buf.length > 0 ? w.buf[0].rev : ev.rev)
      return
    }
    w.buf.push(ev)
    w.nextRev = ev.rev + 1
    if (!w.queued) {
      w.queued = true
      this.pending.push(w)
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true
      setImmediate(() => this.flush())
    }
  }

  /** Sends events to a watcher: at once, or after prev_kv reads (w.busy until done). */
  deliver(w: Watcher, events: HubEvent[], headerRev: number): void {
    if (events.length === 0) return
    w.progressDue = false
    if (!w.prevKv) {
      this.writeEvents(w, events.map((e) => e.bytes()), headerRev)
      return
    }
    w.busy = true
    this.deliverWithPrev(w, events, headerRev).catch((err) => this.hub.log('watch: prev_kv send failed', err))
  }

  /** etcd's compacted cancel: header revision 0, compact_revision set, no reason. */
  sendCompacted(w: Watcher, compactRev: number): void {
    this.drop(w)
    this.write({ header: this.hub.header(0), watchId: w.idBytes, canceled: true, compactRevision: compactRev })
  }

  // ------------------------------------------------------------ internals

  private refuse(reason: string): bigint {
    this.write({ header: this.hub.header(this.hub.revision), watchId: INVALID_ID, created: true, canceled: true, cancelReason: reason })
    return -1n
  }

  private drop(w: Watcher): void {
    this.hub.removeWatcher(w)
    this.byId.delete(w.id)
  }

  /** Synced, nothing pending, and its start revision reached: a progress response may be sent for it. */
  private isCurrent(w: Watcher, rev: number): boolean {
    return w.state === 'synced' && !w.busy && w.buf.length === 0 && rev >= w.startRev
  }

  private flush(): void {
    this.flushScheduled = false
    const list = this.pending
    this.pending = []
    for (const w of list) {
      w.queued = false
      if (w.state !== 'synced' || w.buf.length === 0 || w.busy) continue
      if (this.blocked) {
        this.hub.moveAside(w, w.buf[0].rev)
        continue
      }
      const events = w.buf
      w.buf = []
      this.deliver(w, events, events[events.length - 1].rev)
    }
  }

  private async deliverWithPrev(w: Watcher, events: HubEvent[], headerRev: number): Promise<void> {
    try {
      let batch = events
      let rev = headerRev
      for (;;) {
        const bytes = await Promise.all(batch.map((e) => e.bytesWithPrev(this.hub.store)))
        if (w.state === 'canceled' || this.closed) return
        this.writeEvents(w, bytes, rev)
        if (w.state !== 'synced' || w.buf.length === 0) return
        if (this.blocked) {
          this.hub.moveAside(w, w.buf[0].rev)
          return
        }
        batch = w.buf
        w.buf = []
        rev = batch[batch.length - 1].rev
      }
    } finally {
      w.busy = false
      if (w.state === 'unsynced') this.hub.kickSync()
    }
  }

  /** Writes events as one response, or as fragments if the watcher asked and they exceed the limit. */
  private writeEvents(w: Watcher, events: Uint8Array[], headerRev: number): void {
    const parts: ResponseParts = { header: this.hub.header(headerRev), watchId: w.idBytes, events }
    const max = this.hub.maxResponseBytes
    if (!w.fragment || events.length < 2) {
      this.write(parts)
      return
    }
    const base = responseBaseSize(parts)
    let total = base
    for (const e of events) total += eventFieldSize(e)
    if (total < max) {
      this.write(parts)
      return
    }
    // As etcd's sendFragments: fill each fragment until adding one more event would
    // reach the limit (a fragment holds at least one event); all but the last say fragment.
    const fragBase = base + 2
    let i = 0
    while (i < events.length) {
      const start = i
      let size = fragBase
      while (i < events.length) {
        const s = eventFieldSize(events[i])
        if (i > start && size + s >= max) break
        size += s
        i++
      }
      this.write({ ...parts, fragment: i < events.length, events: events.slice(start, i) })
    }
  }

  private write(parts: ResponseParts): void {
    if (this.closed) return
    let ok: boolean
    try {
      ok = this.sink.write(encodeResponse(parts))
    } catch (err) {
      this.hub.log('watch: stream write failed', err)
      this.close()
      return
    }
    if (!ok) this.blocked = true
  }

  // etcd's progress ticker: every interval (plus up to 10% jitter), each watcher that
  // asked for progress_notify and was sent no events since the last tick gets an
  // empty response at the current revision, if it is synced.
  private startProgressTimer(): void {
    if (this.progressTimer !== undefined) return
    const interval = this.hub.progressIntervalMs
    const timer = setInterval(() => this.progressTick(), interval + Math.floor(Math.random() * (interval / 10)))
    timer.unref()
    this.progressTimer = timer
  }

  private progressTick(): void {
    if (this.closed) return
    this.flush()
    const rev = this.hub.revision
    for (const w of this.byId.values()) {
      if (!w.progressNotify) continue
      if (w.progressDue && !this.blocked && this.isCurrent(w, rev)) {
        this.write({ header: this.hub.header(rev), watchId: w.idBytes })
      }
      w.progressDue = true
    }
  }
}

function toNumber(v: string | number | null | undefined): number {
  if (v === null || v === undefined || v === '') return 0
  const n = Number(v)
  if (!Number.isFinite(n)) throw new RangeError(`watch: bad revision ${String(v)}`)
  return n
}

function toBigInt(v: string | number | null | undefined): bigint {
  if (v === null || v === undefined || v === '') return 0n
  return BigInt.asIntN(64, BigInt(v))
}
