// A stabbing index over half-open byte-string intervals [start, end), where an empty
// end means "to the end of the keyspace" (etcd's range_end "\0"). Each distinct
// interval holds a value (the set of watchers on it), so 10,000 watchers on one
// prefix are one interval. The intervals are kept as a static, implicitly balanced
// tree over an array sorted by start, each node knowing the greatest end below it
// (an augmented interval tree); it is rebuilt lazily after the set of distinct
// intervals changed, which happens far less often than a key is stabbed.

import type { ByteString } from '../mvcc/byte-string.js'

interface Node<V> {
  start: ByteString
  end: ByteString
  value: V
}

/** a < b for interval ends, where '' is +infinity. */
function endAbove(end: ByteString, key: ByteString): boolean {
  return end === '' || key < end
}

function maxEnd(a: ByteString, b: ByteString): ByteString {
  if (a === '' || b === '') return ''
  return a > b ? a : b
}

export class IntervalIndex<V> {
  private readonly byInterval = new Map<string, Node<V>>()
  private sorted: Node<V>[] = []
  private maxEnds: ByteString[] = []
  private dirty = false

  get size(): number {
    return this.byInterval.size
  }

  get(start: ByteString, end: ByteString): V | undefined {
    return this.byInterval.get(intervalKey(start, end))?.value
  }

  set(start: ByteString, end: ByteString, value: V): void {
    const k = intervalKey(start, end)
    const node = this.byInterval.get(k)
    if (node !== undefined) {
      node.value = value
      return
    }
    this.byInterval.set(k, { start, end, value })
    this.dirty = true
  }

  delete(start: ByteString, end: ByteString): boolean {
    const ok = this.byInterval.delete(intervalKey(start, end))
    if (ok) this.dirty = true
    return ok
  }

  /** Calls fn with the value of every interval containing key. */
  stab(key: ByteString, fn: (value: V) => void): void {
    if (this.byInterval.size === 0) return
    if (this.dirty) this.rebuild()
    this.visit(0, this.sorted.length, key, fn)
  }

  /** Whether any interval contains key. */
  contains(key: ByteString): boolean {
    let found = false
    this.stab(key, () => {
      found = true
    })
    return found
  }

  private visit(lo: number, hi: number, key: ByteString, fn: (value: V) => void): void {
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      // maxEnds[mid] covers the subtree [lo, hi) rooted at mid.
      if (!endAbove(this.maxEnds[mid], key)) return
      this.visit(lo, mid, key, fn)
      const node = this.sorted[mid]
      if (node.start > key) return // it and everything right of it start after key
      if (endAbove(node.end, key)) fn(node.value)
      lo = mid + 1
    }
  }

  private rebuild(): void {
    this.sorted = [...this.byInterval.values()].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0))
    this.maxEnds = new Array<ByteString>(this.sorted.length)
    this.fill(0, this.sorted.length)
    this.dirty = false
  }

  private fill(lo: number, hi: number): ByteString | undefined {
    if (lo >= hi) return undefined
    const mid = (lo + hi) >>> 1
    let m = this.sorted[mid].end
    const left = this.fill(lo, mid)
    const right = this.fill(mid + 1, hi)
    if (left !== undefined) m = maxEnd(m, left)
    if (right !== undefined) m = maxEnd(m, right)
    this.maxEnds[mid] = m
    return m
  }
}

// A NUL cannot separate two latin1 strings unambiguously, so use the length.
function intervalKey(start: ByteString, end: ByteString): string {
  return `${start.length}:${start}${end}`
}
