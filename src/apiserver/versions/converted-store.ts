// A stored resource served in another version: the store and handler dependencies the
// generic REST handler (../http/resource-handler.ts) runs against, converting on the
// way in and out. Storage, defaulting, validation and admission stay the stored
// version's: a write converts the request's object to it first, so the same rules
// apply whichever version a client speaks. Patches apply to the served form of the
// current object, then convert back, as kube-apiserver patches in the request's version.
import type { ResourceType } from '../../api/resources.js'
import type { HandlerDeps, RequestStore } from '../http/resource-handler.js'
import type { DeleteOptions, ListOptions, ListResult, Mutation, ResourceStore, WriteContext } from '../registry/resource-store.js'
import type { KubeObject, WatchCacheApi } from '../watch-cache/types.js'
import { ConvertedObjects, convertedCache, type ToServed } from './converted-cache.js'

export interface Conversion {
  /** The served version's resource (apiVersion, discovery, routing). */
  served: ResourceType
  toServed: ToServed
  /** The stored version's object for a served one; throws an ApiError (400) when it cannot be converted. */
  toStored: (served: KubeObject) => KubeObject
}

export class ConvertedStore implements RequestStore {
  readonly rt: ResourceType
  readonly cache: WatchCacheApi
  readonly objects: ConvertedObjects

  constructor(
    readonly inner: ResourceStore,
    private readonly conversion: Conversion,
  ) {
    this.rt = conversion.served
    this.objects = new ConvertedObjects(conversion.toServed)
    this.cache = convertedCache(inner.cache, this.objects)
  }

  get strategy(): ResourceStore['strategy'] {
    return this.inner.strategy
  }

  scopePrefix(namespace: string): string {
    return this.inner.scopePrefix(namespace)
  }

  private served(o: KubeObject): KubeObject {
    return this.objects.object(o)
  }

  async get(namespace: string, name: string, resourceVersion?: string): Promise<KubeObject> {
    return this.served(await this.inner.get(namespace, name, resourceVersion))
  }

  async list(namespace: string, opts: ListOptions): Promise<ListResult> {
    const r = await this.inner.list(namespace, opts)
    return { ...r, items: r.items.map((o) => this.served(o)) }
  }

  async create(namespace: string, input: KubeObject, ctx: WriteContext): Promise<KubeObject> {
    return this.served(await this.inner.create(namespace, this.conversion.toStored(input), ctx))
  }

  async update(
    namespace: string,
    name: string,
    mutate: Mutation,
    ctx: WriteContext,
    opts?: { subresource?: string; createIfMissing?: boolean; pinned?: boolean },
  ): Promise<{ object: KubeObject; created: boolean }> {
    const r = await this.inner.update(namespace, name, async (current) => this.conversion.toStored(await mutate(current === undefined ? undefined : this.served(current))), ctx, opts)
    return { object: this.served(r.object), created: r.created }
  }

  async delete(namespace: string, name: string, opts: DeleteOptions): Promise<{ object: KubeObject; deleted: boolean }> {
    const r = await this.inner.delete(namespace, name, opts)
    return { object: this.served(r.object), deleted: r.deleted }
  }

  async deleteCollection(namespace: string, list: ListOptions, opts: DeleteOptions): Promise<KubeObject[]> {
    return (await this.inner.deleteCollection(namespace, list, opts)).map((o) => this.served(o))
  }
}

/**
 * The handler dependencies for a converted store: selectors and Table rows are the
 * stored version's (same columns whichever version is asked), a Table's full row
 * objects the served ones; patches use the stored kind's merge keys, which the served
 * form shares for metadata (fields only the served version has merge as plain JSON).
 */
export function convertedDeps(deps: HandlerDeps, store: ConvertedStore, conversion: Conversion): HandlerDeps {
  const stored = store.inner.rt
  const storedForm = (o: KubeObject): KubeObject => store.objects.source(o) ?? conversion.toStored(o)
  return {
    labelMatcher: (selector) => deps.labelMatcher(selector),
    fieldMatcher: (_rt, selector) => deps.fieldMatcher(stored, selector),
    table(_rt, objs, opts) {
      const table = deps.table(stored, objs.map(storedForm), opts)
      if (opts.includeObject === 'Object' && Array.isArray(table.rows)) {
        table.rows.forEach((row: Record<string, unknown>, i) => {
          row.object = objs[i]
        })
      }
      return table
    },
    patch: (type, _rt, current, body) => deps.patch(type, stored, current, body),
    apply: (_rt, live, applied, manager, force, now, subresource) => deps.apply(conversion.served, live, applied, manager, force, now, subresource),
  }
}
