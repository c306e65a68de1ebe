// One watch of LocalStorage: every change under a prefix after a revision, read from
// the local member's apply loop (EtcdServer.subscribeChanges) and, for what happened
// before, from the store's history.
//
// Everything the watch does runs as tasks on one promise chain, in the order the
// apply loop announced it: the catch-up from history first, then each applied
// revision that touches the prefix. So events come out in revision order even though
// reading history and prev values is asynchronous, and `nextRev` (the first revision
// not yet delivered) makes the switch from history to live exact: the catch-up reads
// up to the revision the store had when the subscription began, and a live revision
// at or below what was delivered is dropped.
import type { KeyValue } from '../../kv/mvcc/key-value.js'
import { CompactedError } from '../../kv/mvcc/kv-errors.js'
import type { KVStore } from '../../kv/mvcc/kv-store.js'
import type { ChangeSubscriber } from '../../kv/server/state-machine.js'
import { IdleProgress } from './idle-progress.js'
import type { StoredKV, WatchCallbacks, WatchEvent, WatchHandle } from './interface.js'
import { StorageError } from './interface.js'
import { hasPrefix } from './keys.js'
import { localError, storedKV } from './local-convert.js'

/** Changes read from history per step. */
const HISTORY_CHUNK = 1000

export interface LocalWatchDeps {
  store: KVStore
  subscribe(sub: ChangeSubscriber): () => void
  /** The key's value just before `kv` changed it (undefined: none, or compacted away). */
  prevOf(kv: KeyValue, deleted: boolean): Promise<StoredKV | undefined>
  progressIntervalMs: number
  /** Read prev values (see WatchOptions.prevValues). */
  prevValues: boolean
  /** The watch ended (canceled or closed): the storage forgets it. */
  onDone(w: LocalWatch): void
}

export class LocalWatch implements WatchHandle {
  private readonly prefix: Uint8Array
  private nextRev: number
  /** The newest revision the apply loop announced (the store's, as far as this watch knows). */
  private seenRev: number
  private tail: Promise<void> = Promise.resolve()
  private queued = 0
  private done = false
  private readonly unsubscribe: () => void
  private readonly progress: IdleProgress

  constructor(
    prefix: Uint8Array,
    afterRevision: number,
    private readonly cb: WatchCallbacks,
    private readonly deps: LocalWatchDeps,
  ) {
    this.prefix = prefix
    this.nextRev = Math.max(1, afterRevision + 1)
    // Subscribing and reading the revision in one turn: every revision after seenRev
    // will be announced to us, every one up to it is in history.
    this.unsubscribe = deps.subscribe({
      notify: (revision, changes) => this.onApplied(revision, changes),
      restored: () => this.onRestored(),
      ended: () => this.enqueue(async () => this.close('error', new StorageError('Unavailable', 'etcdserver: server stopped'))),
    })
    this.seenRev = deps.store.currentRevision
    if (this.nextRev <= this.seenRev) {
      const to = this.seenRev
      this.enqueue(() => this.catchUp(to))
    }
    this.progress = new IdleProgress(deps.progressIntervalMs, () => this.queued === 0, () => this.requestProgress())
  }

  requestProgress(): void {
    if (this.done) return
    // Every revision up to seenRev was queued before this task, so it runs after them.
    const rev = this.seenRev
    this.enqueue(async () => {
      if (!this.done && rev >= this.nextRev - 1) this.cb.onProgress(rev)
    })
  }

  cancel(): void {
    if (this.done) return
    this.done = true
    this.cleanup()
  }

  // ------------------------------------------------------------ from the apply loop

  private onApplied(revision: number, changes: readonly KeyValue[]): void {
    if (revision > this.seenRev) this.seenRev = revision
    let mine: KeyValue[] | undefined
    for (const kv of changes) if (hasPrefix(kv.key, this.prefix)) (mine ??= []).push(kv)
    if (mine !== undefined) {
      const kvs = mine
      this.enqueue(() => this.deliverLive(revision, kvs))
    }
  }

  /** The store was replaced by a raft snapshot: what it skipped was never announced. */
  private onRestored(): void {
    const to = this.deps.store.currentRevision
    if (to > this.seenRev) this.seenRev = to
    this.enqueue(() => this.catchUp(to))
  }

  // ------------------------------------------------------------ tasks

  private enqueue(task: () => Promise<void>): void {
    this.queued++
    this.tail = this.tail
      .then(() => (this.done ? undefined : task()))
      .catch((err: unknown) => this.fail(err))
      .finally(() => this.queued--)
  }

  private async deliverLive(revision: number, kvs: KeyValue[]): Promise<void> {
    if (revision < this.nextRev) return // delivered by the catch-up already
    const events = await Promise.all(kvs.map((kv) => this.event(kv, kv.version === 0)))
    this.emit(events, revision)
  }

  /** Delivers every change under the prefix in [nextRev, to] from history, whole revisions at a time. */
  private async catchUp(to: number): Promise<void> {
    const store = this.deps.store
    while (!this.done && this.nextRev <= to) {
      let read = await store.history(this.nextRev, to, HISTORY_CHUNK)
      let upTo = to
      if (read.length >= HISTORY_CHUNK) {
        // A full chunk may end inside a revision: keep whole revisions, or read a
        // revision that fills the chunk on its own in one go.
        const last = read[read.length - 1]!.kv.modRevision
        if (read[0]!.kv.modRevision === last) {
          read = await store.history(last, last)
          upTo = last
        } else {
          while (read[read.length - 1]!.kv.modRevision === last) read.pop()
          upTo = last - 1
        }
      }
      for (let i = 0; i < read.length && !this.done; ) {
        const rev = read[i]!.kv.modRevision
        const mine: Promise<WatchEvent>[] = []
        for (; i < read.length && read[i]!.kv.modRevision === rev; i++) {
          const h = read[i]!
          if (hasPrefix(h.kv.key, this.prefix)) mine.push(this.event(h.kv, h.deleted))
        }
        if (mine.length > 0) this.emit(await Promise.all(mine), rev)
      }
      if (upTo + 1 > this.nextRev) this.nextRev = upTo + 1
    }
  }

  private async event(kv: KeyValue, deleted: boolean): Promise<WatchEvent> {
    const prev = this.deps.prevValues ? await this.deps.prevOf(kv, deleted) : undefined
    return { type: deleted ? 'DELETE' : 'PUT', kv: storedKV(kv), prev }
  }

  private emit(events: WatchEvent[], revision: number): void {
    if (this.done || revision < this.nextRev) return
    this.nextRev = revision + 1
    this.progress.busy()
    this.cb.onEvents(events, revision)
  }

  // ------------------------------------------------------------ ending

  private fail(err: unknown): void {
    if (this.done) return
    if (err instanceof CompactedError || (err instanceof StorageError && err.code === 'Compacted')) this.close('compacted')
    else this.close('error', localError(err))
  }

  private close(reason: 'compacted' | 'error', err?: Error): void {
    if (this.done) return
    this.done = true
    this.cleanup()
    this.cb.onClose(reason, err)
  }

  private cleanup(): void {
    this.unsubscribe()
    this.progress.stop()
    this.deps.onDone(this)
  }
}
