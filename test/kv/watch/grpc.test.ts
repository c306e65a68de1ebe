// The Watch service over grpc-js, checked with a client built only from etcd's proto
// files, and with the real etcdctl 3.4.
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import * as grpc from '@grpc/grpc-js'
import t from 'tap'
import { loadEtcdProto } from '../../../src/kv/etcd-proto.js'
import { KVStore } from '../../../src/kv/mvcc/kv-store.js'
import { WatchHub } from '../../../src/kv/watch/hub.js'
import { watchServiceDefinition, watchServiceHandlers } from '../../../src/kv/watch/grpc.js'
import { Applier, HEADER, type Resp, waitFor } from './fixtures/watch-helpers.js'

const ETCDCTL = '/usr/bin/etcdctl'
const b = (s: string) => Buffer.from(s)

t.test('the Watch service speaks etcd’s protocol', async (t) => {
  const store = await KVStore.open(t.testdir())
  const hub = new WatchHub(store, { header: () => HEADER, progressIntervalMs: 50, maxResponseBytes: 600 })
  const apply = new Applier(store, hub)
  const server = new grpc.Server()
  server.addService(watchServiceDefinition(), watchServiceHandlers(hub))
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  )
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const pkg = grpc.loadPackageDefinition(loadEtcdProto()) as any
  const client: grpc.Client = new pkg.etcdserverpb.Watch(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.enable_http_proxy': 0 })
  t.teardown(async () => {
    client.close()
    hub.close()
    server.forceShutdown()
    await store.close()
  })

  for (let i = 1; i <= 3; i++) await apply.put('foo/a', `v${i}`) // revs 2..4
  await apply.del('foo/a') // 5

  const call = (client as unknown as { Watch(): grpc.ClientDuplexStream<object, Resp> }).Watch()
  const got: Resp[] = []
  call.on('data', (r: Resp) => got.push(r))
  call.on('error', () => {})
  t.teardown(() => call.cancel())

  call.write({ create_request: { key: b('foo/'), range_end: b('foo0'), start_revision: '3', prev_kv: true } })
  await waitFor('history', () => got.flatMap((r) => r.events).length === 3)
  t.match(got[0], { watch_id: '0', created: true, canceled: false, header: { revision: '5', cluster_id: HEADER.clusterId, member_id: HEADER.memberId, raft_term: '3' } })
  const evs = got.flatMap((r) => r.events)
  t.same(evs.map((e) => [e.type, e.kv.mod_revision, e.kv.value.toString(), e.prev_kv?.value.toString() ?? null]), [
    ['PUT', '3', 'v2', 'v1'],
    ['PUT', '4', 'v3', 'v2'],
    ['DELETE', '5', '', 'v3'],
  ])

  got.length = 0
  await apply.put('foo/b', 'live')
  await waitFor('live', () => got.some((r) => r.events.length > 0))
  t.match(got.find((r) => r.events.length > 0), { watch_id: '0', header: { revision: '6' }, events: [{ type: 'PUT', kv: { key: b('foo/b'), version: '1', create_revision: '6' }, prev_kv: null }] })

  got.length = 0
  call.write({ progress_request: {} })
  await waitFor('progress', () => got.some((r) => r.watch_id === '-1'))
  t.match(got.find((r) => r.watch_id === '-1'), { created: false, canceled: false, events: [], header: { revision: '6' } })

  call.write({ create_request: { key: b('p'), watch_id: '42', progress_notify: true } })
  await waitFor('periodic progress', () => got.filter((r) => r.watch_id === '42').length >= 2)
  t.match(got.filter((r) => r.watch_id === '42'), [{ created: true }, { created: false, events: [], header: { revision: '6' } }])

  got.length = 0
  call.write({ create_request: { key: b('big/'), range_end: b('big0'), fragment: true } })
  await waitFor('created', () => got.some((r) => r.created))
  await apply.write(Array.from({ length: 10 }, (_, i) => ({ put: { key: b(`big/${i}`), value: Buffer.alloc(100, 120) } })))
  await waitFor('fragments', () => got.flatMap((r) => r.events).length === 10)
  const frags = got.filter((r) => r.events.length > 0)
  t.ok(frags.length > 1, `${frags.length} fragments`)
  t.same(frags.map((r) => r.fragment), [...frags.slice(1).map(() => true), false])

  got.length = 0
  call.write({ cancel_request: { watch_id: '42' } })
  await waitFor('cancel', () => got.some((r) => r.canceled))
  t.match(got, [{ watch_id: '42', canceled: true, created: false, cancel_reason: '' }])

  got.length = 0
  call.write({ create_request: { key: b('foo/'), range_end: b('foo0'), watch_id: '0', filters: ['NOPUT'] } })
  call.write({ create_request: { key: b('x'), watch_id: '42' } })
  call.write({ create_request: { key: b('x'), watch_id: '42' } })
  await waitFor('refusal', () => got.some((r) => r.cancel_reason !== ''))
  t.match(got.at(-1), { watch_id: '-1', created: true, canceled: true, cancel_reason: 'mvcc: duplicate watch ID provided on the WatchStream' })
  t.equal(hub.counts.streams, 1)

  // A client that goes away takes its watchers with it.
  call.cancel()
  await waitFor('stream closed', () => hub.counts.streams === 0)
  t.same(hub.counts, { synced: 0, unsynced: 0, streams: 0 })

  if (!existsSync(ETCDCTL)) {
    t.comment('no etcdctl: skipped')
    return
  }
  // etcdctl 3.4 from a past revision, then a live put.
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, ETCDCTL_API: '3' }
  const child = execFile(ETCDCTL, ['--endpoints', `127.0.0.1:${port}`, 'watch', '--prefix', 'foo', '--rev', '4', '--prev-kv'], { env })
  let out = ''
  child.stdout?.on('data', (s: string) => (out += s))
  t.teardown(() => child.kill('SIGKILL'))
  await waitFor('etcdctl history', () => out.split('\n').length >= 9, 5000)
  await apply.put('foo/c', 'from-etcdctl')
  await waitFor('etcdctl live', () => out.includes('from-etcdctl'), 5000)
  t.same(out.trim().split('\n'), ['PUT', 'foo/a', 'v2', 'foo/a', 'v3', 'DELETE', 'foo/a', 'v3', 'foo/a', '', 'PUT', 'foo/b', 'live', 'PUT', 'foo/c', 'from-etcdctl'])
})

t.test('a client that stops reading is moved aside and catches up after', async (t) => {
  const store = await KVStore.open(t.testdir())
  const hub = new WatchHub(store, { header: () => HEADER })
  const apply = new Applier(store, hub)
  const server = new grpc.Server()
  server.addService(watchServiceDefinition(), watchServiceHandlers(hub, { maxPendingBytes: 64 * 1024 }))
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  )
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const pkg = grpc.loadPackageDefinition(loadEtcdProto()) as any
  const mk = () => new pkg.etcdserverpb.Watch(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.enable_http_proxy': 0 }) as grpc.Client
  const slowClient = mk()
  const fastClient = mk()
  const open = (c: grpc.Client) => (c as unknown as { Watch(): grpc.ClientDuplexStream<object, Resp> }).Watch()
  const slow = open(slowClient)
  const fast = open(fastClient)
  t.teardown(async () => {
    slow.cancel()
    fast.cancel()
    slowClient.close()
    fastClient.close()
    hub.close()
    server.forceShutdown()
    await store.close()
  })
  slow.on('error', () => {})
  fast.on('error', () => {})
  const slowKeys = new Map<string, string[]>()
  let slowCount = 0
  let fastCount = 0
  slow.on('data', (r: Resp) => {
    const list = slowKeys.get(r.watch_id) ?? []
    slowKeys.set(r.watch_id, list)
    for (const e of r.events) list.push(e.kv.key.toString())
    slowCount += r.events.length
  })
  fast.on('data', (r: Resp) => (fastCount += r.events.length))
  for (let i = 0; i < 20; i++) slow.write({ create_request: { key: b('s/'), range_end: b('s0'), watch_id: String(i + 1) } })
  fast.write({ create_request: { key: b('s/'), range_end: b('s0') } })
  await waitFor('created', () => hub.counts.synced === 21)
  slow.pause()
  const value = Buffer.alloc(2000, 120)
  const N = 300
  for (let i = 0; i < N; i++) await apply.write([{ put: { key: b(`s/${String(i).padStart(4, '0')}`), value } }])
  await waitFor('fast client', () => fastCount === N, 8000)
  t.ok(hub.counts.unsynced > 0, `slow watchers moved aside (${hub.counts.unsynced} of 20)`)
  slow.resume()
  await waitFor('slow client', () => slowCount === 20 * N, 8000)
  const want = Array.from({ length: N }, (_, i) => `s/${String(i).padStart(4, '0')}`)
  t.equal(slowKeys.size, 20)
  t.ok([...slowKeys.values()].every((keys) => keys.join() === want.join()), 'every watch got every event once, in order')
  t.equal(hub.counts.unsynced, 0)
})
