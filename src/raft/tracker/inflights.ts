/**
 * The MsgApps sent to one follower and not yet acknowledged, as a ring buffer of
 * (last index, bytes). It is the flow-control window: full means "stop sending".
 */
export class Inflights {
  private start = 0
  private count = 0
  private bytes = 0
  private readonly indexes: number[]
  private readonly sizes: number[]

  constructor(
    readonly size: number,
    /** 0 = no byte limit. */
    readonly maxBytes: number,
  ) {
    this.indexes = new Array<number>(size).fill(0)
    this.sizes = new Array<number>(size).fill(0)
  }

  clone(): Inflights {
    const c = new Inflights(this.size, this.maxBytes)
    for (let i = 0; i < this.count; i++) {
      const j = (this.start + i) % this.size
      c.add(this.indexes[j]!, this.sizes[j]!)
    }
    return c
  }

  add(index: number, bytes: number): void {
    if (this.full()) throw new Error('cannot add into a full inflights')
    const next = (this.start + this.count) % this.size
    this.indexes[next] = index
    this.sizes[next] = bytes
    this.count++
    this.bytes += bytes
  }

  /** Forget every in-flight message whose last index is ≤ to (they were acknowledged). */
  freeLE(to: number): void {
    if (this.count === 0 || to < this.indexes[this.start]!) return
    let i = 0
    let idx = this.start
    let freed = 0
    for (; i < this.count; i++) {
      if (to < this.indexes[idx]!) break
      freed += this.sizes[idx]!
      idx = (idx + 1) % this.size
    }
    this.count -= i
    this.bytes -= freed
    this.start = this.count === 0 ? 0 : idx
  }

  freeFirstOne(): void {
    if (this.count > 0) this.freeLE(this.indexes[this.start]!)
  }

  full(): boolean {
    return this.count === this.size || (this.maxBytes !== 0 && this.bytes >= this.maxBytes)
  }

  get length(): number {
    return this.count
  }

  reset(): void {
    this.start = 0
    this.count = 0
    this.bytes = 0
  }
}
