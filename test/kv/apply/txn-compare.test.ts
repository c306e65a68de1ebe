// How a Txn's compares decide its branch (etcd's applyCompare/compareKV): every
// target and result, keys that do not exist, ranges of keys, and the LEASE target.
import t from 'tap'
import type { Compare } from '../../../src/kv/apply/requests.js'
import { b, cmp, fixture, type Fixture } from './helpers/fixture.js'

async function holds(f: Fixture, ...compare: Compare[]): Promise<boolean> {
  return (await f.txn({ compare })).response.succeeded
}

t.test('no compares: the success branch runs', async (t) => {
  const f = await fixture(t)
  t.equal(await holds(f), true)
})

t.test('each target against an existing key, with each result', async (t) => {
  const f = await fixture(t)
  await f.put('a', 'x') // rev 2
  await f.put('a', 'm', { lease: '7' }) // rev 3: create 2, mod 3, version 2
  const cases: Array<[Compare, boolean]> = [
    [cmp('a', 'VERSION', 'EQUAL', 2), true],
    [cmp('a', 'VERSION', 'NOT_EQUAL', 2), false],
    [cmp('a', 'VERSION', 'GREATER', 1), true],
    [cmp('a', 'VERSION', 'LESS', 2), false],
    [cmp('a', 'CREATE', 'EQUAL', 2), true],
    [cmp('a', 'CREATE', 'LESS', 3), true],
    [cmp('a', 'MOD', 'EQUAL', 3), true],
    [cmp('a', 'MOD', 'GREATER', 3), false],
    [cmp('a', 'VALUE', 'EQUAL', 'm'), true],
    [cmp('a', 'VALUE', 'GREATER', 'l'), true],
    [cmp('a', 'VALUE', 'LESS', 'mm'), true], // bytewise: a prefix sorts first
    [cmp('a', 'VALUE', 'NOT_EQUAL', 'm'), false],
    [cmp('a', 'LEASE', 'EQUAL', '7'), true],
    [cmp('a', 'LEASE', 'GREATER', '6'), true],
    [cmp('a', 'LEASE', 'LESS', '7'), false],
  ]
  for (const [c, want] of cases) t.equal(await holds(f, c), want, `${c.target} ${c.result}`)
})

t.test('a key that does not exist has version, create, mod and lease 0', async (t) => {
  const f = await fixture(t)
  t.equal(await holds(f, cmp('nope', 'VERSION', 'EQUAL', 0)), true)
  t.equal(await holds(f, cmp('nope', 'CREATE', 'EQUAL', 0)), true, 'the "key absent" idiom')
  t.equal(await holds(f, cmp('nope', 'MOD', 'LESS', 1)), true)
  t.equal(await holds(f, cmp('nope', 'LEASE', 'EQUAL', '0')), true)
  t.equal(await holds(f, cmp('nope', 'VERSION', 'GREATER', 0)), false)
})

t.test('a VALUE compare on a missing key fails whatever it asks', async (t) => {
  const f = await fixture(t)
  t.equal(await holds(f, cmp('nope', 'VALUE', 'EQUAL', '')), false)
  t.equal(await holds(f, cmp('nope', 'VALUE', 'NOT_EQUAL', 'x')), false)
  t.equal(await holds(f, cmp('nope', 'VALUE', 'LESS', 'x')), false)
})

t.test('a deleted key compares as missing', async (t) => {
  const f = await fixture(t)
  await f.put('a', '1')
  await f.del('a')
  t.equal(await holds(f, cmp('a', 'CREATE', 'EQUAL', 0)), true)
})

t.test('an unset target value compares as 0, as etcd reads the wrong oneof field as unset', async (t) => {
  const f = await fixture(t)
  await f.put('a', '1') // mod 2
  const c: Compare = { key: b('a'), target: 'MOD', result: 'GREATER', version: 99 }
  t.equal(await holds(f, c), true, 'mod 2 > 0, the version field is not read')
})

t.test('a range compare holds only if it holds for every key in the range', async (t) => {
  const f = await fixture(t)
  await f.put('k1', 'v') // rev 2
  await f.put('k2', 'v') // rev 3
  await f.put('k3', 'w') // rev 4
  t.equal(await holds(f, cmp('k1', 'MOD', 'LESS', 5, 'k4')), true)
  t.equal(await holds(f, cmp('k1', 'MOD', 'LESS', 4, 'k4')), false, 'k3 was modified at 4')
  t.equal(await holds(f, cmp('k1', 'MOD', 'LESS', 4, 'k3')), true, 'the range end is exclusive')
  t.equal(await holds(f, cmp('k1', 'VALUE', 'EQUAL', 'v', 'k3')), true)
  t.equal(await holds(f, cmp('k1', 'VALUE', 'EQUAL', 'v', '\x00')), false, '"\\x00" means every key from k1 on')
  t.equal(await holds(f, cmp('x', 'CREATE', 'EQUAL', 0, 'z')), true, 'an empty range compares as one missing key')
  t.equal(await holds(f, cmp('x', 'VALUE', 'EQUAL', '', 'z')), false, '…but VALUE still fails')
})

t.test('all compares must hold', async (t) => {
  const f = await fixture(t)
  await f.put('a', '1')
  t.equal(await holds(f, cmp('a', 'VERSION', 'EQUAL', 1), cmp('b', 'VERSION', 'EQUAL', 0)), true)
  t.equal(await holds(f, cmp('a', 'VERSION', 'EQUAL', 1), cmp('b', 'VERSION', 'EQUAL', 1)), false)
})

t.test('lease IDs beyond 2^53 compare exactly', async (t) => {
  const f = await fixture(t)
  const big = '5762815321813258765'
  await f.put('a', '1', { lease: big }, { leaseExists: () => true })
  t.equal(await holds(f, cmp('a', 'LEASE', 'EQUAL', big)), true)
  t.equal(await holds(f, cmp('a', 'LEASE', 'EQUAL', '5762815321813258764')), false)
  t.equal(await holds(f, cmp('a', 'LEASE', 'LESS', '5762815321813258766')), true)
})
