// The sending half for one peer: a bounded queue, one long-lived Stream call that the
// queue drains into, reconnection with back-off, and snapshot uploads.

import * as grpc from '@grpc/grpc-js'
import type { Logger } from 'pino'
import type { Message, NodeId, Snapshot } from '../types.js'
import { Backoff } from './backoff.js'
import type { SnapshotChunk } from './codec.js'
import { MessageQueue } from './queue.js'
import {
  callMetadata,
  channelOptions,
  deserializeAck,
  raftTransportService,
  SNAPSHOT_PATH,
  STREAM_PATH,
  type Ack,
} from './service.js'

export interface PeerOptions {
  id: NodeId
  self: NodeId
  /** Read when each call starts: a joining member may adopt the cluster's ID later. */
  clusterId: () => string
  address: string
  credentials: grpc.ChannelCredentials
  maxQueue: number
  maxBatchBytes: number
  logger: Logger
  onUnreachable(): void
  onSnapshotStatus(ok: boolean): void
}

// A stream whose response headers (the peer's "accepted") do not come within this is
// abandoned: the TCP connect to a black-holed address would otherwise hang ~20 s.
const ACCEPT_TIMEOUT_MS = 5000
// How long close() lets a stream flush what it was given before cancelling it.
const CLOSE_GRACE_MS = 1000
export const SNAPSHOT_CHUNK_BYTES = 1024 * 1024

type Stream = grpc.ClientWritableStream<readonly Message[]>
type SnapshotCall = grpc.ClientWritableStream<SnapshotChunk>

/**
 * connecting: a Stream call is being set up; messages queue (bounded).
 * open:       the peer accepted the call; queued batches are written.
 * backoff:    the last call failed; messages are dropped until the next attempt.
 * closed:     removed or the transport is closing.
 */
type State = 'connecting' | 'open' | 'backoff' | 'closed'

export class Peer {
  private readonly client: grpc.Client
  private readonly queue: MessageQueue
  private readonly backoff = new Backoff()
  private readonly log: Logger
  private state: State = 'connecting'
  private stream: Stream | undefined
  private waitingForDrain = false
  private timer: NodeJS.Timeout | undefined
  private snapshot: SnapshotCall | undefined
  // Only the first failure after a success is worth a warning; retries log at debug.
  private failures = 0

  constructor(private readonly opts: PeerOptions) {
    this.client = new grpc.Client(opts.address, opts.credentials, channelOptions)
    this.queue = new MessageQueue(opts.maxQueue)
    this.log = opts.logger.child({ peer: opts.id, address: opts.address })
    this.connect()
  }

  get address(): string {
    return this.opts.address
  }

  get queued(): number {
    return this.queue.length
  }

  /** False if `m` was dropped: the queue is full or the peer is known to be down. */
  enqueue(m: Message): boolean {
    if (this.state === 'backoff' || this.state === 'closed') return false
    return this.queue.push(m)
  }

  /** Writes queued batches until the queue is empty or the stream pushes back. */
  flush(): void {
    const stream = this.stream
    if (this.state !== 'open' || stream === undefined || this.waitingForDrain) return
    while (this.queue.length > 0) {
      if (!stream.write(this.queue.takeBatch(this.opts.maxBatchBytes))) {
        this.waitingForDrain = true
        stream.once('drain', () => {
          if (this.stream !== stream) return
          this.waitingForDrain = false
          this.flush()
        })
        return
      }
    }
  }

  sendSnapshot(m: Message): void {
    if (this.state === 'closed') return
    const snapshot = m.snapshot
    if (snapshot === undefined || this.snapshot !== undefined) {
      // Raft sends one snapshot at a time per follower; a second one would double the
      // memory for nothing, so it fails and raft will retry later.
      this.log.warn({ hasSnapshot: snapshot !== undefined }, 'raft transport: snapshot not sent (none attached or one already in flight)')
      queueMicrotask(() => this.opts.onSnapshotStatus(false))
      return
    }
    const call = this.client.makeClientStreamRequest<SnapshotChunk, Ack>(
      SNAPSHOT_PATH,
      raftTransportService.sendSnapshot.requestSerialize,
      deserializeAck,
      callMetadata(this.opts.clusterId(), this.opts.self),
      (err) => {
        this.snapshot = undefined
        if (this.state === 'closed') return
        if (err !== null) {
          this.log.warn({ err: err.message, code: err.code, index: snapshot.metadata.index }, 'raft transport: snapshot send failed')
          this.opts.onUnreachable()
          this.opts.onSnapshotStatus(false)
          return
        }
        this.log.info({ index: snapshot.metadata.index, bytes: snapshot.data.length }, 'raft transport: snapshot sent')
        this.opts.onSnapshotStatus(true)
      },
    )
    this.snapshot = call
    writeChunks(call, m, snapshot)
  }

  /** Ends the stream (letting it flush briefly), cancels any snapshot, closes the channel. */
  async close(): Promise<void> {
    if (this.state === 'closed') return
    this.state = 'closed'
    clearTimeout(this.timer)
    this.queue.clear()
    this.snapshot?.cancel()
    const stream = this.stream
    if (stream !== undefined) {
      stream.end()
      await settle(stream, CLOSE_GRACE_MS)
    }
    this.client.close()
  }

  private connect(): void {
    this.state = 'connecting'
    const accept = setTimeout(() => stream.cancel(), ACCEPT_TIMEOUT_MS)
    const stream: Stream = this.client.makeClientStreamRequest<readonly Message[], Ack>(
      STREAM_PATH,
      raftTransportService.stream.requestSerialize,
      deserializeAck,
      callMetadata(this.opts.clusterId(), this.opts.self),
      (err) => {
        clearTimeout(accept)
        this.broken(stream, err)
      },
    )
    this.stream = stream
    stream.once('metadata', () => {
      clearTimeout(accept)
      if (this.stream !== stream || this.state !== 'connecting') return
      this.state = 'open'
      this.backoff.reset()
      if (this.failures > 0) this.log.info({ failures: this.failures }, 'raft transport: peer reachable again')
      this.failures = 0
      this.flush()
    })
  }

  private broken(stream: Stream, err: grpc.ServiceError | null): void {
    if (this.stream !== stream || this.state === 'closed') return
    this.stream = undefined
    this.waitingForDrain = false
    const dropped = this.queue.clear()
    const delay = this.backoff.next()
    const fields = { code: err?.code ?? grpc.status.OK, details: err?.details, dropped, retryMs: Math.round(delay) }
    if (this.failures++ === 0) this.log.warn(fields, 'raft transport: stream to peer broke')
    else this.log.debug(fields, 'raft transport: peer still unreachable')
    this.state = 'backoff'
    this.timer = setTimeout(() => this.connect(), delay)
    this.opts.onUnreachable()
  }
}

function headerOf(m: Message, snapshot: Snapshot): Message {
  return { ...m, snapshot: { metadata: snapshot.metadata, data: new Uint8Array(0) } }
}

/** Writes the snapshot in chunks, pausing whenever the call pushes back. */
function writeChunks(call: SnapshotCall, m: Message, snapshot: Snapshot): void {
  const data = snapshot.data
  let offset = 0
  const pump = (): void => {
    for (;;) {
      const end = Math.min(offset + SNAPSHOT_CHUNK_BYTES, data.length)
      const chunk: SnapshotChunk = { data: data.subarray(offset, end), last: end === data.length }
      if (offset === 0) chunk.header = headerOf(m, snapshot)
      offset = end
      const more = call.write(chunk)
      if (chunk.last) {
        call.end()
        return
      }
      if (!more) {
        call.once('drain', pump)
        return
      }
    }
  }
  pump()
}

/** Resolves when the call has its status, or after `ms`, cancelling it then. */
function settle(call: Stream, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      call.cancel()
      resolve()
    }, ms)
    call.once('status', () => {
      clearTimeout(timer)
      resolve()
    })
  })
}
