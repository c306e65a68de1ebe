// Revisions and their backend encoding: etcd's 17-byte keys that sort like revisions.
import t from 'tap'
import { Rng } from '../../raft/sim/rng.js'
import {
  compareRevisions,
  decodeRevision,
  encodeRevision,
  isTombstone,
  MARKED_REVISION_BYTES,
  revision as r,
  REVISION_BYTES,
} from '../../../src/kv/mvcc/revision.js'

t.test('revisions order by main revision, then by sub revision within a txn', async (t) => {
  t.ok(compareRevisions(r(1, 9), r(2, 0)) < 0)
  t.ok(compareRevisions(r(2, 1), r(2, 0)) > 0)
  t.equal(compareRevisions(r(2, 1), r(2, 1)), 0)
})

t.test("a revision encodes as 8-byte big-endian main, '_', 8-byte big-endian sub", async (t) => {
  const bytes = encodeRevision(r(0x0102030405, 7))
  t.equal(bytes.length, REVISION_BYTES)
  t.strictSame([...bytes], [0, 0, 0, 1, 2, 3, 4, 5, 0x5f, 0, 0, 0, 0, 0, 0, 0, 7])
  t.notOk(isTombstone(bytes))
})

t.test("a tombstone is the same key followed by the mark 't'", async (t) => {
  const bytes = encodeRevision(r(5, 1), true)
  t.equal(bytes.length, MARKED_REVISION_BYTES)
  t.strictSame([...bytes.subarray(0, REVISION_BYTES)], [...encodeRevision(r(5, 1))])
  t.equal(bytes[REVISION_BYTES], 't'.charCodeAt(0))
  t.ok(isTombstone(bytes))
  t.strictSame(decodeRevision(bytes), { rev: r(5, 1), tombstone: true })
})

t.test('encoding round-trips every non-negative safe integer', async (t) => {
  const parts = [0, 1, 255, 256, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 3, Number.MAX_SAFE_INTEGER]
  for (const main of parts) {
    for (const sub of parts) {
      t.strictSame(decodeRevision(encodeRevision(r(main, sub))), { rev: r(main, sub), tombstone: false }, `${main}.${sub}`)
    }
  }
})

t.test('encoded revisions sort bytewise in revision order', async (t) => {
  const rng = new Rng(7)
  const part = () => (rng.chance(0.5) ? rng.int(1000) : Math.floor(rng.next() * Number.MAX_SAFE_INTEGER))
  const revs = Array.from({ length: 500 }, () => r(part(), part()))
  const byBytes = revs
    .map((rev) => ({ rev, bytes: Buffer.from(encodeRevision(rev)) }))
    .sort((a, b) => Buffer.compare(a.bytes, b.bytes))
    .map((x) => x.rev)
  t.strictSame(byBytes, [...revs].sort(compareRevisions))
})

t.test('decoding a view into a larger buffer reads only its own bytes', async (t) => {
  const big = new Uint8Array(40)
  big.set(encodeRevision(r(9, 2), true), 11)
  t.strictSame(decodeRevision(big.subarray(11, 11 + MARKED_REVISION_BYTES)), { rev: r(9, 2), tombstone: true })
})

t.test('decoding rejects a wrong length, a wrong separator and values beyond 2^53', async (t) => {
  t.throws(() => decodeRevision(new Uint8Array(16)), /invalid revision length: 16/)
  const noSeparator = encodeRevision(r(1))
  noSeparator[8] = 0x2d
  t.throws(() => decodeRevision(noSeparator), /invalid separator/)
  const huge = encodeRevision(r(1))
  huge[1] = 0x20 // main ≥ 2^53
  t.throws(() => decodeRevision(huge), RangeError)
})

t.test('encoding rejects negative, fractional and unsafe numbers', async (t) => {
  t.throws(() => encodeRevision(r(-1)), RangeError)
  t.throws(() => encodeRevision(r(1, 0.5)), RangeError)
  t.throws(() => encodeRevision(r(2 ** 53)), RangeError)
})
