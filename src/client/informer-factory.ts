// One informer per resource (and namespace and selectors) for a whole process:
// the scheduler, every controller and their listers share one list+watch and one
// cache instead of each opening their own.
import { apiVersionOf, type ResourceType } from '../api/resources.js'
import { type InformerOptions, SharedIndexInformer, waitForCacheSync } from './informer.js'
import { listerWatcherFor } from './reflector.js'
import type { RestClient } from './rest.js'
import type { Indexers } from './store.js'
import type { KubeObject } from './types.js'

export interface InformerRequest<T> {
  /** Overrides the factory's namespace ('' or undefined: all). */
  namespace?: string
  labelSelector?: string
  fieldSelector?: string
  /** Indexes the caller needs; names already present are kept (an index name stands for one function). */
  indexers?: Indexers<T>
  /** Only used by the request that creates the informer. */
  transform?: (obj: T) => T
}

export interface InformerFactoryOptions {
  /** Default resync for handlers of every informer; 0: never. */
  defaultResyncMs?: number
  /** Restrict every informer to one namespace. */
  namespace?: string
  /** Reflector and informer settings shared by every informer (backoff, clock, logger, …). */
  informerOptions?: Omit<InformerOptions<KubeObject>, 'indexers' | 'transform' | 'name' | 'resyncPeriodMs'>
}

export class SharedInformerFactory {
  private readonly informers = new Map<string, SharedIndexInformer<KubeObject>>()
  private started = false
  private isShutDown = false

  constructor(
    private readonly client: RestClient,
    private readonly opts: InformerFactoryOptions = {},
  ) {}

  /**
   * The shared informer for this resource and request; created on first use. After
   * start(), informers asked for later are started at once.
   */
  forResource<T extends KubeObject = KubeObject>(type: ResourceType, req: InformerRequest<T> = {}): SharedIndexInformer<T> {
    if (this.isShutDown) throw new Error('the informer factory has been shut down')
    const namespace = type.namespaced ? (req.namespace ?? this.opts.namespace ?? '') : ''
    const key = [apiVersionOf(type), type.plural, namespace, req.labelSelector ?? '', req.fieldSelector ?? ''].join('|')
    let informer = this.informers.get(key) as SharedIndexInformer<T> | undefined
    if (informer === undefined) {
      const client = this.client.resource<T>(type, namespace === '' ? undefined : namespace)
      const lw = listerWatcherFor(client, { labelSelector: req.labelSelector, fieldSelector: req.fieldSelector })
      informer = new SharedIndexInformer<T>(lw, {
        ...(this.opts.informerOptions as InformerOptions<T> | undefined),
        name: `${apiVersionOf(type)}/${type.plural}${namespace === '' ? '' : `@${namespace}`}`,
        resyncPeriodMs: this.opts.defaultResyncMs ?? 0,
        indexers: req.indexers,
        transform: req.transform,
      })
      this.informers.set(key, informer as unknown as SharedIndexInformer<KubeObject>)
      if (this.started) informer.start()
      return informer
    }
    const missing = Object.entries(req.indexers ?? {}).filter(([name]) => !informer.indexer.hasIndexer(name))
    if (missing.length > 0) informer.addIndexers(Object.fromEntries(missing))
    return informer
  }

  /** Starts every informer asked for so far, and every one asked for later. */
  start(): void {
    if (this.isShutDown) return
    this.started = true
    for (const i of this.informers.values()) i.start()
  }

  /** Resolves true once every informer asked for so far has synced. */
  waitForCacheSync(signal?: AbortSignal): Promise<boolean> {
    return waitForCacheSync(this.informers.values(), signal)
  }

  /** Stops every informer; the factory can no longer be used. */
  shutdown(): void {
    this.isShutDown = true
    for (const i of this.informers.values()) i.stop()
  }
}
