// The leader-side rules: promote, demote, renew, remaining TTL and TimeToLive.
import t from 'tap'
import { LeaseGrpcCode, NotPrimaryError } from '../../../src/kv/lease/errors.js'
import { clocked } from './helpers/clock.js'

const notFound = { code: LeaseGrpcCode.NOT_FOUND, message: 'etcdserver: requested lease not found' }
const notPrimary = { code: LeaseGrpcCode.UNKNOWN, message: 'not a primary lessor' }

t.test('a primary grants with expiry now + TTL', async (t) => {
  const c = clocked()
  c.lessor.promote(1000)
  t.ok(c.lessor.isPrimary)
  c.advance(500)
  t.equal(c.lessor.grant('1', 10).expiry, 10500, 'no extension for new grants')
  t.equal(c.lessor.grant('2', 1).expiry, 2500, 'with the minimum TTL applied')
})

t.test('promote: expiry = now + extend + TTL, or the checkpointed remainder', async (t) => {
  const c = clocked()
  c.lessor.grant('1', 10)
  c.lessor.grant('2', 600)
  c.lessor.checkpoint('2', 100)
  c.lessor.grant('3', 600)
  c.lessor.checkpoint('3', 0)
  c.advance(5000)
  c.lessor.promote(1000)
  t.equal(c.lessor.lookup('1')!.expiry, 5000 + 1000 + 10_000)
  t.equal(c.lessor.lookup('2')!.expiry, 5000 + 1000 + 100_000, 'checkpointed remainder')
  t.equal(c.lessor.lookup('3')!.expiry, 5000 + 1000 + 600_000, 'cleared checkpoint: full TTL')
  t.strictSame(
    c.lessor.leases().map((l) => l.id),
    ['1', '2', '3'],
    'leases() soonest expiry first',
  )
})

t.test('demote: every expiry becomes forever, nothing expires, renew refused', async (t) => {
  const c = clocked()
  c.lessor.promote(0)
  c.lessor.grant('1', 5)
  c.lessor.demote()
  t.notOk(c.lessor.isPrimary)
  t.equal(c.lessor.lookup('1')!.expiry, Infinity)
  c.advance(60_000)
  t.strictSame(c.lessor.expired(), [])
  t.strictSame(c.lessor.checkpointsDue(), [])
  t.throws(() => c.lessor.renew('1'), notPrimary)
  // Promoted again later, the clock restarts from the TTL.
  c.lessor.promote(1000)
  t.equal(c.lessor.lookup('1')!.expiry, c.time + 6000)
})

t.test('renew: full TTL again; not primary, unknown and expired are refused', async (t) => {
  const c = clocked()
  c.lessor.grant('1', 10)
  const err = t.throws(() => c.lessor.renew('1'), notPrimary)
  t.ok(err instanceof NotPrimaryError, 'the server forwards on NotPrimaryError')
  c.lessor.promote(0)
  c.advance(7000)
  t.equal(c.lessor.renew('1'), 10)
  t.equal(c.lessor.lookup('1')!.expiry, 17_000)
  t.throws(() => c.lessor.renew('2'), notFound)
  c.advance(10_000)
  t.throws(() => c.lessor.renew('1'), notFound, 'expired at exactly its expiry, awaiting revoke')
  c.advance(-1)
  t.equal(c.lessor.renew('1'), 10, 'one ms earlier it still renews')
})

t.test('renew after a checkpoint: the server clears it through raft first', async (t) => {
  const c = clocked()
  c.lessor.grant('1', 600)
  c.lessor.checkpoint('1', 100)
  c.lessor.promote(0)
  t.equal(c.lessor.lookup('1')!.expiry, 100_000)
  t.ok(c.lessor.renewNeedsCheckpointClear('1'))
  t.notOk(c.lessor.renewNeedsCheckpointClear('2'))
  c.lessor.checkpoint('1', 0) // the committed {ID, remaining_TTL: 0}
  t.notOk(c.lessor.renewNeedsCheckpointClear('1'))
  t.equal(c.lessor.renew('1'), 600)
  t.equal(c.lessor.lookup('1')!.expiry, 600_000)
  // Renew itself never touches persisted state, and restarts from the full TTL anyway.
  c.lessor.checkpoint('1', 50)
  t.equal(c.lessor.renew('1'), 600)
  t.equal(c.lessor.lookup('1')!.remainingTTL, 50)
  t.equal(c.lessor.lookup('1')!.expiry, 600_000)
  const off = clocked({ checkpointing: false })
  off.lessor.grant('1', 600)
  off.lessor.checkpoint('1', 100)
  t.notOk(off.lessor.renewNeedsCheckpointClear('1'), 'nothing to clear when checkpointing is off')
})

t.test('remainingTTL truncates toward zero, as etcd TimeToLive', async (t) => {
  const c = clocked()
  c.lessor.grant('1', 10)
  t.throws(() => c.lessor.remainingTTL('1'), notPrimary)
  c.lessor.promote(0)
  const at = (ms: number) => {
    c.advance(ms - c.time)
    return c.lessor.remainingTTL('1')
  }
  t.equal(at(0), 10)
  t.equal(at(1), 9)
  t.equal(at(999), 9)
  t.equal(at(1000), 9)
  t.equal(at(1001), 8)
  t.equal(at(9999), 0)
  t.equal(at(10_000), 0)
  t.ok(Object.is(at(10_500), 0), 'expired, not yet revoked: 0, not -0')
  t.equal(at(11_500), -1)
  t.throws(() => c.lessor.remainingTTL('2'), notFound)
})

t.test('timeToLive: ID, remaining, granted TTL, keys only when asked', async (t) => {
  const c = clocked()
  c.lessor.grant('9007199254740993', 60)
  c.lessor.onPut('b', '9007199254740993')
  c.lessor.onPut('a', '9007199254740993')
  t.throws(() => c.lessor.timeToLive('9007199254740993', true), notPrimary)
  c.lessor.promote(1000)
  c.advance(2500)
  t.strictSame(c.lessor.timeToLive('9007199254740993', true), {
    ID: '9007199254740993',
    TTL: 58,
    grantedTTL: 60,
    keys: ['a', 'b'],
  })
  t.strictSame(c.lessor.timeToLive('9007199254740993', false).keys, [])
  t.throws(() => c.lessor.timeToLive('1', false), notFound)
})

t.test('restore on a primary keeps leases expiring', async (t) => {
  const c = clocked()
  c.lessor.promote(0)
  c.lessor.restore([{ ID: '1', TTL: '10', RemainingTTL: '0' }])
  t.equal(c.lessor.lookup('1')!.expiry, 10_000)
  c.advance(10_000)
  t.strictSame(c.lessor.expired(), ['1'])
})
