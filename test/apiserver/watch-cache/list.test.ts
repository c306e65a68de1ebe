// The watch cache's copy of the store: the initial list (paged, at one revision),
// objects versioned and frozen, lists in key order with prefix and selector filters,
// gets, and values that do not decode.
import { pino } from 'pino'
import t from 'tap'
import { MemoryStorage } from '../../../src/apiserver/storage/memory.js'
import { WatchCache } from '../../../src/apiserver/watch-cache/watch-cache.js'
import { FakeClock, PODS, Recorder, decodeJSON, enc, labelOf, pod, podKey, settle, startCache, waitFor } from './helpers/fixture.js'

t.test('the initial list is read in pages at one revision', async (t) => {
  const storage = new MemoryStorage()
  for (let i = 0; i < 10; i++) await storage.create(podKey('ns', `p${i}`), enc(pod('ns', `p${i}`)))
  await storage.create('/registry/services/ns/s', enc({ kind: 'Service' }))
  const listRevision = storage.headRevision
  const calls: { revision?: number; startKey?: string }[] = []
  const realList = storage.list.bind(storage)
  storage.list = async (prefix, opts) => {
    calls.push({ revision: opts?.revision, startKey: opts?.startKey })
    const page = await realList(prefix, opts)
    // A write between pages must not show up: later pages are read at the first page's revision.
    if (calls.length === 1) await storage.create(podKey('ns', 'p05'), enc(pod('ns', 'p05')))
    return page
  }
  const { cache } = await startCache(t, { storage, pageSize: 3 })
  t.equal(calls.length, 4, '10 pods in pages of 3')
  t.equal(calls[0]!.revision, undefined)
  t.ok(calls.slice(1).every((c) => c.revision === listRevision), 'later pages at the first revision')
  t.equal(calls[1]!.startKey, podKey('ns', 'p2') + '\0')
  // The pod written between pages arrives through the watch that starts at the list revision.
  await waitFor(() => cache.get(podKey('ns', 'p05')) !== undefined)
  const { items, revision } = cache.list()
  t.equal(items.length, 11)
  t.equal(revision, storage.headRevision)
  t.strictSame(
    items.map((o) => o.key),
    items.map((o) => o.key).sort(),
    'key order',
  )
})

t.test('objects carry their mod revision as resourceVersion and are frozen', async (t) => {
  const storage = new MemoryStorage()
  const c = await storage.create(podKey('a', 'x'), enc(pod('a', 'x', { app: 'web' })))
  const { cache } = await startCache(t, { storage })
  const o = cache.get(podKey('a', 'x'))!
  t.ok(c.ok)
  t.equal(o.modRevision, c.revision)
  t.equal(o.object.metadata?.resourceVersion, String(c.revision))
  t.ok(Object.isFrozen(o.object))
  t.ok(Object.isFrozen(o.object.metadata))
  t.ok(Object.isFrozen((o.object.spec as { containers: unknown[] }).containers[0]), 'deeply')
  t.throws(() => {
    ;(o.object.metadata as Record<string, unknown>).name = 'changed'
  })
  t.equal(cache.get(podKey('a', 'nope')), undefined)
})

t.test('list filters by key prefix (a namespace) and by a selector, in key order', async (t) => {
  const storage = new MemoryStorage()
  const names: [string, string, string][] = [
    ['b', 'z', 'web'],
    ['a', 'y', 'db'],
    ['b', 'a', 'db'],
    ['a', 'x', 'web'],
    ['ab', 'q', 'web'],
  ]
  for (const [ns, n, app] of names) await storage.create(podKey(ns, n), enc(pod(ns, n, { app })))
  const { cache } = await startCache(t, { storage })
  const keys = (f: Parameters<typeof cache.list>[0]) => cache.list(f).items.map((o) => o.key.slice(PODS.length))
  t.strictSame(keys({}), ['a/x', 'a/y', 'ab/q', 'b/a', 'b/z'])
  t.strictSame(keys({ keyPrefix: podKey('a', '') }), ['a/x', 'a/y'], 'namespace a, not ab')
  t.strictSame(keys({ matches: (o) => labelOf(o, 'app') === 'web' }), ['a/x', 'ab/q', 'b/z'])
  t.strictSame(keys({ keyPrefix: podKey('b', ''), matches: (o) => labelOf(o, 'app') === 'db' }), ['b/a'])
  t.strictSame(keys({ keyPrefix: podKey('zz', '') }), [])
  const l1 = cache.list()
  const l2 = cache.list()
  t.not(l1.items, l2.items, 'each list gets its own array')
})

t.test('lists follow writes: inserts, updates and deletes keep key order', async (t) => {
  const { storage, cache } = await startCache(t)
  await storage.create(podKey('n', 'm'), enc(pod('n', 'm')))
  await storage.create(podKey('n', 'c'), enc(pod('n', 'c')))
  await storage.create(podKey('n', 'x'), enc(pod('n', 'x')))
  const u = await storage.update(podKey('n', 'c'), enc(pod('n', 'c', { v: '2' })), 3)
  await storage.delete(podKey('n', 'm'))
  await waitFor(() => cache.revision === storage.headRevision)
  const { items, revision } = cache.list()
  t.strictSame(
    items.map((o) => o.key),
    [podKey('n', 'c'), podKey('n', 'x')],
  )
  t.equal(revision, storage.headRevision)
  t.ok(u.ok)
  t.equal(items[0]!.modRevision, u.ok ? u.revision : -1)
  t.equal(labelOf(items[0]!.object, 'v'), '2')
})

t.test('values that do not decode are logged and skipped, in the list and in the watch', async (t) => {
  const storage = new MemoryStorage()
  await storage.create(podKey('d', 'good'), enc(pod('d', 'good')))
  await storage.create(podKey('d', 'bad'), Buffer.from('{not json'))
  const errors: string[] = []
  const logger = pino({ level: 'error' }, { write: (line: string) => void errors.push((JSON.parse(line) as { msg: string }).msg) })
  const { cache } = await startCache(t, { storage, logger })
  t.strictSame(
    cache.list().items.map((o) => o.key),
    [podKey('d', 'good')],
  )
  await storage.create(podKey('d', 'bad2'), Buffer.from('[1,2]'))
  await storage.create(podKey('d', 'after'), enc(pod('d', 'after')))
  await waitFor(() => cache.revision === storage.headRevision)
  t.strictSame(
    cache.list().items.map((o) => o.key),
    [podKey('d', 'after'), podKey('d', 'good')],
  )
  t.equal(cache.stats().decodeFailures, 2)
  t.equal(errors.length, 2)
  t.match(errors[0], /cannot decode/)
  // Deleting a key the cache never held yields no event and no error.
  const r = new Recorder()
  cache.watch(cache.revision, {}, r)
  await storage.delete(podKey('d', 'bad2'))
  // A key fixed with a good value appears as ADDED: watchers never saw it before.
  await storage.update(podKey('d', 'bad'), enc(pod('d', 'bad')), 3)
  await waitFor(() => cache.revision === storage.headRevision)
  await settle()
  t.strictSame(r.summary(), [`ADDED ${podKey('d', 'bad')} ${storage.headRevision}`])
  t.equal(cache.list().items.length, 3)
})

t.test('ready() waits for the first list; a failing list is retried', async (t) => {
  const storage = new MemoryStorage()
  await storage.create(podKey('r', 'a'), enc(pod('r', 'a')))
  let failures = 2
  const realList = storage.list.bind(storage)
  storage.list = async (prefix, opts) => {
    if (failures-- > 0) throw new Error('etcd unavailable')
    return realList(prefix, opts)
  }
  const clock = new FakeClock()
  const cache = new WatchCache(storage, PODS, { decode: decodeJSON, clock })
  t.teardown(() => cache.stop())
  let ready = false
  void cache.ready().then(() => (ready = true))
  let fresh = false
  void cache.waitUntilFresh(2, 60_000).then(() => (fresh = true))
  await waitFor(() => clock.pending >= 2, 1000, 'a retry timer') // bookmarks + retry
  t.equal(ready, false)
  t.equal(cache.revision, 0)
  for (let i = 0; i < 10 && !ready; i++) {
    clock.advance(1000)
    await new Promise((r) => setImmediate(r))
  }
  await cache.ready()
  t.equal(cache.list().items.length, 1)
  await settle()
  t.ok(fresh, 'a waitUntilFresh made before the list resolves with it')
})

t.test('stop() before the first list rejects ready()', async (t) => {
  const storage = new MemoryStorage()
  const cache = new WatchCache(storage, PODS, { decode: decodeJSON, clock: new FakeClock() })
  cache.stop()
  await t.rejects(cache.ready(), /stopped/)
  await t.rejects(cache.waitUntilFresh(5), /stopped/)
})

t.test('a list of 10,000 pods from the cache takes a few milliseconds', async (t) => {
  const storage = new MemoryStorage()
  const namespaces = 50
  for (let i = 0; i < 10_000; i++) {
    const ns = `ns-${i % namespaces}`
    await storage.create(podKey(ns, `pod-${i}`), enc(pod(ns, `pod-${i}`, { app: `app-${i % 7}` }, { status: { phase: 'Running', podIP: `10.0.${i >> 8}.${i & 255}` } })))
  }
  const { cache } = await startCache(t, { storage })
  t.equal(cache.list().items.length, 10_000)
  // The median of 21 runs: one GC pause on a busy machine does not move it.
  const time = (fn: () => unknown): number => {
    const runs: number[] = []
    for (let i = 0; i < 21; i++) {
      const start = performance.now()
      fn()
      runs.push(performance.now() - start)
    }
    return runs.sort((a, b) => a - b)[10]!
  }
  const all = time(() => cache.list())
  const oneNs = time(() => cache.list({ keyPrefix: podKey('ns-7', '') }))
  const selected = time(() => cache.list({ matches: (o) => labelOf(o, 'app') === 'app-3' }))
  const encode = time(() => JSON.stringify({ kind: 'PodList', items: cache.list().items.map((o) => o.object) }))
  t.comment(`list all ${all.toFixed(2)} ms, one namespace ${oneNs.toFixed(3)} ms, label selector ${selected.toFixed(2)} ms, list+JSON ${encode.toFixed(1)} ms`)
  t.equal(cache.list({ keyPrefix: podKey('ns-7', '') }).items.length, 200)
  t.equal(cache.list({ matches: (o) => labelOf(o, 'app') === 'app-3' }).items.length, 1429)
  // Loose bounds: only a pathological implementation (a sort per list, a scan per key) fails them.
  t.ok(all < 50, 'list all well under 50 ms')
  t.ok(oneNs < 10, 'one namespace well under 10 ms')
})
