// Keys as byte strings: JavaScript's string order must be etcd's bytewise key order.
import t from 'tap'
import { Rng } from '../../raft/sim/rng.js'
import { fromByteString, toByteString } from '../../../src/kv/mvcc/byte-string.js'

const randomBytes = (rng: Rng): Uint8Array => {
  // A small alphabet makes shared prefixes, and so the prefix rule, common.
  const alphabet = [0x00, 0x01, 0x61, 0x7f, 0x80, 0xfe, 0xff]
  return Uint8Array.from({ length: rng.int(5) }, () => rng.pick(alphabet))
}

t.test('byte strings compare in bytewise order, a prefix first', async (t) => {
  const rng = new Rng(11)
  for (let i = 0; i < 2000; i++) {
    const a = randomBytes(rng)
    const b = randomBytes(rng)
    const want = Math.sign(Buffer.compare(a, b))
    const sa = toByteString(a)
    const sb = toByteString(b)
    const got = sa < sb ? -1 : sa > sb ? 1 : 0
    if (got !== want) t.fail(`${Buffer.from(a).toString('hex')} vs ${Buffer.from(b).toString('hex')}: ${got}, want ${want}`)
  }
  t.pass('2000 random pairs agree with Buffer.compare')
})

t.test('a byte string holds one character per byte and converts back exactly', async (t) => {
  const bytes = Uint8Array.from({ length: 256 }, (_, i) => i)
  const s = toByteString(bytes)
  t.equal(s.length, 256)
  t.strictSame([...fromByteString(s)], [...bytes])
  t.equal(toByteString(new TextEncoder().encode('/registry/pods/default/web')), '/registry/pods/default/web', 'ASCII keys read as themselves')
})

t.test('converting a view reads only its own bytes', async (t) => {
  const buf = Uint8Array.from([1, 2, 3, 4, 5])
  t.equal(toByteString(buf.subarray(1, 3)), '\x02\x03')
})
