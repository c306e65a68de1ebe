// The Storage contract, as one suite any implementation must pass: LocalStorage on
// an in-process member, RemoteStorage on `raftplane store` and on a real etcd 3.4.
// Every subtest works under its own key prefix, so they can share one store; the
// compaction subtest runs last, since it takes old revisions away from all of them.
import type { Test } from 'tap'
import { StorageError, type Storage, type StoredKV, type WatchEvent } from '../../../src/apiserver/storage/interface.js'
import { Recorder, sleep } from './recorder.js'

export type StorageFactory = (opts: { progressIntervalMs: number }) => Storage

const enc = (s: string) => Buffer.from(s)
const dec = (v: Uint8Array | undefined) => (v === undefined ? undefined : Buffer.from(v).toString())

let prefixes = 0
const uniquePrefix = (name: string) => `/registry/${name}-${process.pid}-${++prefixes}/`

async function expectError(t: Test, p: Promise<unknown>, code: StorageError['code'], what: string): Promise<void> {
  try {
    await p
    t.fail(`${what}: expected StorageError ${code}, it succeeded`)
  } catch (err) {
    t.ok(err instanceof StorageError, `${what}: a StorageError`)
    t.equal((err as StorageError).code, code, `${what}: ${code}`)
  }
}

/** Writes that must all land (ok: true); returns the stored kv. */
async function mustCreate(s: Storage, key: string, value: string): Promise<StoredKV> {
  const r = await s.create(key, enc(value))
  if (!r.ok) throw new Error(`create ${key} refused`)
  return r.kv
}

function summary(e: WatchEvent): string {
  return `${e.type} ${e.kv.key}=${dec(e.kv.value)}@${e.kv.modRevision} prev=${e.prev === undefined ? '-' : `${dec(e.prev.value)}@${e.prev.modRevision}`}`
}

export function storageContract(t: Test, make: StorageFactory): void {
  const open = (tt: Test, progressIntervalMs = 0): Storage => {
    const s = make({ progressIntervalMs })
    tt.teardown(() => s.close())
    return s
  }

  t.test('get and list: prefix isolation, values, revisions', async (t) => {
    const s = open(t)
    const p = uniquePrefix('pods')
    const sibling = p.slice(0, -1) + 'x/' // same text before the slash, another prefix
    const a = await mustCreate(s, `${p}a`, 'A')
    await mustCreate(s, `${p}c`, 'C')
    await mustCreate(s, `${p}b`, 'B')
    await mustCreate(s, `${sibling}a`, 'other')
    await mustCreate(s, p.slice(0, -1), 'the prefix without its slash')

    const got = await s.get(`${p}a`)
    t.equal(dec(got.kv?.value), 'A')
    t.equal(got.kv?.key, `${p}a`)
    t.equal(got.kv?.createRevision, a.createRevision)
    t.equal(got.kv?.modRevision, a.modRevision)
    t.equal(got.kv?.lease, '0')
    t.ok(got.revision >= a.modRevision, 'read revision at least the write')

    const missing = await s.get(`${p}zz`)
    t.equal(missing.kv, undefined)
    t.ok(missing.revision > 0)

    const l = await s.list(p)
    t.same(
      l.items.map((i) => [i.key, dec(i.value)]),
      [
        [`${p}a`, 'A'],
        [`${p}b`, 'B'],
        [`${p}c`, 'C'],
      ],
      'only the prefix, in key order',
    )
    t.equal(l.more, false)
    t.equal(l.remaining, 0)
    t.ok(l.revision >= got.revision, 'list revision is the read revision')
    t.equal(await s.count(p), 3)
    t.equal(await s.count(sibling), 1)
    t.equal((await s.list(uniquePrefix('empty'))).items.length, 0)
    const cur = await s.currentRevision()
    t.ok(cur >= l.revision, 'currentRevision is not behind a read')
    t.equal(await s.healthy(), true)
  })

  t.test('reads at a revision', async (t) => {
    const s = open(t)
    const p = uniquePrefix('rev')
    const v1 = await mustCreate(s, `${p}k`, 'v1')
    const up = await s.update(`${p}k`, enc('v2'), v1.modRevision)
    if (!up.ok) throw new Error('update refused')
    await mustCreate(s, `${p}later`, 'x')

    const old = await s.get(`${p}k`, { revision: v1.modRevision })
    t.equal(dec(old.kv?.value), 'v1', 'the value as of that revision')
    t.equal(old.revision, v1.modRevision, 'revision is the one read')
    const now = await s.get(`${p}k`)
    t.equal(dec(now.kv?.value), 'v2')

    const l = await s.list(p, { revision: v1.modRevision })
    t.same(
      l.items.map((i) => dec(i.value)),
      ['v1'],
      'the list as it was',
    )
    t.equal(l.revision, v1.modRevision)

    const future = (await s.currentRevision()) + 1000
    await expectError(t, s.get(`${p}k`, { revision: future }), 'FutureRevision', 'get at a future revision')
    await expectError(t, s.list(p, { revision: future }), 'FutureRevision', 'list at a future revision')
  })

  t.test('list with limit and startKey continues at one revision', async (t) => {
    const s = open(t)
    const p = uniquePrefix('page')
    for (const n of ['1', '2', '3', '4', '5']) await mustCreate(s, `${p}${n}`, n)

    const first = await s.list(p, { limit: 2 })
    t.same(first.items.map((i) => dec(i.value)), ['1', '2'])
    t.equal(first.more, true)
    t.equal(first.remaining, 3)

    // Changes after the first page must not show in the next ones.
    await mustCreate(s, `${p}6`, '6')
    await s.delete(`${p}3`)

    const next = (after: string) => `${after}\u0000`
    const second = await s.list(p, { limit: 2, revision: first.revision, startKey: next(first.items[1]!.key) })
    t.same(second.items.map((i) => dec(i.value)), ['3', '4'])
    t.equal(second.more, true)
    t.equal(second.remaining, 1)
    t.equal(second.revision, first.revision)
    const third = await s.list(p, { limit: 2, revision: first.revision, startKey: next(second.items[1]!.key) })
    t.same(third.items.map((i) => dec(i.value)), ['5'])
    t.equal(third.more, false)
    t.equal(third.remaining, 0)

    const all = await s.list(p, { limit: 10 })
    t.same(all.items.map((i) => dec(i.value)), ['1', '2', '4', '5', '6'], 'now, without the limit reached')
    t.equal(all.more, false)
  })

  t.test('create refuses an existing key', async (t) => {
    const s = open(t)
    const p = uniquePrefix('create')
    const r1 = await s.create(`${p}k`, enc('one'))
    t.equal(r1.ok, true)
    if (!r1.ok) return
    t.equal(r1.kv.createRevision, r1.revision)
    t.equal(r1.kv.modRevision, r1.revision)
    t.equal(dec(r1.kv.value), 'one')
    const r2 = await s.create(`${p}k`, enc('two'))
    t.equal(r2.ok, false)
    if (r2.ok) return
    t.equal(dec(r2.current?.value), 'one', 'reports what is there')
    t.equal(r2.current?.modRevision, r1.revision)
    t.ok(r2.revision >= r1.revision)
    t.equal(dec((await s.get(`${p}k`)).kv?.value), 'one', 'nothing changed')
  })

  t.test('update is guarded by modRevision', async (t) => {
    const s = open(t)
    const p = uniquePrefix('update')
    const c = await mustCreate(s, `${p}k`, 'v1')
    const u1 = await s.update(`${p}k`, enc('v2'), c.modRevision)
    t.equal(u1.ok, true)
    if (!u1.ok) return
    t.ok(u1.revision > c.modRevision)
    t.equal(u1.kv.modRevision, u1.revision)
    t.equal(u1.kv.createRevision, c.createRevision, 'create revision kept')
    t.equal(dec(u1.kv.value), 'v2')

    const stale = await s.update(`${p}k`, enc('v3'), c.modRevision)
    t.equal(stale.ok, false, 'a stale modRevision is refused')
    if (!stale.ok) {
      t.equal(dec(stale.current?.value), 'v2')
      t.equal(stale.current?.modRevision, u1.revision)
      t.equal(stale.current?.createRevision, c.createRevision)
    }
    const gone = await s.update(`${p}missing`, enc('x'), 5)
    t.equal(gone.ok, false)
    if (!gone.ok) t.equal(gone.current, undefined, 'a missing key has no current value')
    t.equal(dec((await s.get(`${p}k`)).kv?.value), 'v2')
  })

  t.test('delete, conditional and not', async (t) => {
    const s = open(t)
    const p = uniquePrefix('delete')
    const c = await mustCreate(s, `${p}k`, 'v1')
    const u = await s.update(`${p}k`, enc('v2'), c.modRevision)
    if (!u.ok) throw new Error('update refused')

    const stale = await s.delete(`${p}k`, c.modRevision)
    t.equal(stale.ok, false)
    if (!stale.ok) t.equal(dec(stale.current?.value), 'v2')
    const d = await s.delete(`${p}k`, u.revision)
    t.equal(d.ok, true)
    if (d.ok) {
      t.equal(dec(d.prev.value), 'v2', 'prev is the deleted value')
      t.equal(d.prev.modRevision, u.revision)
      t.ok(d.revision > u.revision)
    }
    t.equal((await s.get(`${p}k`)).kv, undefined)
    const again = await s.delete(`${p}k`)
    t.equal(again.ok, false, 'deleting a missing key')
    if (!again.ok) t.equal(again.current, undefined)

    await mustCreate(s, `${p}u`, 'x')
    const un = await s.delete(`${p}u`)
    t.equal(un.ok, true, 'unconditional delete')
    if (un.ok) t.equal(dec(un.prev.value), 'x')
  })

  t.test('fenced writes land only while the fence key holds the value; side writes share the Txn', async (t) => {
    const s = open(t)
    const p = uniquePrefix('fence')
    const fenceKey = `${p}holder`
    const fence = { key: fenceKey, value: 'master-1_a' }

    const missing = await s.create(`${p}k`, enc('v0'), { fence })
    t.equal(missing.ok, false, 'no fence record: refused')
    if (!missing.ok) t.equal(missing.fencedBy, '', 'refused by a missing fence key')
    t.equal((await s.get(`${p}k`)).kv, undefined, 'nothing written')

    // The holder record is written beside the main key, in the same revision.
    const lease = await s.create(`${p}lease`, enc('lease-1'), { also: [{ put: fenceKey, value: enc('master-1_a') }] })
    t.equal(lease.ok, true)
    const holder = await s.get(fenceKey)
    t.equal(dec(holder.kv?.value), 'master-1_a')
    if (lease.ok) t.equal(holder.kv?.modRevision, lease.revision, 'side write at the same revision')

    const c = await s.create(`${p}k`, enc('v1'), { fence })
    t.equal(c.ok, true, 'fence holds: created')
    if (!c.ok) return
    const u = await s.update(`${p}k`, enc('v2'), c.kv.modRevision, { fence })
    t.equal(u.ok, true, 'fence holds: updated')
    if (!u.ok) return

    // Another holder takes the lease over: the old holder's writes are refused, whatever else holds.
    const takeover = await s.update(`${p}lease`, enc('lease-2'), lease.ok ? lease.revision : 0, { also: [{ put: fenceKey, value: enc('master-2_b') }] })
    t.equal(takeover.ok, true)
    const stale = await s.update(`${p}k`, enc('v3'), u.revision, { fence })
    t.equal(stale.ok, false, 'stale holder: update refused')
    if (!stale.ok) {
      t.equal(stale.fencedBy, 'master-2_b', 'says who holds it now')
      t.equal(dec(stale.current?.value), 'v2', 'reports the current value too')
    }
    const staleDel = await s.delete(`${p}k`, u.revision, { fence })
    t.equal(staleDel.ok, false, 'stale holder: delete refused')
    if (!staleDel.ok) t.equal(staleDel.fencedBy, 'master-2_b')
    t.equal(dec((await s.get(`${p}k`)).kv?.value), 'v2', 'nothing changed')

    const wrongRev = await s.update(`${p}k`, enc('v3'), c.kv.modRevision, { fence: { key: fenceKey, value: 'master-2_b' } })
    t.equal(wrongRev.ok, false, 'a fence that holds does not excuse a stale modRevision')
    if (!wrongRev.ok) t.equal(wrongRev.fencedBy, undefined, 'refused by the key, not the fence')

    const del = await s.delete(`${p}lease`, undefined, { also: [{ delete: fenceKey }] })
    t.equal(del.ok, true)
    t.equal((await s.get(fenceKey)).kv, undefined, 'side delete')
  })

  t.test('a value over the request limit is refused as too large', async (t) => {
    const s = open(t)
    const p = uniquePrefix('large')
    // etcd's default --max-request-bytes is 1.5 MiB.
    await expectError(t, s.create(`${p}k`, Buffer.alloc(2 * 2 ** 20, 1)), 'TooLarge', 'a 2 MiB create')
    t.equal((await s.get(`${p}k`)).kv, undefined, 'nothing written')
  })

  t.test('writes with a TTL carry a shared lease', async (t) => {
    const s = open(t)
    const p = uniquePrefix('events')
    const r1 = await s.create(`${p}e1`, enc('1'), { ttlSeconds: 3600 })
    const r2 = await s.create(`${p}e2`, enc('2'), { ttlSeconds: 3600 })
    t.equal(r1.ok && r2.ok, true)
    if (!r1.ok || !r2.ok) return
    t.not(r1.kv.lease, '0', 'a lease is attached')
    t.equal(r2.kv.lease, r1.kv.lease, 'one lease serves writes with the same TTL')
    const got = await s.get(`${p}e1`)
    t.equal(got.kv?.lease, r1.kv.lease, 'the store holds the lease')
    const u = await s.update(`${p}e1`, enc('1b'), r1.revision, { ttlSeconds: 3600 })
    t.equal(u.ok && u.kv.lease, r1.kv.lease)
    const plain = await s.create(`${p}plain`, enc('x'))
    t.equal(plain.ok && plain.kv.lease, '0')
  })

  t.test('watch: changes in order with prev values, only under the prefix', async (t) => {
    const s = open(t)
    const p = uniquePrefix('watch')
    const start = await s.currentRevision()
    const rec = new Recorder().watch(s, p, start)
    t.teardown(() => rec.cancel())
    await sleep(200) // let a remote watch be created (it would replay anyway)

    const c = await mustCreate(s, `${p}a`, 'v1')
    await mustCreate(s, `${p.slice(0, -1)}x/a`, 'not mine')
    const u = await s.update(`${p}a`, enc('v2'), c.modRevision)
    if (!u.ok) throw new Error('update refused')
    const d = await s.delete(`${p}a`)
    if (!d.ok) throw new Error('delete refused')
    const b = await mustCreate(s, `${p}b`, 'b1')

    await rec.untilEvents(4)
    await sleep(100)
    t.same(rec.events.map(summary), [
      `PUT ${p}a=v1@${c.modRevision} prev=-`,
      `PUT ${p}a=v2@${u.revision} prev=v1@${c.modRevision}`,
      `DELETE ${p}a=@${d.revision} prev=v2@${u.revision}`,
      `PUT ${p}b=b1@${b.modRevision} prev=-`,
    ])
    t.same(
      rec.deliveries.map((x) => x.revision),
      rec.deliveries.map((x) => x.events[0]!.kv.modRevision),
      'each delivery carries its revision',
    )
    const del = rec.events[2]!
    t.equal(del.kv.value.length, 0, 'a deletion carries no value')
    t.equal(del.kv.key, `${p}a`)
    t.equal(rec.closed, undefined)
  })

  t.test('watch from an old revision replays history, then continues live without gaps or duplicates', async (t) => {
    const s = open(t)
    const p = uniquePrefix('replay')
    const before = await s.currentRevision()
    const written: number[] = []
    let last = await mustCreate(s, `${p}k`, '0')
    written.push(last.modRevision)
    for (let i = 1; i <= 20; i++) {
      const r = await s.update(`${p}k`, enc(String(i)), last.modRevision)
      if (!r.ok) throw new Error('update refused')
      last = r.kv
      written.push(r.revision)
    }
    // Watch from the start while more writes keep coming: history and live meet
    // while the catch-up is under way.
    const rec = new Recorder().watch(s, p, before)
    t.teardown(() => rec.cancel())
    for (let i = 21; i <= 40; i++) {
      const r = await s.update(`${p}k`, enc(String(i)), last.modRevision)
      if (!r.ok) throw new Error('update refused')
      last = r.kv
      written.push(r.revision)
    }
    await rec.untilEvents(41)
    await sleep(200)
    t.same(
      rec.deliveries.map((x) => x.revision),
      written,
      'every write exactly once, in order',
    )
    t.same(
      rec.events.map((e) => dec(e.kv.value)),
      Array.from({ length: 41 }, (_, i) => String(i)),
    )
    t.same(
      rec.events.slice(1).map((e) => dec(e.prev?.value)),
      Array.from({ length: 40 }, (_, i) => String(i)),
      'prev values through history and live',
    )

    // Starting exactly at a revision: only what comes after it.
    const mid = new Recorder().watch(s, p, written[30]!)
    t.teardown(() => mid.cancel())
    await mid.untilEvents(10)
    await sleep(100)
    t.same(
      mid.deliveries.map((x) => x.revision),
      written.slice(31),
    )
  })

  t.test('a watch without prev values still sees every change', async (t) => {
    const s = open(t)
    const p = uniquePrefix('noprev')
    const c = await mustCreate(s, `${p}a`, 'v1')
    const rec = new Recorder()
    const h = s.watch(p, c.modRevision, rec, { prevValues: false })
    t.teardown(() => h.cancel())
    const u = await s.update(`${p}a`, enc('v2'), c.modRevision)
    if (!u.ok) throw new Error('update refused')
    await s.delete(`${p}a`, u.revision)
    await rec.untilEvents(2)
    t.same(
      rec.events.map((e) => `${e.type} ${dec(e.kv.value) ?? ''}@${e.kv.modRevision} prev=${e.prev === undefined ? '-' : 'yes'}`),
      [`PUT v2@${u.revision} prev=-`, `DELETE @${u.revision + 1} prev=-`],
    )
  })

  t.test('requestProgress and idle progress', async (t) => {
    const s = open(t, 300)
    const p = uniquePrefix('progress')
    const rec = new Recorder().watch(s, p, await s.currentRevision())
    t.teardown(() => rec.cancel())
    await sleep(200)
    const c = await mustCreate(s, `${p}a`, 'x')
    await rec.untilEvents(1)
    // Someone else's write moves the store on; the watch has nothing to deliver.
    const other = await mustCreate(s, `${uniquePrefix('elsewhere')}k`, 'y')
    const seen = rec.progress.length
    rec.handle!.requestProgress()
    await rec.until(() => rec.progress.length > seen, 'a progress notification')
    t.ok(rec.progress[seen]! >= c.modRevision, 'progress is not behind the delivered events')
    // Idle: the periodic progress reaches the other write too.
    await rec.until(() => rec.progress.some((r) => r >= other.modRevision), 'idle progress at the newest revision', 5000)
    t.equal(rec.events.length, 1, 'no events from progress')
  })

  t.test('cancel stops callbacks', async (t) => {
    const s = open(t, 100)
    const p = uniquePrefix('cancel')
    const rec = new Recorder().watch(s, p, await s.currentRevision())
    await sleep(200)
    await mustCreate(s, `${p}a`, '1')
    await rec.untilEvents(1)
    rec.cancel()
    const c = await mustCreate(s, `${p}b`, '2')
    await s.update(`${p}b`, enc('3'), c.modRevision)
    rec.handle!.requestProgress()
    await sleep(500)
    t.equal(rec.callsAfterCancel, 0, 'nothing after cancel()')
    t.equal(rec.events.length, 1)
  })

  t.test('close ends watches and refuses requests', async (t) => {
    const s = make({ progressIntervalMs: 100 })
    const p = uniquePrefix('close')
    const rec = new Recorder().watch(s, p, await s.currentRevision())
    await s.close()
    await sleep(300)
    t.equal(rec.deliveries.length + rec.progress.length, 0, 'no callbacks after close')
    await expectError(t, s.get(`${p}a`), 'Unavailable', 'get after close')
  })

  // Last: compaction takes old revisions away from every prefix.
  t.test('compaction: old reads and watches report compacted', async (t) => {
    const s = open(t)
    const p = uniquePrefix('compact')
    const c = await mustCreate(s, `${p}k`, 'v1')
    const u = await s.update(`${p}k`, enc('v2'), c.modRevision)
    if (!u.ok) throw new Error('update refused')
    const u2 = await s.update(`${p}k`, enc('v3'), u.revision)
    if (!u2.ok) throw new Error('update refused')
    await s.compact(u.revision)

    await expectError(t, s.get(`${p}k`, { revision: c.modRevision }), 'Compacted', 'get below the compacted revision')
    await expectError(t, s.list(p, { revision: c.modRevision }), 'Compacted', 'list below the compacted revision')
    await expectError(t, s.compact(c.modRevision), 'Compacted', 'compacting again below')
    t.equal(dec((await s.get(`${p}k`, { revision: u.revision })).kv?.value), 'v2', 'the compacted revision itself is readable')

    const rec = new Recorder().watch(s, p, c.modRevision - 1)
    t.teardown(() => rec.cancel())
    await rec.until(() => rec.closed !== undefined, 'the watch to close')
    t.equal(rec.closed?.reason, 'compacted')
    t.equal(rec.events.length, 0)

    // From the compacted revision on, history is still there.
    const ok = new Recorder().watch(s, p, u.revision - 1)
    t.teardown(() => ok.cancel())
    await ok.untilEvents(2)
    t.same(
      ok.events.map((e) => dec(e.kv.value)),
      ['v2', 'v3'],
    )
    t.equal(dec(ok.events[1]!.prev?.value), 'v2')
  })
}
