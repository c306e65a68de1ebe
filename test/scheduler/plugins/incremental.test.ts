// IncrementalNodeSum recomputes exactly the nodes that changed (same object and
// generation means unchanged), and starts over on a different node list; LruCache
// keeps the most recently used keys.
import t from 'tap'
import { type Aggregate, IncrementalNodeSum, LruCache } from '../../../src/scheduler/plugins/helpers/incremental.js'
import type { NodeInfo } from '../../../src/scheduler/framework/node-info.js'
import { nodeInfo, podInfo } from '../framework/fixtures.js'

class PodTotal implements Aggregate<number> {
  total = 0
  computed: string[] = []
  compute(node: NodeInfo): number | undefined {
    this.computed.push(node.name)
    return node.pods.size === 0 ? undefined : node.pods.size
  }
  apply(c: number, sign: 1 | -1): void {
    this.total += sign * c
  }
  clear(): void {
    this.total = 0
  }
}

t.test('only changed nodes are recomputed', async (t) => {
  const nodes = [nodeInfo({ name: 'a' }, { name: 'x' }), nodeInfo({ name: 'b' }), nodeInfo({ name: 'c' }, { name: 'y' }, { name: 'z' })]
  const agg = new PodTotal()
  const sum = new IncrementalNodeSum(agg)
  sum.sync(nodes)
  t.equal(agg.total, 3)
  t.same(agg.computed, ['a', 'b', 'c'])
  agg.computed = []
  sum.sync(nodes)
  t.same(agg.computed, [], 'nothing changed')
  nodes[1].addPod(podInfo({ name: 'w' }))
  sum.sync(nodes)
  t.same(agg.computed, ['b'], 'a generation bump')
  t.equal(agg.total, 4)
  agg.computed = []
  const copy = nodes[2].clone()
  copy.removePod('default/y')
  nodes[2] = copy
  sum.sync(nodes)
  t.same(agg.computed, ['c'], 'a replaced NodeInfo')
  t.equal(agg.total, 3)
  agg.computed = []
  sum.sync([nodes[2], nodes[0]])
  t.same(agg.computed, ['c', 'a'], 'another list: everything again')
  t.equal(agg.total, 2)
})

t.test('LruCache evicts the least recently used', async (t) => {
  const lru = new LruCache<number>(2)
  let made = 0
  const get = (k: string) => lru.getOrCreate(k, () => ++made)
  t.equal(get('a'), 1)
  t.equal(get('b'), 2)
  t.equal(get('a'), 1)
  t.equal(get('c'), 3, 'evicts b')
  t.equal(get('a'), 1)
  t.equal(get('b'), 4, 'b was evicted')
})
