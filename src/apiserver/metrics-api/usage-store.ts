// Where the node usage reports live on every master: written to the replicated store
// (one key per node, with a TTL: ./record.ts) and read from an in-memory watch cache
// of that prefix, so a `kubectl top` or an HPA sync costs no store read and sees
// reports written through any master.
//
// One write per report: the key's revision is taken from the cache (no read first);
// only a cache that is behind (the report came through another master last time)
// costs a refused write and one retry with the revision the refusal names.
import type { Logger } from 'pino'
import { decodeObject } from '../registry/codec.js'
import { type Storage, type WriteResult, StorageError } from '../storage/interface.js'
import { WatchCache } from '../watch-cache/watch-cache.js'
import { asUsageRecord, isFresh, USAGE_PREFIX, type UsageRecord, usageKey, usageTtlSeconds } from './record.js'

export interface ResourceUsageStoreOptions {
  logger?: Logger
  /** The master's clock, for staleness (tests). */
  now?: () => number
}

const WRITE_ATTEMPTS = 4

export class ResourceUsageStore {
  private readonly cache: WatchCache
  private readonly now: () => number

  constructor(
    private readonly storage: Storage,
    o: ResourceUsageStoreOptions = {},
  ) {
    this.now = o.now ?? Date.now
    this.cache = new WatchCache(storage, USAGE_PREFIX, {
      // The cache sets resourceVersion from the mod revision itself.
      decode: (bytes) => decodeObject(bytes, 0),
      // Nobody watches this cache: a small event window is enough.
      capacity: 100,
      ...(o.logger === undefined ? {} : { logger: o.logger }),
    })
  }

  ready(): Promise<void> {
    return this.cache.ready()
  }

  /** Replaces the node's report (its `receivedMs` is set to now). */
  async write(record: Omit<UsageRecord, 'receivedMs'>): Promise<void> {
    const key = usageKey(record.metadata.name)
    const value = Buffer.from(JSON.stringify({ ...record, receivedMs: this.now() }))
    const opts = { ttlSeconds: usageTtlSeconds(record.intervalMs) }
    let expected = this.cache.get(key)?.modRevision
    for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
      const res: WriteResult = expected === undefined ? await this.storage.create(key, value, opts) : await this.storage.update(key, value, expected, opts)
      if (res.ok) return
      expected = res.current?.modRevision
    }
    // Only reports of the same node racing each other get here; the next one will do.
    throw new StorageError('Unavailable', `resource usage of node ${record.metadata.name}: concurrent reports, try again`)
  }

  /** The fresh reports, by node name. */
  async records(): Promise<Map<string, UsageRecord>> {
    await this.cache.ready()
    const now = this.now()
    const out = new Map<string, UsageRecord>()
    for (const item of this.cache.list().items) {
      const r = asUsageRecord(item.object)
      if (r !== undefined && isFresh(r, now)) out.set(r.metadata.name, r)
    }
    return out
  }

  /** The node's fresh report, if any. */
  async record(nodeName: string): Promise<UsageRecord | undefined> {
    await this.cache.ready()
    const hit = this.cache.get(usageKey(nodeName))
    const r = hit === undefined ? undefined : asUsageRecord(hit.object)
    return r !== undefined && isFresh(r, this.now()) ? r : undefined
  }

  stop(): void {
    this.cache.stop()
  }
}
