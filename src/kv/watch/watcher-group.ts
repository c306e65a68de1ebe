// A set of watchers indexed for "who watches this key": a map for single-key
// watchers and an interval index for ranges, prefixes and all-keys watchers
// (etcd's watcherGroup: keyWatchers + an interval tree of watcher sets).

import type { ByteString } from '../mvcc/byte-string.js'
import { IntervalIndex } from './interval-index.js'
import type { Watcher } from './watcher.js'

export class WatcherGroup {
  private readonly keys = new Map<ByteString, Set<Watcher>>()
  private readonly ranges = new IntervalIndex<Set<Watcher>>()
  private readonly all = new Set<Watcher>()

  get size(): number {
    return this.all.size
  }

  has(w: Watcher): boolean {
    return this.all.has(w)
  }

  watchers(): IterableIterator<Watcher> {
    return this.all.values()
  }

  add(w: Watcher): void {
    if (this.all.has(w)) return
    this.all.add(w)
    if (w.end === undefined) {
      let set = this.keys.get(w.key)
      if (set === undefined) this.keys.set(w.key, (set = new Set()))
      set.add(w)
      return
    }
    let set = this.ranges.get(w.key, w.end)
    if (set === undefined) this.ranges.set(w.key, w.end, (set = new Set()))
    set.add(w)
  }

  delete(w: Watcher): boolean {
    if (!this.all.delete(w)) return false
    if (w.end === undefined) {
      const set = this.keys.get(w.key)
      if (set !== undefined) {
        set.delete(w)
        if (set.size === 0) this.keys.delete(w.key)
      }
      return true
    }
    const set = this.ranges.get(w.key, w.end)
    if (set !== undefined) {
      set.delete(w)
      if (set.size === 0) this.ranges.delete(w.key, w.end)
    }
    return true
  }

  /** Calls fn for every watcher whose key or range holds key. */
  forEachMatch(key: ByteString, fn: (w: Watcher) => void): void {
    const exact = this.keys.get(key)
    if (exact !== undefined) for (const w of exact) fn(w)
    this.ranges.stab(key, (set) => {
      for (const w of set) fn(w)
    })
  }

  /** Whether any watcher watches key. */
  contains(key: ByteString): boolean {
    return this.keys.has(key) || this.ranges.contains(key)
  }
}
