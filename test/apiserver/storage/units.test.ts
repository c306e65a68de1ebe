// The small parts both implementations share: key ranges, error mapping, the lease
// cache, and settling a write whose outcome the store could not tell.
import { status } from '@grpc/grpc-js'
import t from 'tap'
import { isLeaseNotFound, toStorageError } from '../../../src/apiserver/storage/errors.js'
import { StorageError } from '../../../src/apiserver/storage/interface.js'
import { hasPrefix, keyBytes, prefixEnd } from '../../../src/apiserver/storage/keys.js'
import { LeaseCache } from '../../../src/apiserver/storage/lease-cache.js'
import { isOutcomeUnknown, writeSettled } from '../../../src/apiserver/storage/unknown-outcome.js'
import { EtcdErrors } from '../../../src/kv/server/errors.js'

const grpcError = (code: number, details: string) => Object.assign(new Error(`${code} X: ${details}`), { code, details })

t.test('prefix ranges', async (t) => {
  t.same(prefixEnd(keyBytes('/registry/pods/')), keyBytes('/registry/pods0'))
  t.same(prefixEnd(Buffer.from([0x61, 0xff])), Buffer.from([0x62]))
  t.same(prefixEnd(Buffer.from([0xff, 0xff])), Buffer.from([0]), 'no end: every key')
  t.same(prefixEnd(Buffer.alloc(0)), Buffer.from([0]))
  t.ok(hasPrefix(keyBytes('/a/b'), keyBytes('/a/')))
  t.notOk(hasPrefix(keyBytes('/a'), keyBytes('/a/')))
  t.notOk(hasPrefix(keyBytes('/ab/c'), keyBytes('/a/')))
})

t.test('errors as StorageError codes', async (t) => {
  const code = (e: unknown) => toStorageError(e).code
  t.equal(code(EtcdErrors.compacted()), 'Compacted')
  t.equal(code(grpcError(status.OUT_OF_RANGE, 'etcdserver: mvcc: required revision has been compacted')), 'Compacted')
  t.equal(toStorageError(EtcdErrors.compacted(), 7).compactedRevision, 7)
  t.equal(code(EtcdErrors.futureRevision()), 'FutureRevision')
  t.equal(code(grpcError(status.OUT_OF_RANGE, 'etcdserver: mvcc: required revision is a future revision')), 'FutureRevision')
  t.equal(code(EtcdErrors.requestTooLarge()), 'TooLarge')
  t.equal(code(grpcError(status.RESOURCE_EXHAUSTED, 'Received message larger than max (5 vs. 4)')), 'TooLarge')
  t.equal(code(EtcdErrors.stopped()), 'Unavailable')
  t.equal(code(EtcdErrors.noLeader()), 'Unavailable')
  t.equal(code(grpcError(status.UNAVAILABLE, 'No connection established')), 'Unavailable')
  t.equal(code(grpcError(status.DEADLINE_EXCEEDED, 'Deadline exceeded')), 'Unavailable')
  t.equal(code(EtcdErrors.noSpace()), 'Internal')
  t.equal(code(new Error('boom')), 'Internal')
  const same = new StorageError('TooLarge', 'x')
  t.equal(toStorageError(same), same)
  t.ok(isLeaseNotFound(EtcdErrors.leaseNotFound()))
  t.ok(isLeaseNotFound(grpcError(status.NOT_FOUND, 'etcdserver: requested lease not found')))
  t.notOk(isLeaseNotFound(EtcdErrors.memberNotFound()))
})

t.test('lease cache', async (t) => {
  let now = 1_000_000
  const grants: number[] = []
  let fail = false
  const cache = new LeaseCache(
    async (ttl) => {
      if (fail) throw new Error('grant failed')
      grants.push(ttl)
      return String(grants.length)
    },
    { now: () => now, maxKeys: 3 },
  )
  const a = await cache.leaseFor(3600)
  t.equal(a, '1')
  t.same(grants, [3660], 'granted with the reuse window on top (5% of the TTL, at most 60 s)')
  t.equal(await cache.leaseFor(3600), a, 'reused within the window')
  t.equal(await cache.leaseFor(60), '2', 'another TTL, another lease')
  t.equal(grants[1], 63)
  t.equal(await cache.leaseFor(3600), a, 'third key')
  t.equal(await cache.leaseFor(3600), '3', 'a full lease is not reused')
  now += 61_000
  t.equal(await cache.leaseFor(3600), '4', 'nor an old one')
  t.equal(await cache.leaseFor(10), '5')
  t.equal(grants[4], 10, 'a short TTL gets no reuse window')
  t.equal(await cache.leaseFor(10), '6', 'and is not reused')

  fail = true
  now += 61_000
  await t.rejects(cache.leaseFor(3600))
  fail = false
  t.equal(await cache.leaseFor(3600), '7', 'a failed grant is not cached')
  await cache.forget('7')
  t.equal(await cache.leaseFor(3600), '8', 'a forgotten lease is not reused')
})

t.test('a write with an unknown outcome', async (t) => {
  t.ok(isOutcomeUnknown(EtcdErrors.leaderChanged()))
  t.ok(isOutcomeUnknown(EtcdErrors.timeout()))
  t.ok(isOutcomeUnknown(grpcError(status.UNAVAILABLE, 'etcdserver: leader changed')))
  t.notOk(isOutcomeUnknown(EtcdErrors.noLeader()))
  t.notOk(isOutcomeUnknown(grpcError(status.UNAVAILABLE, 'Connection dropped')))

  let sends = 0
  const flaky = async () => {
    if (++sends === 1) throw EtcdErrors.leaderChanged()
    return 'done'
  }
  t.equal(await writeSettled(flaky, async () => true), 'done', 'sent again while the guard holds')
  t.equal(sends, 2)

  sends = 0
  await t.rejects(writeSettled(flaky, async () => false), /leader changed/, 'not sent again once the guard is gone')
  t.equal(sends, 1)

  sends = 0
  await t.rejects(
    writeSettled(flaky, async () => {
      throw new Error('read failed')
    }),
    /leader changed/,
    'nor when the read fails',
  )

  sends = 0
  const broken = async () => {
    sends++
    throw EtcdErrors.noSpace()
  }
  await t.rejects(writeSettled(broken, async () => true), /space exceeded/)
  t.equal(sends, 1, 'other errors are not retried')

  sends = 0
  const always = async () => {
    sends++
    throw EtcdErrors.leaderChanged()
  }
  await t.rejects(writeSettled(always, async () => true))
  t.equal(sends, 3, 'at most two more attempts')
})
