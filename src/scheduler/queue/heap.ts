// A binary heap whose items are also reachable by key: the scheduling queue must
// remove or re-order one pod (deleted, updated to a new priority) without scanning
// thousands of others, so every item remembers its position in the array.

export class KeyedHeap<T> {
  private readonly items: T[] = []
  private readonly index = new Map<string, number>()

  /**
   * @param keyOf the item's identity (a pod's namespace/name)
   * @param less true when `a` must come out before `b`
   */
  constructor(
    private readonly keyOf: (item: T) => string,
    private readonly less: (a: T, b: T) => boolean,
  ) {}

  get size(): number {
    return this.items.length
  }

  has(key: string): boolean {
    return this.index.has(key)
  }

  get(key: string): T | undefined {
    const i = this.index.get(key)
    return i === undefined ? undefined : this.items[i]
  }

  /** Inserts the item, or replaces the one with the same key and restores the order. */
  set(item: T): void {
    const key = this.keyOf(item)
    const i = this.index.get(key)
    if (i !== undefined) {
      this.items[i] = item
      this.fix(i)
      return
    }
    this.items.push(item)
    this.index.set(key, this.items.length - 1)
    this.up(this.items.length - 1)
  }

  peek(): T | undefined {
    return this.items[0]
  }

  pop(): T | undefined {
    if (this.items.length === 0) return undefined
    return this.removeAt(0)
  }

  delete(key: string): T | undefined {
    const i = this.index.get(key)
    return i === undefined ? undefined : this.removeAt(i)
  }

  /** Every item, in no particular order. */
  values(): readonly T[] {
    return this.items
  }

  private removeAt(i: number): T {
    const item = this.items[i]!
    const last = this.items.pop()!
    this.index.delete(this.keyOf(item))
    if (i < this.items.length) {
      this.items[i] = last
      this.index.set(this.keyOf(last), i)
      this.fix(i)
    }
    return item
  }

  private fix(i: number): void {
    if (!this.up(i)) this.down(i)
  }

  /** Returns true when the item moved. */
  private up(i: number): boolean {
    const start = i
    const item = this.items[i]!
    while (i > 0) {
      const parent = (i - 1) >> 1
      const p = this.items[parent]!
      if (!this.less(item, p)) break
      this.items[i] = p
      this.index.set(this.keyOf(p), i)
      i = parent
    }
    if (i !== start) {
      this.items[i] = item
      this.index.set(this.keyOf(item), i)
    }
    return i !== start
  }

  private down(i: number): void {
    const n = this.items.length
    const item = this.items[i]!
    for (;;) {
      const l = 2 * i + 1
      if (l >= n) break
      const r = l + 1
      const child = r < n && this.less(this.items[r]!, this.items[l]!) ? r : l
      const c = this.items[child]!
      if (!this.less(c, item)) break
      this.items[i] = c
      this.index.set(this.keyOf(c), i)
      i = child
    }
    this.items[i] = item
    this.index.set(this.keyOf(item), i)
  }
}
