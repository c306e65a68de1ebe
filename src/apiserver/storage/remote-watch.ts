// One watch of RemoteStorage: a Watch stream (prev_kv, progress_notify) on the
// endpoint in use. When the stream is lost — the member died, the connection broke,
// the member lost its leader — the watch is created again from the first revision
// not yet delivered, on the same or the next endpoint, so the caller sees neither a
// gap nor a duplicate. Only if that fails for `retryTimeoutMs` does it end with
// onClose('error'). A start revision below the compacted one ends it with
// onClose('compacted').
import type * as grpc from '@grpc/grpc-js'
import { status } from '@grpc/grpc-js'
import { IdleProgress } from './idle-progress.js'
import type { StoredKV, WatchCallbacks, WatchEvent, WatchHandle } from './interface.js'
import { StorageError } from './interface.js'
import { prefixEnd } from './keys.js'
import type { EtcdClient, Message } from './remote-client.js'
import { storedKVFromWire } from './remote-convert.js'

type Call = grpc.ClientDuplexStream<Message, Message>

export interface RemoteWatchOptions {
  progressIntervalMs: number
  /** How long the watch keeps trying to get a stream back before giving up (ms). */
  retryTimeoutMs: number
  /** Ask for prev_kv (see WatchOptions.prevValues). */
  prevValues: boolean
  onDone(w: RemoteWatch): void
}

interface WireEvent {
  type?: string
  kv?: Message | null
  prev_kv?: Message | null
}

const MIN_BACKOFF_MS = 100
const MAX_BACKOFF_MS = 1000

export class RemoteWatch implements WatchHandle {
  private readonly end: Buffer
  private nextRev: number
  private call: Call | undefined
  private at = 0
  /** The store answered `created` on the current stream. */
  private live = false
  private progressWanted = false
  private lostSince: number | undefined
  private backoff = MIN_BACKOFF_MS
  private retryTimer: NodeJS.Timeout | undefined
  private done = false
  private readonly progress: IdleProgress

  constructor(
    private readonly prefix: Buffer,
    afterRevision: number,
    private readonly cb: WatchCallbacks,
    private readonly client: EtcdClient,
    private readonly opts: RemoteWatchOptions,
  ) {
    this.end = prefixEnd(prefix)
    this.nextRev = Math.max(1, afterRevision + 1)
    this.progress = new IdleProgress(opts.progressIntervalMs, () => this.live, () => this.requestProgress())
    this.connect()
  }

  requestProgress(): void {
    if (this.done) return
    if (this.call !== undefined && this.live) this.call.write({ progress_request: {} })
    else this.progressWanted = true
  }

  cancel(): void {
    if (this.done) return
    this.done = true
    this.cleanup()
  }

  // ------------------------------------------------------------ the stream

  private connect(): void {
    this.retryTimer = undefined
    if (this.done) return
    let opened: { call: Call; at: number }
    try {
      opened = this.client.openWatch()
    } catch (err) {
      this.lost(undefined, err as Error)
      return
    }
    const call = opened.call
    this.call = call
    this.at = opened.at
    this.live = false
    call.on('data', (res: Message) => {
      if (this.call === call) this.onResponse(res)
    })
    // 'error' must always have a listener (a canceled call emits CANCELLED).
    call.on('error', (err: grpc.ServiceError) => {
      if (this.call === call) this.lost(call, err)
    })
    call.on('end', () => {
      if (this.call === call) this.lost(call, new Error('watch stream ended by the server'))
    })
    call.write({
      create_request: {
        key: this.prefix,
        range_end: this.end,
        start_revision: this.nextRev,
        prev_kv: this.opts.prevValues,
        progress_notify: true,
      },
    })
  }

  private onResponse(res: Message): void {
    const compactRevision = Number(res.compact_revision ?? 0)
    if (compactRevision > 0) {
      this.close('compacted')
      return
    }
    if (res.canceled === true) {
      const reason = typeof res.cancel_reason === 'string' && res.cancel_reason !== '' ? res.cancel_reason : 'watch canceled by the server'
      this.lost(this.call, new Error(reason))
      return
    }
    if (res.created === true) {
      this.live = true
      this.lostSince = undefined
      this.backoff = MIN_BACKOFF_MS
      if (this.progressWanted) {
        this.progressWanted = false
        this.call?.write({ progress_request: {} })
      }
    }
    const events = (res.events ?? []) as WireEvent[]
    if (events.length > 0) {
      this.deliver(events)
      return
    }
    if (res.created === true) return
    // No events, not a creation: a progress notification (periodic or asked for).
    const header = res.header as Message | null | undefined
    const rev = Number(header?.revision ?? 0)
    // Below what was delivered it says nothing new (etcd 3.4 may answer so).
    if (rev >= this.nextRev - 1) this.cb.onProgress(rev)
  }

  /** Events of one response, in revision order, handed over one revision at a time. */
  private deliver(wire: WireEvent[]): void {
    let batch: WatchEvent[] = []
    let rev = 0
    const flush = () => {
      if (batch.length === 0 || this.done) return
      // After a re-watch the store starts at nextRev; older events cannot come, but
      // nothing delivered is ever delivered twice.
      if (rev >= this.nextRev) {
        this.nextRev = rev + 1
        this.progress.busy()
        this.cb.onEvents(batch, rev)
      }
      batch = []
    }
    for (const ev of wire) {
      const kv = storedKVFromWire(ev.kv ?? {})
      if (kv.modRevision !== rev) {
        flush()
        rev = kv.modRevision
      }
      const deleted = ev.type === 'DELETE'
      const prev: StoredKV | undefined = ev.prev_kv != null ? storedKVFromWire(ev.prev_kv) : undefined
      batch.push({ type: deleted ? 'DELETE' : 'PUT', kv: deleted ? { ...kv, value: new Uint8Array(0) } : kv, prev })
    }
    flush()
  }

  /** The stream is gone: try again (next endpoint when this one is unreachable) until retryTimeoutMs. */
  private lost(call: Call | undefined, err: Error): void {
    if (this.done) return
    this.call = undefined
    this.live = false
    if (call !== undefined) {
      call.removeAllListeners('data')
      call.on('error', () => undefined)
      call.cancel()
    }
    const code = (err as Partial<grpc.ServiceError>).code
    if (code === status.UNAVAILABLE || code === undefined) this.client.failed(this.at)
    const now = Date.now()
    this.lostSince ??= now
    if (now - this.lostSince >= this.opts.retryTimeoutMs) {
      this.close('error', new StorageError('Unavailable', `watch lost for ${now - this.lostSince} ms: ${(err as Partial<grpc.ServiceError>).details ?? err.message}`))
      return
    }
    const wait = this.backoff
    this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_MS)
    this.retryTimer = setTimeout(() => this.connect(), wait)
  }

  private close(reason: 'compacted' | 'error', err?: Error): void {
    if (this.done) return
    this.done = true
    this.cleanup()
    this.cb.onClose(reason, err)
  }

  private cleanup(): void {
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer)
    const call = this.call
    this.call = undefined
    if (call !== undefined) {
      call.removeAllListeners('data')
      call.on('error', () => undefined)
      call.cancel()
    }
    this.progress.stop()
    this.opts.onDone(this)
  }
}
