// Keeps a store in step with the server, as client-go's Reflector: list, then watch
// from the list's resourceVersion; when a watch ends, watch again from the last
// resourceVersion seen (bookmarks included); when the server no longer has that
// version (410), or the watch fails otherwise, list again. Lists start from the
// apiserver's cache ("0"); a relist asks for at least the last version seen, and
// for the freshest state ("") when that version is gone.
import { Backoff, type BackoffOptions } from './backoff.js'
import { type Clock, realClock, sleep } from './clock.js'
import {
  ApiError,
  isConnectionError,
  isInternalError,
  isResourceExpired,
  isServiceUnavailable,
  isTooLargeResourceVersion,
  isTooManyRequests,
} from './errors.js'
import { errorMessage, type Logger, silentLogger } from './logger.js'
import type { ListOptions, ResourceClient, WatchOptions } from './resource.js'
import type { KubeList, KubeObject, WatchEvent } from './types.js'

export interface WatchLike<T extends KubeObject> extends AsyncIterable<WatchEvent<T>> {
  stop(): void
}

/** One page of a list, and a watch: what a reflector needs of the server. */
export interface ListerWatcher<T extends KubeObject> {
  list(opts: ListOptions): Promise<KubeList<T>>
  watch(opts: WatchOptions): Promise<WatchLike<T>>
}

/** A ListerWatcher for a resource client, narrowed by selectors. */
export function listerWatcherFor<T extends KubeObject>(
  client: ResourceClient<T>,
  selectors: { labelSelector?: string; fieldSelector?: string } = {},
): ListerWatcher<T> {
  return {
    list: (opts) => client.list({ ...opts, ...selectors }),
    watch: (opts) => client.watch({ ...opts, ...selectors }),
  }
}

/** Where a reflector writes what it learns. */
export interface ReflectorStore<T> {
  /** The complete state at `resourceVersion` (after a list). */
  replace(items: T[], resourceVersion: string): void
  add(obj: T): void
  update(obj: T): void
  delete(obj: T): void
}

export interface ReflectorOptions {
  /** For logs: which resource this is. */
  name?: string
  /** Page size for lists that are not served from the watch cache. */
  pageSize?: number
  /** The resourceVersion of the first list: "0" (any, from the cache) or "" (most recent). */
  initialResourceVersion?: '0' | ''
  /** Each watch asks the server to end it after a random time between this and twice this. */
  minWatchTimeoutSeconds?: number
  backoff?: BackoffOptions
  clock?: Clock
  logger?: Logger
}

/** A watch that ends this soon having delivered nothing is treated as a failure. */
const SHORT_WATCH_MS = 1000

type WatchOutcome = 'rewatch' | 'relist'

export class Reflector<T extends KubeObject> {
  private lastSyncRV = ''
  private rvUnavailable = false
  private readonly abort = new AbortController()
  private currentWatch: WatchLike<T> | undefined
  private readonly backoff: Backoff
  private readonly clock: Clock
  private readonly log: Logger
  private readonly name: string
  /** Counters for tests and metrics. */
  readonly stats = { lists: 0, watches: 0, events: 0 }

  constructor(
    private readonly lw: ListerWatcher<T>,
    private readonly store: ReflectorStore<T>,
    private readonly opts: ReflectorOptions = {},
  ) {
    this.clock = opts.clock ?? realClock
    this.log = opts.logger ?? silentLogger
    this.name = opts.name ?? 'reflector'
    this.backoff = new Backoff(this.clock, opts.backoff)
  }

  /** The resourceVersion of the newest list, event or bookmark applied. */
  get lastSyncResourceVersion(): string {
    return this.lastSyncRV
  }

  get stopped(): boolean {
    return this.abort.signal.aborted
  }

  /** Lists and watches until stop(); never rejects. */
  async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.listAndWatch()
      } catch (err) {
        if (this.stopped) break
        this.log.warn({ resource: this.name, err: errorMessage(err) }, 'list and watch failed')
      }
      if (this.stopped) break
      if (!(await sleep(this.clock, this.backoff.next(), this.abort.signal))) break
    }
  }

  stop(): void {
    this.abort.abort()
    this.currentWatch?.stop()
  }

  private async listAndWatch(): Promise<void> {
    await this.list()
    for (;;) {
      if (this.stopped) return
      const outcome = await this.watchOnce()
      if (outcome === 'relist') return
    }
  }

  private relistResourceVersion(): string {
    if (this.rvUnavailable) return ''
    if (this.lastSyncRV === '') return this.opts.initialResourceVersion ?? '0'
    return this.lastSyncRV
  }

  private async list(): Promise<void> {
    let list: KubeList<T>
    try {
      list = await this.listPages(this.relistResourceVersion())
    } catch (err) {
      if (!isResourceExpired(err) && !isTooLargeResourceVersion(err)) throw err
      // The version we hoped to list at is gone (or not reached yet): take the newest.
      this.rvUnavailable = true
      list = await this.listPages('')
    }
    this.rvUnavailable = false
    if (this.stopped) return
    const rv = list.metadata.resourceVersion ?? ''
    this.store.replace(list.items, rv)
    this.lastSyncRV = rv
  }

  private async listPages(rv: string): Promise<KubeList<T>> {
    this.stats.lists++
    // An exact version is served whole from the watch cache; paging would bypass it.
    const paged = rv === '' || rv === '0'
    const limit = paged ? (this.opts.pageSize ?? 500) : undefined
    const signal = this.abort.signal
    const first = await this.lw.list({ resourceVersion: rv === '' ? undefined : rv, limit, signal })
    const items = first.items
    let token = first.metadata.continue
    while (token !== undefined && token !== '') {
      let page: KubeList<T>
      try {
        page = await this.lw.list({ limit, continue: token, signal })
      } catch (err) {
        if (!isResourceExpired(err)) throw err
        // The snapshot behind the continue token was compacted: one list, unpaged.
        return this.lw.list({ resourceVersion: rv === '' ? undefined : rv, signal })
      }
      for (const item of page.items) items.push(item)
      token = page.metadata.continue
    }
    return first
  }

  private async watchOnce(): Promise<WatchOutcome> {
    const min = this.opts.minWatchTimeoutSeconds ?? 300
    const timeoutSeconds = Math.floor(min * (1 + Math.random()))
    const started = this.clock.now()
    let w: WatchLike<T>
    try {
      this.stats.watches++
      w = await this.lw.watch({ resourceVersion: this.lastSyncRV, allowWatchBookmarks: true, timeoutSeconds, signal: this.abort.signal })
    } catch (err) {
      if (this.stopped) return 'relist'
      if (isConnectionError(err) || isTooManyRequests(err) || isServiceUnavailable(err)) {
        this.log.debug({ resource: this.name, err: errorMessage(err) }, 'watch could not start; backing off')
        await sleep(this.clock, this.backoff.next(), this.abort.signal)
        return 'rewatch'
      }
      throw err
    }
    if (this.stopped) {
      w.stop()
      return 'relist'
    }
    this.currentWatch = w
    let count = 0
    try {
      for await (const ev of w) {
        if (ev.type === 'ERROR') throw new ApiError(ev.object)
        this.apply(ev)
        count++
      }
    } catch (err) {
      if (this.stopped) return 'relist'
      if (isResourceExpired(err)) {
        this.log.info({ resource: this.name, err: errorMessage(err) }, 'watch closed: resourceVersion too old; relisting')
        return 'relist'
      }
      if (isTooManyRequests(err)) {
        await sleep(this.clock, this.backoff.next(), this.abort.signal)
        return 'rewatch'
      }
      if (!isConnectionError(err) && !isInternalError(err)) throw err
      this.log.debug({ resource: this.name, err: errorMessage(err) }, 'watch broke; watching again')
    } finally {
      w.stop()
      this.currentWatch = undefined
    }
    if (count === 0 && this.clock.now() - started < SHORT_WATCH_MS && !this.stopped) {
      throw new Error(`very short watch: ${this.name}: unexpected watch close - watch lasted less than a second and no items received`)
    }
    return 'rewatch'
  }

  private apply(ev: Exclude<WatchEvent<T>, { type: 'ERROR' }>): void {
    this.stats.events++
    switch (ev.type) {
      case 'ADDED':
        this.store.add(ev.object)
        break
      case 'MODIFIED':
        this.store.update(ev.object)
        break
      case 'DELETED':
        this.store.delete(ev.object)
        break
      case 'BOOKMARK':
        break
    }
    const rv = ev.object.metadata?.resourceVersion
    if (rv !== undefined && rv !== '') this.lastSyncRV = rv
  }
}
