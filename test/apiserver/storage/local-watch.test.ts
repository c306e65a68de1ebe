// LocalWatch against a scripted store and apply loop: the orderings a real member
// produces only by chance — a revision both in history and announced live, a
// snapshot restore that skips revisions, a catch-up longer than one history chunk,
// the member stopping.
import t from 'tap'
import { StorageError, type StoredKV } from '../../../src/apiserver/storage/interface.js'
import { keyBytes } from '../../../src/apiserver/storage/keys.js'
import { LocalWatch } from '../../../src/apiserver/storage/local-watch.js'
import type { KeyValue } from '../../../src/kv/mvcc/key-value.js'
import { CompactedError } from '../../../src/kv/mvcc/kv-errors.js'
import type { HistoryEvent, KVStore } from '../../../src/kv/mvcc/kv-store.js'
import type { ChangeSubscriber } from '../../../src/kv/server/state-machine.js'
import { Recorder } from './recorder.js'

const P = '/registry/w/'

/** A store whose history is a list of changes, and an apply loop the test drives. */
class Script {
  currentRevision = 1
  compactedRevision = 0
  readonly log: KeyValue[] = []
  sub: ChangeSubscriber | undefined
  historyCalls = 0

  /** Appends a revision with these keys (under P unless they start with '/'); returns its changes. */
  write(...names: string[]): { revision: number; changes: KeyValue[] } {
    const revision = ++this.currentRevision
    const changes = names.map((n) => ({
      key: keyBytes(n.startsWith('/') ? n : P + n),
      value: Buffer.from(`${n}@${revision}`),
      createRevision: revision,
      modRevision: revision,
      version: 1,
      lease: '0',
    }))
    this.log.push(...changes)
    return { revision, changes }
  }

  /** A write announced to the subscriber at once. */
  apply(...names: string[]): void {
    const { revision, changes } = this.write(...names)
    this.sub?.notify(revision, changes)
  }

  async history(from: number, to = this.currentRevision, limit = 0): Promise<HistoryEvent[]> {
    this.historyCalls++
    await new Promise((r) => setImmediate(r))
    if (from < this.compactedRevision) throw new CompactedError()
    const out = this.log.filter((kv) => kv.modRevision >= from && kv.modRevision <= to).map((kv, i) => ({ kv, deleted: false, sub: i }))
    return limit > 0 ? out.slice(0, limit) : out
  }

  watch(afterRevision: number, rec = new Recorder(), progressIntervalMs = 0): { w: LocalWatch; rec: Recorder; done: () => boolean } {
    let ended = false
    const w = new LocalWatch(keyBytes(P), afterRevision, rec, {
      store: this as unknown as KVStore,
      subscribe: (sub) => {
        this.sub = sub
        return () => (this.sub = undefined)
      },
      prevOf: async (): Promise<StoredKV | undefined> => undefined,
      progressIntervalMs,
      prevValues: true,
      onDone: () => (ended = true),
    })
    rec.handle = w
    return { w, rec, done: () => ended }
  }
}

const revisions = (rec: Recorder) => rec.deliveries.map((d) => d.revision)

t.test('a revision both in history and announced late is delivered once', async (t) => {
  const s = new Script()
  for (let i = 0; i < 8; i++) s.write(`k${i}`)
  // Revision 10 is in the store, but the apply loop has not announced it yet.
  const late = s.write('late')
  const { rec } = s.watch(5)
  s.sub!.notify(late.revision, late.changes)
  s.apply('next')
  await rec.until(() => revisions(rec).includes(11), 'revision 11')
  t.same(revisions(rec), [6, 7, 8, 9, 10, 11])
  rec.cancel()
})

t.test('only keys under the prefix, a revision delivered whole', async (t) => {
  const s = new Script()
  s.write('a', '/registry/other/x', 'b')
  s.write('/registry/other/y')
  const { rec } = s.watch(1)
  s.apply('c', '/registry/wx/no')
  await rec.until(() => revisions(rec).includes(4), 'revision 4')
  t.same(
    rec.deliveries.map((d) => [d.revision, d.events.map((e) => e.kv.key)]),
    [
      [2, [`${P}a`, `${P}b`]],
      [4, [`${P}c`]],
    ],
  )
  rec.cancel()
})

t.test('a catch-up longer than a history chunk keeps revisions whole', async (t) => {
  const s = new Script()
  for (let i = 0; i < 998; i++) s.write(`k${i}`)
  s.write('m1', 'm2', 'm3', 'm4', 'm5') // crosses the 1000-change chunk
  for (let i = 0; i < 10; i++) s.write(`z${i}`)
  const { rec } = s.watch(1)
  await rec.until(() => revisions(rec).length === 1009, '1009 revisions', 20_000)
  const big = rec.deliveries.find((d) => d.events.length > 1)
  t.equal(big?.events.length, 5, 'the five changes of one revision arrive together')
  t.same(revisions(rec), Array.from({ length: 1009 }, (_, i) => i + 2))
  t.ok(s.historyCalls >= 2, 'read in more than one chunk')
  rec.cancel()
})

t.test('a snapshot restore: the skipped revisions come from history', async (t) => {
  const s = new Script()
  s.write('a')
  const { rec } = s.watch(s.currentRevision)
  s.apply('b') // 3
  // The store jumps ahead (revisions 4..6 were never announced), then carries on.
  s.write('c')
  s.write('/registry/other/d')
  s.write('e')
  s.sub!.restored!()
  s.apply('f') // 7
  await rec.until(() => revisions(rec).includes(7), 'revision 7')
  t.same(revisions(rec), [3, 4, 6, 7])
  rec.cancel()
})

t.test('a restore past the next revision closes the watch as compacted', async (t) => {
  const s = new Script()
  const { rec, done } = s.watch(s.currentRevision)
  s.write('a')
  s.write('b')
  s.compactedRevision = 3
  s.sub!.restored!()
  await rec.until(() => rec.closed !== undefined, 'close')
  t.equal(rec.closed?.reason, 'compacted')
  t.equal(s.sub, undefined, 'unsubscribed')
  t.ok(done(), 'the storage is told')
})

t.test('watching below the compacted revision', async (t) => {
  const s = new Script()
  for (let i = 0; i < 5; i++) s.write(`k${i}`)
  s.compactedRevision = 4
  const { rec } = s.watch(2)
  await rec.until(() => rec.closed !== undefined, 'close')
  t.equal(rec.closed?.reason, 'compacted')
  t.equal(rec.deliveries.length, 0)
})

t.test('the member stopping ends the watch as unavailable', async (t) => {
  const s = new Script()
  const { rec } = s.watch(s.currentRevision)
  s.sub!.ended!()
  await rec.until(() => rec.closed !== undefined, 'close')
  t.equal(rec.closed?.reason, 'error')
  t.ok(rec.closed?.err instanceof StorageError)
  t.equal((rec.closed?.err as StorageError).code, 'Unavailable')
})

t.test('progress follows the events announced before it was asked', async (t) => {
  const s = new Script()
  for (let i = 0; i < 5; i++) s.write(`k${i}`)
  const { w, rec } = s.watch(1)
  w.requestProgress() // during the catch-up
  s.apply('/registry/other/x') // 7, not ours
  w.requestProgress()
  await rec.until(() => rec.progress.length === 2, 'two progress notifications')
  t.same(rec.progress, [6, 7])
  t.same(revisions(rec), [2, 3, 4, 5, 6], 'events came first')
  rec.cancel()
})

t.test('idle progress, not while events flow', async (t) => {
  const s = new Script()
  const { rec } = s.watch(s.currentRevision, new Recorder(), 50)
  await rec.until(() => rec.progress.length >= 2, 'idle progress')
  t.equal(rec.progress[0], 1)
  rec.cancel()
  const n = rec.progress.length
  await new Promise((r) => setTimeout(r, 150))
  t.equal(rec.progress.length, n, 'none after cancel')
})
