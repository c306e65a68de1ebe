// Keeping up with the store: progress notifications and waitUntilFresh, bookmarks,
// re-watching after a lost connection without losing or repeating events, relisting
// after compaction and expiring the watchers that cannot go on.
import t from 'tap'
import { TooLargeResourceVersionError } from '../../../src/apiserver/watch-cache/types.js'
import { Recorder, enc, pod, podKey, settle, startCache, waitFor } from './helpers/fixture.js'

t.test('waitUntilFresh resolves through a progress notification when other keys moved', async (t) => {
  const { storage, cache } = await startCache(t)
  await storage.create(podKey('a', 'p'), enc(pod('a', 'p'))) // 2
  await waitFor(() => cache.revision === 2)
  await cache.waitUntilFresh(2)
  await cache.waitUntilFresh(1)
  const asked = storage.progressRequests
  t.equal(asked, 0, 'no progress request when already fresh')
  // Writes to another resource: no pod event will ever carry revision 4.
  await storage.create('/registry/services/a/s1', enc({ kind: 'Service' })) // 3
  await storage.create('/registry/services/a/s2', enc({ kind: 'Service' })) // 4
  t.equal(cache.revision, 2)
  await cache.waitUntilFresh(4)
  t.equal(cache.revision, 4)
  t.ok(storage.progressRequests > asked, 'the cache asked the store for progress')
  t.equal(cache.list().revision, 4, 'a list after it reports the fresh revision')
})

t.test('waitUntilFresh rejects with TooLargeResourceVersionError after the timeout', async (t) => {
  const { cache, clock } = await startCache(t)
  let err: unknown
  const p = cache.waitUntilFresh(50, 3000).catch((e: unknown) => (err = e))
  await settle()
  clock.advance(2900)
  await settle()
  t.equal(err, undefined, 'still waiting before the deadline')
  t.ok(clock.pending > 0)
  clock.advance(200)
  await p
  t.ok(err instanceof TooLargeResourceVersionError)
  t.match(err, { requested: 50, current: 1, message: 'Too large resource version: 50, current: 1' })
  // A waiter that times out leaves nothing behind: later progress does not trip on it.
  await cache.waitUntilFresh(1)
})

t.test('waitUntilFresh keeps asking for progress while it waits', async (t) => {
  const { storage, cache, clock } = await startCache(t)
  let done = false
  void cache.waitUntilFresh(3).then(() => (done = true))
  await settle()
  const before = storage.progressRequests
  t.equal(done, false)
  await storage.create('/registry/services/a/s1', enc({}))
  await storage.create('/registry/services/a/s2', enc({})) // store now at 3
  clock.advance(100) // the periodic request sees revision 3
  await waitFor(() => done)
  t.ok(storage.progressRequests > before)
})

t.test('bookmarks go to watchers that asked, at the cache revision, every interval', async (t) => {
  const { storage, cache, clock } = await startCache(t, { bookmarkIntervalMs: 1000 })
  const withBm = new Recorder()
  const without = new Recorder()
  const future = new Recorder()
  cache.watch(cache.revision, {}, withBm, { bookmarks: true })
  cache.watch(cache.revision, {}, without)
  cache.watch(100, {}, future, { bookmarks: true })
  await storage.create(podKey('a', 'p'), enc(pod('a', 'p'))) // 2
  await waitFor(() => withBm.events.length === 1)
  clock.advance(999)
  await settle()
  t.strictSame(withBm.bookmarks, [])
  clock.advance(1)
  await waitFor(() => withBm.bookmarks.length === 1)
  t.strictSame(withBm.bookmarks, [2])
  // Writes elsewhere: each tick asks the store for progress, so the bookmark carries them.
  await storage.create('/registry/services/a/s', enc({})) // 3
  clock.advance(1000)
  await waitFor(() => withBm.bookmarks.length === 2)
  t.strictSame(withBm.bookmarks, [2, 3])
  t.equal(cache.revision, 3)
  // With the store watch down at the tick, bookmarks still go out, at what the cache has.
  clock.advance(960)
  storage.failWatches()
  await settle()
  await storage.create('/registry/services/a/s2', enc({})) // 4
  clock.advance(40) // the tick; the re-watch is due 10 ms later
  t.strictSame(withBm.bookmarks, [2, 3, 3])
  clock.advance(1000) // re-watched: this tick asks for progress again
  await waitFor(() => withBm.bookmarks.length === 4)
  t.strictSame(withBm.bookmarks, [2, 3, 3, 4])
  t.strictSame(without.bookmarks, [])
  t.strictSame(future.bookmarks, [], 'never a bookmark below the revision the watch started from')
})

t.test('a bookmark never overtakes queued events', async (t) => {
  const { storage, cache, clock } = await startCache(t, { bookmarkIntervalMs: 1000 })
  const order: string[] = []
  let open = false
  const h = cache.watch(
    cache.revision,
    {},
    {
      onEvent: (ev) => {
        order.push(`event ${ev.revision}`)
        return open
      },
      onBookmark: (rev) => void order.push(`bookmark ${rev}`),
      onClose: () => {},
    },
    { bookmarks: true },
  )
  await storage.create(podKey('a', 'p'), enc(pod('a', 'p'))) // 2: pauses the watcher
  await storage.create(podKey('a', 'q'), enc(pod('a', 'q'))) // 3: queued
  await waitFor(() => cache.revision === 3)
  clock.advance(1000) // bookmark 3: queued behind event 3
  await waitFor(() => cache.stats().revision === 3 && storage.progressRequests === 1)
  await settle()
  open = true
  h.resume()
  await settle()
  t.strictSame(order, ['event 2', 'event 3', 'bookmark 3'])
})

t.test('after a lost store watch the cache re-watches from its revision: nothing lost or repeated', async (t) => {
  const { storage, cache, clock } = await startCache(t)
  const r = new Recorder()
  cache.watch(cache.revision, {}, r)
  await storage.create(podKey('a', 'p1'), enc(pod('a', 'p1'))) // 2
  await waitFor(() => r.events.length === 1)
  storage.failWatches()
  await settle()
  t.equal(storage.watchCount, 0)
  await storage.create(podKey('a', 'p2'), enc(pod('a', 'p2'))) // 3, while disconnected
  await storage.update(podKey('a', 'p1'), enc(pod('a', 'p1', { v: '2' })), 2) // 4
  t.equal(cache.revision, 2)
  clock.advance(50) // first retry
  await waitFor(() => r.events.length === 3)
  t.equal(storage.watchCount, 1)
  await storage.delete(podKey('a', 'p2')) // 5
  await waitFor(() => r.events.length === 4)
  await settle()
  t.strictSame(r.summary(), [`ADDED ${podKey('a', 'p1')} 2`, `ADDED ${podKey('a', 'p2')} 3`, `MODIFIED ${podKey('a', 'p1')} 4`, `DELETED ${podKey('a', 'p2')} 5`])
  t.equal(r.closed, undefined, 'watchers are not disturbed by a re-watch')
  t.equal(cache.stats().rewatches, 1)
})

t.test('re-watch retries back off while the store keeps failing', async (t) => {
  const { storage, cache, clock } = await startCache(t)
  const realWatch = storage.watch.bind(storage)
  let attempts = 0
  storage.watch = (prefix, after, cb) => {
    attempts++
    if (attempts <= 3) throw new Error('connection refused')
    return realWatch(prefix, after, cb)
  }
  storage.failWatches()
  await settle()
  clock.advance(50) // attempt 1 fails, next in 100
  t.equal(attempts, 1)
  clock.advance(99)
  t.equal(attempts, 1)
  clock.advance(1) // attempt 2 fails, next in 200
  t.equal(attempts, 2)
  clock.advance(200) // attempt 3 fails, next in 400
  clock.advance(400) // attempt 4 succeeds
  t.equal(attempts, 4)
  await storage.create(podKey('a', 'p'), enc(pod('a', 'p')))
  await waitFor(() => cache.list().items.length === 1)
})

t.test('a watch compacted away makes the cache relist; watchers across the gap expire', async (t) => {
  const { storage, cache, clock } = await startCache(t)
  await storage.create(podKey('a', 'keep'), enc(pod('a', 'keep'))) // 2
  await storage.create(podKey('a', 'gone'), enc(pod('a', 'gone'))) // 3
  await waitFor(() => cache.revision === 3)
  const a = new Recorder()
  const b = new Recorder()
  cache.watch(cache.revision, { keyPrefix: podKey('a', '') }, a)
  cache.watch(cache.revision, { keyPrefix: podKey('b', '') }, b)
  storage.failWatches()
  await settle()
  // While the cache is disconnected: changes, then a compaction past its revision.
  await storage.delete(podKey('a', 'gone')) // 4
  await storage.create(podKey('a', 'brief'), enc(pod('a', 'brief'))) // 5
  await storage.delete(podKey('a', 'brief')) // 6: came and went unseen
  await storage.create(podKey('b', 'new'), enc(pod('b', 'new'))) // 7
  await storage.compact(storage.headRevision)
  const beforeGap = cache.revision
  clock.advance(50) // re-watch from 3 → compacted → relist at 7
  await waitFor(() => cache.revision === 7)
  await settle()
  t.strictSame(
    cache.list().items.map((o) => o.key),
    [podKey('a', 'keep'), podKey('b', 'new')],
  )
  t.equal(a.closed, 'expired', 'its client relists on 410')
  t.equal(b.closed, 'expired')
  t.equal(a.events.length, 0, 'nothing made up for the gap')
  t.equal(cache.stats().relists, 1)
  t.equal(storage.watchCount, 1, 'watching again from the list revision')
  // History restarts at the list: older revisions are gone, the list revision itself works.
  t.throws(() => cache.watch(beforeGap, {}, new Recorder()), { name: 'ExpiredError' })
  const after = new Recorder()
  cache.watch(7, {}, after)
  await storage.update(podKey('a', 'keep'), enc(pod('a', 'keep', { v: '2' })), 2) // 8
  await waitFor(() => after.events.length === 1)
  t.strictSame(after.summary(), [`MODIFIED ${podKey('a', 'keep')} 8`])
})

t.test('a watcher that starts at or after the relist revision survives it', async (t) => {
  const { storage, cache, clock } = await startCache(t)
  await storage.create(podKey('a', 'p'), enc(pod('a', 'p'))) // 2
  await waitFor(() => cache.revision === 2)
  storage.failWatches()
  await settle()
  for (let i = 0; i < 3; i++) await storage.create(`/registry/services/a/s${i}`, enc({})) // 3..5
  await storage.compact(5)
  const ahead = new Recorder()
  cache.watch(5, {}, ahead) // a client that already saw revision 5 (from another apiserver)
  clock.advance(50)
  await waitFor(() => cache.stats().relists === 1)
  t.equal(ahead.closed, undefined)
  await storage.create(podKey('a', 'q'), enc(pod('a', 'q'))) // 6
  await waitFor(() => ahead.events.length === 1)
  t.strictSame(ahead.summary(), [`ADDED ${podKey('a', 'q')} 6`])
})
