// The LimitRanges or ResourceQuotas of a namespace, as admission reads them: from the
// watch cache, and when the cache has none, from a read that first lets the cache
// catch up with the store (a policy created a moment ago, maybe through another
// master). Like Kubernetes' live lookup, that answer is kept for a while per namespace
// so namespaces without policies do not pay a store round trip on every write.
import type { ResourceStore } from '../registry/resource-store.js'
import type { KubeObject } from '../watch-cache/types.js'

/** The store of one resource (looked up late: the API server is built after admission). */
export type StoreRef = () => ResourceStore

const MAX_ENTRIES = 10_000

export class NamespaceObjects {
  private readonly live = new Map<string, { expiry: number; items: KubeObject[] }>()
  private readonly inflight = new Map<string, Promise<KubeObject[]>>()

  constructor(
    private readonly store: StoreRef,
    private readonly liveTtlMs = 30_000,
  ) {}

  /** The namespace's objects; frozen cache objects, never to be mutated. */
  async list(namespace: string): Promise<readonly KubeObject[]> {
    const s = this.store()
    const cached = s.cache.list({ keyPrefix: s.scopePrefix(namespace) }).items
    if (cached.length > 0) return cached.map((c) => c.object)
    const hit = this.live.get(namespace)
    if (hit !== undefined && hit.expiry > Date.now()) return hit.items
    let pending = this.inflight.get(namespace)
    if (pending === undefined) {
      pending = this.lookup(s, namespace).finally(() => this.inflight.delete(namespace))
      this.inflight.set(namespace, pending)
    }
    return pending
  }

  private async lookup(s: ResourceStore, namespace: string): Promise<KubeObject[]> {
    const items = (await s.list(namespace, {})).items
    if (this.live.size >= MAX_ENTRIES) this.live.delete(this.live.keys().next().value!)
    this.live.delete(namespace)
    this.live.set(namespace, { expiry: Date.now() + this.liveTtlMs, items })
    return items
  }
}
