// MemoryStorage against etcd's semantics: revisions, conditional writes, reads at past
// revisions, paginated lists, compaction errors, watches (replay, prev values, order,
// progress, compacted start, cancel), TTL leases.
import t from 'tap'
import { MemoryStorage } from '../../../src/apiserver/storage/memory.js'
import { StorageError, type WatchEvent } from '../../../src/apiserver/storage/interface.js'

const b = (s: string): Uint8Array => Buffer.from(s)
const s = (u: Uint8Array | undefined): string | undefined => (u === undefined ? undefined : Buffer.from(u).toString())
const flush = () => new Promise((r) => setImmediate(r))

interface Got {
  events: { type: string; key: string; value: string; rev: number; prev: string | undefined; batch: number }[]
  progress: number[]
  closed: { reason: string; err: Error | undefined } | undefined
  order: string[]
}

function recorder(): Got & { cb: Parameters<MemoryStorage['watch']>[2] } {
  const got: Got = { events: [], progress: [], closed: undefined, order: [] }
  return {
    ...got,
    get events() {
      return got.events
    },
    get progress() {
      return got.progress
    },
    get closed() {
      return got.closed
    },
    get order() {
      return got.order
    },
    cb: {
      onEvents(events: WatchEvent[], revision: number) {
        for (const e of events) {
          got.events.push({ type: e.type, key: e.kv.key, value: s(e.kv.value)!, rev: e.kv.modRevision, prev: s(e.prev?.value), batch: revision })
          got.order.push(`event ${revision}`)
        }
      },
      onProgress(revision: number) {
        got.progress.push(revision)
        got.order.push(`progress ${revision}`)
      },
      onClose(reason, err) {
        got.closed = { reason, err }
        got.order.push(`close ${reason}`)
      },
    },
  }
}

t.test('revisions start at 1 and each successful write adds one', async (t) => {
  const st = new MemoryStorage()
  t.equal(await st.currentRevision(), 1)
  const c = await st.create('/a/x', b('1'))
  t.ok(c.ok)
  if (!c.ok) return
  t.equal(c.revision, 2)
  t.match(c.kv, { key: '/a/x', createRevision: 2, modRevision: 2, lease: '0' })

  const dup = await st.create('/a/x', b('other'))
  t.notOk(dup.ok)
  if (!dup.ok) {
    t.equal(s(dup.current?.value), '1', 'a failed create reports what is there')
    t.equal(dup.revision, 2, 'and does not add a revision')
  }

  const stale = await st.update('/a/x', b('2'), 1)
  t.notOk(stale.ok)
  const u = await st.update('/a/x', b('2'), 2)
  t.ok(u.ok)
  if (u.ok) t.match(u.kv, { createRevision: 2, modRevision: 3 })

  const viaZero = await st.update('/a/y', b('y'), 0)
  t.ok(viaZero.ok, 'mod_revision == 0 matches a missing key, as in an etcd Txn')
  t.equal((await st.update('/a/z', b('z'), 5)).ok, false)

  t.equal((await st.delete('/a/missing')).ok, false)
  const badDel = await st.delete('/a/x', 2)
  t.notOk(badDel.ok)
  if (!badDel.ok) t.equal(badDel.current?.modRevision, 3)
  const del = await st.delete('/a/x', 3)
  t.ok(del.ok)
  if (del.ok) {
    t.equal(del.revision, 5)
    t.equal(s(del.prev.value), '2')
  }
  t.equal((await st.get('/a/x')).kv, undefined)
  t.equal(await st.currentRevision(), 5)
  t.equal(await st.count('/a/'), 1)
})

t.test('reads at a past revision see the state then; future revisions are refused', async (t) => {
  const st = new MemoryStorage()
  await st.create('/r/a', b('a1')) // 2
  await st.update('/r/a', b('a2'), 2) // 3
  await st.create('/r/b', b('b1')) // 4
  await st.delete('/r/a') // 5
  t.equal(s((await st.get('/r/a', { revision: 2 })).kv?.value), 'a1')
  t.equal(s((await st.get('/r/a', { revision: 4 })).kv?.value), 'a2')
  t.equal((await st.get('/r/a', { revision: 5 })).kv, undefined)
  const at3 = await st.list('/r/', { revision: 3 })
  t.strictSame(at3.items.map((kv) => s(kv.value)), ['a2'])
  t.equal(at3.revision, 3, 'a list reports the revision it was read at')
  t.strictSame((await st.list('/r/')).items.map((kv) => kv.key), ['/r/b'])
  await t.rejects(st.get('/r/a', { revision: 6 }), { code: 'FutureRevision', message: 'etcdserver: mvcc: required revision is a future revision' })
})

t.test('lists are in key order, paginate with limit/startKey and count what remains', async (t) => {
  const st = new MemoryStorage()
  for (const k of ['/p/c', '/p/a', '/p/e', '/p/b', '/p/d', '/pz', '/o/x']) await st.create(k, b(k))
  const all = await st.list('/p/')
  t.strictSame(all.items.map((kv) => kv.key), ['/p/a', '/p/b', '/p/c', '/p/d', '/p/e'], 'only the prefix, sorted')
  t.equal(all.more, false)
  t.equal(all.remaining, 0)

  const p1 = await st.list('/p/', { limit: 2 })
  t.strictSame(p1.items.map((kv) => kv.key), ['/p/a', '/p/b'])
  t.equal(p1.more, true)
  t.equal(p1.remaining, 3)
  await st.create('/p/aa', b('late')) // after p1's revision: invisible to pages read at it
  const p2 = await st.list('/p/', { limit: 2, startKey: '/p/b\0', revision: p1.revision })
  t.strictSame(p2.items.map((kv) => kv.key), ['/p/c', '/p/d'])
  t.equal(p2.remaining, 1)
  const p3 = await st.list('/p/', { limit: 2, startKey: '/p/d\0', revision: p1.revision })
  t.strictSame(p3.items.map((kv) => kv.key), ['/p/e'])
  t.equal(p3.more, false)
  t.equal(await st.count('/p/'), 6)
})

t.test('compaction: reads below it fail as Compacted, the state at it stays readable', async (t) => {
  const st = new MemoryStorage()
  await st.create('/c/a', b('a1')) // 2
  await st.create('/c/b', b('b1')) // 3
  await st.update('/c/a', b('a2'), 2) // 4
  await st.delete('/c/b') // 5
  await st.create('/c/d', b('d1')) // 6
  await st.compact(5)
  t.equal(st.compactedRevision, 5)
  await t.rejects(st.get('/c/a', { revision: 4 }), new StorageError('Compacted', 'etcdserver: mvcc: required revision has been compacted', 5))
  await t.rejects(st.list('/c/', { revision: 2 }), { code: 'Compacted' })
  t.strictSame((await st.list('/c/', { revision: 5 })).items.map((kv) => `${kv.key}=${s(kv.value)}`), ['/c/a=a2'])
  t.strictSame((await st.list('/c/', { revision: 6 })).items.map((kv) => kv.key), ['/c/a', '/c/d'])
  await t.rejects(st.compact(5), { code: 'Compacted' }, 'compacting again at the same revision')
  await t.rejects(st.compact(99), { code: 'FutureRevision' })
  await st.compact(6)
  t.strictSame((await st.list('/c/')).items.map((kv) => kv.key), ['/c/a', '/c/d'])
})

t.test('watch replays history with prev values, then live events, in order and asynchronously', async (t) => {
  const st = new MemoryStorage()
  await st.create('/w/a', b('a1')) // 2
  await st.create('/x/other', b('o')) // 3
  await st.update('/w/a', b('a2'), 2) // 4
  const r = recorder()
  const h = st.watch('/w/', 2, r.cb)
  t.equal(r.events.length, 0, 'nothing is delivered inside watch()')
  await flush()
  t.strictSame(r.events, [{ type: 'PUT', key: '/w/a', value: 'a2', rev: 4, prev: 'a1', batch: 4 }])
  void st.create('/w/b', b('b1')) // 5
  t.equal(r.events.length, 1, 'nothing is delivered inside the write')
  await st.delete('/w/a') // 6
  await flush()
  t.strictSame(
    r.events.slice(1).map((e) => [e.type, e.key, e.value, e.rev, e.prev]),
    [
      ['PUT', '/w/b', 'b1', 5, undefined],
      ['DELETE', '/w/a', '', 6, 'a2'],
    ],
  )
  h.requestProgress()
  await st.create('/x/y', b('y')) // 7: not under the prefix
  h.requestProgress()
  await flush()
  t.strictSame(r.progress, [6, 7], 'progress carries the store revision when asked')
  t.strictSame(r.order.slice(-3), ['event 6', 'progress 6', 'progress 7'])
  t.equal(st.progressRequests, 2)
  h.cancel()
  await st.create('/w/c', b('c'))
  await flush()
  t.equal(r.events.length, 3, 'nothing after cancel')
  t.equal(st.watchCount, 0)
})

t.test('cancel drops events already queued', async (t) => {
  const st = new MemoryStorage()
  const r = recorder()
  const h = st.watch('/q/', 1, r.cb)
  void st.create('/q/a', b('a')) // its event is queued synchronously, delivered later
  h.cancel()
  await flush()
  t.equal(r.events.length, 0)
})

t.test('a watch that starts below the compacted revision ends as compacted', async (t) => {
  const st = new MemoryStorage()
  for (let i = 0; i < 5; i++) await st.create(`/k/${i}`, b(String(i))) // revisions 2..6
  await st.compact(5)
  const old = recorder()
  st.watch('/k/', 3, old.cb)
  const edge = recorder()
  st.watch('/k/', 4, edge.cb) // starts at revision 5 = the compacted one: allowed, as in etcd
  await flush()
  t.equal(old.closed?.reason, 'compacted')
  t.ok(old.closed?.err instanceof StorageError && old.closed.err.compactedRevision === 5)
  t.equal(old.events.length, 0)
  t.equal(edge.closed, undefined)
  t.strictSame(edge.events.map((e) => [e.key, e.rev, e.prev]), [
    ['/k/3', 5, undefined],
    ['/k/4', 6, undefined],
  ])
})

t.test('failWatches ends every watch with error; close makes calls fail', async (t) => {
  const st = new MemoryStorage()
  const r = recorder()
  st.watch('/', 1, r.cb)
  t.equal(st.watchCount, 1)
  st.failWatches()
  await flush()
  t.equal(r.closed?.reason, 'error')
  t.equal(st.watchCount, 0)
  await st.close()
  await t.rejects(st.get('/a'), { code: 'Unavailable' })
  t.equal(await st.healthy(), false)
})

t.test('ttl writes attach a lease; writes without one detach it', async (t) => {
  const st = new MemoryStorage()
  const c = await st.create('/registry/events/default/e1', b('e'), { ttlSeconds: 3600 })
  t.ok(c.ok)
  if (!c.ok) return
  t.not(c.kv.lease, '0')
  t.match(c.kv.lease, /^\d+$/)
  t.equal(st.leaseTTL(c.kv.lease), 3600)
  const u = await st.update(c.kv.key, b('e2'), c.kv.modRevision)
  t.ok(u.ok && u.kv.lease === '0')
})
