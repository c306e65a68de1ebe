// A resource's watch cache seen in another version: gets, lists and watch events carry
// the converted objects. Each stored object is converted once and its conversion kept
// while the cached object lives (cached objects are frozen and replaced, never
// changed), so every watcher and LIST shares it — and its JSON bytes (see
// ../watch-cache/encoding.ts).
import { objectJson } from '../watch-cache/encoding.js'
import type { CachedObject, CacheEvent, CacheFilter, CacheListResult, KubeObject, WatchCacheApi } from '../watch-cache/types.js'

/** Converts an object of the stored version to the served one (a fresh object). */
export type ToServed = (stored: KubeObject) => KubeObject

export class ConvertedObjects {
  private readonly objects = new WeakMap<KubeObject, KubeObject>()
  private readonly cached = new WeakMap<CachedObject, CachedObject>()
  private readonly sources = new WeakMap<KubeObject, KubeObject>()
  private readonly events = new WeakMap<CacheEvent, CacheEvent>()

  constructor(private readonly toServed: ToServed) {}

  /** The served form of a stored object; memoized (and frozen) for the cache's frozen objects. */
  object(stored: KubeObject): KubeObject {
    if (!Object.isFrozen(stored)) return this.remember(this.toServed(stored), stored)
    let served = this.objects.get(stored)
    if (served === undefined) {
      served = Object.freeze(this.remember(this.toServed(stored), stored))
      this.objects.set(stored, served)
    }
    return served
  }

  /** The stored object a served one was made from, if this view made it. */
  source(served: KubeObject): KubeObject | undefined {
    return this.sources.get(served)
  }

  entry(c: CachedObject): CachedObject {
    let out = this.cached.get(c)
    if (out === undefined) {
      out = Object.freeze({ key: c.key, object: this.object(c.object), modRevision: c.modRevision })
      this.cached.set(c, out)
    }
    return out
  }

  /** A watch event with its objects converted; encoded once per event type, shared by every watcher. */
  event(ev: CacheEvent): CacheEvent {
    let out = this.events.get(ev)
    if (out !== undefined) return out
    const object = this.entry(ev.object)
    const encoded = new Map<CacheEvent['type'], Buffer>()
    out = {
      type: ev.type,
      object,
      prev: ev.prev === undefined ? undefined : this.entry(ev.prev),
      revision: ev.revision,
      json(type = ev.type) {
        let b = encoded.get(type)
        if (b === undefined) {
          b = Buffer.concat([Buffer.from(`{"type":"${type}","object":`), objectJson(object.object), Buffer.from('}\n')])
          encoded.set(type, b)
        }
        return b
      },
    }
    this.events.set(ev, out)
    return out
  }

  private remember(served: KubeObject, stored: KubeObject): KubeObject {
    this.sources.set(served, stored)
    return served
  }
}

/**
 * The cache `inner` with every object converted. Filters still see the stored objects
 * (label and field selectors read fields both versions share). stop() leaves the
 * inner cache alone: it belongs to the stored resource.
 */
export function convertedCache(inner: WatchCacheApi, objects: ConvertedObjects): WatchCacheApi {
  return {
    get revision() {
      return inner.revision
    },
    ready: () => inner.ready(),
    waitUntilFresh: (revision, timeoutMs) => inner.waitUntilFresh(revision, timeoutMs),
    get: (key) => {
      const c = inner.get(key)
      return c === undefined ? undefined : objects.entry(c)
    },
    list: (filter?: CacheFilter): CacheListResult => {
      const r = inner.list(filter)
      return { items: r.items.map((c) => objects.entry(c)), revision: r.revision }
    },
    watch: (afterRevision, filter, w, opts) =>
      inner.watch(
        afterRevision,
        filter,
        {
          onEvent: (ev, type) => w.onEvent(objects.event(ev), type),
          onBookmark: (rev) => w.onBookmark(rev),
          onClose: (reason) => w.onClose(reason),
        },
        opts,
      ),
    stop: () => undefined,
  }
}
