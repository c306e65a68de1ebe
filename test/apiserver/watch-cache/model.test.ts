// Seeded random runs against a model: creates, updates, deletes, writes to other
// resources, lost store watches, compactions (some forcing a relist; none in the last
// third, so later watchers stay open to the end), watchers that
// start at random past revisions with random filters, pause, resume and stop. At the
// end the cache equals the model, and every watcher saw exactly the history its filter
// selects: all of it if still open, a prefix of it if it was closed or stopped.
import t, { type Test } from 'tap'
import { MemoryStorage } from '../../../src/apiserver/storage/memory.js'
import { ExpiredError, type KubeObject } from '../../../src/apiserver/watch-cache/types.js'
import type { CacheWatchHandle } from '../../../src/apiserver/watch-cache/watch-cache.js'
import { PODS, Recorder, enc, labelOf, pod, podKey, settle, startCache } from './helpers/fixture.js'

function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let x = Math.imul(a ^ (a >>> 15), 1 | a)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

interface Change {
  revision: number
  key: string
  before: KubeObject | undefined
  after: KubeObject | undefined
}

interface Watch {
  afterRevision: number
  keyPrefix: string | undefined
  web: boolean
  rec: Recorder
  handle: CacheWatchHandle
  stoppedByUs: boolean
}

const withRv = (obj: KubeObject, rev: number): KubeObject => ({ ...obj, metadata: { ...obj.metadata, resourceVersion: String(rev) } })

/** What a watcher with this filter must see, as Kubernetes' cacher would send it. */
function expected(changes: readonly Change[], w: Watch): { type: string; key: string; revision: number; object: KubeObject }[] {
  const match = (o: KubeObject | undefined) => o !== undefined && (!w.web || labelOf(o, 'app') === 'web')
  const out: { type: string; key: string; revision: number; object: KubeObject }[] = []
  for (const c of changes) {
    if (c.revision <= w.afterRevision) continue
    if (w.keyPrefix !== undefined && !c.key.startsWith(w.keyPrefix)) continue
    const now = match(c.after)
    const before = match(c.before)
    const object = withRv((c.after ?? c.before)!, c.revision)
    if (now && before) out.push({ type: 'MODIFIED', key: c.key, revision: c.revision, object })
    else if (now) out.push({ type: 'ADDED', key: c.key, revision: c.revision, object })
    else if (before) out.push({ type: 'DELETED', key: c.key, revision: c.revision, object })
  }
  return out
}

async function run(t: Test, seed: number): Promise<void> {
  const rand = mulberry32(seed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!
  const storage = new MemoryStorage()
  const { cache, clock } = await startCache(t, { storage, capacity: 25, watcherQueueLimit: 40 })
  const state = new Map<string, { obj: KubeObject; rev: number }>()
  const changes: Change[] = []
  const watches: Watch[] = []
  const namespaces = ['a', 'b', 'ab']
  let refused = 0
  let generation = 0

  for (let step = 0; step < 1500; step++) {
    const r = rand()
    if (r < 0.55) {
      const ns = pick(namespaces)
      const name = `p${Math.floor(rand() * 6)}`
      const key = podKey(ns, name)
      const cur = state.get(key)
      const obj = pod(ns, name, { app: rand() < 0.5 ? 'web' : 'db' }, { generation: ++generation })
      if (cur !== undefined && rand() < 0.3) {
        const res = await storage.delete(key, cur.rev)
        if (!res.ok) throw new Error('model out of sync')
        changes.push({ revision: res.revision, key, before: withRv(cur.obj, cur.rev), after: undefined })
        state.delete(key)
      } else {
        const res = cur === undefined ? await storage.create(key, enc(obj)) : await storage.update(key, enc(obj), cur.rev)
        if (!res.ok) throw new Error('model out of sync')
        changes.push({ revision: res.revision, key, before: cur && withRv(cur.obj, cur.rev), after: obj })
        state.set(key, { obj, rev: res.revision })
      }
    } else if (r < 0.6) {
      await storage.create(`/registry/services/x/s${step}`, enc({ kind: 'Service' }))
    } else if (r < 0.7) {
      const afterRevision = Math.max(0, cache.revision - Math.floor(rand() * 40))
      const keyPrefix = rand() < 0.5 ? undefined : podKey(pick(namespaces), '')
      const web = rand() < 0.4
      const rec = new Recorder()
      const filter = { keyPrefix, matches: web ? (o: KubeObject) => labelOf(o, 'app') === 'web' : undefined }
      try {
        const handle = cache.watch(afterRevision, filter, rec)
        watches.push({ afterRevision, keyPrefix, web, rec, handle, stoppedByUs: false })
      } catch (err) {
        if (!(err instanceof ExpiredError)) throw err
        if (afterRevision === cache.revision) throw new Error('watch from the cache revision refused', { cause: err })
        refused++
      }
    } else if (r < 0.73 && watches.length > 0) {
      const w = pick(watches)
      w.stoppedByUs = true
      w.handle.stop()
    } else if (r < 0.8 && watches.length > 0) {
      // Pause or resume a consumer (a full socket, then drained).
      const w = pick(watches)
      if (rand() < 0.5) w.rec.accept = () => false
      else {
        w.rec.accept = () => true
        w.handle.resume()
      }
    } else if (r < 0.812 && step < 1000) {
      // The store watch is lost; with a compaction meanwhile the cache has to relist.
      storage.failWatches()
      if (rand() < 0.35 && storage.headRevision > storage.compactedRevision) await storage.compact(storage.headRevision)
    } else if (r < 0.812) {
      await settle(1) // the last third runs without lost watches: watchers live to the end
    } else if (r < 0.85) {
      const target = storage.headRevision - Math.floor(rand() * 10)
      if (target > storage.compactedRevision) await storage.compact(target)
    } else if (r < 0.92) {
      clock.advance(Math.floor(rand() * 200))
    } else {
      await settle(1)
    }
    if (rand() < 0.3) await settle(1)
  }

  for (const w of watches) {
    w.rec.accept = () => true
    w.handle.resume()
  }
  for (let i = 0; i < 100 && cache.revision !== storage.headRevision; i++) {
    clock.advance(10_000)
    await settle()
  }
  await cache.waitUntilFresh(storage.headRevision)
  await settle()

  const listed = cache.list()
  t.equal(listed.revision, storage.headRevision)
  const want = [...state.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, v]) => ({ key, object: withRv(v.obj, v.rev) }))
  t.strictSame(
    listed.items.map((o) => ({ key: o.key, object: o.object })),
    want,
    'the cache equals the model',
  )

  let exact = 0
  let partial = 0
  const closedAs = { expired: 0, stopped: 0, byUs: 0 }
  let mismatches = 0
  const line = (e: { type: string; key: string; revision: number }) => `${e.type} ${e.key.slice(PODS.length)} ${e.revision}`
  for (const w of watches) {
    const exp = expected(changes, w).map((e) => ({ ...e, json: JSON.stringify(e) }))
    const got = w.rec.events.map((e) => ({ type: e.type, key: e.key, revision: e.revision, object: e.object })).map((e) => ({ ...e, json: JSON.stringify(e) }))
    const open = w.rec.closed === undefined && !w.stoppedByUs
    let diverge = got.findIndex((e, i) => e.json !== exp[i]?.json)
    if (diverge === -1 && (open ? got.length !== exp.length : got.length > exp.length)) diverge = Math.min(got.length, exp.length)
    if (diverge !== -1) {
      if (mismatches++ === 0) {
        t.comment(`first mismatch at event ${diverge}: after ${w.afterRevision} prefix ${w.keyPrefix ?? '-'} web ${w.web} closed ${w.rec.closed ?? '-'}`)
        t.comment(`got  … ${got.slice(Math.max(0, diverge - 2), diverge + 3).map(line).join(', ')}`)
        t.comment(`want … ${exp.slice(Math.max(0, diverge - 2), diverge + 3).map(line).join(', ')}`)
      }
    } else if (open) exact++
    else partial++
    if (w.stoppedByUs) closedAs.byUs++
    else if (w.rec.closed !== undefined) closedAs[w.rec.closed]++
  }
  const stats = cache.stats()
  t.comment(`seed ${seed}: ${changes.length} changes, ${watches.length} watchers (${exact} exact, ${partial} closed early: ${closedAs.expired} expired, ${closedAs.stopped} too slow, ${closedAs.byUs} stopped by the client), ${refused} refused as too old, ${stats.relists} relists, ${stats.rewatches} re-watches, ${stats.watchersTerminated} terminated`)
  t.equal(mismatches, 0, 'every watcher saw exactly its history')
  t.ok(exact > 10 && refused > 0 && closedAs.expired > 0 && stats.relists > 0 && stats.rewatches > 0, 'the run exercised replay, 410s, relists and re-watches')
}

for (const seed of [1, 7, 42, 1234]) {
  t.test(`random history, seed ${seed}`, (t) => run(t, seed))
}
