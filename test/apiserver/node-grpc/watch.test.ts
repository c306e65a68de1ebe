// Node API watches: the raw stream's semantics (initial state, bookmarks, resume from a
// resourceVersion, OUT_OF_RANGE), and NodeApiClient's transparent resume across
// server-ended streams, too-old resourceVersions and a master going away.
import * as grpc from '@grpc/grpc-js'
import t, { type Test } from 'tap'
import { MemoryStorage } from '../../../src/apiserver/storage/memory.js'
import { ApiError, isResourceExpired } from '../../../src/client/errors.js'
import { nodeServiceMethods, type NodeWatchEvent, STATUS_TRAILER } from '../../../src/client/node-grpc.js'
import type { ApiServer } from '../../../src/apiserver/server.js'
import { bind, client, LEASES, nameOf, pod, PODS, rvOf, startMaster, waitFor, write } from './helpers/masters.js'

interface RawEvent {
  type: string
  object_json: Buffer
  resource_version: string
  initial_events_end: boolean
}

interface RawWatch {
  events: RawEvent[]
  status: grpc.StatusObject | undefined
  stream: grpc.ClientReadableStream<RawEvent>
}

/** A WatchPods stream opened by hand, recording what arrives. */
function rawWatchPods(t: Test, address: string, nodeName: string, resourceVersion: string): RawWatch {
  const m = nodeServiceMethods().WatchPods
  const c = new grpc.Client(address, grpc.credentials.createInsecure())
  const stream = c.makeServerStreamRequest<object, RawEvent>(m.path, m.requestSerialize, m.responseDeserialize as (b: Buffer) => RawEvent, {
    node_name: nodeName,
    resource_version: resourceVersion,
  })
  const w: RawWatch = { events: [], status: undefined, stream }
  stream.on('data', (ev: RawEvent) => w.events.push(ev))
  stream.on('error', () => {})
  stream.on('status', (s: grpc.StatusObject) => (w.status = s))
  t.teardown(() => {
    stream.cancel()
    c.close()
  })
  return w
}

const objName = (ev: RawEvent): string => nameOf(JSON.parse(ev.object_json.toString()) as Record<string, unknown>)

async function createPods(api: ApiServer, names: string[], nodeName?: string): Promise<string> {
  let rv = ''
  for (const n of names) rv = rvOf(await api.store(PODS).create('default', pod('default', n, nodeName), write))
  return rv
}

/** Labels the pod with a counter: one MODIFIED event each. */
async function touch(api: ApiServer, name: string, i: number): Promise<string> {
  const { object } = await api.store(PODS).update(
    'default',
    name,
    (cur) => {
      const meta: Record<string, unknown> = { ...(cur!.metadata as Record<string, unknown>), labels: { i: String(i) } }
      delete meta.resourceVersion
      return { ...cur!, metadata: meta }
    },
    write,
  )
  return rvOf(object)
}

const summary = (evs: NodeWatchEvent[]): string[] =>
  evs.filter((e) => e.type !== 'BOOKMARK').map((e) => (e.type === 'RESYNC' ? `RESYNC ${e.items.map(nameOf).join(',')}` : `${e.type} ${nameOf(e.object)} ${e.resourceVersion}`))

t.test('raw WatchPods: initial state then changes; from a resourceVersion only what came after', async (t) => {
  const m = await startMaster(t, new MemoryStorage())
  const rv1 = await createPods(m.api, ['a', 'b'], 'n1')
  await createPods(m.api, ['elsewhere'], 'n2')

  const fromScratch = rawWatchPods(t, m.address, 'n1', '')
  await waitFor('initial end', () => fromScratch.events.find((e) => e.initial_events_end))
  t.same(
    fromScratch.events.map((e) => [e.type, e.type === 'BOOKMARK' ? '' : objName(e), e.initial_events_end]),
    [
      ['ADDED', 'a', false],
      ['ADDED', 'b', false],
      ['BOOKMARK', '', true],
    ],
    'ADDED for the current pods of n1, then the initial-events-end bookmark',
  )
  const listRv = Number(fromScratch.events[2]!.resource_version)
  t.ok(listRv >= Number(rv1), 'the bookmark carries the state\'s resourceVersion')
  t.equal(fromScratch.events[2]!.object_json.length, 0, 'a bookmark has no object')

  const rv2 = await touch(m.api, 'a', 1)
  await bind(m.api, 'default', 'elsewhere', 'n9')
  await createPods(m.api, ['c'], 'n1')
  await waitFor('ADDED c', () => fromScratch.events.find((e) => e.type === 'ADDED' && objName(e) === 'c'))
  t.same(
    fromScratch.events.slice(3).map((e) => `${e.type} ${objName(e)}`),
    ['MODIFIED a', 'ADDED c'],
    'changes to n1\'s pods only',
  )

  const fromRv = rawWatchPods(t, m.address, 'n1', rv2)
  await waitFor('ADDED c', () => fromRv.events.find((e) => e.type === 'ADDED'))
  t.same(
    fromRv.events.map((e) => `${e.type} ${objName(e)}`),
    ['ADDED c'],
    'from a resourceVersion: the changes after it, nothing before',
  )
  t.same(fromRv.events[0]!.resource_version, fromScratch.events.at(-1)!.resource_version)
})

t.test('raw WatchPods: too old a resourceVersion ends the stream with OUT_OF_RANGE', async (t) => {
  const m = await startMaster(t, new MemoryStorage(), { cacheCapacity: 3 })
  const first = await createPods(m.api, ['a'], 'n1')
  for (let i = 0; i < 6; i++) await touch(m.api, 'a', i)
  const w = rawWatchPods(t, m.address, 'n1', first)
  const status = await waitFor('status', () => w.status)
  t.equal(status.code, grpc.status.OUT_OF_RANGE)
  t.match(status.details, /^too old resource version: /)
  const s = JSON.parse(String(status.metadata.get(STATUS_TRAILER)[0])) as Record<string, unknown>
  t.match(s, { kind: 'Status', code: 410, reason: 'Expired' }, 'the 410 Expired Status rides along')
  t.same(w.events, [], 'nothing before the error')

  const bad = rawWatchPods(t, m.address, 'n1', 'abc')
  const badStatus = await waitFor('status', () => bad.status)
  t.equal(badStatus.code, grpc.status.INVALID_ARGUMENT, 'a malformed resourceVersion: INVALID_ARGUMENT')
})

t.test('bookmarks come periodically at the cache\'s revision, so a client resumes close to the head', async (t) => {
  const m = await startMaster(t, new MemoryStorage(), { grpc: { bookmarkIntervalMs: 50 } })
  await createPods(m.api, ['a'], 'n1')
  const w = rawWatchPods(t, m.address, 'n1', '')
  await waitFor('initial end', () => w.events.find((e) => e.initial_events_end))
  // Only pods of other nodes change: nothing for n1, yet its bookmarks move on.
  const head = await createPods(m.api, ['x', 'y', 'z'], 'n2')
  const bm = await waitFor('bookmark at head', () => w.events.find((e) => e.type === 'BOOKMARK' && !e.initial_events_end && Number(e.resource_version) >= Number(head)))
  t.equal(bm.resource_version, head)
  const rvs = w.events.filter((e) => e.type === 'BOOKMARK').map((e) => Number(e.resource_version))
  t.same(rvs, [...rvs].sort((a, b) => a - b), 'bookmarks never go back')
  t.equal(new Set(rvs).size, rvs.length, 'nor repeat')
  t.equal(w.events.filter((e) => e.type !== 'BOOKMARK').length, 1, 'no events for other nodes\' pods')
})

t.test('a slow reader: the stream pauses the cache and loses nothing', async (t) => {
  const m = await startMaster(t, new MemoryStorage())
  const w = rawWatchPods(t, m.address, 'n1', '')
  await waitFor('initial end', () => w.events.find((e) => e.initial_events_end))
  w.stream.pause()
  const big = 'x'.repeat(20_000)
  const names: string[] = []
  for (let i = 0; i < 200; i++) {
    const p = pod('default', `p${i}`, 'n1')
    p.metadata = { ...(p.metadata as object), annotations: { big } }
    await m.api.store(PODS).create('default', p, write)
    names.push(`p${i}`)
  }
  await new Promise((r) => setTimeout(r, 100))
  t.ok(w.events.length < 50, `the reader got little while paused (${w.events.length})`)
  w.stream.resume()
  await waitFor('all events', () => (w.events.length >= 201 ? true : undefined), 20_000)
  t.same(
    w.events.slice(1).map((e) => `${e.type} ${objName(e)}`),
    names.map((n) => `ADDED ${n}`),
    'every pod once, in order',
  )
})

t.test('client watch: resumes across server-ended streams without gaps or duplicates', async (t) => {
  // Each stream lasts 150 ms: the client re-watches many times while pods change.
  const m = await startMaster(t, new MemoryStorage(), { grpc: { watchTimeoutMs: () => 150 } })
  await createPods(m.api, ['a'], 'n1')
  const c = client(t, [m.address])
  const events: NodeWatchEvent[] = []
  const errors: Error[] = []
  const w = c.watchPods('n1', { onEvent: (e) => events.push(e), onError: (e) => errors.push(e) })
  t.teardown(() => w.stop())
  await waitFor('RESYNC', () => events.find((e) => e.type === 'RESYNC'))
  const expected: string[] = ['RESYNC a']
  for (let i = 0; i < 30; i++) {
    const rv = await touch(m.api, 'a', i)
    expected.push(`MODIFIED a ${rv}`)
    await new Promise((r) => setTimeout(r, 20))
  }
  await waitFor('last event', () => (summary(events).length === expected.length ? true : undefined))
  t.same(summary(events), expected, 'every change once, in order')
  t.same(errors, [], 'server-ended streams are not errors')
  t.equal(w.resourceVersion, expected.at(-1)!.split(' ')[2])

  // A new watch from the last resourceVersion seen: exactly what came after.
  w.stop()
  const lastRv = w.resourceVersion
  const after = await touch(m.api, 'a', 100)
  const resumed: NodeWatchEvent[] = []
  const w2 = c.watchPods('n1', { resourceVersion: lastRv, onEvent: (e) => resumed.push(e) })
  t.teardown(() => w2.stop())
  await waitFor('resumed event', () => resumed.find((e) => e.type !== 'BOOKMARK'))
  await new Promise((r) => setTimeout(r, 100))
  t.same(summary(resumed), [`MODIFIED a ${after}`], 'resumed from a resourceVersion: no duplicates')
})

t.test('client watch: a too-old resourceVersion relists and emits RESYNC, then goes on', async (t) => {
  const m = await startMaster(t, new MemoryStorage(), { cacheCapacity: 3 })
  const first = await createPods(m.api, ['a', 'b'], 'n1')
  for (let i = 0; i < 5; i++) await touch(m.api, 'a', i)
  await m.api.store(PODS).delete('default', 'b', { dryRun: false, gracePeriodSeconds: 0 })
  const c = client(t, [m.address])
  const events: NodeWatchEvent[] = []
  const errors: Error[] = []
  const w = c.watchPods('n1', { resourceVersion: first, onEvent: (e) => events.push(e), onError: (e) => errors.push(e) })
  t.teardown(() => w.stop())
  const resync = await waitFor('RESYNC', () => events.find((e) => e.type === 'RESYNC'))
  t.equal(errors.length, 1)
  t.ok(isResourceExpired(errors[0]), 'onError hears the 410')
  t.match(errors[0]!.message, /^too old resource version/)
  t.same(resync.type === 'RESYNC' && resync.items.map(nameOf), ['a'], 'RESYNC holds the complete current set (b is gone)')
  t.equal(summary(events).length, 1, 'nothing but the RESYNC so far')
  const rv = await createPods(m.api, ['c'], 'n1')
  await waitFor('ADDED c', () => events.find((e) => e.type === 'ADDED'))
  t.same(summary(events).slice(1), [`ADDED c ${rv}`], 'events go on after the RESYNC')
})

t.test('failover: a master stops mid-watch; the watch and the calls go on through the other', async (t) => {
  const storage = new MemoryStorage()
  const a = await startMaster(t, storage)
  const b = await startMaster(t, storage)
  const c = client(t, [a.address, b.address])
  const events: NodeWatchEvent[] = []
  const errors: Error[] = []
  const w = c.watchPods('n1', { onEvent: (e) => events.push(e), onError: (e) => errors.push(e) })
  t.teardown(() => w.stop())
  await waitFor('RESYNC', () => events.find((e) => e.type === 'RESYNC'))
  t.equal(c.currentAddress, a.address)
  await c.renewNodeLease('n1')

  const expected = ['RESYNC ']
  const p1 = await createPods(a.api, ['p1'], 'n1')
  expected.push(`ADDED p1 ${p1}`)
  await waitFor('p1', () => (summary(events).length === 2 ? true : undefined))

  await a.node.stop()
  // Changes while the client is moving over, and after.
  for (let i = 0; i < 5; i++) {
    const rv = await touch(b.api, 'p1', i)
    expected.push(`MODIFIED p1 ${rv}`)
  }
  const lease = await c.renewNodeLease('n1')
  t.equal(c.currentAddress, b.address, 'calls moved to the other master')
  t.equal(rvOf(await b.api.store(LEASES).get('kube-node-lease', 'n1')), rvOf(lease), 'the renewal landed')
  const p2 = await createPods(b.api, ['p2'], 'n1')
  expected.push(`ADDED p2 ${p2}`)
  await waitFor('all events', () => (summary(events).length === expected.length ? true : undefined))
  await new Promise((r) => setTimeout(r, 100))
  t.same(summary(events), expected, 'every change once, in order, across the failover')
  t.ok(errors.length >= 1, 'the failover was reported')
  t.ok(errors.every((e) => e instanceof ApiError && e.code === 503), `the master said 503 ServiceUnavailable: ${errors.map((e) => e.message).join('; ')}`)
})

t.test('failover: a master crashes (connections cut) mid-watch', async (t) => {
  const storage = new MemoryStorage()
  const a = await startMaster(t, storage)
  const b = await startMaster(t, storage)
  // b first this time: the crash hits the master the client is on.
  const c = client(t, [b.address, a.address])
  const events: NodeWatchEvent[] = []
  const w = c.watchPods('n1', { onEvent: (e) => events.push(e) })
  t.teardown(() => w.stop())
  await waitFor('RESYNC', () => events.find((e) => e.type === 'RESYNC'))
  const expected = ['RESYNC ']
  for (let i = 0; i < 3; i++) {
    expected.push(`ADDED q${i} ${await createPods(b.api, [`q${i}`], 'n1')}`)
  }
  await waitFor('before the crash', () => (summary(events).length === expected.length ? true : undefined))
  b.node.kill()
  for (let i = 0; i < 3; i++) {
    expected.push(`MODIFIED q${i} ${await touch(a.api, `q${i}`, i)}`)
  }
  await waitFor('after the crash', () => (summary(events).length === expected.length ? true : undefined))
  await new Promise((r) => setTimeout(r, 100))
  t.same(summary(events), expected, 'nothing missed, nothing twice')
  const status = await c.updatePodStatus('default', 'q0', { phase: 'Running' })
  t.equal((status.status as Record<string, unknown>).phase, 'Running', 'unary calls work through the survivor')
  t.equal(c.currentAddress, a.address)
})

t.test('every master down: calls fail with a ConnectionError; watches keep trying and recover', async (t) => {
  const storage = new MemoryStorage()
  const a = await startMaster(t, storage)
  const c = client(t, [a.address], { rounds: 2 })
  const events: NodeWatchEvent[] = []
  const errors: Error[] = []
  const w = c.watchPods('n1', { onEvent: (e) => events.push(e), onError: (e) => errors.push(e) })
  t.teardown(() => w.stop())
  await waitFor('RESYNC', () => events.find((e) => e.type === 'RESYNC'))
  const port = Number(a.address.split(':')[1])
  a.node.kill()
  const err = await c.renewNodeLease('n1').catch((e: unknown) => e)
  t.equal((err as Error).name, 'ConnectionError', 'no master: ConnectionError')
  await waitFor('watch errors', () => (errors.length >= 2 ? true : undefined))
  const rv = await createPods(a.api, ['late'], 'n1')
  // The master comes back on the same port.
  const { NodeGrpcServer } = await import('../../../src/apiserver/node-grpc/index.js')
  const revived = new NodeGrpcServer({ stores: a.api })
  await revived.listen('127.0.0.1', port)
  t.teardown(() => revived.stop())
  const added = await waitFor('ADDED late', () => events.find((e) => e.type === 'ADDED'), 10_000)
  t.equal(added.resourceVersion, rv, 'the change made while every master was down arrives')
})
