// The cache's current objects: a map for gets and an array kept in key order for
// lists, so a LIST of one namespace is a binary search and a scan, and a LIST of
// everything is one copy. Inserts and deletes splice the array (a memmove, cheap at
// the sizes one resource reaches) instead of re-sorting it.
import type { CachedObject, KubeObject } from './types.js'

function lowerBound(items: readonly CachedObject[], key: string): number {
  let lo = 0
  let hi = items.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (items[mid]!.key < key) lo = mid + 1
    else hi = mid
  }
  return lo
}

export class ObjectStore {
  private readonly byKey = new Map<string, CachedObject>()
  private sorted: CachedObject[] = []

  get size(): number {
    return this.sorted.length
  }

  get(key: string): CachedObject | undefined {
    return this.byKey.get(key)
  }

  set(obj: CachedObject): void {
    const had = this.byKey.has(obj.key)
    this.byKey.set(obj.key, obj)
    const i = lowerBound(this.sorted, obj.key)
    if (had) this.sorted[i] = obj
    else this.sorted.splice(i, 0, obj)
  }

  delete(key: string): void {
    if (!this.byKey.delete(key)) return
    this.sorted.splice(lowerBound(this.sorted, key), 1)
  }

  /** Replaces everything (after a list); `items` need not be sorted. */
  replace(items: CachedObject[]): void {
    this.byKey.clear()
    for (const o of items) this.byKey.set(o.key, o)
    this.sorted = [...this.byKey.values()]
    let ordered = true
    for (let i = 1; i < this.sorted.length && ordered; i++) ordered = this.sorted[i - 1]!.key < this.sorted[i]!.key
    if (!ordered) this.sorted.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  }

  /** Objects in key order under `keyPrefix` that `matches` accepts; a new array. */
  list(keyPrefix: string | undefined, matches: ((obj: KubeObject) => boolean) | undefined): CachedObject[] {
    if (keyPrefix === undefined || keyPrefix === '') {
      return matches === undefined ? this.sorted.slice() : this.sorted.filter((o) => matches(o.object))
    }
    const out: CachedObject[] = []
    for (let i = lowerBound(this.sorted, keyPrefix); i < this.sorted.length; i++) {
      const o = this.sorted[i]!
      if (!o.key.startsWith(keyPrefix)) break
      if (matches === undefined || matches(o.object)) out.push(o)
    }
    return out
  }
}
