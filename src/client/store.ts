// The informer's local cache (client-go's thread-safe store + indexer): objects by
// key (`namespace/name`, or `name` when cluster-scoped) and, for each named index, a
// map from index value to the keys of the objects that produce it. Index functions
// are pure: an object yields zero or more values (its namespace, a label's value,
// spec.nodeName, …).
import type { KubeObject } from './types.js'

export type KeyFunc<T> = (obj: T) => string
export type IndexFunc<T> = (obj: T) => readonly string[]
export type Indexers<T> = Record<string, IndexFunc<T>>

/** The name of the index every informer has. */
export const NAMESPACE_INDEX = 'namespace'

/**
 * What a delete handler gets when the object vanished while we were not watching
 * (found missing on a relist): its last state as this cache knew it, which may be stale.
 */
export class DeletedFinalStateUnknown<T> {
  constructor(
    readonly key: string,
    readonly obj: T,
  ) {}
}

/** `namespace/name`, or `name` for cluster-scoped objects. */
export function metaNamespaceKey(obj: KubeObject): string {
  const name = obj.metadata?.name
  if (name === undefined || name === '') throw new Error('object has no metadata.name')
  const ns = obj.metadata?.namespace
  return ns !== undefined && ns !== '' ? `${ns}/${name}` : name
}

/** As metaNamespaceKey, and the key a DeletedFinalStateUnknown remembers. */
export function deletionHandlingKey(obj: KubeObject | DeletedFinalStateUnknown<KubeObject>): string {
  return obj instanceof DeletedFinalStateUnknown ? obj.key : metaNamespaceKey(obj)
}

export function splitMetaNamespaceKey(key: string): { namespace: string; name: string } {
  const parts = key.split('/')
  if (parts.length === 1) return { namespace: '', name: parts[0] }
  if (parts.length === 2) return { namespace: parts[0], name: parts[1] }
  throw new Error(`unexpected key format: "${key}"`)
}

export function namespaceIndexFunc(obj: KubeObject): readonly string[] {
  return [obj.metadata?.namespace ?? '']
}

/** Indexes objects by the value of one label (objects without it are not indexed). */
export function labelIndexFunc(label: string): IndexFunc<KubeObject> {
  return (obj) => {
    const v = obj.metadata?.labels?.[label]
    return v === undefined ? [] : [v]
  }
}

/** Indexes objects by a scalar field at a dotted path, e.g. `spec.nodeName` (absent or empty: not indexed). */
export function fieldIndexFunc(path: string): IndexFunc<KubeObject> {
  const steps = path.split('.')
  return (obj) => {
    let v: unknown = obj
    for (const s of steps) {
      if (typeof v !== 'object' || v === null) return []
      v = (v as Record<string, unknown>)[s]
    }
    if (typeof v === 'string') return v === '' ? [] : [v]
    if (typeof v === 'number' || typeof v === 'boolean') return [String(v)]
    return []
  }
}

/** Indexes objects by the uid of their controller (ownerReference with controller: true). */
export function controllerUidIndexFunc(obj: KubeObject): readonly string[] {
  const ref = obj.metadata?.ownerReferences?.find((r) => r.controller === true)
  return ref === undefined ? [] : [ref.uid]
}

export class Indexer<T extends KubeObject = KubeObject> {
  private readonly items = new Map<string, T>()
  private readonly indexers = new Map<string, IndexFunc<T>>()
  private readonly indices = new Map<string, Map<string, Set<string>>>()

  constructor(
    readonly keyFunc: KeyFunc<T> = metaNamespaceKey,
    indexers: Indexers<T> = { [NAMESPACE_INDEX]: namespaceIndexFunc },
  ) {
    this.addIndexers(indexers)
  }

  /** Adds indexes, indexing what the store already holds. A name already present is an error. */
  addIndexers(indexers: Indexers<T>): void {
    for (const [name, fn] of Object.entries(indexers)) {
      if (this.indexers.has(name)) throw new Error(`indexer conflict: ${name}`)
      this.indexers.set(name, fn)
      const index = new Map<string, Set<string>>()
      this.indices.set(name, index)
      for (const [key, obj] of this.items) addToIndex(index, fn(obj), key)
    }
  }

  hasIndexer(name: string): boolean {
    return this.indexers.has(name)
  }

  /** Adds or replaces the object under its key. */
  add(obj: T): void {
    const key = this.keyFunc(obj)
    const old = this.items.get(key)
    this.items.set(key, obj)
    this.reindex(key, old, obj)
  }

  update(obj: T): void {
    this.add(obj)
  }

  delete(obj: T): void {
    this.deleteKey(this.keyFunc(obj))
  }

  deleteKey(key: string): void {
    const old = this.items.get(key)
    if (old === undefined) return
    this.items.delete(key)
    this.reindex(key, old, undefined)
  }

  get(obj: T): T | undefined {
    return this.items.get(this.keyFunc(obj))
  }

  getByKey(key: string): T | undefined {
    return this.items.get(key)
  }

  has(key: string): boolean {
    return this.items.has(key)
  }

  list(): T[] {
    return [...this.items.values()]
  }

  listKeys(): string[] {
    return [...this.items.keys()]
  }

  get size(): number {
    return this.items.size
  }

  /** Makes the store hold exactly `items`. */
  replace(items: readonly T[]): void {
    this.items.clear()
    for (const index of this.indices.values()) index.clear()
    for (const obj of items) this.add(obj)
  }

  /** The objects whose `indexName` values are `value`. */
  byIndex(indexName: string, value: string): T[] {
    return this.indexKeys(indexName, value).map((k) => this.items.get(k) as T)
  }

  /** The keys of the objects whose `indexName` values include `value`. */
  indexKeys(indexName: string, value: string): string[] {
    const set = this.index(indexName).get(value)
    return set === undefined ? [] : [...set]
  }

  /** The objects that share at least one `indexName` value with `obj`. */
  byIndexOf(indexName: string, obj: T): T[] {
    const fn = this.indexers.get(indexName)
    if (fn === undefined) throw new Error(`Index with name ${indexName} does not exist`)
    const keys = new Set<string>()
    for (const v of fn(obj)) for (const k of this.indexKeys(indexName, v)) keys.add(k)
    return [...keys].map((k) => this.items.get(k) as T)
  }

  /** Every value the index holds objects under. */
  listIndexFuncValues(indexName: string): string[] {
    return [...this.index(indexName).keys()]
  }

  private index(name: string): Map<string, Set<string>> {
    const index = this.indices.get(name)
    if (index === undefined) throw new Error(`Index with name ${name} does not exist`)
    return index
  }

  private reindex(key: string, old: T | undefined, cur: T | undefined): void {
    for (const [name, fn] of this.indexers) {
      const index = this.indices.get(name) as Map<string, Set<string>>
      const before = old === undefined ? [] : fn(old)
      const after = cur === undefined ? [] : fn(cur)
      // The common case, an update that keeps its one value, touches nothing.
      if (before.length === 1 && after.length === 1 && before[0] === after[0]) continue
      removeFromIndex(index, before, key)
      addToIndex(index, after, key)
    }
  }
}

function addToIndex(index: Map<string, Set<string>>, values: readonly string[], key: string): void {
  for (const v of values) {
    let set = index.get(v)
    if (set === undefined) index.set(v, (set = new Set()))
    set.add(key)
  }
}

function removeFromIndex(index: Map<string, Set<string>>, values: readonly string[], key: string): void {
  for (const v of values) {
    const set = index.get(v)
    if (set === undefined) continue
    set.delete(key)
    if (set.size === 0) index.delete(v)
  }
}
