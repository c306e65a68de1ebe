// Expiry at scale through the queue, promote's spreading of expiries, and checkpoints.
import t from 'tap'
import { clocked } from './helpers/clock.js'

t.test('expired(): thousands of leases come out in expiry order, limited, retried', async (t) => {
  const c = clocked({ revokeRate: 1_000_000 }) // no spreading here
  c.lessor.promote(0)
  const n = 5000
  // TTLs 2..5001 s granted in a scrambled order (7919 is coprime with 5000).
  for (let i = 0; i < n; i++) c.lessor.grant(String(i + 1), ((i * 7919) % n) + 2)
  c.lessor.renew('1') // renewal moves an entry, it does not add one
  c.advance(2000)
  t.strictSame(c.lessor.expired(), ['1'], 'only the 2 s lease')
  c.lessor.revoke('1') // its revoke was committed and applied
  c.advance(998)
  t.strictSame(c.lessor.expired(), [])

  c.advance(n * 1000) // everything has expired
  const seen: string[] = []
  for (;;) {
    const batch = c.lessor.expired(1000)
    if (batch.length === 0) break
    t.ok(batch.length <= 1000)
    seen.push(...batch)
  }
  t.equal(seen.length, n - 1, 'each offered once')
  const ttls = seen.map((id) => c.lessor.lookup(id)!.ttl)
  t.ok(
    ttls.every((ttl, i) => i === 0 || ttls[i - 1]! < ttl),
    'soonest expiry first',
  )
  // Nothing was revoked: after the retry interval they are offered again.
  c.advance(2999)
  t.strictSame(c.lessor.expired(), [])
  c.advance(1)
  t.equal(c.lessor.expired(10_000).length, n - 1)
  // Revoked leases leave the queue.
  for (const id of seen.slice(1)) c.lessor.revoke(id)
  c.advance(3000)
  t.strictSame(c.lessor.expired(), [seen[0]])
})

t.test('expired() default limit is half the revoke rate (one 500 ms tick)', async (t) => {
  const c = clocked({ revokeRate: 10 })
  for (let i = 1; i <= 8; i++) c.lessor.grant(String(i), 5)
  c.lessor.promote(0)
  c.advance(5000)
  t.equal(c.lessor.expired().length, 5)
  t.equal(c.lessor.expired().length, 3)
})

t.test('promote spreads a pile-up to 3/4 of the revoke rate per second', async (t) => {
  const c = clocked() // revokeRate 1000 -> at most 750 expiries per second
  for (let i = 1; i <= 2000; i++) c.lessor.grant(String(i), 10)
  c.lessor.promote(1000)
  const exp = (id: number) => c.lessor.lookup(String(id))!.expiry
  t.equal(exp(1), 11_000)
  t.equal(exp(750), 11_000, 'the first 750 keep their expiry')
  t.equal(exp(751), 12_001, 'delay trunc(1000*751/750) = 1001 ms')
  t.equal(exp(1500), 13_000)
  t.equal(exp(2000), 13_666)
  const times = c.lessor.leases().map((l) => l.expiry)
  let worst = 0
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[j]! < times[i]! - 999) j++
    worst = Math.max(worst, i - j + 1)
  }
  t.ok(worst <= 751, `at most ~750 in any 1 s window (got ${worst})`)
})

t.test('promote spreading: later leases in a crowded window are pushed less', async (t) => {
  const c = clocked()
  for (let i = 1; i <= 1000; i++) c.lessor.grant(String(i), 10)
  for (let i = 1001; i <= 2000; i++) c.lessor.grant(String(i), 11)
  c.lessor.promote(1000)
  const exp = (id: number) => c.lessor.lookup(String(id))!.expiry
  t.equal(exp(1000), 1333 + 1000 + 10_000, 'delay trunc(1000*1000/750) = 1333 ms')
  // Lease 1001 was already 1 s later than the window's base, so it is pushed by
  // trunc(1000*1001/750 - 1000) = 334 ms, landing right after lease 1000.
  t.equal(exp(1001), 1000 + 334 + 12_000 - 1000)
  t.ok(exp(1001) > exp(1000))
})

t.test('no spreading below the revoke rate; leases far apart open new windows', async (t) => {
  const small = clocked()
  for (let i = 1; i <= 999; i++) small.lessor.grant(String(i), 10)
  small.lessor.promote(0)
  t.ok(small.lessor.leases().every((l) => l.expiry === 10_000))
  const spread = clocked({ revokeRate: 4 }) // 3 per second
  for (let i = 1; i <= 4; i++) spread.lessor.grant(String(i), 10 + 10 * i)
  spread.lessor.promote(0)
  t.strictSame(
    spread.lessor.leases().map((l) => l.expiry),
    [20_000, 30_000, 40_000, 50_000],
    'each in its own window: untouched',
  )
})

t.test('checkpointsDue: every interval for long leases, remaining rounded up', async (t) => {
  const c = clocked({ checkpointIntervalMs: 60_000 })
  c.lessor.grant('1', 600) // follower: nothing scheduled
  c.lessor.promote(0)
  c.lessor.grant('2', 60) // not longer than the interval: never checkpointed
  c.lessor.grant('3', 900)
  c.advance(59_999)
  t.strictSame(c.lessor.checkpointsDue(), [])
  c.advance(1)
  t.strictSame(c.lessor.checkpointsDue(), [
    { ID: '1', remaining_TTL: 540 },
    { ID: '3', remaining_TTL: 840 },
  ])
  t.strictSame(c.lessor.checkpointsDue(), [], 'popped until rescheduled')
  // Applying the checkpoint schedules the next one.
  c.lessor.checkpoint('1', 540)
  c.lessor.checkpoint('3', 840)
  c.advance(59_500)
  t.strictSame(c.lessor.checkpointsDue(), [])
  c.advance(500)
  c.lessor.renew('3') // renewed just now, so at its full TTL: skipped
  t.strictSame(c.lessor.checkpointsDue(), [{ ID: '1', remaining_TTL: 480 }])
  c.advance(0.5)
  c.lessor.checkpoint('1', 480)
  c.advance(60_000)
  t.strictSame(c.lessor.checkpointsDue(), [{ ID: '1', remaining_TTL: 420 }], '419.9995 s rounds up')
})

t.test('checkpointsDue: limit, expired, revoked, demoted, disabled', async (t) => {
  const c = clocked({ checkpointIntervalMs: 10_000 })
  c.lessor.promote(0)
  for (let i = 1; i <= 5; i++) c.lessor.grant(String(i), 20)
  c.lessor.revoke('5')
  c.advance(10_000)
  const first = c.lessor.checkpointsDue(3)
  t.equal(first.length, 3, 'limited')
  const rest = c.lessor.checkpointsDue(3)
  t.strictSame(
    [...first, ...rest].sort((a, b) => a.ID.localeCompare(b.ID)),
    ['1', '2', '3', '4'].map((ID) => ({ ID, remaining_TTL: 10 })),
    'the rest next time; the revoked lease not at all',
  )
  for (let i = 1; i <= 4; i++) c.lessor.checkpoint(String(i), 15)
  c.advance(20_000) // past every expiry (expiry 20 s), before the checkpoints fire
  t.strictSame(c.lessor.checkpointsDue(), [], 'expired leases are not checkpointed')

  const d = clocked({ checkpointIntervalMs: 10_000 })
  d.lessor.promote(0)
  d.lessor.grant('1', 20)
  d.lessor.demote()
  d.lessor.promote(0)
  d.advance(10_000)
  t.strictSame(d.lessor.checkpointsDue(), [{ ID: '1', remaining_TTL: 10 }], 'promote schedules again')

  const off = clocked({ checkpointIntervalMs: 10_000, checkpointing: false })
  off.lessor.promote(0)
  off.lessor.grant('1', 20)
  off.advance(10_000)
  t.strictSame(off.lessor.checkpointsDue(), [])
})
