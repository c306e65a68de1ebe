// The pure parts of the election: the expiry decision on the local clock (client-go's
// observedTime), the wire formats (MicroTime, whole-second durations), and the option
// checks that keep a leader's deadline inside the lease others see.
import t from 'tap'
import { RestClient } from '../../src/client/rest.js'
import { LeaderElector, type LeaderElectorOptions, newIdentity } from '../../src/leader-election/index.js'
import { decide, type LeaderElectionRecord, leaseDurationSeconds, leaseSpec, microTime, ObservedRecord, recordFromLease } from '../../src/leader-election/record.js'

const rec = (holder: string, renewTime: string, duration = 15, transitions = 0): LeaderElectionRecord => ({
  holderIdentity: holder,
  leaseDurationSeconds: duration,
  acquireTime: '2026-11-22T06:00:00.000000Z',
  renewTime,
  leaseTransitions: transitions,
})

t.test('expiry is measured on the local clock from when the record last changed', async (t) => {
  const o = new ObservedRecord()
  t.notOk(o.isValid(0), 'nothing observed: nothing to wait for')
  t.same(decide(o, 'me', 0), { kind: 'takeover' })

  // First sight of a lease whose renewTime is an hour old: still a full duration to wait.
  t.ok(o.observe(rec('other', '2026-11-22T05:00:00.000000Z'), 1_000))
  t.equal(o.observedAt, 1_000)
  t.same(decide(o, 'me', 1_000), { kind: 'held', holder: 'other' })
  t.same(decide(o, 'me', 15_999), { kind: 'held', holder: 'other' }, 'remote timestamps are not compared with ours')

  // The same record read again does not restart the clock...
  t.notOk(o.observe(rec('other', '2026-11-22T05:00:00.000000Z'), 10_000))
  t.equal(o.observedAt, 1_000)
  t.same(decide(o, 'me', 16_000), { kind: 'takeover' }, 'expired exactly one duration after first seen')

  // ...a renewal does, whatever time it claims (even one in the past).
  t.ok(o.observe(rec('other', '2020-01-01T00:00:00.000000Z'), 12_000))
  t.same(decide(o, 'me', 26_999), { kind: 'held', holder: 'other' })
  t.same(decide(o, 'me', 27_000), { kind: 'takeover' })

  // The holder's own duration counts, not ours.
  o.observe(rec('other', 'x', 2), 30_000)
  t.same(decide(o, 'me', 31_999), { kind: 'held', holder: 'other' })
  t.same(decide(o, 'me', 32_000), { kind: 'takeover' })
})

t.test('our own lease is renewed, a released one taken at once', async (t) => {
  const o = new ObservedRecord()
  o.observe(rec('me', 'a'), 0)
  t.same(decide(o, 'me', 0), { kind: 'renew' }, 'valid and ours')
  t.same(decide(o, 'me', 1e9), { kind: 'renew' }, 'expired and still ours: renewing is safe (the write is guarded by resourceVersion)')
  o.observe(rec('', 'b', 1), 5)
  t.same(decide(o, 'me', 5), { kind: 'takeover' }, 'released: no holder to wait for')
  o.wrote(rec('me', 'c'), 7)
  t.equal(o.observedAt, 7, 'our own write always restarts the clock')
  t.equal(o.holder, 'me')
})

t.test('wire formats', async (t) => {
  t.equal(microTime(Date.UTC(2026, 10, 22, 6, 40, 17, 123) + 0.456), '2026-11-22T06:40:17.123456Z')
  t.equal(microTime(Date.UTC(2026, 10, 22, 6, 40, 17, 0)), '2026-11-22T06:40:17.000000Z')
  t.equal(microTime(Date.UTC(2026, 0, 1) + 0.9996), '2026-01-01T00:00:00.000999Z', 'never rounds up into the next ms')
  t.match(microTime(Date.now()), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/)
  t.equal(leaseDurationSeconds(15_000), 15)
  t.equal(leaseDurationSeconds(600), 1, 'rounded up: others never wait less than the leader means')
  t.equal(leaseDurationSeconds(1_001), 2)
  const r = rec('me', '2026-11-22T06:00:01.000000Z', 15, 3)
  t.same(recordFromLease({ spec: leaseSpec(r) }), r, 'spec round trip')
  t.same(recordFromLease({}), { holderIdentity: '', leaseDurationSeconds: 0, acquireTime: '', renewTime: '', leaseTransitions: 0 }, 'an empty spec')
  t.same(leaseSpec({ ...r, acquireTime: '' }).acquireTime, undefined, 'no empty times on the wire')
  t.match(newIdentity('master-2'), /^master-2_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
  t.not(newIdentity('m'), newIdentity('m'), 'unique per call')
})

t.test('options are checked as client-go checks them', async (t) => {
  const client = new RestClient({ urls: 'http://127.0.0.1:1' })
  t.teardown(() => client.close())
  const base: LeaderElectorOptions = { client, name: 'kube-scheduler', identity: 'm_1', onStartedLeading: () => {}, onStoppedLeading: () => {} }
  const make = (o: Partial<LeaderElectorOptions>) => () => new LeaderElector({ ...base, ...o })
  t.doesNotThrow(make({}), 'defaults 15s/10s/2s are valid')
  t.doesNotThrow(make({ leaseDurationMs: 600, renewDeadlineMs: 400, retryPeriodMs: 100 }))
  t.throws(make({ leaseDurationMs: 10_000 }), /leaseDuration must be greater than renewDeadline \(leaseDurationMs 10000, renewDeadlineMs 10000, retryPeriodMs 2000\)/)
  t.throws(make({ leaseDurationMs: 5_000, renewDeadlineMs: 6_000 }), /leaseDuration must be greater than renewDeadline/)
  t.throws(make({ renewDeadlineMs: 2_400 }), /renewDeadline must be greater than retryPeriod\*JitterFactor/, 'renewDeadline <= 1.2 x retryPeriod')
  t.doesNotThrow(make({ renewDeadlineMs: 2_401 }))
  t.throws(make({ retryPeriodMs: 0 }), /retryPeriod must be greater than zero/)
  t.throws(make({ leaseDurationMs: -1, renewDeadlineMs: -2, retryPeriodMs: -3 }), /leaseDuration must be greater than zero/)
  t.throws(make({ retryPeriodMs: NaN }), /retryPeriod must be a finite number/)
  t.throws(make({ identity: '' }), /Lock identity is empty/)
  t.throws(make({ name: '' }), /lease name must not be empty/)
  t.throws(make({ namespace: '' }), /lease namespace must not be empty/)
  t.throws(make({ onStartedLeading: undefined as unknown as LeaderElectorOptions['onStartedLeading'] }), /OnStartedLeading callback must not be nil/)
  t.throws(make({ onStoppedLeading: undefined as unknown as LeaderElectorOptions['onStoppedLeading'] }), /OnStoppedLeading callback must not be nil/)
  const e = new LeaderElector({ ...base, namespace: 'team-a' })
  t.equal(e.lease, 'team-a/kube-scheduler')
  t.equal(new LeaderElector(base).lease, 'kube-system/kube-scheduler', 'kube-system by default')
  t.notOk(e.isLeader())
  t.equal(e.fence(), undefined)
  t.equal(e.getLeader(), undefined)
})
