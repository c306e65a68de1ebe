// A min-priority queue of lease IDs keyed by a time in ms (etcd's LeaseQueue and
// LeaseExpiredNotifier, lease_queue.go): the leader asks "which leases are due?"
// every tick, and with hundreds of thousands of leases that must cost O(due × log n),
// not a scan. Each ID appears at most once; setting it again moves it (etcd's
// RegisterOrUpdate), so renewals do not pile up stale entries.
// Binary heap in two parallel arrays plus an ID → slot index, which makes update and
// removal O(log n).

export class LeaseQueue {
  private ids: string[] = []
  private times: number[] = []
  private readonly slot = new Map<string, number>()

  get size(): number {
    return this.ids.length
  }

  has(id: string): boolean {
    return this.slot.has(id)
  }

  /** The time `id` is queued at, if queued. */
  timeOf(id: string): number | undefined {
    const i = this.slot.get(id)
    return i === undefined ? undefined : this.times[i]
  }

  /** Queues `id` at `time`, or moves it there if already queued. */
  set(id: string, time: number): void {
    const i = this.slot.get(id)
    if (i === undefined) {
      this.ids.push(id)
      this.times.push(time)
      this.slot.set(id, this.ids.length - 1)
      this.up(this.ids.length - 1)
      return
    }
    const old = this.times[i]!
    this.times[i] = time
    if (time < old) this.up(i)
    else this.down(i)
  }

  delete(id: string): boolean {
    const i = this.slot.get(id)
    if (i === undefined) return false
    this.removeAt(i)
    return true
  }

  /** The earliest entry's ID, without removing it. */
  peekId(): string | undefined {
    return this.ids[0]
  }

  /** The earliest entry's time. */
  peekTime(): number | undefined {
    return this.times[0]
  }

  /** Removes and returns the earliest entry's ID. */
  pop(): string | undefined {
    if (this.ids.length === 0) return undefined
    const id = this.ids[0]!
    this.removeAt(0)
    return id
  }

  clear(): void {
    this.ids = []
    this.times = []
    this.slot.clear()
  }

  private removeAt(i: number): void {
    const last = this.ids.length - 1
    this.slot.delete(this.ids[i]!)
    if (i !== last) {
      this.ids[i] = this.ids[last]!
      this.times[i] = this.times[last]!
      this.slot.set(this.ids[i]!, i)
    }
    this.ids.pop()
    this.times.pop()
    if (i < this.ids.length) {
      this.up(i)
      this.down(i)
    }
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (this.times[parent]! <= this.times[i]!) return
      this.swap(i, parent)
      i = parent
    }
  }

  private down(i: number): void {
    const n = this.ids.length
    for (;;) {
      const l = 2 * i + 1
      if (l >= n) return
      const r = l + 1
      const c = r < n && this.times[r]! < this.times[l]! ? r : l
      if (this.times[i]! <= this.times[c]!) return
      this.swap(i, c)
      i = c
    }
  }

  private swap(a: number, b: number): void {
    const id = this.ids[a]!
    const t = this.times[a]!
    this.ids[a] = this.ids[b]!
    this.times[a] = this.times[b]!
    this.ids[b] = id
    this.times[b] = t
    this.slot.set(this.ids[a]!, a)
    this.slot.set(id, b)
  }
}
