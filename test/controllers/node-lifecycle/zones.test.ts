// Zones pace NoExecute tainting: their keys, their disruption states, and the
// per-zone rate-limited queue (pure; a FakeClock drives time).
import t from 'tap'
import { FakeClock } from '../../../src/client/index.js'
import { TaintingQueue, TryLimiter } from '../../../src/controllers/node-lifecycle/tainting-queue.js'
import { computeZoneState, evictionRateFor, zoneKey } from '../../../src/controllers/node-lifecycle/zones.js'

const rates = { nodeEvictionRate: 0.1, secondaryNodeEvictionRate: 0.01, largeClusterSizeThreshold: 50 }
const ready = (s: string) => ({ type: 'Ready', status: s })

t.test('zone keys come from the topology labels', async (t) => {
  t.equal(zoneKey({ metadata: { labels: {} } }), '')
  t.equal(zoneKey({ metadata: { labels: { 'topology.kubernetes.io/region': 'eu', 'topology.kubernetes.io/zone': 'eu-1a' } } }), 'eu:\u0000:eu-1a')
  t.equal(zoneKey({ metadata: { labels: { 'failure-domain.beta.kubernetes.io/zone': 'z' } } }), ':\u0000:z', 'the beta label still counts')
})

t.test('a zone is fully disrupted with no ready node, partially with most of 3+ nodes down', async (t) => {
  t.same(computeZoneState([ready('Unknown')], 0.55), { notReady: 1, state: 'FullDisruption' })
  t.same(computeZoneState([ready('True'), ready('Unknown')], 0.55), { notReady: 1, state: 'Normal' })
  t.same(computeZoneState([ready('True'), ready('False'), ready('Unknown'), undefined], 0.55), { notReady: 3, state: 'PartialDisruption' }, 'a node with no Ready condition is not ready')
  t.same(computeZoneState([ready('True'), ready('True'), ready('False'), ready('Unknown'), ready('False')], 0.55), { notReady: 3, state: 'PartialDisruption' })
  t.same(computeZoneState([ready('True'), ready('True'), ready('True'), ready('Unknown'), ready('False'), ready('False')], 0.55), { notReady: 3, state: 'Normal' }, 'half is below 55 %')
})

t.test('tainting slows in a partially disrupted large zone and stops in a small one', async (t) => {
  t.equal(evictionRateFor('Normal', 10, rates), 0.1)
  t.equal(evictionRateFor('PartialDisruption', 51, rates), 0.01)
  t.equal(evictionRateFor('PartialDisruption', 50, rates), 0)
  t.equal(evictionRateFor('FullDisruption', 3, rates), 0.1)
})

t.test('a rate limiter that refuses rather than waits', async (t) => {
  const clock = new FakeClock(0)
  const l = new TryLimiter(0.5, 1, clock)
  t.ok(l.tryAccept(), 'the burst')
  t.notOk(l.tryAccept())
  clock.step(1_999)
  t.notOk(l.tryAccept())
  clock.step(1)
  t.ok(l.tryAccept(), 'one token every 2 s')
  t.notOk(new TryLimiter(0, 1, clock).tryAccept(), 'rate 0 never accepts')
})

t.test('nodes are tainted one at a time at the zone’s rate, and stay members until removed', async (t) => {
  const clock = new FakeClock(0)
  const q = new TaintingQueue(0.1, clock)
  const tainted: string[] = []
  const attempt = async (n: string): Promise<{ done: true }> => {
    tainted.push(n)
    return { done: true }
  }
  t.ok(q.add('a'))
  t.ok(q.add('b'))
  t.notOk(q.add('a'), 'already queued')
  await q.work(attempt)
  t.same(tainted, ['a'], 'burst of one')
  clock.step(5_000)
  await q.work(attempt)
  t.same(tainted, ['a'])
  clock.step(5_000)
  await q.work(attempt)
  t.same(tainted, ['a', 'b'], 'the next after 10 s at 0.1/s')
  t.notOk(q.add('a'), 'a tainted node is not queued again')
  t.ok(q.remove('a'), 'until it is removed (it recovered)')
  t.ok(q.add('a'))
  t.same(q.pending(), ['a'])
})

t.test('a failed attempt is retried later; a swapped limiter keeps the debt', async (t) => {
  const clock = new FakeClock(0)
  const q = new TaintingQueue(10, clock)
  let fail = true
  const seen: string[] = []
  q.add('x')
  await q.work(async (n) => {
    seen.push(n)
    return fail ? { done: false, retryMs: 500 } : { done: true }
  })
  t.same(seen, ['x'])
  t.same(q.pending(), ['x'], 'still queued')
  fail = false
  clock.step(200)
  await q.work(async (n) => {
    seen.push(n)
    return { done: true }
  })
  t.same(seen, ['x'], 'not before its retry time')
  clock.step(400)
  await q.work(async (n) => {
    seen.push(n)
    return { done: true }
  })
  t.same(seen, ['x', 'x'])
  t.same(q.pending(), [])

  q.swapLimiter(0)
  q.remove('x')
  q.add('x')
  clock.step(60_000)
  await q.work(async () => ({ done: true }))
  t.same(q.pending(), ['x'], 'rate 0: nothing is tainted')
})
