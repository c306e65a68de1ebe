// The min-heap of lease IDs by time: order, update in place, removal, checked against
// a sorted model through many random operations.
import t from 'tap'
import { LeaseQueue } from '../../../src/kv/lease/lease-queue.js'

t.test('pops in time order; set moves an entry instead of adding a second one', async (t) => {
  const q = new LeaseQueue()
  q.set('a', 30)
  q.set('b', 10)
  q.set('c', 20)
  q.set('a', 5)
  t.equal(q.size, 3)
  t.equal(q.peekId(), 'a')
  t.equal(q.peekTime(), 5)
  q.set('a', 40)
  t.equal(q.timeOf('a'), 40)
  t.ok(q.delete('c'))
  t.notOk(q.delete('c'))
  t.notOk(q.has('c'))
  t.strictSame([q.pop(), q.pop(), q.pop()], ['b', 'a', undefined])
  t.equal(q.timeOf('a'), undefined)
  q.set('x', 1)
  q.clear()
  t.equal(q.size, 0)
  t.equal(q.peekId(), undefined)
})

t.test('random sets, deletes and pops agree with a sorted model', async (t) => {
  let seed = 12345
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31
    return seed % n
  }
  const q = new LeaseQueue()
  const model = new Map<string, number>()
  let mismatches = 0
  for (let i = 0; i < 20000; i++) {
    const op = rand(10)
    const id = String(rand(500))
    if (op < 6) {
      const time = rand(100000)
      q.set(id, time)
      model.set(id, time)
    } else if (op < 8) {
      if (q.delete(id) !== model.delete(id)) mismatches++
    } else {
      const min = Math.min(...model.values())
      const id2 = q.pop()
      if (id2 === undefined ? model.size !== 0 : model.get(id2) !== min) mismatches++
      if (id2 !== undefined) model.delete(id2)
    }
    if (q.size !== model.size) mismatches++
  }
  t.equal(mismatches, 0)
  const popped: number[] = []
  while (q.size > 0) {
    popped.push(q.peekTime()!)
    q.pop()
  }
  t.strictSame(popped, [...model.values()].sort((a, b) => a - b))
})
