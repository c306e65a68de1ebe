import type { Message, NodeId } from './types.js'

export enum ReadOnlyOption {
  /** Confirm leadership with a heartbeat round before answering (linearizable always). */
  Safe = 'ReadOnlySafe',
  /** Trust the leader lease (needs check-quorum and bounded clock drift). Off by default. */
  LeaseBased = 'ReadOnlyLeaseBased',
}

interface ReadIndexStatus {
  req: Message
  index: number
  acks: Set<NodeId>
}

export function ctxKey(ctx: Uint8Array | undefined): string {
  return ctx ? Buffer.from(ctx.buffer, ctx.byteOffset, ctx.byteLength).toString('latin1') : ''
}

/**
 * Read requests waiting for a quorum to confirm the leader is still the leader. Their
 * answers are ordered: a quorum acknowledging a later request confirms all earlier ones.
 */
export class ReadOnly {
  private readonly pending = new Map<string, ReadIndexStatus>()
  private queue: string[] = []

  constructor(readonly option: ReadOnlyOption) {}

  addRequest(index: number, m: Message): void {
    const key = ctxKey(m.context)
    if (this.pending.has(key)) return
    this.pending.set(key, { req: m, index, acks: new Set() })
    this.queue.push(key)
  }

  /** Record a heartbeat acknowledgement of ctx; returns everyone who acknowledged it. */
  recvAck(id: NodeId, ctx: Uint8Array | undefined): ReadonlySet<NodeId> | undefined {
    const rs = this.pending.get(ctxKey(ctx))
    if (!rs) return undefined
    rs.acks.add(id)
    return rs.acks
  }

  /** Release ctx and every request queued before it. */
  advance(ctx: Uint8Array | undefined): ReadIndexStatus[] {
    const key = ctxKey(ctx)
    const at = this.queue.indexOf(key)
    if (at < 0) return []
    const released = this.queue.slice(0, at + 1).map((k) => this.pending.get(k)!)
    for (const k of this.queue.slice(0, at + 1)) this.pending.delete(k)
    this.queue = this.queue.slice(at + 1)
    return released
  }

  lastPendingRequestCtx(): Uint8Array | undefined {
    const key = this.queue[this.queue.length - 1]
    if (key === undefined) return undefined
    return this.pending.get(key)!.req.context
  }

  get size(): number {
    return this.queue.length
  }
}
