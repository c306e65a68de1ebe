import t from 'tap'
import { MessageQueue, messageSize } from '../../../src/raft/transport/queue.js'
import { message, MessageType } from '../../../src/raft/types.js'

const app = (index: number, bytes: number) =>
  message({ type: MessageType.App, index, entries: [{ term: 1, index, type: 0, data: new Uint8Array(bytes) }] })

t.test('a full queue refuses new messages and keeps the old ones', async (t) => {
  const q = new MessageQueue(2)
  t.ok(q.push(app(1, 0)))
  t.ok(q.push(app(2, 0)))
  t.notOk(q.push(app(3, 0)))
  t.equal(q.length, 2)
  t.same(
    q.takeBatch(Infinity).map((m) => m.index),
    [1, 2],
  )
})

t.test('batches are cut by size, in order, with at least one message each', async (t) => {
  const q = new MessageQueue(100)
  const size = messageSize(app(0, 1000))
  for (let i = 0; i < 5; i++) q.push(app(i, 1000))
  q.push(app(5, 10_000)) // alone larger than the limit
  const limit = size * 2
  const batches: number[][] = []
  while (q.length > 0) batches.push(q.takeBatch(limit).map((m) => m.index))
  t.same(batches, [[0, 1], [2, 3], [4], [5]])
  t.same(q.takeBatch(limit), [])
})

t.test('clear drops everything and says how much', async (t) => {
  const q = new MessageQueue(10)
  q.push(app(1, 0))
  q.push(app(2, 0))
  t.equal(q.clear(), 2)
  t.equal(q.length, 0)
})
