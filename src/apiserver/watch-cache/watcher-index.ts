// Registered watchers, indexed by the directory of their key prefix so an event is
// offered only to watchers that can want its key: a watcher of namespace `default`
// (prefix `/registry/pods/default/`) is found from the event key's `/` boundaries, not
// by scanning every watcher. Watchers of the whole resource, or whose prefix ends
// above the cache's own prefix, sit in one set that sees every event.
import type { RegisteredWatcher } from './cache-watcher.js'

export class WatcherIndex {
  private readonly everything = new Set<RegisteredWatcher>()
  private readonly byDir = new Map<string, Set<RegisteredWatcher>>()
  private readonly withBookmarks = new Set<RegisteredWatcher>()
  private count = 0

  constructor(private readonly cachePrefix: string) {}

  get size(): number {
    return this.count
  }

  get bookmarkWatchers(): number {
    return this.withBookmarks.size
  }

  add(w: RegisteredWatcher): void {
    const dir = this.dirOf(w.keyPrefix)
    if (dir === undefined) this.everything.add(w)
    else {
      let set = this.byDir.get(dir)
      if (set === undefined) this.byDir.set(dir, (set = new Set()))
      set.add(w)
    }
    if (w.bookmarks) this.withBookmarks.add(w)
    this.count++
  }

  remove(w: RegisteredWatcher): void {
    const dir = this.dirOf(w.keyPrefix)
    let removed: boolean
    if (dir === undefined) removed = this.everything.delete(w)
    else {
      const set = this.byDir.get(dir)
      removed = set?.delete(w) ?? false
      if (set?.size === 0) this.byDir.delete(dir)
    }
    this.withBookmarks.delete(w)
    if (removed) this.count--
  }

  /** Calls `fn` for every watcher whose prefix may cover `key` (the watcher checks exactly). */
  forKey(key: string, fn: (w: RegisteredWatcher) => void): void {
    for (const w of this.everything) fn(w)
    if (this.byDir.size === 0) return
    for (let i = key.indexOf('/', Math.max(0, this.cachePrefix.length - 1)); i !== -1; i = key.indexOf('/', i + 1)) {
      const set = this.byDir.get(key.slice(0, i + 1))
      if (set !== undefined) for (const w of set) fn(w)
    }
  }

  forBookmarks(fn: (w: RegisteredWatcher) => void): void {
    for (const w of this.withBookmarks) fn(w)
  }

  /** A snapshot, so `fn` may close watchers as it goes. */
  all(): RegisteredWatcher[] {
    const out = [...this.everything]
    for (const set of this.byDir.values()) for (const w of set) out.push(w)
    return out
  }

  /**
   * The directory (up to and including the last `/`) a prefix is indexed under, or
   * undefined for the set that sees every event. A key under prefix P has P's directory
   * among its own `/` boundaries, so looking those up finds every candidate.
   */
  private dirOf(prefix: string | undefined): string | undefined {
    if (prefix === undefined || prefix.length <= this.cachePrefix.length) return undefined
    const dir = prefix.slice(0, prefix.lastIndexOf('/') + 1)
    return dir.length < this.cachePrefix.length ? undefined : dir
  }
}
