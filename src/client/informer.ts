// A shared informer (client-go's sharedIndexInformer): one reflector keeps one
// indexed cache of a resource, and every registered handler hears of each change
// (add, update with the previous state, delete with the last known state). Each
// handler has its own queue, drained in a microtask, so handlers run after the
// cache holds the change, never inside one another, and a throwing handler harms
// no one else. A relist that finds objects gone reports them as
// DeletedFinalStateUnknown; an optional per-handler resync re-delivers every cached
// object as onUpdate(obj, obj) so level-driven controllers converge.
import { type Clock, realClock, type Timer } from './clock.js'
import { errorMessage, type Logger, silentLogger } from './logger.js'
import { type ListerWatcher, Reflector, type ReflectorOptions, type ReflectorStore } from './reflector.js'
import { DeletedFinalStateUnknown, Indexer, type Indexers, metaNamespaceKey, NAMESPACE_INDEX, namespaceIndexFunc } from './store.js'
import type { KubeObject } from './types.js'

export interface ResourceEventHandler<T> {
  /** `isInInitialList`: the object was in the informer's first list (or replayed to a late handler). */
  onAdd?(obj: T, isInInitialList: boolean): void
  onUpdate?(oldObj: T, newObj: T): void
  onDelete?(obj: T | DeletedFinalStateUnknown<T>): void
}

export interface HandlerRegistration {
  remove(): void
  /** The handler has been told of every object of the informer's first list. */
  hasSynced(): boolean
}

export interface InformerOptions<T> extends ReflectorOptions {
  /** Default resync period for handlers; 0 (default): never. */
  resyncPeriodMs?: number
  /** Shorter resync periods are raised to this (client-go: 1 s). */
  minResyncPeriodMs?: number
  /** Indexes beside the built-in `namespace` index. */
  indexers?: Indexers<T>
  /** Applied to every object before it is cached (e.g. to drop managedFields). */
  transform?: (obj: T) => T
}

type Notification<T> =
  | { kind: 'add'; obj: T; initial: boolean }
  | { kind: 'update'; old: T; cur: T }
  | { kind: 'delete'; obj: T | DeletedFinalStateUnknown<T> }
  | { kind: 'synced' }

class Listener<T> implements HandlerRegistration {
  private pending: Notification<T>[] = []
  private scheduled = false
  private removed = false
  private synced = false
  resyncTimer: Timer | undefined

  constructor(
    private readonly handler: ResourceEventHandler<T>,
    readonly resyncPeriodMs: number,
    private readonly log: Logger,
    private readonly onRemove: (l: Listener<T>) => void,
  ) {}

  notify(n: Notification<T>): void {
    if (this.removed) return
    this.pending.push(n)
    if (this.scheduled) return
    this.scheduled = true
    queueMicrotask(() => this.flush())
  }

  remove(): void {
    if (this.removed) return
    this.removed = true
    this.pending = []
    this.resyncTimer?.cancel()
    this.onRemove(this)
  }

  hasSynced(): boolean {
    return this.synced
  }

  private flush(): void {
    this.scheduled = false
    const batch = this.pending
    this.pending = []
    for (const n of batch) {
      if (this.removed) return
      try {
        this.deliver(n)
      } catch (err) {
        this.log.error({ err: errorMessage(err), event: n.kind }, 'event handler failed')
      }
    }
  }

  private deliver(n: Notification<T>): void {
    switch (n.kind) {
      case 'add':
        this.handler.onAdd?.(n.obj, n.initial)
        break
      case 'update':
        this.handler.onUpdate?.(n.old, n.cur)
        break
      case 'delete':
        this.handler.onDelete?.(n.obj)
        break
      case 'synced':
        this.synced = true
        break
    }
  }
}

export class SharedIndexInformer<T extends KubeObject = KubeObject> {
  readonly indexer: Indexer<T>
  private readonly reflector: Reflector<T>
  private readonly listeners = new Set<Listener<T>>()
  private readonly syncWaiters = new Set<(synced: boolean) => void>()
  private readonly clock: Clock
  private readonly log: Logger
  private readonly transform: (obj: T) => T
  private synced = false
  private started = false
  private isStopped = false

  constructor(
    lw: ListerWatcher<T>,
    private readonly opts: InformerOptions<T> = {},
  ) {
    this.clock = opts.clock ?? realClock
    this.log = opts.logger ?? silentLogger
    this.transform = opts.transform ?? ((o) => o)
    this.indexer = new Indexer<T>(metaNamespaceKey, { [NAMESPACE_INDEX]: namespaceIndexFunc, ...opts.indexers })
    const sink: ReflectorStore<T> = {
      replace: (items) => this.onReplace(items),
      add: (obj) => this.onUpsert(obj),
      update: (obj) => this.onUpsert(obj),
      delete: (obj) => this.onDelete(obj),
    }
    this.reflector = new Reflector(lw, sink, opts)
  }

  /**
   * Registers a handler. One added after the informer synced first hears of every
   * cached object as an add. `resyncPeriodMs` overrides the informer's default.
   */
  addEventHandler(handler: ResourceEventHandler<T>, resyncPeriodMs?: number): HandlerRegistration {
    let period = resyncPeriodMs ?? this.opts.resyncPeriodMs ?? 0
    if (period > 0) period = Math.max(period, this.opts.minResyncPeriodMs ?? 1000)
    const listener = new Listener<T>(handler, period, this.log, (l) => this.listeners.delete(l))
    if (this.isStopped) {
      this.log.warn({ resource: this.opts.name }, 'handler was not added to the informer because it has stopped already')
      return listener
    }
    this.listeners.add(listener)
    if (this.synced) {
      for (const obj of this.indexer.list()) listener.notify({ kind: 'add', obj, initial: true })
      listener.notify({ kind: 'synced' })
    }
    if (this.started) this.scheduleResync(listener)
    return listener
  }

  /** Adds indexes; objects already cached are indexed at once. */
  addIndexers(indexers: Indexers<T>): void {
    this.indexer.addIndexers(indexers)
  }

  start(): void {
    if (this.started || this.isStopped) return
    this.started = true
    for (const l of this.listeners) this.scheduleResync(l)
    void this.reflector.run()
  }

  stop(): void {
    if (this.isStopped) return
    this.isStopped = true
    this.reflector.stop()
    for (const l of this.listeners) l.resyncTimer?.cancel()
    for (const w of this.syncWaiters) w(false)
    this.syncWaiters.clear()
  }

  get stopped(): boolean {
    return this.isStopped
  }

  /** The first list has been cached (and handed to the handlers' queues). */
  hasSynced(): boolean {
    return this.synced
  }

  /** Resolves true once synced, false if the informer stops or `signal` aborts first. */
  waitForSync(signal?: AbortSignal): Promise<boolean> {
    if (this.synced) return Promise.resolve(true)
    if (this.isStopped || signal?.aborted) return Promise.resolve(false)
    return new Promise((resolve) => {
      const done = (ok: boolean): void => {
        this.syncWaiters.delete(done)
        signal?.removeEventListener('abort', onAbort)
        resolve(ok)
      }
      const onAbort = (): void => done(false)
      this.syncWaiters.add(done)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  lastSyncResourceVersion(): string {
    return this.reflector.lastSyncResourceVersion
  }

  /** Lists, watches and events so far (for tests and metrics). */
  get stats(): Readonly<Reflector<T>['stats']> {
    return this.reflector.stats
  }

  /** A cached object by name (and namespace, for namespaced resources). */
  get(name: string, namespace?: string): T | undefined {
    return this.indexer.getByKey(namespace !== undefined && namespace !== '' ? `${namespace}/${name}` : name)
  }

  /** Cached objects, of one namespace or all. */
  list(namespace?: string): T[] {
    return namespace === undefined ? this.indexer.list() : this.indexer.byIndex(NAMESPACE_INDEX, namespace)
  }

  byIndex(indexName: string, value: string): T[] {
    return this.indexer.byIndex(indexName, value)
  }

  private distribute(n: Notification<T>): void {
    for (const l of this.listeners) l.notify(n)
  }

  private onReplace(items: T[]): void {
    const initial = !this.synced
    const seen = new Set<string>()
    for (const raw of items) {
      const obj = this.transform(raw)
      const key = this.indexer.keyFunc(obj)
      seen.add(key)
      const old = this.indexer.getByKey(key)
      this.indexer.add(obj)
      this.distribute(old === undefined ? { kind: 'add', obj, initial } : { kind: 'update', old, cur: obj })
    }
    for (const key of this.indexer.listKeys()) {
      if (seen.has(key)) continue
      const old = this.indexer.getByKey(key) as T
      this.indexer.deleteKey(key)
      this.distribute({ kind: 'delete', obj: new DeletedFinalStateUnknown(key, old) })
    }
    if (initial) {
      this.synced = true
      this.distribute({ kind: 'synced' })
      for (const w of [...this.syncWaiters]) w(true)
    }
  }

  private onUpsert(raw: T): void {
    const obj = this.transform(raw)
    const old = this.indexer.get(obj)
    this.indexer.add(obj)
    this.distribute(old === undefined ? { kind: 'add', obj, initial: false } : { kind: 'update', old, cur: obj })
  }

  private onDelete(raw: T): void {
    const obj = this.transform(raw)
    const key = this.indexer.keyFunc(obj)
    // A delete for something never cached is news to no one (as DeltaFIFO drops it).
    if (!this.indexer.has(key)) return
    this.indexer.deleteKey(key)
    this.distribute({ kind: 'delete', obj })
  }

  private scheduleResync(l: Listener<T>): void {
    if (l.resyncPeriodMs <= 0 || this.isStopped) return
    l.resyncTimer?.cancel()
    l.resyncTimer = this.clock.setTimeout(() => {
      if (this.isStopped || !this.listeners.has(l)) return
      if (this.synced) for (const obj of this.indexer.list()) l.notify({ kind: 'update', old: obj, cur: obj })
      this.scheduleResync(l)
    }, l.resyncPeriodMs)
  }
}

/** Resolves true once every informer synced; false if any stops or `signal` aborts first. */
export async function waitForCacheSync(informers: Iterable<{ waitForSync(signal?: AbortSignal): Promise<boolean> }>, signal?: AbortSignal): Promise<boolean> {
  const results = await Promise.all([...informers].map((i) => i.waitForSync(signal)))
  return results.every((ok) => ok)
}
