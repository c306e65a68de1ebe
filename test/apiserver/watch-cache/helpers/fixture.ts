// Shared pieces of the watch cache tests: pods as stored JSON, a recording watcher, a
// hand-driven clock, and a cache over a MemoryStorage that each test stops at the end.
import { MemoryStorage } from '../../../../src/apiserver/storage/memory.js'
import type { Clock, TimerHandle } from '../../../../src/apiserver/watch-cache/clock.js'
import { WatchCache, type WatchCacheOptions } from '../../../../src/apiserver/watch-cache/watch-cache.js'
import type { CacheEvent, CacheWatcher, KubeObject } from '../../../../src/apiserver/watch-cache/types.js'

export const PODS = '/registry/pods/'

export const podKey = (ns: string, name: string): string => `${PODS}${ns}/${name}`

export function pod(ns: string, name: string, labels: Record<string, string> = {}, extra: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { namespace: ns, name, labels }, spec: { containers: [{ name: 'c', image: 'busybox' }] }, ...extra }
}

export const enc = (obj: unknown): Uint8Array => Buffer.from(JSON.stringify(obj))

export function decodeJSON(bytes: Uint8Array): KubeObject {
  const v: unknown = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'))
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object')
  return v as KubeObject
}

export const labelOf = (obj: KubeObject, label: string): string | undefined =>
  ((obj.metadata?.labels ?? {}) as Record<string, string>)[label]

export interface Seen {
  type: CacheEvent['type']
  key: string
  revision: number
  rv: string
  object: KubeObject
  ev: CacheEvent
}

/** A watcher that records what it gets; `accept` decides onEvent's return (pause when false). */
export class Recorder implements CacheWatcher {
  events: Seen[] = []
  bookmarks: number[] = []
  closed: 'expired' | 'stopped' | undefined
  accept: () => boolean = () => true

  onEvent(ev: CacheEvent, type: CacheEvent['type']): boolean {
    this.events.push({ type, key: ev.object.key, revision: ev.revision, rv: String(ev.object.object.metadata?.resourceVersion), object: ev.object.object, ev })
    return this.accept()
  }

  onBookmark(revision: number): void {
    this.bookmarks.push(revision)
  }

  onClose(reason: 'expired' | 'stopped'): void {
    this.closed = reason
  }

  summary(): string[] {
    return this.events.map((e) => `${e.type} ${e.key} ${e.revision}`)
  }
}

/** Polls (on the event loop, so microtasks and I/O run) until `cond` holds. */
export async function waitFor(cond: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setImmediate(r))
  }
}

/** Lets every queued microtask and immediate run. */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r))
}

export class FakeClock implements Clock {
  now = 0
  private timers: { id: number; at: number; fn: () => void }[] = []
  private seq = 0

  get pending(): number {
    return this.timers.length
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = ++this.seq
    this.timers.push({ id, at: this.now + ms, fn })
    return id
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers = this.timers.filter((t) => t.id !== handle)
  }

  /** Moves time forward, running due timers in order (including ones they schedule). */
  advance(ms: number): void {
    const end = this.now + ms
    for (;;) {
      let next: { id: number; at: number; fn: () => void } | undefined
      for (const t of this.timers) if (t.at <= end && (next === undefined || t.at < next.at || (t.at === next.at && t.id < next.id))) next = t
      if (next === undefined) break
      this.timers = this.timers.filter((t) => t !== next)
      this.now = next.at
      next.fn()
    }
    this.now = end
  }
}

export interface Harness {
  storage: MemoryStorage
  cache: WatchCache
  clock: FakeClock
}

/** A started, ready cache over `storage` (a fresh one by default), stopped at teardown. */
export async function startCache(
  t: { teardown(fn: () => void): void },
  opts: Partial<WatchCacheOptions> & { storage?: MemoryStorage } = {},
): Promise<Harness> {
  const storage = opts.storage ?? new MemoryStorage()
  const clock = new FakeClock()
  const cache = new WatchCache(storage, PODS, { decode: decodeJSON, clock, ...opts })
  t.teardown(() => cache.stop())
  await cache.ready()
  return { storage, cache, clock }
}
