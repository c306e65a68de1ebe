// The Services and EndpointSlices this node knows, fed by the node API's two watches
// (NodeApiClient.watchServices / watchEndpointSlices), with the slices indexed by
// the Service they belong to. kube-proxy and cluster DNS both read it. A RESYNC
// replaces one kind wholesale (objects missing from it are gone); each change calls
// the listeners with the Services it touched, so a consumer can count changes and
// sync once for a burst.
import type { KubeObject } from '../client/index.js'
import type { NodeWatchEvent } from '../client/node-grpc.js'
import { sliceServiceKey } from './endpoints.js'
import { serviceKey } from './service-ports.js'

export type ChangeKind = 'services' | 'endpoints'

export type ChangeListener = (kind: ChangeKind, serviceKeys: ReadonlySet<string>) => void

function objectKey(o: KubeObject): string {
  return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`
}

export class ServiceStore {
  private readonly services = new Map<string, KubeObject>()
  private readonly slices = new Map<string, KubeObject>()
  private readonly slicesByService = new Map<string, Map<string, KubeObject>>()
  /** Services per namespace, for DNS's "does this namespace exist". */
  private readonly namespaceCounts = new Map<string, number>()
  private readonly listeners = new Set<ChangeListener>()
  private servicesSynced = false
  private slicesSynced = false

  /** Both kinds have had their first complete list. */
  get synced(): boolean {
    return this.servicesSynced && this.slicesSynced
  }

  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  service(namespace: string, name: string): KubeObject | undefined {
    return this.services.get(serviceKey(namespace, name))
  }

  allServices(): IterableIterator<KubeObject> {
    return this.services.values()
  }

  hasNamespace(namespace: string): boolean {
    return (this.namespaceCounts.get(namespace) ?? 0) > 0
  }

  /** The EndpointSlices of Service "namespace/name". */
  slicesOf(key: string): Iterable<KubeObject> {
    return this.slicesByService.get(key)?.values() ?? []
  }

  applyServiceEvent(ev: NodeWatchEvent): void {
    if (ev.type === 'BOOKMARK') return
    const touched = new Set<string>()
    if (ev.type === 'RESYNC') {
      const next = new Map(ev.items.map((o) => [objectKey(o), o]))
      for (const key of this.services.keys()) if (!next.has(key)) touched.add(key)
      for (const [key, o] of next) if (this.services.get(key)?.metadata?.resourceVersion !== o.metadata?.resourceVersion) touched.add(key)
      for (const key of [...this.services.keys()]) this.removeService(key)
      for (const [key, o] of next) this.putService(key, o)
      this.servicesSynced = true
    } else {
      const key = objectKey(ev.object)
      touched.add(key)
      if (ev.type === 'DELETED') this.removeService(key)
      else this.putService(key, ev.object)
    }
    this.emit('services', touched)
  }

  applySliceEvent(ev: NodeWatchEvent): void {
    if (ev.type === 'BOOKMARK') return
    const touched = new Set<string>()
    if (ev.type === 'RESYNC') {
      const next = new Map(ev.items.map((o) => [objectKey(o), o]))
      for (const [key, old] of this.slices) {
        const now = next.get(key)
        if (now === undefined || now.metadata?.resourceVersion !== old.metadata?.resourceVersion) addOwner(touched, old)
      }
      for (const [key, o] of next) if (this.slices.get(key)?.metadata?.resourceVersion !== o.metadata?.resourceVersion) addOwner(touched, o)
      for (const key of [...this.slices.keys()]) this.removeSlice(key)
      for (const [key, o] of next) this.putSlice(key, o)
      this.slicesSynced = true
    } else {
      const key = objectKey(ev.object)
      const old = this.slices.get(key)
      if (old !== undefined) addOwner(touched, old)
      addOwner(touched, ev.object)
      if (ev.type === 'DELETED') this.removeSlice(key)
      else this.putSlice(key, ev.object)
    }
    this.emit('endpoints', touched)
  }

  private emit(kind: ChangeKind, touched: ReadonlySet<string>): void {
    for (const l of this.listeners) l(kind, touched)
  }

  private putService(key: string, o: KubeObject): void {
    if (!this.services.has(key)) {
      const ns = o.metadata?.namespace ?? ''
      this.namespaceCounts.set(ns, (this.namespaceCounts.get(ns) ?? 0) + 1)
    }
    this.services.set(key, o)
  }

  private removeService(key: string): void {
    const o = this.services.get(key)
    if (o === undefined) return
    this.services.delete(key)
    const ns = o.metadata?.namespace ?? ''
    const n = (this.namespaceCounts.get(ns) ?? 1) - 1
    if (n > 0) this.namespaceCounts.set(ns, n)
    else this.namespaceCounts.delete(ns)
  }

  private putSlice(key: string, o: KubeObject): void {
    this.removeSlice(key)
    this.slices.set(key, o)
    const svc = sliceServiceKey(o)
    if (svc === undefined) return
    let m = this.slicesByService.get(svc)
    if (m === undefined) this.slicesByService.set(svc, (m = new Map()))
    m.set(key, o)
  }

  private removeSlice(key: string): void {
    const o = this.slices.get(key)
    if (o === undefined) return
    this.slices.delete(key)
    const svc = sliceServiceKey(o)
    if (svc === undefined) return
    const m = this.slicesByService.get(svc)
    m?.delete(key)
    if (m?.size === 0) this.slicesByService.delete(svc)
  }
}

function addOwner(touched: Set<string>, slice: KubeObject): void {
  const svc = sliceServiceKey(slice)
  if (svc !== undefined) touched.add(svc)
}
