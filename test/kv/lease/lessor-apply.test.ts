// The apply-side rules: what every member does with committed lease entries.
import t from 'tap'
import { LeaseError, LeaseGrpcCode } from '../../../src/kv/lease/errors.js'
import { decodeLeaseRecord, encodeLeaseRecord } from '../../../src/kv/lease/lease-record.js'
import { MAX_LEASE_TTL, minLeaseTTLSeconds } from '../../../src/kv/lease/lessor.js'
import { clocked } from './helpers/clock.js'

const notFound = { code: LeaseGrpcCode.NOT_FOUND, message: 'etcdserver: requested lease not found' }

t.test('minimum TTL: etcd formula, shorter TTLs raised to it', async (t) => {
  t.equal(minLeaseTTLSeconds(10, 100), 2, 'etcd defaults: 1.5 s rounded up')
  t.equal(minLeaseTTLSeconds(5, 100), 1, '(3*5)/2 = 7 ticks (integer division) = 0.7 s -> 1')
  t.equal(minLeaseTTLSeconds(20, 250), 8)
  const { lessor } = clocked()
  t.equal(lessor.grant('1', 1).ttl, 2)
  t.equal(lessor.grant('2', -5).ttl, 2)
  t.equal(lessor.grant('3', 2).ttl, 2)
  t.equal(lessor.grant('4', 3).ttl, 3)
  t.equal(clocked({ minTTL: 5 }).lessor.grant('1', 3).ttl, 5)
})

t.test('grant errors, with etcd messages and gRPC codes', async (t) => {
  const { lessor } = clocked()
  t.throws(() => lessor.grant('1', MAX_LEASE_TTL + 1), {
    code: LeaseGrpcCode.OUT_OF_RANGE,
    message: 'etcdserver: too large lease TTL',
  })
  t.equal(lessor.grant('1', MAX_LEASE_TTL).ttl, MAX_LEASE_TTL, 'the maximum itself is fine')
  t.throws(() => lessor.grant('1', 5), {
    code: LeaseGrpcCode.FAILED_PRECONDITION,
    message: 'etcdserver: lease already exists',
  })
  const err = t.throws(() => lessor.grant('0', 5), notFound)
  t.ok(err instanceof LeaseError)
  t.throws(() => lessor.grant('007', 5), TypeError, 'non-canonical ID')
  t.throws(() => lessor.grant('9223372036854775808', 5), TypeError, 'beyond int64')
  t.throws(() => lessor.grant('2', 1.5), TypeError)
  t.equal(lessor.grant('-5', 5).id, '-5', 'negative int64 IDs are IDs too')
  t.equal(lessor.grant('9223372036854775807', 5).id, '9223372036854775807')
  t.equal(lessor.size, 3)
})

t.test('revoke returns the attached keys sorted bytewise and detaches them', async (t) => {
  const { lessor } = clocked()
  lessor.grant('7', 10)
  lessor.grant('8', 10)
  for (const k of ['b', 'a\xff', 'a', 'a\x00', 'B']) lessor.onPut(k, '7')
  lessor.onPut('other', '8')
  t.strictSame(lessor.revoke('7'), ['B', 'a', 'a\x00', 'a\xff', 'b'])
  t.notOk(lessor.has('7'))
  t.equal(lessor.lookup('7'), undefined)
  t.equal(lessor.leaseOf('a'), '0')
  t.equal(lessor.leaseOf('other'), '8')
  lessor.onDelete('a') // the caller's delete of a revoked key: harmless
  t.throws(() => lessor.revoke('7'), notFound)
  t.strictSame(lessor.revoke('8'), ['other'])
  t.strictSame(lessor.leases(), [])
})

t.test('attach and detach follow puts and deletes', async (t) => {
  const { lessor } = clocked()
  lessor.grant('1', 10)
  lessor.grant('2', 10)
  lessor.onPut('k', '1')
  t.equal(lessor.leaseOf('k'), '1')
  lessor.onPut('k', '1')
  t.strictSame(lessor.lookup('1')!.keys(), ['k'], 'same lease again: still once')
  lessor.onPut('k', '2')
  t.strictSame(lessor.lookup('1')!.keys(), [], 'overwritten with another lease: left the old one')
  t.strictSame(lessor.lookup('2')!.keys(), ['k'])
  lessor.onPut('k', '0')
  t.strictSame(lessor.lookup('2')!.keys(), [], 'overwritten without a lease')
  t.equal(lessor.leaseOf('k'), '0')
  lessor.onPut('k', '1')
  lessor.onDelete('k')
  t.strictSame(lessor.lookup('1')!.keys(), [], 'deleted')
  lessor.onDelete('never-existed')
  lessor.onPut('plain', '0')
  t.equal(lessor.leaseOf('plain'), '0')

  lessor.attach('1', 'x')
  lessor.attach('2', 'x')
  t.strictSame([lessor.lookup('1')!.keys(), lessor.lookup('2')!.keys()], [[], ['x']], 'attach moves a key')
  t.notOk(lessor.detach('1', 'x'), 'not attached to 1')
  t.notOk(lessor.detach('9', 'x'), 'unknown lease')
  t.ok(lessor.detach('2', 'x'))
  t.equal(lessor.leaseOf('x'), '0')
  t.throws(() => lessor.attach('9', 'x'), notFound)
  t.throws(() => lessor.onPut('x', '9'), notFound)
})

t.test('non-primary: leases never expire locally', async (t) => {
  const c = clocked()
  const l = c.lessor.grant('1', 5)
  t.equal(l.expiry, Infinity)
  c.advance(1e9)
  t.strictSame(c.lessor.expired(), [])
  t.notOk(c.lessor.isPrimary)
})

t.test('checkpoint records the remainder; unknown leases are ignored', async (t) => {
  const { lessor } = clocked()
  lessor.grant('1', 600)
  t.ok(lessor.checkpoint('1', 120))
  t.equal(lessor.lookup('1')!.remainingTTL, 120)
  t.strictSame(lessor.record('1'), { ID: '1', TTL: '600', RemainingTTL: '120' })
  t.notOk(lessor.checkpoint('2', 5))
  t.ok(lessor.checkpoint('1', 0))
  t.equal(lessor.lookup('1')!.remainingTTL, 0)
  t.equal(lessor.record('2'), undefined)
})

t.test('has, lookup and leases', async (t) => {
  const { lessor } = clocked()
  lessor.grant('5', 10)
  lessor.grant('6', 20)
  t.ok(lessor.has('5'))
  t.notOk(lessor.has('7'))
  t.same(
    lessor.leases().map((l) => [l.id, l.ttl, l.remainingTTL, l.expiry]),
    [
      ['5', 10, 0, Infinity],
      ['6', 20, 0, Infinity],
    ],
  )
})

t.test('restore: records through the codec, TTL minimum, keys rebuilt with attach', async (t) => {
  const a = clocked()
  a.lessor.grant('9007199254740993', 30)
  a.lessor.grant('-3', 600)
  a.lessor.checkpoint('-3', 100)
  a.lessor.onPut('k1', '9007199254740993')
  const stored = a.lessor.leases().map((l) => encodeLeaseRecord(a.lessor.record(l.id)!))

  const b = clocked({ minTTL: 40 })
  b.lessor.grant('77', 50) // replaced by restore
  b.lessor.restore(stored.map(decodeLeaseRecord))
  t.notOk(b.lessor.has('77'))
  t.strictSame(b.lessor.record('9007199254740993'), { ID: '9007199254740993', TTL: '40', RemainingTTL: '0' })
  t.strictSame(b.lessor.record('-3'), { ID: '-3', TTL: '600', RemainingTTL: '100' })
  t.equal(b.lessor.lookup('-3')!.expiry, Infinity)
  t.strictSame(b.lessor.lookup('9007199254740993')!.keys(), [], 'keys are not persisted')
  b.lessor.attach('9007199254740993', 'k1')
  t.strictSame(b.lessor.revoke('9007199254740993'), ['k1'])
  t.throws(() => b.lessor.restore([{ ID: 'x', TTL: '1', RemainingTTL: '0' }]), TypeError)
})

t.test('options are validated', async (t) => {
  t.throws(() => clocked({ revokeRate: 1 }), RangeError)
  t.throws(() => clocked({ revokeRate: 2.5 }), RangeError)
})
