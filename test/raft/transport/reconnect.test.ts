import t from 'tap'
import { heartbeat, member, mesh, until } from './helpers.js'

t.test('a peer that goes down is reported unreachable; once it is back on the same port messages flow again', async (t) => {
  const a = await member(t, 1)
  const b = await member(t, 2)
  mesh([a, b], [1, 2])
  const port = b.transport.address.split(':')[1]
  a.transport.send([heartbeat(1, 2, 1)])
  await until('first heartbeat', () => b.handler.messages.length === 1)

  await b.transport.close()
  await until('a reports b unreachable', () => a.handler.unreachable.includes(2))
  // While b is down, raft keeps sending; every attempt is dropped and reported.
  const reports = a.handler.unreachable.length
  await until('more unreachable reports while b is down', () => {
    a.transport.send([heartbeat(1, 2, 2)])
    return a.handler.unreachable.length > reports
  })

  const b2 = await member(t, 2, { listen: `127.0.0.1:${port}` })
  const downSince = Date.now()
  let commit = 100
  // Back-off is capped at 2 s (plus jitter), so the stream is back well within 5 s.
  await until(
    'a heartbeat reaches the restarted b',
    () => {
      a.transport.send([heartbeat(1, 2, commit++)])
      return b2.handler.messages.length > 0
    },
    5000,
  )
  t.comment(`reconnected ${Date.now() - downSince} ms after b came back`)

  // And the stream stays in order afterwards.
  const first = commit
  a.transport.send(Array.from({ length: 50 }, (_, i) => heartbeat(1, 2, first + i)))
  await until('the 50 follow-ups', () => b2.handler.messages.some((m) => m.commit === first + 49))
  const tail = b2.handler.messages.map((m) => m.commit).filter((c) => c >= first)
  t.same(
    tail,
    Array.from({ length: 50 }, (_, i) => first + i),
  )
})

t.test('a peer re-added under a new address is reached there', async (t) => {
  const a = await member(t, 1)
  const b = await member(t, 2)
  const c = await member(t, 2) // the same member id, moved to another address
  a.transport.addPeer(2, b.transport.address)
  a.transport.send([heartbeat(1, 2, 1)])
  await until('b got it', () => b.handler.messages.length === 1)
  a.transport.addPeer(2, c.transport.address)
  a.transport.send([heartbeat(1, 2, 2)])
  await until('c got it', () => c.handler.messages.length === 1)
  t.equal(c.handler.messages[0].commit, 2)
  t.equal(b.handler.messages.length, 1)
})

t.test('a removed peer gets nothing more', async (t) => {
  const a = await member(t, 1)
  const b = await member(t, 2)
  a.transport.addPeer(2, b.transport.address)
  a.transport.send([heartbeat(1, 2, 1)])
  await until('b got it', () => b.handler.messages.length === 1)
  a.transport.removePeer(2)
  a.transport.send([heartbeat(1, 2, 2)])
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.equal(b.handler.messages.length, 1)
  t.same(a.handler.unreachable, [], 'dropping for an unknown peer is silent')
})
