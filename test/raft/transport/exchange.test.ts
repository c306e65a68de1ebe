import * as grpc from '@grpc/grpc-js'
import t from 'tap'
import { callMetadata, deserializeAck, raftTransportService, STREAM_PATH } from '../../../src/raft/transport/service.js'
import { heartbeat, app, member, mesh, sleep, until } from './helpers.js'

t.test('two transports exchange batches in send order', async (t) => {
  const a = await member(t, 1)
  const b = await member(t, 2)
  mesh([a, b], [1, 2])
  // Several event-loop turns, several messages per turn, so several batches.
  for (let turn = 0; turn < 20; turn++) {
    a.transport.send(Array.from({ length: 50 }, (_, i) => app(1, 2, turn * 50 + i, 2)))
    b.transport.send([heartbeat(2, 1, turn)])
    await sleep(1)
  }
  await until('all messages delivered', () => b.handler.messages.length === 1000 && a.handler.messages.length === 20)
  t.same(
    b.handler.messages.map((m) => m.index),
    Array.from({ length: 1000 }, (_, i) => i),
  )
  t.same(
    a.handler.messages.map((m) => m.commit),
    Array.from({ length: 20 }, (_, i) => i),
  )
  const last = b.handler.messages[999]
  t.equal(last.entries.length, 2)
  t.equal(last.entries[1].data.length, 256)
  t.same(a.handler.unreachable, [])
  t.same(b.handler.unreachable, [])
})

t.test('a turn larger than maxBatchBytes goes out as several batches, still in order', async (t) => {
  const a = await member(t, 1, { maxBatchBytes: 4096 })
  const b = await member(t, 2)
  a.transport.addPeer(2, b.transport.address)
  a.transport.send(Array.from({ length: 200 }, (_, i) => app(1, 2, i, 4))) // ~1 KiB each
  await until('all delivered', () => b.handler.messages.length === 200)
  t.same(
    b.handler.messages.map((m) => m.index),
    Array.from({ length: 200 }, (_, i) => i),
  )
})

t.test('three transports in a mesh each receive from both others in order', async (t) => {
  const ids = [1, 2, 3]
  const members = await Promise.all(ids.map((id) => member(t, id)))
  mesh(members, ids)
  for (let i = 0; i < 100; i++) {
    members.forEach((m, k) => m.transport.send(ids.filter((id) => id !== ids[k]).map((to) => app(ids[k], to, i))))
    if (i % 10 === 0) await sleep(1)
  }
  await until('every member got 200 messages', () => members.every((m) => m.handler.messages.length === 200))
  for (const [k, m] of members.entries()) {
    for (const from of ids.filter((id) => id !== ids[k])) {
      t.same(
        m.handler.messages.filter((x) => x.from === from).map((x) => x.index),
        Array.from({ length: 100 }, (_, i) => i),
        `member ${ids[k]} got member ${from}'s messages in order`,
      )
    }
  }
})

t.test('messages for unknown peers and messages addressed to another member are dropped', async (t) => {
  const a = await member(t, 1)
  const b = await member(t, 2)
  a.transport.addPeer(2, b.transport.address)
  // 3 is unknown to a; the second message reaches b's address but names member 3.
  a.transport.addPeer(3, b.transport.address)
  a.transport.send([app(1, 3, 1), heartbeat(1, 2, 7)])
  a.transport.send([app(1, 9, 1)])
  await until('heartbeat delivered', () => b.handler.messages.length === 1)
  await sleep(100)
  t.same(
    b.handler.messages.map((m) => [m.to, m.commit]),
    [[2, 7]],
  )
})

t.test('a member of another cluster is refused with FAILED_PRECONDITION', async (t) => {
  const a = await member(t, 1, { clusterId: 'cluster-a' })
  const b = await member(t, 2, { clusterId: 'cluster-b' })
  a.transport.addPeer(2, b.transport.address)
  a.transport.send([heartbeat(1, 2, 1)])
  await until('a reports b unreachable', () => a.handler.unreachable.includes(2))
  t.same(b.handler.messages, [], 'b got nothing')

  const client = new grpc.Client(b.transport.address, grpc.credentials.createInsecure())
  t.teardown(() => client.close())
  const err = await new Promise<grpc.ServiceError | null>((resolve) => {
    const call = client.makeClientStreamRequest(
      STREAM_PATH,
      raftTransportService.stream.requestSerialize,
      deserializeAck,
      callMetadata('cluster-a', 1),
      (e) => resolve(e),
    )
    call.write([heartbeat(1, 2, 1)])
    call.end()
  })
  t.equal(err?.code, grpc.status.FAILED_PRECONDITION)
  t.match(err?.details, /cluster ID mismatch/)
  t.same(b.handler.messages, [], 'b still got nothing')
})

t.test('a joining member adopts the cluster ID of the first peer that calls in', async (t) => {
  const a = await member(t, 1, { clusterId: 'the-cluster' })
  const joiner = await member(t, 2, { clusterId: 'etcd-cluster', adoptClusterId: true })
  a.transport.addPeer(2, joiner.transport.address)
  joiner.transport.addPeer(1, a.transport.address)
  a.transport.send([heartbeat(1, 2, 1)])
  await until('the joiner accepts the first call', () => joiner.handler.messages.length === 1)
  // Raft resends heartbeats; a stream refused before the adoption reconnects with the new ID.
  await until('its own calls now carry the adopted ID', () => {
    joiner.transport.send([heartbeat(2, 1, 1)])
    return a.handler.messages.length > 0
  }, 5000)
  const other = await member(t, 3, { clusterId: 'another-cluster' })
  other.transport.addPeer(2, joiner.transport.address)
  other.transport.send([heartbeat(3, 2, 1)])
  await until('a third cluster is refused after adoption', () => other.handler.unreachable.includes(2))
  t.equal(joiner.handler.messages.length, 1, 'nothing from the third cluster')
})

t.test('close ends streams both ways and the peer sees it as unreachable', async (t) => {
  const a = await member(t, 1)
  const b = await member(t, 2)
  mesh([a, b], [1, 2])
  a.transport.send([heartbeat(1, 2, 1)])
  b.transport.send([heartbeat(2, 1, 1)])
  await until('both delivered', () => a.handler.messages.length === 1 && b.handler.messages.length === 1)
  await b.transport.close()
  await until('a notices b is gone', () => a.handler.unreachable.includes(2))
  b.transport.send([heartbeat(2, 1, 2)])
  await sleep(50)
  t.equal(a.handler.messages.length, 1, 'a closed transport sends nothing')
})
