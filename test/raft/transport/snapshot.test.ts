import { randomBytes } from 'node:crypto'
import * as grpc from '@grpc/grpc-js'
import t from 'tap'
import { message, MessageType, type Message, type NodeId } from '../../../src/raft/types.js'
import { member, unusedPort, until } from './helpers.js'

const MiB = 1024 * 1024

function snap(from: NodeId, to: NodeId, data: Uint8Array): Message {
  return message({
    type: MessageType.Snap,
    from,
    to,
    term: 4,
    snapshot: { metadata: { index: 1234, term: 3, confState: { voters: [1, 2, 3], learners: [5] } }, data },
  })
}

t.test('a 5 MiB snapshot arrives whole, in chunks, and the sender hears ok', async (t) => {
  // b shares a server created with grpc-js defaults, whose 4 MiB receive limit would
  // refuse the snapshot as one message: it only gets through in chunks.
  const server = new grpc.Server()
  t.teardown(() => server.forceShutdown())
  const b = await member(t, 2, { server, listen: undefined })
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  )
  const a = await member(t, 1)
  a.transport.addPeer(2, `127.0.0.1:${port}`)

  const data = randomBytes(5 * MiB)
  const sent = snap(1, 2, data)
  a.transport.send([sent])
  await until('snapshot delivered and acknowledged', () => b.handler.messages.length === 1 && a.handler.snapshots.length === 1)
  t.same(a.handler.snapshots, [{ peer: 2, ok: true }])
  const got = b.handler.messages[0]
  t.equal(got.type, MessageType.Snap)
  t.same([got.from, got.to, got.term], [1, 2, 4])
  t.same(got.snapshot?.metadata, sent.snapshot?.metadata)
  t.equal(got.snapshot?.data.length, data.length)
  t.ok(Buffer.from(got.snapshot?.data ?? []).equals(data), 'same bytes')
})

t.test('an empty snapshot is delivered too', async (t) => {
  const a = await member(t, 1)
  const b = await member(t, 2)
  a.transport.addPeer(2, b.transport.address)
  a.transport.send([snap(1, 2, new Uint8Array(0))])
  await until('delivered', () => b.handler.messages.length === 1 && a.handler.snapshots.length === 1)
  t.same(a.handler.snapshots, [{ peer: 2, ok: true }])
  t.equal(b.handler.messages[0].snapshot?.data.length, 0)
})

t.test('a snapshot to a peer that is down fails and reports it unreachable', async (t) => {
  const a = await member(t, 1)
  a.transport.addPeer(2, `127.0.0.1:${await unusedPort()}`)
  a.transport.send([snap(1, 2, randomBytes(1000))])
  await until('snapshot status', () => a.handler.snapshots.length === 1)
  t.same(a.handler.snapshots, [{ peer: 2, ok: false }])
  t.ok(a.handler.unreachable.includes(2))
})

t.test('a snapshot addressed to another member is refused and reported failed', async (t) => {
  const a = await member(t, 1)
  const b = await member(t, 2)
  a.transport.addPeer(3, b.transport.address) // a believes member 3 lives at b's address
  a.transport.send([snap(1, 3, randomBytes(1000))])
  await until('snapshot status', () => a.handler.snapshots.length === 1)
  t.same(a.handler.snapshots, [{ peer: 3, ok: false }])
  t.same(b.handler.messages, [])
})

t.test('a second snapshot to a peer while one is in flight fails at once; the first still succeeds', async (t) => {
  const a = await member(t, 1)
  const b = await member(t, 2)
  a.transport.addPeer(2, b.transport.address)
  a.transport.send([snap(1, 2, randomBytes(3 * MiB)), snap(1, 2, randomBytes(10))])
  await until('both statuses', () => a.handler.snapshots.length === 2)
  t.same(a.handler.snapshots, [
    { peer: 2, ok: false },
    { peer: 2, ok: true },
  ])
  t.equal(b.handler.messages.length, 1)
  t.equal(b.handler.messages[0].snapshot?.data.length, 3 * MiB)
})
