// Carries raft messages between members over gRPC: one long-lived stream per peer for
// ordinary messages, a separate chunked call per snapshot. Loss is fine (raft retries);
// blocking is not, so every queue is bounded and a slow peer only loses its own messages.

import * as grpc from '@grpc/grpc-js'
import { pino, type Logger } from 'pino'
import { MessageType, type Message, type NodeId } from '../types.js'
import { Peer } from './peer.js'
import { Receiver } from './receiver.js'
import { raftTransportService, serverOptions } from './service.js'

export interface TransportHandler {
  /** A message for this member arrived from a peer. */
  onMessage(m: Message): void
  /** A send to `peer` failed or its stream broke. */
  onUnreachable(peer: NodeId): void
  /** A snapshot send to `peer` finished (ok) or failed. */
  onSnapshotStatus(peer: NodeId, ok: boolean): void
}

export interface Transport {
  start(): Promise<void>
  /** Non-blocking, never throws. Messages to unknown peers are dropped. */
  send(msgs: Message[]): void
  /** `address` is "host:port". */
  addPeer(id: NodeId, address: string): void
  removePeer(id: NodeId): void
  close(): Promise<void>
}

export interface GrpcTransportOptions {
  id: NodeId
  clusterId: string
  /**
   * Take the cluster ID of the first peer that calls in, instead of `clusterId` (a
   * member joining an existing cluster, which may not have been told its token).
   * Until then this member's own calls are refused by its peers and retried.
   */
  adoptClusterId?: boolean
  /** host:port to listen on; port 0 lets the OS choose (see `address`). */
  listen?: string
  /** Register on this server instead of listening; its owner binds, starts and shuts it down. */
  server?: grpc.Server
  handler: TransportHandler
  /** Messages queued per peer before new ones are dropped. Default 4096. */
  maxQueue?: number
  /** Target size of one batch on the wire. Default 4 MiB. */
  maxBatchBytes?: number
  logger?: Logger
  /** Default: insecure. */
  credentials?: { server: grpc.ServerCredentials; client: grpc.ChannelCredentials }
}

const DEFAULT_MAX_QUEUE = 4096
const DEFAULT_MAX_BATCH_BYTES = 4 * 1024 * 1024
const SHUTDOWN_GRACE_MS = 2000

export class GrpcTransport implements Transport {
  private readonly id: NodeId
  private readonly handler: TransportHandler
  private readonly log: Logger
  private readonly credentials: { server: grpc.ServerCredentials; client: grpc.ChannelCredentials }
  private readonly server: grpc.Server
  private readonly ownsServer: boolean
  private readonly receiver: Receiver
  private readonly peers = new Map<NodeId, Peer>()
  private readonly closing = new Set<Promise<void>>()
  private readonly dirty = new Set<Peer>()
  private flushScheduled = false
  private bound = ''
  private closed = false
  private closedPromise: Promise<void> | undefined

  private clusterId: string
  private adopted = false

  constructor(private readonly opts: GrpcTransportOptions) {
    if (opts.server === undefined && opts.listen === undefined) {
      throw new Error('GrpcTransport: give either `listen` or `server`')
    }
    this.id = opts.id
    this.handler = opts.handler
    this.log = (opts.logger ?? pino({ level: 'silent' })).child({ component: 'raft-transport', member: opts.id })
    this.credentials = opts.credentials ?? {
      server: grpc.ServerCredentials.createInsecure(),
      client: grpc.credentials.createInsecure(),
    }
    this.clusterId = opts.clusterId
    this.ownsServer = opts.server === undefined
    this.server = opts.server ?? new grpc.Server(serverOptions)
    this.receiver = new Receiver({
      id: opts.id,
      clusterId: () => this.clusterId,
      adopt: opts.adoptClusterId === true ? (id) => this.adopt(id) : undefined,
      deliver: (m) => {
        if (!this.closed) this.handler.onMessage(m)
      },
      logger: this.log,
    })
  }

  /** The bound host:port once started; with a shared `server`, the `listen` option or ''. */
  get address(): string {
    return this.bound
  }

  async start(): Promise<void> {
    this.server.addService(raftTransportService, this.receiver.implementation)
    const listen = this.opts.listen
    if (!this.ownsServer || listen === undefined) {
      this.bound = listen ?? ''
      return
    }
    const port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(listen, this.credentials.server, (err, p) => (err === null ? resolve(p) : reject(err))),
    )
    this.bound = `${listen.slice(0, listen.lastIndexOf(':'))}:${port}`
    this.log.info({ address: this.bound }, 'raft transport: listening')
  }

  send(msgs: Message[]): void {
    if (this.closed) return
    let unreachable: Set<NodeId> | undefined
    for (const m of msgs) {
      const peer = this.peers.get(m.to)
      if (peer === undefined) continue
      if (m.type === MessageType.Snap) {
        peer.sendSnapshot(m)
      } else if (peer.enqueue(m)) {
        this.dirty.add(peer)
      } else {
        unreachable ??= new Set()
        unreachable.add(m.to)
      }
    }
    if (this.dirty.size > 0 && !this.flushScheduled) {
      // Everything sent during this synchronous run goes out as one batch per peer, as
      // soon as it ends: a setImmediate would wait behind a whole loop iteration of I/O,
      // and this is the commit latency's critical path.
      this.flushScheduled = true
      queueMicrotask(this.flush)
    }
    if (unreachable !== undefined) {
      // Never call back into the driver from inside its own send().
      const ids = unreachable
      queueMicrotask(() => {
        if (this.closed) return
        for (const id of ids) this.handler.onUnreachable(id)
      })
    }
  }

  private adopt(id: string): void {
    if (this.adopted) return
    this.adopted = true
    if (id !== this.clusterId) this.log.info({ clusterId: id }, 'raft transport: joined the cluster ID of the peer that called in')
    this.clusterId = id
  }

  addPeer(id: NodeId, address: string): void {
    if (this.closed || id === this.id) return
    const existing = this.peers.get(id)
    if (existing?.address === address) return
    if (existing !== undefined) this.removePeer(id)
    this.peers.set(
      id,
      new Peer({
        id,
        self: this.id,
        clusterId: () => this.clusterId,
        address,
        credentials: this.credentials.client,
        maxQueue: this.opts.maxQueue ?? DEFAULT_MAX_QUEUE,
        maxBatchBytes: this.opts.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES,
        logger: this.log,
        onUnreachable: () => this.handler.onUnreachable(id),
        onSnapshotStatus: (ok) => this.handler.onSnapshotStatus(id, ok),
      }),
    )
  }

  removePeer(id: NodeId): void {
    const peer = this.peers.get(id)
    if (peer === undefined) return
    this.peers.delete(id)
    this.dirty.delete(peer)
    const done = peer.close().finally(() => this.closing.delete(done))
    this.closing.add(done)
  }

  /** Messages waiting for `peer` (for metrics and tests). */
  queueLength(peer: NodeId): number {
    return this.peers.get(peer)?.queued ?? 0
  }

  /** Ends outgoing streams and incoming calls; shuts the server down if it owns it. */
  close(): Promise<void> {
    this.closedPromise ??= this.shutdown()
    return this.closedPromise
  }

  private async shutdown(): Promise<void> {
    this.closed = true
    for (const id of [...this.peers.keys()]) this.removePeer(id)
    // Stop taking new calls first, so that none is accepted after the open ones end.
    let shutdown = Promise.resolve()
    if (this.ownsServer) shutdown = this.shutdownServer()
    else this.server.removeService(raftTransportService)
    this.receiver.close()
    await Promise.all([...this.closing, shutdown])
  }

  private shutdownServer(): Promise<void> {
    return new Promise((resolve) => {
      // tryShutdown waits for open calls to finish and receiver.close() is about to end
      // ours; the timer only guards against a call that somehow stays open.
      const force = setTimeout(() => this.server.forceShutdown(), SHUTDOWN_GRACE_MS)
      this.server.tryShutdown(() => {
        clearTimeout(force)
        resolve()
      })
    })
  }

  private readonly flush = (): void => {
    this.flushScheduled = false
    const peers = [...this.dirty]
    this.dirty.clear()
    for (const p of peers) p.flush()
  }
}
