import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { Backend, Batch, Bucket, type BucketId, isMetaKey, META_CONSISTENT_INDEX, META_FINISHED_COMPACT, META_SCHEDULED_COMPACT } from './backend.js'
import { crc32c } from './crc32c.js'
import { toByteString } from './byte-string.js'
import { runCompaction } from './compaction.js'
import { decodeKeyValue, encodeKeyValue, type KeyValue, tombstoneValue } from './key-value.js'
import { CompactedError, FutureRevisionError, StoreClosedError } from './kv-errors.js'
import { hashKV } from './kv-hash.js'
import { restoreIndex } from './restore.js'
import { decodeRevision, encodeRevision, type Revision } from './revision.js'
import { TreeIndex } from './tree-index.js'

// The MVCC key-value store (etcd's server/storage/mvcc kvstore): a TreeIndex in
// memory over a Backend on disk. Writes come only from the raft apply loop, each
// tagged with its raft index; reads may come from anywhere at any time.
//
// Group commit: a write changes the index and the in-memory state at once and joins
// the backend batch of the current event-loop turn; the batch is committed when the
// turn ends (commits chained, so they land in apply order). Until then its values are
// read from memory. So the apply loop never waits for LevelDB per entry, and a whole
// raft Ready's entries cost one backend write. Durability still comes from the raft
// WAL: the consistent index rides in the same batch as the data it covers.
//
// Concurrency: writes and compaction scheduling run one at a time (a promise queue),
// because a write awaits backend reads (prev_kv) between index changes. A write
// changes the index at once but bumps currentRevision only after its batch is
// committed, so concurrent reads, which never look above currentRevision, never see a
// revision whose value is not on disk yet.

/** A key range: `end` empty or absent means `key` alone, one zero byte means every key ≥ key. */
export type WriteOp =
  | { put: { key: Uint8Array; value: Uint8Array; lease?: string; prevKv?: boolean } }
  | { deleteRange: { key: Uint8Array; end?: Uint8Array; prevKv?: boolean } }

export type OpResult = { put: { prevKv?: KeyValue } } | { deleteRange: { deleted: number; prevKvs: KeyValue[] } }

/** A change to one of the other buckets (leases, members, alarms), written with the KVs. */
export type BucketOp = { bucket: BucketId; key: Uint8Array; value: Uint8Array } | { bucket: BucketId; key: Uint8Array; delete: true }

export interface WriteResult {
  /** The raft index was at or below the consistent index: already applied, nothing done. */
  skipped: boolean
  /** The store revision after the write. */
  revision: number
  /** One per op, in order. */
  results: OpResult[]
  /** What the write changed, in sub-revision order, for watchers (tombstones carry the key and mod_revision). */
  changes: KeyValue[]
}

export interface RangeOptions {
  /** Revision to read at; 0 or absent means the current one. */
  rev?: number
  /** At most this many kvs; 0 or absent means no limit. */
  limit?: number
  /** Only count the keys (kvs stays empty). */
  countOnly?: boolean
  /** Leave values empty. */
  keysOnly?: boolean
}

export interface RangeResult {
  kvs: KeyValue[]
  /** Keys in the range at the revision, regardless of the limit. */
  count: number
  /** More keys than the limit let through. */
  more: boolean
  /** The store revision when the read was made (etcd's header revision). */
  revision: number
}

export interface CompactResult {
  skipped: boolean
  /** The store revision when the compaction was scheduled. */
  revision: number
  /** Settles when the backend has been compacted physically (etcd's `physical` wait). */
  done: Promise<void>
}

/** One change read back from history. */
export interface HistoryEvent {
  /** The value written; for a deletion only `key` and `modRevision` are set. */
  kv: KeyValue
  deleted: boolean
  /** The change's sub revision inside its main revision. */
  sub: number
}

export interface HashResult {
  hash: number
  /** The store revision when hashed (etcd's header revision). */
  revision: number
  hashRevision: number
  compactRevision: number
}

const NO_LEASE = '0'
const EMPTY = new Uint8Array(0)
const LEASE_PATTERN = /^-?\d+$/

export class KVStore {
  private currentRev: number
  private compactMainRev: number
  private consistentIdx: number
  private queue: Promise<unknown> = Promise.resolve()
  private compaction: Promise<void> = Promise.resolve()
  /** Writes applied but not yet committed to the backend: one batch per event-loop turn. */
  private group: Batch | undefined
  private groupKeys: string[] = []
  /** The raft index the group brings the backend to: one consistent_index put per commit. */
  private groupIndex = 0
  /** Values of `group` and of batches being committed, by encoded revision (latin1). */
  private readonly unflushed = new Map<string, Uint8Array>()
  /** The last backend commit; commits are chained so they land in apply order. */
  private committing: Promise<void> = Promise.resolve()
  private closing = false
  private failure: Error | undefined

  private constructor(
    private readonly dir: string,
    private readonly backend: Backend,
    private index: TreeIndex,
    currentRev: number,
    compactRev: number,
    consistentIndex: number,
    private leasedKeys: Map<string, string>,
  ) {
    this.currentRev = currentRev
    this.compactMainRev = compactRev
    this.consistentIdx = consistentIndex
  }

  /**
   * Opens (or creates) the store in `dir` and rebuilds the index from it. A compaction
   * that was scheduled but not finished (a crash mid-way) resumes in the background;
   * `idle()` waits for it.
   */
  static async open(dir: string): Promise<KVStore> {
    const backend = await Backend.open(dir)
    try {
      const store = new KVStore(dir, backend, new TreeIndex(), 1, 0, 0, new Map())
      await store.load()
      return store
    } catch (err) {
      await backend.close()
      throw err
    }
  }

  /** (Re)builds everything in memory from the backend. */
  private async load(): Promise<void> {
    const backend = this.backend
    const consistentIndex = (await backend.getMeta(META_CONSISTENT_INDEX)) ?? 0
    const finished = (await backend.getMeta(META_FINISHED_COMPACT)) ?? 0
    const scheduled = (await backend.getMeta(META_SCHEDULED_COMPACT)) ?? 0
    const { index, lastMain, leased } = await restoreIndex(backend)
    this.index = index
    this.leasedKeys = leased
    // An empty store is at revision 1, as etcd; compaction may have removed the
    // newest revisions' predecessors but never the compacted revision's successors.
    this.currentRev = Math.max(1, lastMain, finished, scheduled)
    this.compactMainRev = finished
    this.consistentIdx = consistentIndex
    if (scheduled > finished) this.startCompaction(scheduled)
  }

  /**
   * Live keys (byte-strings) with a lease, as found when the store was opened or
   * restored: the lessor rebuilds its key sets from these (etcd does the same from
   * the KVs' lease fields). Later writes do not update this map.
   */
  get leasedAtOpen(): ReadonlyMap<string, string> {
    return this.leasedKeys
  }

  /** The revision of the last committed change; 1 for an empty store. */
  get currentRevision(): number {
    return this.currentRev
  }

  /** The revision the store was last compacted at; 0 if never. */
  get compactedRevision(): number {
    return this.compactMainRev
  }

  /** The raft index of the last entry applied (persisted with its data). */
  get consistentIndex(): number {
    return this.consistentIdx
  }

  /**
   * Applies the ops of one raft entry at one new main revision, with sub revisions
   * 0, 1, 2… in op order, and records `index` as the consistent index in the same
   * batch. An entry at or below the consistent index was applied before (raft replays
   * after a restart) and is skipped. A write that changes nothing (a deleteRange that
   * matched no key, or no ops at all: use `write(index, [])` to record an entry that
   * does not touch the store) records the index but keeps the revision.
   */
  write(index: number, ops: WriteOp[], buckets: BucketOp[] = []): Promise<WriteResult> {
    return this.serial(() => this.applyWrite(index, ops, buckets))
  }

  /** Every entry of one of the other buckets. */
  async readBucket(bucket: BucketId): Promise<[Uint8Array, Uint8Array][]> {
    this.checkUsable()
    await this.flush()
    return this.backend.readBucket(bucket)
  }

  /**
   * The whole store as one byte string (for raft snapshots and etcd's Snapshot RPC):
   * every backend entry as [u32 key length][key][u32 value length][value]. Taken in
   * the write queue, so it is the state after the last applied entry.
   */
  snapshot(): Promise<Uint8Array> {
    return this.serial(async () => {
      this.checkFailure()
      await this.flush()
      await this.compaction.catch(() => undefined)
      const parts: Uint8Array[] = []
      for await (const chunk of this.backend.entries()) {
        for (const [k, v] of chunk) {
          const head = Buffer.allocUnsafe(4)
          head.writeUInt32BE(k.length)
          const mid = Buffer.allocUnsafe(4)
          mid.writeUInt32BE(v.length)
          parts.push(head, k, mid, v)
        }
      }
      return Buffer.concat(parts)
    })
  }

  /**
   * Replaces the whole store with a snapshot's contents (see snapshot()). With
   * `newCluster` (etcdctl snapshot restore), what belonged to the old cluster's raft
   * log is dropped: the consistent index (the new log starts again at 1), the member
   * table and the alarms. KVs, history and leases are kept.
   */
  restore(data: Uint8Array, opts: { newCluster?: boolean } = {}): Promise<void> {
    return this.serial(async () => {
      // Parsed whole before anything is cleared: a bad snapshot leaves the store as it was.
      let chunks = [...parseSnapshot(data)]
      if (opts.newCluster === true) chunks = chunks.map((c) => c.filter(([k]) => !belongsToOldCluster(k)))
      await this.flush().catch(() => undefined)
      await this.compaction.catch(() => undefined)
      await this.backend.replace(chunks)
      this.failure = undefined
      await this.load()
    })
  }

  /** etcd's Hash: a checksum of every stored entry, KVs and the other buckets. */
  hashAll(): Promise<{ hash: number; revision: number }> {
    return this.serial(async () => {
      this.checkFailure()
      await this.flush()
      await this.compaction.catch(() => undefined)
      let hash = 0
      for await (const chunk of this.backend.entries()) {
        for (const [k, v] of chunk) hash = crc32c(crc32c(hash, k), v)
      }
      return { hash, revision: this.currentRev }
    })
  }

  /** Rewrites the backend without dead space (etcd's Defragment). */
  defragment(): Promise<void> {
    return this.serial(async () => {
      this.checkUsable()
      await this.flush()
      await this.backend.defragment()
    })
  }

  /** Bytes the backend takes on disk (etcd's db size). */
  async dbSize(): Promise<number> {
    let total = 0
    for (const name of await readdir(this.dir)) {
      try {
        total += (await stat(join(this.dir, name))).size
      } catch {
        // A file LevelDB removed between readdir and stat.
      }
    }
    return total
  }

  /**
   * A live key's create revision, mod revision and version at `rev` (0: current), from
   * the index alone: what a put needs to know of its predecessor, without reading a value.
   */
  keyMeta(key: Uint8Array, rev = 0): { createRevision: number; modRevision: number; version: number } | undefined {
    const at = this.index.get(toByteString(key), rev > 0 ? rev : this.currentRev)
    return at === undefined ? undefined : { createRevision: at.created.main, modRevision: at.modified.main, version: at.version }
  }

  /** Reads [key, end) at a revision, as etcd's txn read. */
  async range(key: Uint8Array, end: Uint8Array | undefined, opts: RangeOptions = {}): Promise<RangeResult> {
    this.checkUsable()
    const cur = this.currentRev
    let rev = opts.rev ?? 0
    if (rev > cur) throw new FutureRevisionError()
    if (rev <= 0) rev = cur
    if (rev < this.compactMainRev) throw new CompactedError()
    const k = toByteString(key)
    const e = end === undefined ? '' : toByteString(end)
    if (opts.countOnly === true) {
      return { kvs: [], count: this.index.countRevisions(k, e, rev), more: false, revision: cur }
    }
    const limit = opts.limit ?? 0
    const { entries, total } = this.index.range(k, e, rev, limit)
    const values = await this.getValues(entries.map((en) => encodeRevision(en.modified)))
    const kvs: KeyValue[] = []
    for (const v of values) {
      // Only a compaction that started after the index was read removes a value the
      // index pointed at; etcd's read txn would have answered ErrCompacted too.
      if (v === undefined) throw new CompactedError()
      const kv = decodeKeyValue(v)
      if (opts.keysOnly === true) kv.value = EMPTY
      kvs.push(kv)
    }
    return { kvs, count: total, more: limit > 0 && total > kvs.length, revision: cur }
  }

  /**
   * Compacts at `rev` (the raft entry `index`): from now on reads below rev fail with
   * CompactedError; the backend is pruned in the background (`done`). Throws
   * CompactedError if rev is at or below the compacted revision (so rev ≥ 1), and
   * FutureRevisionError if it is above the current one. Records the scheduled mark
   * and the consistent index in one batch, so a crash before `done` resumes on open.
   */
  compact(rev: number, index: number): Promise<CompactResult> {
    return this.serial(async () => {
      this.checkFailure()
      if (index <= this.consistentIdx) return { skipped: true, revision: this.currentRev, done: this.compaction }
      if (rev <= this.compactMainRev) throw new CompactedError()
      if (rev > this.currentRev) throw new FutureRevisionError()
      // Staged writes land first: compaction must see every revision it may remove.
      await this.flush()
      const batch = new Batch()
      batch.putMeta(META_SCHEDULED_COMPACT, rev)
      batch.putMeta(META_CONSISTENT_INDEX, index)
      await this.commitOrFail(batch)
      this.consistentIdx = index
      return { skipped: false, revision: this.currentRev, done: this.startCompaction(rev) }
    })
  }

  /** etcd's HashKV at `rev` (0: current): equal on members holding the same history. */
  async hashKV(rev = 0): Promise<HashResult> {
    this.checkUsable()
    await this.flush()
    // A compaction still deleting would change what is hashed under us.
    await this.compaction
    const cur = this.currentRev
    const compactRev = this.compactMainRev
    if (rev > 0 && rev < compactRev) throw new CompactedError()
    if (rev > cur) throw new FutureRevisionError()
    if (rev <= 0) rev = cur
    const hash = await hashKV(this.backend, this.index.keep(rev), compactRev, rev)
    return { hash, revision: cur, hashRevision: rev, compactRevision: compactRev }
  }

  /**
   * The changes with main revision in [from, to] (to defaults to the current revision),
   * in revision order, at most `limit` of them (0: no limit): what a watcher catching up
   * from `from` must see. Read from the backend by revision, not through the index, so
   * a catch-up costs what it returns, not the size of the keyspace. Throws
   * CompactedError if `from` is below the compacted revision (those changes may be
   * gone), as etcd's watchable store does for an unsynced watcher; the compacted
   * revision itself is still served, as etcd does.
   */
  async history(from: number, to = this.currentRev, limit = 0): Promise<HistoryEvent[]> {
    this.checkUsable()
    if (from < this.compactMainRev) throw new CompactedError()
    if (to > this.currentRev) to = this.currentRev
    const out: HistoryEvent[] = []
    await this.flush()
    if (from > to) return out
    const after = from > 1 ? encodeRevision({ main: from - 1, sub: Number.MAX_SAFE_INTEGER }, true) : undefined
    const before = encodeRevision({ main: to + 1, sub: 0 })
    for await (const chunk of this.backend.scan({ after, before, chunk: limit > 0 ? Math.min(limit, 1000) : 1000 })) {
      for (const { rev, value } of chunk) {
        const { rev: r, tombstone } = decodeRevision(rev)
        const kv = decodeKeyValue(value)
        if (tombstone) kv.modRevision = r.main
        out.push({ kv, deleted: tombstone, sub: r.sub })
        if (limit > 0 && out.length >= limit) return out
      }
    }
    return out
  }

  /** Settles when no compaction is running (rejects if the last one failed). */
  idle(): Promise<void> {
    return this.compaction
  }

  /** Waits for queued writes, stops a running compaction between slices (it resumes on next open), and closes. */
  async close(): Promise<void> {
    if (this.closing) return
    this.closing = true
    await this.queue
    await this.flush().catch(() => undefined)
    await this.compaction.catch(() => undefined)
    await this.backend.close()
  }

  private async applyWrite(index: number, ops: WriteOp[], buckets: BucketOp[]): Promise<WriteResult> {
    this.checkFailure()
    if (index <= this.consistentIdx) return { skipped: true, revision: this.currentRev, results: [], changes: [] }
    validate(ops)
    const rev = this.currentRev + 1
    const batch = new Batch()
    const changes: KeyValue[] = []
    const results: OpResult[] = []
    // Values written by this txn, by encoded revision (latin1): later ops of the same
    // txn read them for prev_kv, and they are staged for the group commit.
    const pending = new Map<string, Uint8Array>()
    const read = async (r: Revision): Promise<KeyValue> => {
      const encoded = encodeRevision(r)
      const bytes = pending.get(toByteString(encoded)) ?? (await this.getValues([encoded]))[0]
      if (bytes === undefined) throw new Error(`mvcc: value at revision ${r.main}.${r.sub} is missing`)
      return decodeKeyValue(bytes)
    }
    try {
      for (const op of ops) {
        if ('put' in op) {
          const { key, value, lease = NO_LEASE, prevKv } = op.put
          const k = toByteString(key)
          const sub = changes.length
          // Reading at rev sees this txn's earlier changes, as etcd's write txn does.
          const prev = this.index.get(k, rev)
          const kv: KeyValue = {
            key,
            value,
            lease,
            createRevision: prev === undefined ? rev : prev.created.main,
            modRevision: rev,
            version: (prev?.version ?? 0) + 1,
          }
          const result: { prevKv?: KeyValue } = {}
          if (prevKv === true && prev !== undefined) result.prevKv = await read(prev.modified)
          const bytes = encodeKeyValue(kv)
          const encoded = encodeRevision({ main: rev, sub })
          batch.putKV(encoded, bytes)
          pending.set(toByteString(encoded), bytes)
          this.index.put(k, { main: rev, sub })
          changes.push(kv)
          results.push({ put: result })
        } else {
          const { key, end, prevKv } = op.deleteRange
          const k = toByteString(key)
          const e = end === undefined ? '' : toByteString(end)
          const { entries } = this.index.range(k, e, rev, 0, false)
          const prevKvs: KeyValue[] = []
          for (const entry of entries) {
            if (prevKv === true) prevKvs.push(await read(entry.modified))
            const sub = changes.length
            const keyBytes = Buffer.from(entry.key, 'latin1')
            batch.putKV(encodeRevision({ main: rev, sub }, true), encodeKeyValue(tombstoneValue(keyBytes)))
            this.index.tombstone(entry.key, { main: rev, sub })
            changes.push({ ...tombstoneValue(keyBytes), modRevision: rev })
          }
          results.push({ deleteRange: { deleted: entries.length, prevKvs } })
        }
      }
      for (const b of buckets) {
        if ('delete' in b) batch.del(b.bucket, b.key)
        else batch.put(b.bucket, b.key, b.value)
      }
      this.stage(batch, pending, index)
    } catch (err) {
      // The index may already hold part of this txn; it no longer matches the backend.
      this.fail(err)
      throw err
    }
    this.consistentIdx = index
    if (changes.length > 0) this.currentRev = rev
    return { skipped: false, revision: this.currentRev, results, changes }
  }

  private startCompaction(rev: number): Promise<void> {
    this.compactMainRev = rev
    const prev = this.compaction
    const run = (async () => {
      await prev.catch(() => undefined)
      if (this.closing) return
      try {
        await runCompaction(this.index, this.backend, rev, () => this.closing)
      } catch (err) {
        this.fail(err)
        throw err
      }
    })()
    // Marked handled here: a caller need not wait for `done`; failures also poison the store.
    run.catch(() => undefined)
    this.compaction = run
    return run
  }

  /** Joins a write's batch to this turn's group; its values stay readable from memory. */
  private stage(batch: Batch, values: Map<string, Uint8Array>, index: number): void {
    this.groupIndex = index
    if (this.group === undefined) {
      this.group = new Batch()
      setImmediate(() => void this.flush().catch(() => undefined))
    }
    this.group.ops.push(...batch.ops)
    for (const [k, v] of values) {
      this.unflushed.set(k, v)
      this.groupKeys.push(k)
    }
  }

  /** Commits what is staged (after every earlier commit); settles when it is in the backend. */
  flush(): Promise<void> {
    const batch = this.group
    const keys = this.groupKeys
    this.group = undefined
    this.groupKeys = []
    if (batch === undefined) return this.committing
    batch.putMeta(META_CONSISTENT_INDEX, this.groupIndex)
    return this.commitOrFail(batch, keys)
  }

  private commitOrFail(batch: Batch, keys: string[] = []): Promise<void> {
    const run = this.committing.then(async () => {
      try {
        await this.backend.commit(batch)
      } catch (err) {
        this.fail(err)
        throw err
      }
      for (const k of keys) this.unflushed.delete(k)
    })
    this.committing = run.catch(() => undefined)
    return run
  }

  /** Values by encoded revision: staged ones from memory, the rest from the backend. */
  private async getValues(revs: Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    if (this.unflushed.size === 0) return this.backend.getKVs(revs)
    const out: (Uint8Array | undefined)[] = new Array(revs.length)
    const missing: number[] = []
    for (let i = 0; i < revs.length; i++) {
      const v = this.unflushed.get(toByteString(revs[i]!))
      if (v === undefined) missing.push(i)
      else out[i] = v
    }
    if (missing.length > 0) {
      const got = await this.backend.getKVs(missing.map((i) => revs[i]!))
      for (let j = 0; j < missing.length; j++) out[missing[j]!] = got[j]
    }
    return out
  }

  // Refused once close() was called; what was queued before still runs, as close() waits for it.
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closing) return Promise.reject(new StoreClosedError())
    const run = this.queue.then(fn)
    this.queue = run.catch(() => undefined)
    return run
  }

  private fail(err: unknown): void {
    const reason = err instanceof Error ? err.message : String(err)
    this.failure ??= new StoreClosedError(`mvcc: store unusable after a failed backend operation: ${reason}`)
  }

  private checkFailure(): void {
    if (this.failure !== undefined) throw this.failure
  }

  private checkUsable(): void {
    this.checkFailure()
    if (this.closing) throw new StoreClosedError()
  }
}

function belongsToOldCluster(key: Uint8Array): boolean {
  if (key[0] === Bucket.members || key[0] === Bucket.alarm) return true
  return isMetaKey(key, META_CONSISTENT_INDEX)
}

function* parseSnapshot(data: Uint8Array): Generator<[Uint8Array, Uint8Array][]> {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  let at = 0
  let chunk: [Uint8Array, Uint8Array][] = []
  const take = (): Uint8Array => {
    if (at + 4 > buf.length) throw new Error('mvcc: truncated store snapshot')
    const len = buf.readUInt32BE(at)
    if (at + 4 + len > buf.length) throw new Error('mvcc: truncated store snapshot')
    const out = buf.subarray(at + 4, at + 4 + len)
    at += 4 + len
    return out
  }
  while (at < buf.length) {
    const k = take()
    chunk.push([k, take()])
    if (chunk.length === 4096) {
      yield chunk
      chunk = []
    }
  }
  if (chunk.length > 0) yield chunk
}

// Rejected before anything changes, so a bad request cannot leave a half-applied txn.
function validate(ops: WriteOp[]): void {
  for (const op of ops) {
    const key = 'put' in op ? op.put.key : op.deleteRange.key
    if (key.length === 0) throw new Error('mvcc: key is not provided')
    if ('put' in op && op.put.lease !== undefined && !LEASE_PATTERN.test(op.put.lease)) {
      throw new Error(`mvcc: lease ${JSON.stringify(op.put.lease)} is not a decimal int64`)
    }
  }
}
