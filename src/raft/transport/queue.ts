import { entrySize, type Message } from '../types.js'

// Fixed cost of a message's header fields on the wire, rounded up.
const MESSAGE_OVERHEAD = 64

/** Rough encoded size, used to cut batches; it need not be exact. */
export function messageSize(m: Message): number {
  let n = MESSAGE_OVERHEAD + (m.context?.length ?? 0)
  for (const e of m.entries) n += entrySize(e)
  return n
}

/**
 * The messages waiting for one peer. Bounded by count: when full, new messages are
 * refused rather than old ones evicted, so what is delivered stays in send order.
 */
export class MessageQueue {
  private items: Message[] = []

  constructor(private readonly limit: number) {}

  get length(): number {
    return this.items.length
  }

  /** False when the queue is full and `m` was not taken. */
  push(m: Message): boolean {
    if (this.items.length >= this.limit) return false
    this.items.push(m)
    return true
  }

  /** Removes and returns the oldest messages up to `maxBytes`, but at least one if any. */
  takeBatch(maxBytes: number): Message[] {
    if (this.items.length === 0) return []
    let bytes = messageSize(this.items[0])
    let n = 1
    while (n < this.items.length) {
      const size = messageSize(this.items[n])
      if (bytes + size > maxBytes) break
      bytes += size
      n++
    }
    return this.items.splice(0, n)
  }

  /** Drops everything; returns how many messages were dropped. */
  clear(): number {
    const n = this.items.length
    this.items = []
    return n
  }
}
