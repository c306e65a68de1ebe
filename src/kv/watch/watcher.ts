// One watch: what it watches, where it stands in the revision history, and what its
// stream asked for. Owned by a WatchStream; indexed by the hub's watcher groups.

import type { ByteString } from '../mvcc/byte-string.js'
import type { HubEvent } from './event.js'
import type { WatchStream } from './stream.js'

/** synced: gets live events; unsynced: waits for (or is in) a catch-up from history. */
export type WatcherState = 'synced' | 'unsynced' | 'canceled'

export interface WatcherSpec {
  key: ByteString
  /** undefined: the key alone; '': every key ≥ key; otherwise [key, end). */
  end: ByteString | undefined
  startRev: number
  noPut: boolean
  noDelete: boolean
  prevKv: boolean
  progressNotify: boolean
  fragment: boolean
}

export class Watcher implements WatcherSpec {
  readonly key: ByteString
  readonly end: ByteString | undefined
  readonly startRev: number
  readonly noPut: boolean
  readonly noDelete: boolean
  readonly prevKv: boolean
  readonly progressNotify: boolean
  readonly fragment: boolean

  state: WatcherState = 'unsynced'
  /** The lowest revision this watcher has not been sent yet (etcd's minRev). */
  nextRev: number
  /** The revision of the last live event handed to it (a revision may hold several changes). */
  liveRev = 0
  /** Live events not yet written (bounded by the stream's maxBufferedEvents). */
  buf: HubEvent[] = []
  /** On its stream's flush list. */
  queued = false
  /** A send that awaits prev_kv reads is in flight; later events wait in buf. */
  busy = false
  /** etcd's progress flag: no events were sent since the last progress tick. */
  progressDue = true

  constructor(
    /** The watch_id; bigint because clients may choose any int64. */
    readonly id: bigint,
    /** The watch_id field's pre-encoded varint (undefined for id 0, omitted in proto3). */
    readonly idBytes: Uint8Array | undefined,
    readonly stream: WatchStream,
    spec: WatcherSpec,
    nextRev: number,
  ) {
    this.key = spec.key
    this.end = spec.end
    this.startRev = spec.startRev
    this.noPut = spec.noPut
    this.noDelete = spec.noDelete
    this.prevKv = spec.prevKv
    this.progressNotify = spec.progressNotify
    this.fragment = spec.fragment
    this.nextRev = nextRev
  }

  matches(key: ByteString): boolean {
    if (this.end === undefined) return key === this.key
    return key >= this.key && (this.end === '' || key < this.end)
  }

  /** Whether the watcher's filters drop this event. */
  filtered(ev: HubEvent): boolean {
    return ev.deleted ? this.noDelete : this.noPut
  }
}
