// Range as etcd answers it (txn.go rangeKeys): sorting, revision filters and how they
// interact with limit, more and count, keys_only, count_only, history and its errors.
import t, { type Test } from 'tap'
import { applyRange } from '../../../src/kv/apply/kv.js'
import type { RangeRequest } from '../../../src/kv/apply/requests.js'
import { GrpcCode } from '../../../src/kv/apply/validate.js'
import { b, fixture, s, type Fixture } from './helpers/fixture.js'

// Keys a..d whose versions, create and mod revisions and values are in other orders than the keys:
//   a: create 2, mod 6, version 2, value "3"
//   b: create 3, mod 3, version 1, value "1"
//   c: create 4, mod 8, version 3, value "4"
//   d: create 5, mod 5, version 1, value "2"
async function seeded(t: Test): Promise<Fixture> {
  const f = await fixture(t)
  await f.put('a', 'x') // 2
  await f.put('b', '1') // 3
  await f.put('c', 'y') // 4
  await f.put('d', '2') // 5
  await f.put('a', '3') // 6
  await f.put('c', 'z') // 7
  await f.put('c', '4') // 8
  return f
}

async function keys(f: Fixture, r: Omit<RangeRequest, 'key' | 'range_end'>): Promise<string> {
  const res = await applyRange(f.store, { key: b('a'), range_end: b('z'), ...r })
  return `${res.kvs.map((kv) => s(kv.key)).join('')} count ${res.count}${res.more ? ' more' : ''}`
}

t.test('without sorting, keys come in key order', async (t) => {
  const f = await seeded(t)
  t.equal(await keys(f, {}), 'abcd count 4')
  t.equal(await keys(f, { sort_target: 'KEY', sort_order: 'ASCEND' }), 'abcd count 4')
  t.equal(await keys(f, { sort_target: 'KEY', sort_order: 'DESCEND' }), 'dcba count 4')
})

t.test('each sort target, ascending and descending', async (t) => {
  const f = await seeded(t)
  // versions a2 b1 c3 d1; create a2 b3 c4 d5; mod a6 b3 c8 d5; values a3 b1 c4 d2
  t.equal(await keys(f, { sort_target: 'VERSION', sort_order: 'ASCEND' }), 'bdac count 4', 'ties keep key order')
  t.equal(await keys(f, { sort_target: 'VERSION', sort_order: 'DESCEND' }), 'cabd count 4')
  t.equal(await keys(f, { sort_target: 'CREATE', sort_order: 'DESCEND' }), 'dcba count 4')
  t.equal(await keys(f, { sort_target: 'MOD', sort_order: 'ASCEND' }), 'bdac count 4')
  t.equal(await keys(f, { sort_target: 'MOD', sort_order: 'DESCEND' }), 'cadb count 4')
  t.equal(await keys(f, { sort_target: 'VALUE', sort_order: 'ASCEND' }), 'bdac count 4')
  t.equal(await keys(f, { sort_target: 'VALUE', sort_order: 'DESCEND' }), 'cadb count 4')
})

t.test('a target other than KEY with order NONE sorts ascending', async (t) => {
  const f = await seeded(t)
  t.equal(await keys(f, { sort_target: 'MOD' }), 'bdac count 4')
})

t.test('limit: at most that many, `more` when there were others, count of all', async (t) => {
  const f = await seeded(t)
  t.equal(await keys(f, { limit: 2 }), 'ab count 4 more')
  t.equal(await keys(f, { limit: 4 }), 'abcd count 4')
  t.equal(await keys(f, { limit: 9 }), 'abcd count 4')
  t.equal(await keys(f, { limit: -1 }), 'abcd count 4', 'a negative limit is no limit')
})

t.test('a sorted range is sorted over all keys, then limited', async (t) => {
  const f = await seeded(t)
  t.equal(await keys(f, { sort_target: 'MOD', sort_order: 'DESCEND', limit: 2 }), 'ca count 4 more')
  t.equal(await keys(f, { sort_target: 'KEY', sort_order: 'DESCEND', limit: 1 }), 'd count 4 more')
})

t.test('etcd quirk: target not KEY with order NONE sorts only the first limit+1 keys', async (t) => {
  const f = await seeded(t)
  // Fetched a, b, c (limit 2 + 1) in key order; sorted by mod: b3 a6 c8; cut to 2.
  t.equal(await keys(f, { sort_target: 'MOD', limit: 2 }), 'ba count 4 more')
})

t.test('revision filters apply after the read; count ignores them, `more` does not', async (t) => {
  const f = await seeded(t)
  t.equal(await keys(f, { min_mod_revision: 5 }), 'acd count 4')
  t.equal(await keys(f, { max_mod_revision: 5 }), 'bd count 4')
  t.equal(await keys(f, { min_create_revision: 3, max_create_revision: 4 }), 'bc count 4')
  t.equal(await keys(f, { min_mod_revision: 5, limit: 2 }), 'ac count 4 more', 'filtered over all keys, then limited')
  t.equal(await keys(f, { min_mod_revision: 5, limit: 3 }), 'acd count 4', 'no more once the filtered keys fit')
  t.equal(await keys(f, { min_mod_revision: 100 }), ' count 4')
})

t.test('count_only gives the count and no kvs', async (t) => {
  const f = await seeded(t)
  t.equal(await keys(f, { count_only: true }), ' count 4')
  t.equal(await keys(f, { count_only: true, limit: 1 }), ' count 4', 'never `more`')
})

t.test('keys_only leaves values empty, after sorting by value', async (t) => {
  const f = await seeded(t)
  const res = await applyRange(f.store, { key: b('a'), range_end: b('z'), keys_only: true, sort_target: 'VALUE' })
  t.strictSame(res.kvs.map((kv) => `${s(kv.key)}=${s(kv.value)} v${kv.version}`), ['b= v1', 'd= v1', 'a= v2', 'c= v3'])
})

t.test('single key, prefix and from-key ranges', async (t) => {
  const f = await seeded(t)
  const get = async (key: string, end?: string) =>
    (await applyRange(f.store, { key: b(key), ...(end === undefined ? {} : { range_end: b(end) }) })).kvs.map((kv) => s(kv.key)).join('')
  t.equal(await get('c'), 'c')
  t.equal(await get('cc'), '')
  t.equal(await get('b', '\x00'), 'bcd')
  t.equal(await get('b', 'd'), 'bc')
})

t.test('history, the header revision, and errors as etcd words them', async (t) => {
  const f = await seeded(t)
  const old = await applyRange(f.store, { key: b('c'), revision: 4 })
  t.strictSame(old.kvs.map((kv) => s(kv.value)), ['y'])
  t.equal(old.header.revision, 8, 'the header is the current revision, whatever was read')
  await t.rejects(applyRange(f.store, { key: b('c'), revision: 9 }), {
    code: GrpcCode.OUT_OF_RANGE,
    message: 'etcdserver: mvcc: required revision is a future revision',
  })
  await (await f.store.compact(6, ++f.index)).done
  await t.rejects(applyRange(f.store, { key: b('c'), revision: 5 }), {
    code: GrpcCode.OUT_OF_RANGE,
    message: 'etcdserver: mvcc: required revision has been compacted',
  })
  await t.rejects(applyRange(f.store, { key: b('') }), { code: GrpcCode.INVALID_ARGUMENT, message: 'etcdserver: key is not provided' })
})
