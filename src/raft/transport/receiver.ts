// The server half of the transport: accepts peers' streams and snapshot uploads and
// hands each message for this member to `deliver`.

import * as grpc from '@grpc/grpc-js'
import type { Logger } from 'pino'
import { MessageType, type Message, type NodeId, type Snapshot } from '../types.js'
import type { SnapshotChunk } from './codec.js'
import { CLUSTER_ID_KEY, MEMBER_ID_KEY, type Ack } from './service.js'

type Status = Partial<grpc.StatusObject>
type Respond = grpc.sendUnaryData<Ack>

export interface ReceiverOptions {
  id: NodeId
  clusterId: () => string
  /** Set for a joining member: the first caller's cluster ID becomes ours. */
  adopt?: (clusterId: string) => void
  deliver(m: Message): void
  logger: Logger
}

function first(md: grpc.Metadata, key: string): string {
  const [v] = md.get(key)
  return v === undefined ? '' : v.toString()
}

/** Responds to a call once, however many of data/end/cancel/close try to. */
class OpenCall {
  private respond: Respond | undefined

  constructor(
    respond: Respond,
    private readonly untrack: (c: OpenCall) => void,
  ) {
    this.respond = respond
  }

  get done(): boolean {
    return this.respond === undefined
  }

  finish(status: Status | null): void {
    const respond = this.respond
    if (respond === undefined) return
    this.respond = undefined
    this.untrack(this)
    if (status === null) respond(null, {})
    else respond(status)
  }
}

export class Receiver {
  private readonly calls = new Set<OpenCall>()
  private readonly untrack = (c: OpenCall): void => {
    this.calls.delete(c)
  }

  readonly implementation: grpc.UntypedServiceImplementation = {
    stream: (call: grpc.ServerReadableStream<Message[], Ack>, respond: Respond) => this.stream(call, respond),
    sendSnapshot: (call: grpc.ServerReadableStream<SnapshotChunk, Ack>, respond: Respond) =>
      this.snapshot(call, respond),
  }

  constructor(private readonly opts: ReceiverOptions) {}

  /** Ends every open incoming call; peers see UNAVAILABLE and reconnect with back-off. */
  close(): void {
    for (const c of [...this.calls]) c.finish({ code: grpc.status.UNAVAILABLE, details: 'raft transport closing' })
  }

  private accept(call: grpc.ServerReadableStream<unknown, Ack>, respond: Respond): OpenCall | undefined {
    const clusterId = first(call.metadata, CLUSTER_ID_KEY)
    const log = { peer: first(call.metadata, MEMBER_ID_KEY), path: call.getPath() }
    if (clusterId !== undefined && clusterId !== '' && this.opts.adopt) {
      this.opts.adopt(clusterId)
      this.opts.adopt = undefined
    }
    if (clusterId !== this.opts.clusterId()) {
      // Members of two clusters must never exchange votes or entries (etcd: HTTP 412).
      const details = `raft transport: request cluster ID mismatch (peer sent "${clusterId}", this member is in "${this.opts.clusterId()}")`
      this.opts.logger.warn(log, details)
      respond({ code: grpc.status.FAILED_PRECONDITION, details })
      return undefined
    }
    const open = new OpenCall(respond, this.untrack)
    this.calls.add(open)
    call.on('cancelled', () => open.finish({ code: grpc.status.CANCELLED }))
    call.on('error', (err: Error) => {
      this.opts.logger.warn({ ...log, err }, 'raft transport: incoming call failed')
      open.finish({ code: grpc.status.INTERNAL, details: err.message })
    })
    return open
  }

  private deliver(m: Message): void {
    if (m.to !== this.opts.id) {
      this.opts.logger.debug({ to: m.to, from: m.from, type: m.type }, 'raft transport: dropped message for another member')
      return
    }
    this.opts.deliver(m)
  }

  private stream(call: grpc.ServerReadableStream<Message[], Ack>, respond: Respond): void {
    const open = this.accept(call, respond)
    if (open === undefined) return
    // Response headers right away: the sender waits for them before writing.
    call.sendMetadata(new grpc.Metadata())
    call.on('data', (batch: Message[]) => {
      if (open.done) return
      for (const m of batch) this.deliver(m)
    })
    call.on('end', () => open.finish(null))
  }

  private snapshot(call: grpc.ServerReadableStream<SnapshotChunk, Ack>, respond: Respond): void {
    const open = this.accept(call, respond)
    if (open === undefined) return
    let header: (Message & { snapshot: Snapshot }) | undefined
    const parts: Uint8Array[] = []
    call.on('data', (chunk: SnapshotChunk) => {
      if (open.done) return
      if (header === undefined) {
        const h = chunk.header
        if (h === undefined || h.type !== MessageType.Snap || h.snapshot === undefined) {
          open.finish({ code: grpc.status.INVALID_ARGUMENT, details: 'raft transport: first snapshot chunk has no MsgSnap header' })
          return
        }
        if (h.to !== this.opts.id) {
          open.finish({
            code: grpc.status.FAILED_PRECONDITION,
            details: `raft transport: snapshot is for member ${h.to}, this is member ${this.opts.id}`,
          })
          return
        }
        header = { ...h, snapshot: h.snapshot }
      }
      parts.push(chunk.data)
      if (!chunk.last) return
      const data = Buffer.concat(parts)
      parts.length = 0
      this.opts.deliver({ ...header, snapshot: { metadata: header.snapshot.metadata, data } })
      open.finish(null)
    })
    call.on('end', () =>
      open.finish({ code: grpc.status.INVALID_ARGUMENT, details: 'raft transport: snapshot ended before its last chunk' }),
    )
  }
}
