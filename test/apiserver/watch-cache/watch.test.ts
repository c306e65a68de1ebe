// Watching the cache: replay from a revision, the event window and 410s, filter
// transitions as Kubernetes, shared JSON encodings, slow and failing watchers kept
// apart from the rest, the namespace index, 10,000 watchers, stop.
import t from 'tap'
import { ExpiredError, type CacheEvent, type KubeObject } from '../../../src/apiserver/watch-cache/types.js'
import { PODS, Recorder, enc, labelOf, pod, podKey, settle, startCache, waitFor } from './helpers/fixture.js'

t.test('replays events after a revision, then delivers live ones', async (t) => {
  const { storage, cache } = await startCache(t)
  await storage.create(podKey('a', 'p1'), enc(pod('a', 'p1'))) // 2
  await storage.create(podKey('a', 'p2'), enc(pod('a', 'p2'))) // 3
  await storage.update(podKey('a', 'p1'), enc(pod('a', 'p1', { v: '2' })), 2) // 4
  await waitFor(() => cache.revision === 4)
  const r = new Recorder()
  cache.watch(2, {}, r)
  t.equal(r.events.length, 0, 'replay is delivered after watch() returns')
  await settle()
  t.strictSame(r.summary(), [`ADDED ${podKey('a', 'p2')} 3`, `MODIFIED ${podKey('a', 'p1')} 4`])
  await storage.delete(podKey('a', 'p2')) // 5
  await waitFor(() => r.events.length === 3)
  const del = r.events[2]!
  t.equal(del.type, 'DELETED')
  t.equal(del.rv, '5', 'a deleted object carries the deletion revision')
  t.equal(del.ev.prev?.object.metadata?.resourceVersion, '3')
  t.equal(del.object.metadata?.name, 'p2')
  t.equal(r.events[1]!.ev.prev?.modRevision, 2, 'MODIFIED carries the previous state')
  t.equal(r.events[0]!.ev.prev, undefined)
})

t.test('watching from the cache revision, or from the future, is always allowed', async (t) => {
  const { storage, cache } = await startCache(t, { capacity: 2 })
  for (let i = 0; i < 5; i++) await storage.create(podKey('a', `p${i}`), enc(pod('a', `p${i}`)))
  await waitFor(() => cache.revision === storage.headRevision)
  const now = new Recorder()
  cache.watch(cache.revision, {}, now)
  const future = new Recorder()
  cache.watch(cache.revision + 2, {}, future)
  await storage.create(podKey('a', 'n1'), enc(pod('a', 'n1'))) // 7
  await storage.create(podKey('a', 'n2'), enc(pod('a', 'n2'))) // 8
  await storage.create(podKey('a', 'n3'), enc(pod('a', 'n3'))) // 9
  await waitFor(() => now.events.length === 3)
  await settle()
  t.strictSame(
    now.events.map((e) => e.revision),
    [7, 8, 9],
  )
  t.strictSame(
    future.events.map((e) => e.revision),
    [9],
    'only events after the revision asked for',
  )
})

t.test('a revision older than the window is refused with ExpiredError (410)', async (t) => {
  const { storage, cache } = await startCache(t, { capacity: 3 })
  const first = cache.revision // 1
  for (let i = 0; i < 6; i++) await storage.create(podKey('a', `p${i}`), enc(pod('a', `p${i}`))) // 2..7
  await waitFor(() => cache.revision === 7)
  // The window holds revisions 5, 6 and 7: history is complete after 4.
  t.throws(() => cache.watch(first, {}, new Recorder()), ExpiredError)
  t.throws(() => cache.watch(3, {}, new Recorder()), { requested: 3, oldest: 4, message: 'too old resource version: 3 (4)' })
  const r = new Recorder()
  cache.watch(4, {}, r)
  await settle()
  t.strictSame(
    r.events.map((e) => e.revision),
    [5, 6, 7],
  )
  t.equal(cache.stats().watchers, 1, 'a refused watch is not registered')
})

t.test('history stays complete across revisions without events for this resource', async (t) => {
  const { storage, cache } = await startCache(t, { capacity: 2 })
  await storage.create(podKey('a', 'p1'), enc(pod('a', 'p1'))) // 2
  await storage.create('/registry/services/a/s', enc({ kind: 'Service' })) // 3, other resource
  await storage.create(podKey('a', 'p2'), enc(pod('a', 'p2'))) // 4
  await storage.create(podKey('a', 'p3'), enc(pod('a', 'p3'))) // 5: evicts revision 2
  await waitFor(() => cache.revision === 5)
  t.throws(() => cache.watch(1, {}, new Recorder()), ExpiredError)
  const r = new Recorder()
  cache.watch(2, {}, r) // revision 3 did not touch pods, so 4 and 5 are all that follow 2
  await settle()
  t.strictSame(
    r.events.map((e) => e.revision),
    [4, 5],
  )
})

t.test('filters as Kubernetes: leaving the selector is DELETED, entering it is ADDED', async (t) => {
  const { storage, cache } = await startCache(t)
  const web = (o: KubeObject) => labelOf(o, 'app') === 'web'
  const r = new Recorder()
  cache.watch(cache.revision, { matches: web }, r)
  const all = new Recorder()
  cache.watch(cache.revision, {}, all)
  const k = podKey('a', 'p')
  await storage.create(k, enc(pod('a', 'p', { app: 'db' }))) // 2: not matching
  await storage.update(k, enc(pod('a', 'p', { app: 'web' })), 2) // 3: enters
  await storage.update(k, enc(pod('a', 'p', { app: 'web', v: '2' })), 3) // 4: stays
  await storage.update(k, enc(pod('a', 'p', { app: 'db' })), 4) // 5: leaves
  await storage.update(k, enc(pod('a', 'p', { app: 'web' })), 5) // 6: enters
  await storage.delete(k) // 7
  await storage.create(podKey('a', 'q'), enc(pod('a', 'q', { app: 'web' }))) // 8
  await waitFor(() => all.events.length === 7)
  await settle()
  t.strictSame(
    r.events.map((e) => `${e.type} ${e.revision}`),
    ['ADDED 3', 'MODIFIED 4', 'DELETED 5', 'ADDED 6', 'DELETED 7', 'ADDED 8'],
  )
  t.strictSame(
    all.events.map((e) => e.type),
    ['ADDED', 'MODIFIED', 'MODIFIED', 'MODIFIED', 'MODIFIED', 'DELETED', 'ADDED'],
  )
  const left = r.events[2]!
  t.equal(labelOf(left.object, 'app'), 'db', 'the DELETED for leaving the selector carries the new state')
  t.equal(left.rv, '5')
  const leftJson = JSON.parse(left.ev.json('DELETED').toString()) as { type: string; object: { metadata: { resourceVersion: string } } }
  t.equal(leftJson.type, 'DELETED')
  t.equal(leftJson.object.metadata.resourceVersion, '5')
})

t.test('one encoding per event and type, shared by every watcher', async (t) => {
  const { storage, cache } = await startCache(t)
  const got: Buffer[][] = []
  for (let i = 0; i < 5; i++) {
    const bufs: Buffer[] = []
    got.push(bufs)
    const filter = i === 4 ? { matches: (o: KubeObject) => labelOf(o, 'app') === 'web' } : {}
    cache.watch(cache.revision, filter, {
      onEvent: (ev: CacheEvent, type: CacheEvent['type']) => void bufs.push(ev.json(type)),
      onBookmark: () => {},
      onClose: () => {},
    })
  }
  await storage.create(podKey('a', 'p'), enc(pod('a', 'p', { app: 'db' }))) // 2
  await storage.update(podKey('a', 'p'), enc(pod('a', 'p', { app: 'web' })), 2) // 3: ADDED for watcher 4
  await waitFor(() => got[0]!.length === 2 && got[4]!.length === 1)
  for (let i = 1; i < 4; i++) {
    t.equal(got[i]![0], got[0]![0], `watcher ${i} shares the first event's Buffer`)
    t.equal(got[i]![1], got[0]![1], `watcher ${i} shares the second event's Buffer`)
  }
  t.not(got[4]![0], got[0]![1], 'the filtered watcher sees the MODIFIED as ADDED: its own encoding')
  const line = got[0]![1]!.toString()
  t.ok(line.endsWith('}\n'))
  const parsed = JSON.parse(line) as { type: string; object: { metadata: { resourceVersion: string; labels: Record<string, string> } } }
  t.equal(parsed.type, 'MODIFIED')
  t.equal(parsed.object.metadata.resourceVersion, '3')
  t.equal(parsed.object.metadata.labels.app, 'web')
  t.equal(JSON.parse(got[4]![0]!.toString()).type, 'ADDED')
})

t.test('watchers of a namespace get only that namespace (the prefix index)', async (t) => {
  const { storage, cache } = await startCache(t)
  const a = new Recorder()
  const ab = new Recorder()
  const name = new Recorder()
  const everything = new Recorder()
  cache.watch(cache.revision, { keyPrefix: podKey('a', '') }, a)
  cache.watch(cache.revision, { keyPrefix: podKey('ab', '') }, ab)
  cache.watch(cache.revision, { keyPrefix: podKey('a', 'x') }, name) // a prefix that ends inside a name
  cache.watch(cache.revision, { keyPrefix: '/registry/' }, everything) // above the cache's own prefix
  for (const [ns, n] of [
    ['a', 'x'],
    ['ab', 'x'],
    ['b', 'x'],
    ['a', 'xy'],
    ['a', 'y'],
  ]) {
    await storage.create(podKey(ns!, n!), enc(pod(ns!, n!)))
  }
  await waitFor(() => everything.events.length === 5)
  await settle()
  const keys = (r: Recorder) => r.events.map((e) => e.key.slice(PODS.length))
  t.strictSame(keys(a), ['a/x', 'a/xy', 'a/y'])
  t.strictSame(keys(ab), ['ab/x'])
  t.strictSame(keys(name), ['a/x', 'a/xy'])
  t.strictSame(keys(everything), ['a/x', 'ab/x', 'b/x', 'a/xy', 'a/y'])
})

t.test('a paused watcher queues; past the limit it alone is stopped', async (t) => {
  const { storage, cache } = await startCache(t, { watcherQueueLimit: 5 })
  const slow = new Recorder()
  slow.accept = () => false // like res.write returning false: the socket is full
  const paused = new Recorder()
  let pauseNext = true
  paused.accept = () => !pauseNext
  const fast = new Recorder()
  cache.watch(cache.revision, {}, slow)
  const pausedHandle = cache.watch(cache.revision, {}, paused)
  cache.watch(cache.revision, {}, fast)
  for (let i = 0; i < 4; i++) await storage.create(podKey('a', `p${i}`), enc(pod('a', `p${i}`)))
  await waitFor(() => fast.events.length === 4)
  t.equal(slow.events.length, 1, 'a paused watcher gets nothing more until resumed')
  t.equal(paused.events.length, 1)
  pauseNext = false
  pausedHandle.resume()
  await settle()
  t.equal(paused.events.length, 4, 'resume delivers what queued, in order')
  t.strictSame(
    paused.events.map((e) => e.revision),
    [2, 3, 4, 5],
  )
  for (let i = 4; i < 12; i++) await storage.create(podKey('a', `p${i}`), enc(pod('a', `p${i}`)))
  await waitFor(() => fast.events.length === 12)
  t.equal(slow.closed, 'stopped', 'the slow watcher is terminated (its client re-watches)')
  t.equal(fast.closed, undefined)
  t.equal(paused.closed, undefined)
  t.equal(paused.events.length, 12)
  t.equal(cache.stats().watchersTerminated, 1)
  t.equal(cache.stats().watchers, 2)
})

t.test('a watcher that throws is closed; the others carry on', async (t) => {
  const { storage, cache } = await startCache(t)
  const closed: string[] = []
  cache.watch(cache.revision, {}, {
    onEvent: () => {
      throw new Error('broken consumer')
    },
    onBookmark: () => {},
    onClose: (reason) => void closed.push(reason),
  })
  const badFilter = new Recorder()
  cache.watch(
    cache.revision,
    {
      matches: () => {
        throw new Error('broken selector')
      },
    },
    badFilter,
  )
  const ok = new Recorder()
  cache.watch(cache.revision, {}, ok)
  await storage.create(podKey('a', 'p'), enc(pod('a', 'p')))
  await storage.create(podKey('a', 'q'), enc(pod('a', 'q')))
  await waitFor(() => ok.events.length === 2)
  t.strictSame(closed, ['stopped'])
  t.equal(badFilter.closed, 'stopped')
  t.equal(cache.stats().watchers, 1)
})

t.test('stop on a handle ends delivery, including replay not yet delivered', async (t) => {
  const { storage, cache } = await startCache(t)
  await storage.create(podKey('a', 'p'), enc(pod('a', 'p')))
  await waitFor(() => cache.revision === 2)
  const r = new Recorder()
  const h = cache.watch(1, {}, r)
  h.stop()
  await storage.create(podKey('a', 'q'), enc(pod('a', 'q')))
  await settle()
  t.equal(r.events.length, 0)
  t.equal(r.closed, undefined, 'the consumer stopped it: no onClose')
  t.equal(cache.stats().watchers, 0)
})

t.test('stop() cancels the store watch and closes every watcher as stopped', async (t) => {
  const { storage, cache } = await startCache(t)
  t.equal(storage.watchCount, 1)
  const rs = [new Recorder(), new Recorder()]
  cache.watch(cache.revision, {}, rs[0]!)
  cache.watch(cache.revision, { keyPrefix: podKey('a', '') }, rs[1]!)
  cache.stop()
  t.equal(storage.watchCount, 0)
  t.strictSame(
    rs.map((r) => r.closed),
    ['stopped', 'stopped'],
  )
  const late = new Recorder()
  cache.watch(1, {}, late)
  await settle()
  t.equal(late.closed, 'stopped', 'a watch on a stopped cache is closed at once')
})

t.test('10,000 watchers each receive an event', async (t) => {
  const { storage, cache } = await startCache(t)
  const n = 10_000
  let received = 0
  let sameBuffer = true
  let firstBuffer: Buffer | undefined
  for (let i = 0; i < n; i++) {
    // Half watch one namespace each (the index), half watch everything.
    const filter = i % 2 === 0 ? {} : { keyPrefix: podKey(`ns-${i % 100}`, '') }
    cache.watch(cache.revision, filter, {
      onEvent: (ev) => {
        received++
        const b = ev.json()
        firstBuffer ??= b
        if (b !== firstBuffer) sameBuffer = false
      },
      onBookmark: () => {},
      onClose: () => {},
    })
  }
  t.equal(cache.stats().watchers, n)
  const start = performance.now()
  await storage.create(podKey('ns-1', 'p'), enc(pod('ns-1', 'p')))
  // Odd watchers spread over the 50 odd namespaces: 100 of them watch ns-1.
  await waitFor(() => received === n / 2 + 100)
  const ms = performance.now() - start
  t.comment(`one event to ${received} of ${n} watchers in ${ms.toFixed(1)} ms`)
  await settle()
  t.equal(received, n / 2 + 100, 'no watcher of another namespace got it')
  t.ok(sameBuffer, 'one encoding for all')
  t.equal(cache.stats().eventsDelivered, received)
})
