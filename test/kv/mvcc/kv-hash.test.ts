// etcd's HashKV: CRC-32C over the kept history up to a revision. Members are compared
// with each other, so what matters is: same history, same hash; any difference, a
// different hash; and a hash at a revision does not move when later writes arrive.
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { crc32c } from '../../../src/kv/mvcc/crc32c.js'
import { KVStore, type WriteOp } from '../../../src/kv/mvcc/kv-store.js'

const b = (s: string): Uint8Array => Buffer.from(s, 'latin1')
const put = (key: string, value: string): WriteOp => ({ put: { key: b(key), value: b(value) } })
const del = (key: string): WriteOp => ({ deleteRange: { key: b(key) } })

/** Stores in separate directories of the test's testdir. */
async function openMany(t: Test, n: number): Promise<KVStore[]> {
  const root = t.testdir(Object.fromEntries(Array.from({ length: n }, (_, i) => [`s${i}`, {}])))
  const stores = await Promise.all(Array.from({ length: n }, (_, i) => KVStore.open(join(root, `s${i}`))))
  t.teardown(() => Promise.all(stores.map((s) => s.close())))
  return stores
}

async function feed(store: KVStore, entries: WriteOp[][]): Promise<void> {
  for (const ops of entries) await store.write(store.consistentIndex + 1, ops)
}

const history = (last: string): WriteOp[][] => [[put('a', '1'), put('b', '1')], [put('a', '2')], [del('b')], [put('c', last)]]

t.test('crc32c is the Castagnoli CRC (check value of "123456789" is e3069283) and streams', async (t) => {
  t.equal(crc32c(0, b('123456789')).toString(16), 'e3069283')
  t.equal(crc32c(crc32c(0, b('1234')), b('56789')), crc32c(0, b('123456789')))
})

t.test('stores fed the same writes hash equal at every revision; a different value hashes differently', async (t) => {
  const [x, y, z] = await openMany(t, 3)
  await feed(x, history('same'))
  await feed(y, history('same'))
  await feed(z, history('other'))
  for (let rev = 1; rev <= 5; rev++) t.equal((await x.hashKV(rev)).hash, (await y.hashKV(rev)).hash, `rev ${rev}`)
  t.equal((await x.hashKV(4)).hash, (await z.hashKV(4)).hash, 'equal before the difference')
  t.not((await x.hashKV()).hash, (await z.hashKV()).hash)
  t.not((await x.hashKV(4)).hash, (await x.hashKV(5)).hash)
  t.same(await x.hashKV(3), { hash: (await y.hashKV(3)).hash, revision: 5, hashRevision: 3, compactRevision: 0 })
})

t.test('a hash at a revision does not change as later writes arrive', async (t) => {
  const [x] = await openMany(t, 1)
  await feed(x, history('v'))
  const at5 = (await x.hashKV(5)).hash
  await feed(x, [[put('a', '3')], [del('a')]])
  t.equal((await x.hashKV(5)).hash, at5)
})

t.test('members that compacted at the same revision still hash equal', async (t) => {
  const [x, y] = await openMany(t, 2)
  for (const s of [x, y]) {
    await feed(s, history('v'))
    await (await s.compact(4, s.consistentIndex + 1)).done
  }
  const hx = await x.hashKV()
  t.same(hx, await y.hashKV())
  t.equal(hx.compactRevision, 4)
  await t.rejects(x.hashKV(3), { message: 'mvcc: required revision has been compacted' })
  await t.rejects(x.hashKV(6), { message: 'mvcc: required revision is a future revision' })
})
