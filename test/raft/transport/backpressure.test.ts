import * as grpc from '@grpc/grpc-js'
import t, { type Test } from 'tap'
import { raftTransportService } from '../../../src/raft/transport/service.js'
import type { Message } from '../../../src/raft/types.js'
import { app, heartbeat, member, sleep, unusedPort, until, type Member } from './helpers.js'

const MAX_QUEUE = 256

/** Opens the stream to the healthy peer 3 first, so its queue only ever holds one round. */
async function warmUp(a: Member, c: Member): Promise<void> {
  a.transport.send([heartbeat(1, 3, 0)])
  await until('healthy peer connected', () => c.handler.messages.length === 1)
  c.handler.messages.length = 0
}

/**
 * Sends `turns` rounds of `perTurn` messages from a to both 2 (the bad peer) and 3
 * (healthy), one round per event-loop turn, checking after every round that the
 * queue for 2 never exceeds MAX_QUEUE.
 */
async function sendRounds(t: Test, a: Member, turns: number, perTurn: number, entries: number, entryBytes: number) {
  let maxSeen = 0
  let index = 0
  for (let turn = 0; turn < turns; turn++) {
    const msgs: Message[] = []
    for (let i = 0; i < perTurn; i++, index++) msgs.push(app(1, 2, index, entries, entryBytes), app(1, 3, index, entries, entryBytes))
    a.transport.send(msgs)
    maxSeen = Math.max(maxSeen, a.transport.queueLength(2))
    await sleep(0)
  }
  t.ok(maxSeen <= MAX_QUEUE, `queue for the bad peer stayed within ${MAX_QUEUE} (max ${maxSeen})`)
  return index
}

async function healthyGotAll(t: Test, c: Member, n: number): Promise<void> {
  await until(`healthy peer got all ${n}`, () => c.handler.messages.length === n, 10_000)
  t.same(
    c.handler.messages.map((m) => m.index),
    Array.from({ length: n }, (_, i) => i),
    'healthy peer got everything, in order',
  )
}

t.test('a peer where nothing listens neither grows its queue nor delays a healthy peer', async (t) => {
  const a = await member(t, 1, { maxQueue: MAX_QUEUE })
  const c = await member(t, 3)
  a.transport.addPeer(2, `127.0.0.1:${await unusedPort()}`)
  a.transport.addPeer(3, c.transport.address)
  await warmUp(a, c)
  const n = await sendRounds(t, a, 50, 100, 1, 256)
  await healthyGotAll(t, c, n)
  t.ok(a.handler.unreachable.includes(2), 'the dead peer is reported unreachable')
  t.notOk(a.handler.unreachable.includes(3), 'the healthy peer is not')
})

t.test('a peer that accepts the stream but never reads neither grows the queue nor delays a healthy peer', async (t) => {
  // A receiver that says "accepted" and then stops reading: HTTP/2 flow control fills
  // up, writes stop completing, and the sender's queue for it runs full.
  const paused = new grpc.Server()
  t.teardown(() => paused.forceShutdown())
  paused.addService(raftTransportService, {
    stream: (call: grpc.ServerReadableStream<Message[], unknown>) => {
      call.sendMetadata(new grpc.Metadata())
      call.pause()
    },
    sendSnapshot: (_call: grpc.ServerReadableStream<unknown, unknown>, respond: grpc.sendUnaryData<unknown>) =>
      respond({ code: grpc.status.UNIMPLEMENTED }),
  })
  const port = await new Promise<number>((resolve, reject) =>
    paused.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  )
  const a = await member(t, 1, { maxQueue: MAX_QUEUE })
  const c = await member(t, 3)
  a.transport.addPeer(2, `127.0.0.1:${port}`)
  a.transport.addPeer(3, c.transport.address)
  await warmUp(a, c)
  // 8 MiB to each peer: far more than the flow-control window and the write buffers.
  const n = await sendRounds(t, a, 256, 8, 4, 1024)
  await healthyGotAll(t, c, n)
  t.equal(a.transport.queueLength(2), MAX_QUEUE, 'the stalled peer queue is full, not larger')
  t.ok(a.handler.unreachable.includes(2), 'the stalled peer is reported unreachable once its queue is full')
  t.notOk(a.handler.unreachable.includes(3), 'the healthy peer is not')
})
