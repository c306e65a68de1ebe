// Lease ID layout as etcd's idutil generator with LeaseGrant's top-bit clearing.
import t from 'tap'
import { LeaseIdGenerator } from '../../../src/kv/lease/lease-id.js'

const START = 1_700_000_123_456 // unix ms

t.test('layout: member bits 48..62, 40-bit ms timestamp << 8, counter from 1', async (t) => {
  const g = new LeaseIdGenerator(0xabcd, START)
  const ids = [g.next(), g.next(), g.next()].map(BigInt)
  const ts = (BigInt(START) & ((1n << 40n) - 1n)) << 8n
  // Member ID 0xABCD has bit 15 set; clearing bit 63 drops it, leaving 0x2BCD.
  t.strictSame(ids, [1n, 2n, 3n].map((c) => (0x2bcdn << 48n) | (ts + c)))
  for (const id of ids) {
    t.equal(id >> 63n, 0n, 'positive int64')
    t.equal((id >> 48n) & 0x7fffn, 0xabcdn & 0x7fffn)
    t.ok(id > BigInt(Number.MAX_SAFE_INTEGER), 'beyond 2^53')
  }
})

t.test('only the low 16 bits of the member ID count; bigint and string member IDs work', async (t) => {
  const a = new LeaseIdGenerator(0x1_0007, START).next()
  const b = new LeaseIdGenerator(7n, START).next()
  const c = new LeaseIdGenerator('7', START).next()
  t.equal(a, b)
  t.equal(b, c)
  t.equal(BigInt(a) >> 48n, 7n)
})

t.test('IDs are decimal strings that survive round trips above 2^53', async (t) => {
  const g = new LeaseIdGenerator(0x7fff, START)
  const id = g.next()
  t.match(id, /^[1-9][0-9]*$/)
  t.equal(BigInt(id).toString(), id)
  t.not(String(Number(id)), id, 'a JS number would have rounded it')
  t.equal(BigInt.asIntN(64, BigInt(id)).toString(), id, 'a valid int64')
})

t.test('never returns "0", even when the counter carries into an all-zero ID', async (t) => {
  // Member 0x8000 loses its only bit to the sign clearing; a timestamp whose low 40 bits
  // are all ones makes the 48-bit suffix wrap to 0 after 256 IDs.
  const g = new LeaseIdGenerator(0x8000, 2 ** 40 - 1)
  const ids: string[] = []
  for (let i = 0; i < 256; i++) ids.push(g.next())
  t.equal(ids[254], ((1n << 48n) - 1n).toString(), 'last before the wrap')
  t.equal(ids[255], '1', 'skipped 0')
  t.notOk(ids.includes('0'))
})

t.test('skips IDs the caller says are in use', async (t) => {
  const g = new LeaseIdGenerator(1, START)
  const first = new LeaseIdGenerator(1, START)
  const taken = new Set([first.next(), first.next(), first.next()])
  const id = g.next((x) => taken.has(x))
  t.equal(id, first.next(), 'the fourth ID: the first three were taken')
  t.notOk(taken.has(id))
})

t.test('a later start does not reissue earlier IDs; different members never collide', async (t) => {
  const early = new LeaseIdGenerator(1, START)
  const late = new LeaseIdGenerator(1, START + 1)
  const earlyIds = Array.from({ length: 200 }, () => BigInt(early.next()))
  t.ok(BigInt(late.next()) > earlyIds.at(-1)!)
  const other = new LeaseIdGenerator(2, START)
  const otherIds = new Set(Array.from({ length: 200 }, () => other.next()))
  t.notOk(earlyIds.some((id) => otherIds.has(id.toString())))
})
