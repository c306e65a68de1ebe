// The B+ tree under the key index: an ordered map that stays balanced through any
// sequence of inserts and deletes.
import t from 'tap'
import { Rng } from '../../raft/sim/rng.js'
import { BTree } from '../../../src/kv/mvcc/btree.js'

const key = (i: number) => `k${String(i).padStart(6, '0')}`

function scan<V>(tree: BTree<V>, from: string, max = Infinity): Array<[string, V]> {
  const out: Array<[string, V]> = []
  tree.ascend(from, (k, v) => {
    out.push([k, v])
    return out.length < max
  })
  return out
}

t.test('an empty tree finds nothing and scans nothing', async (t) => {
  const tree = new BTree<number>()
  t.equal(tree.size, 0)
  t.equal(tree.get('a'), undefined)
  t.notOk(tree.delete('a'))
  t.strictSame(scan(tree, ''), [])
  tree.validate()
})

t.test('set replaces the value of a key already there', async (t) => {
  const tree = new BTree<string>()
  tree.set('a', 'one')
  tree.set('a', 'two')
  t.equal(tree.size, 1)
  t.equal(tree.get('a'), 'two')
})

t.test('a scan starts at the first key at or after its start and stops when told', async (t) => {
  const tree = new BTree<number>()
  for (let i = 0; i < 1000; i += 2) tree.set(key(i), i)
  t.strictSame(scan(tree, key(500), 3), [[key(500), 500], [key(502), 502], [key(504), 504]], 'from a present key')
  t.strictSame(scan(tree, key(501), 2), [[key(502), 502], [key(504), 504]], 'from an absent key')
  t.strictSame(scan(tree, key(998)), [[key(998), 998]], 'the last key')
  t.strictSame(scan(tree, key(999)), [], 'past the last key')
  t.equal(scan(tree, '').length, 500, 'from the empty key: everything')
})

t.test('ascending inserts and deletes from either end keep the tree balanced', async (t) => {
  const n = 20_000
  const tree = new BTree<number>()
  for (let i = 0; i < n; i++) tree.set(key(i), i)
  tree.validate()
  t.equal(tree.size, n)
  t.strictSame(scan(tree, '').map(([k]) => k), Array.from({ length: n }, (_, i) => key(i)))
  let deleted = 0
  for (let i = 0; i < n / 2; i++) if (tree.delete(key(i))) deleted++
  t.equal(deleted, n / 2, 'every present key deletes')
  tree.validate()
  for (let i = n - 1; i >= n / 2 + 10; i--) tree.delete(key(i))
  tree.validate()
  t.strictSame(scan(tree, '').map(([, v]) => v), Array.from({ length: 10 }, (_, i) => n / 2 + i))
  for (let i = n / 2; i < n / 2 + 10; i++) tree.delete(key(i))
  tree.validate()
  t.equal(tree.size, 0)
})

t.test('random inserts and deletes agree with a sorted-array model', async (t) => {
  const seed = Number(process.env.MVCC_SEED ?? Date.now() % 1_000_000)
  const rng = new Rng(seed)
  const tree = new BTree<number>()
  const model = new Map<string, number>()
  try {
    for (let step = 0; step < 30_000; step++) {
      const k = key(rng.int(3000))
      // Phases that grow, then shrink, then churn, to cross every split and merge path.
      const pInsert = step < 10_000 ? 0.8 : step < 20_000 ? 0.2 : 0.5
      if (rng.chance(pInsert)) {
        tree.set(k, step)
        model.set(k, step)
      } else if (tree.delete(k) !== model.delete(k)) {
        throw new Error(`step ${step}: delete(${k}) disagrees`)
      }
      if (step % 1000 === 0) {
        tree.validate()
        const from = key(rng.int(3000))
        const want = [...model.entries()].filter(([mk]) => mk >= from).sort(([a], [b]) => (a < b ? -1 : 1))
        t.strictSame(scan(tree, from), want, `step ${step}: scan from ${from}`, { diagnostic: false })
      }
      if (tree.get(k) !== model.get(k)) throw new Error(`step ${step}: get(${k}) disagrees`)
      if (tree.size !== model.size) throw new Error(`step ${step}: size ${tree.size}, want ${model.size}`)
    }
    tree.validate()
  } catch (err) {
    t.fail(`seed ${seed} (replay: MVCC_SEED=${seed}): ${(err as Error).message}`)
  }
})
