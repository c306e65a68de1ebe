// Work queue semantics as client-go's util/workqueue, driven by a fake clock.
import t from 'tap'
import { FakeClock } from '../../src/client/clock.js'
import {
  BucketRateLimiter,
  defaultControllerRateLimiter,
  ItemExponentialFailureRateLimiter,
  ItemFastSlowRateLimiter,
  MaxOfRateLimiter,
} from '../../src/client/rate-limiters.js'
import { TokenBucket } from '../../src/client/token-bucket.js'
import { DelayingQueue, RateLimitingQueue, runWorkers, WorkQueue } from '../../src/client/workqueue.js'

const tick = (): Promise<void> => new Promise((r) => setImmediate(r))

t.test('a key added many times is processed once', async (t) => {
  const q = new WorkQueue()
  q.add('a')
  q.add('b')
  q.add('a')
  q.add('a')
  t.equal(q.len(), 2)
  t.same(await q.get(), { key: 'a', shutdown: false })
  t.same(await q.get(), { key: 'b', shutdown: false })
  t.equal(q.len(), 0)
})

t.test('a key re-added while processing is queued again only after done', async (t) => {
  const q = new WorkQueue()
  q.add('a')
  const { key } = await q.get()
  t.equal(key, 'a')
  q.add('a')
  q.add('a')
  t.equal(q.len(), 0, 'not handed to a second worker while the first holds it')
  let second: string | undefined
  void q.get().then((r) => (second = r.key))
  await tick()
  t.equal(second, undefined, 'a waiting worker does not get it either')
  q.done('a')
  await tick()
  t.equal(second, 'a', 'queued again once, after done')
  q.done('a')
  t.equal(q.len(), 0, 'done without a re-add does not requeue')
})

t.test('get() waits for a key; waiting workers are served in order', async (t) => {
  const q = new WorkQueue<number>()
  const got: number[] = []
  const w1 = q.get().then((r) => got.push(r.key ?? -1))
  const w2 = q.get().then((r) => got.push((r.key ?? -1) * 10))
  await tick()
  t.same(got, [])
  q.add(1)
  q.add(2)
  await Promise.all([w1, w2])
  t.same(got, [1, 20])
})

t.test('shutDown: queued keys are still handed out, then shutdown; adds are ignored', async (t) => {
  const q = new WorkQueue()
  const idle = q.get()
  q.add('x')
  t.same(await idle, { key: 'x', shutdown: false })
  q.add('y')
  const waiting = new WorkQueue()
  const blocked = waiting.get()
  waiting.shutDown()
  t.same(await blocked, { key: undefined, shutdown: true }, 'an idle worker is released')
  q.shutDown()
  t.ok(q.shuttingDown())
  q.add('z')
  t.same(await q.get(), { key: 'y', shutdown: false }, 'a key queued before shutdown is still processed')
  t.same(await q.get(), { key: undefined, shutdown: true })
  t.equal(q.len(), 0, 'z was ignored')
})

t.test('shutDownWithDrain waits for the keys in flight', async (t) => {
  const q = new WorkQueue()
  q.add('a')
  q.add('b')
  await q.get()
  await q.get()
  let drained = false
  const p = q.shutDownWithDrain().then(() => (drained = true))
  q.done('a')
  await tick()
  t.equal(drained, false, 'b still in flight')
  q.done('b')
  await p
  t.equal(drained, true)
  const empty = new WorkQueue()
  await empty.shutDownWithDrain()
  t.pass('nothing in flight: resolves at once')
})

t.test('addAfter queues a key when its time comes; the earlier of two times wins', async (t) => {
  const clock = new FakeClock()
  const q = new DelayingQueue({ clock })
  q.addAfter('a', 100)
  q.addAfter('b', 50)
  q.addAfter('a', 300) // later: ignored
  q.addAfter('c', 0) // now
  t.equal(q.len(), 1)
  t.equal(q.waitingLen(), 2)
  clock.step(49)
  t.equal(q.len(), 1)
  clock.step(1)
  t.equal(q.len(), 2, 'b is due at 50')
  q.addAfter('d', 200)
  q.addAfter('d', 20) // earlier: wins
  clock.step(20)
  t.equal(q.len(), 3, 'd moved up to 70')
  clock.step(30)
  t.equal(q.len(), 4, 'a at 100, not 300')
  t.same([(await q.get()).key, (await q.get()).key, (await q.get()).key, (await q.get()).key], ['c', 'b', 'd', 'a'])
  clock.step(1000)
  t.equal(q.len(), 0, 'a fired once')
  t.equal(clock.pending(), 0, 'no timer left behind')
  q.addAfter('e', 10)
  q.shutDown()
  clock.step(100)
  t.equal(q.len(), 0, 'shutdown drops waiting keys')
})

t.test('a delayed key already queued is not queued twice', async (t) => {
  const clock = new FakeClock()
  const q = new DelayingQueue({ clock })
  q.add('a')
  q.addAfter('a', 10)
  clock.step(10)
  t.equal(q.len(), 1)
})

t.test('per-item exponential backoff: 5 ms doubling, capped; forget resets', async (t) => {
  const l = new ItemExponentialFailureRateLimiter<string>(5, 1000)
  t.same([l.when('a'), l.when('a'), l.when('a'), l.when('b')], [5, 10, 20, 5])
  t.equal(l.numRequeues('a'), 3)
  for (let i = 0; i < 20; i++) l.when('a')
  t.equal(l.when('a'), 1000, 'capped at max')
  for (let i = 0; i < 2000; i++) l.when('a')
  t.equal(l.when('a'), 1000, 'no overflow after very many failures')
  l.forget('a')
  t.equal(l.numRequeues('a'), 0)
  t.equal(l.when('a'), 5)
})

t.test('fast-slow limiter', async (t) => {
  const l = new ItemFastSlowRateLimiter<string>(5, 1000, 2)
  t.same([l.when('a'), l.when('a'), l.when('a')], [5, 5, 1000])
  t.equal(l.numRequeues('a'), 3)
})

t.test('token bucket: burst at once, then one token per 1/qps', async (t) => {
  const clock = new FakeClock()
  const b = new TokenBucket(10, 3, clock)
  t.same([b.reserve(), b.reserve(), b.reserve()], [0, 0, 0])
  t.equal(b.reserve(), 100)
  t.equal(b.reserve(), 200, 'reservations queue up behind one another')
  clock.step(1000)
  t.equal(b.reserve(), 0, 'refilled (the debt of 2 paid, 8 more earned, capped at burst 3)')
  const off = new TokenBucket(0, 0, clock)
  t.equal(off.reserve(), 0, 'qps 0: unlimited')
})

t.test('the default controller limiter: max of exponential per item and 10 qps / 100 burst overall', async (t) => {
  const clock = new FakeClock()
  const l = defaultControllerRateLimiter<string>(clock)
  for (let i = 0; i < 100; i++) t.equal(l.when(`k${i}`), 5, 'within burst: the per-item 5 ms')
  t.equal(l.when('k100'), 100, 'burst spent: the bucket says 100 ms')
  t.equal(l.when('k101'), 200)
  t.equal(l.numRequeues('k100'), 1)
  clock.step(60_000)
  let d = 0
  for (let i = 0; i < 10; i++) d = l.when('hot')
  t.equal(d, 5 * 2 ** 9, 'per-item backoff dominates for a hot key')
  for (let i = 0; i < 20; i++) d = l.when('hot')
  t.equal(d, 1_000_000, 'capped at 1000 s')
  l.forget('hot')
  t.equal(l.numRequeues('hot'), 0)
  const m = new MaxOfRateLimiter<string>(new BucketRateLimiter(1, 1, clock))
  t.equal(m.numRequeues('x'), 0)
})

t.test('rate-limited queue: addRateLimited, forget, numRequeues', async (t) => {
  const clock = new FakeClock()
  const q = new RateLimitingQueue<string>(new ItemExponentialFailureRateLimiter(5, 1000), { clock })
  q.addRateLimited('a')
  t.equal(q.len(), 0)
  clock.step(5)
  t.equal(q.len(), 1)
  await q.get()
  q.addRateLimited('a')
  q.done('a')
  clock.step(9)
  t.equal(q.len(), 0, 'second failure waits 10 ms')
  clock.step(1)
  t.equal(q.len(), 1)
  t.equal(q.numRequeues('a'), 2)
  q.forget('a')
  t.equal(q.numRequeues('a'), 0)
  const dq = new RateLimitingQueue<string>(undefined, { clock })
  t.equal(dq.rateLimiter.when('z'), 5, 'default limiter when none is given')
})

t.test('runWorkers: retries failures rate-limited, never runs one key twice at once, stops on shutdown', async (t) => {
  const clock = new FakeClock()
  const q = new RateLimitingQueue<string>(new ItemExponentialFailureRateLimiter(5, 1000), { clock })
  const attempts = new Map<string, number>()
  const active = new Set<string>()
  let overlap = false
  const errors: [string, boolean][] = []
  for (const k of ['a', 'b', 'flaky', 'broken']) q.add(k)
  q.add('a')
  const done = runWorkers(
    q,
    3,
    async (key) => {
      if (active.has(key)) overlap = true
      active.add(key)
      await tick()
      active.delete(key)
      const n = (attempts.get(key) ?? 0) + 1
      attempts.set(key, n)
      if (key === 'flaky' && n < 3) throw new Error('not yet')
      if (key === 'broken') throw new Error('never')
      if (key === 'b' && n === 1) q.add('b') // re-added while processing: runs once more, after
    },
    { maxRetries: 2, onError: (key, _err, requeued) => errors.push([key, requeued]) },
  )
  for (let i = 0; i < 10; i++) {
    await tick()
    await tick()
    clock.step(50)
  }
  t.equal(attempts.get('a'), 1, 'added twice while queued: processed once')
  t.equal(attempts.get('b'), 2)
  t.equal(attempts.get('flaky'), 3)
  t.equal(attempts.get('broken'), 3, 'given up after maxRetries requeues')
  t.same(
    errors.filter(([k]) => k === 'broken').map(([, r]) => r),
    [true, true, false],
  )
  t.equal(q.numRequeues('flaky'), 0, 'forgotten after success')
  t.equal(overlap, false)
  q.shutDown()
  await done
})
