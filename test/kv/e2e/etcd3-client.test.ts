// The `etcd3` npm client (v1.1.x) against a three-member `raftplane store` cluster:
// get/put/delete, getAll with sort/limit/keys/count, txn, watch, leases, and the
// client's lock and election recipes, which are built only on KV, Watch and Lease.
import type { IKeyValue, IWatchResponse } from 'etcd3'
import etcd3 from 'etcd3'
import t from 'tap'
import { StoreCluster } from '../../../bench/kv/cluster.js'
import { OURS, sleep, waitFor, withTimeout } from './helpers/client-util.js'

const { Etcd3, EtcdLockFailedError } = etcd3
type Client = InstanceType<typeof Etcd3>

t.test('the etcd3 npm client against a 3-member raftplane store', async (t) => {
  const cluster = await StoreCluster.start({ command: OURS, label: 'raftplane' })
  const hosts = cluster.endpoints.map((e) => `http://${e}`)
  const clients: Client[] = []
  const connect = (): Client => {
    const c = new Etcd3({ hosts, dialTimeout: 5000 })
    clients.push(c)
    return c
  }
  t.teardown(async () => {
    for (const c of clients) c.close()
    await cluster.stop()
  })
  const client = connect()

  await t.test('put, get and delete: single keys, prefixes, everything', async (t) => {
    const put = await client.put('/e3/a').value('1')
    const rev = Number(put.header.revision)
    t.ok(rev > 1, `put answered at revision ${rev}`)
    t.equal(await client.get('/e3/a').string(), '1')
    t.equal(await client.get('/e3/a').number(), 1)
    t.equal(await client.get('/e3/missing').string(), null, 'a missing key reads null')
    t.equal(await client.get('/e3/missing').exists(), false)
    t.equal(await client.get('/e3/a').exists(), true)

    const prev = await client.put('/e3/a').value(JSON.stringify({ n: 2 })).getPrevious()
    t.equal(prev.value.toString(), '1', 'getPrevious returns the value before')
    t.equal(prev.mod_revision, String(rev))
    t.same(await client.get('/e3/a').json(), { n: 2 })
    const res = await client.get('/e3/a').exec()
    t.equal(res.kvs[0]!.version, '2')
    t.equal(res.kvs[0]!.create_revision, String(rev))
    t.equal(res.kvs[0]!.mod_revision, String(rev + 1))
    t.equal(await client.get('/e3/a').revision(rev).string(), '1', 'a read at an older revision sees the older value')

    const del = await client.delete().key('/e3/a').exec()
    t.equal(del.deleted, '1')
    t.equal(await client.get('/e3/a').string(), null)

    await Promise.all(['/e3/p/1', '/e3/p/2', '/e3/p/3', '/e3/q'].map((k) => client.put(k).value(k)))
    const before = await client.delete().prefix('/e3/p/').getPrevious()
    t.same(before.map((kv) => kv.key.toString()).sort(), ['/e3/p/1', '/e3/p/2', '/e3/p/3'], 'a prefix delete removes just the prefix')
    t.same(await client.getAll().prefix('/e3/').keys(), ['/e3/q'])

    const all = await client.delete().all().exec()
    t.ok(Number(all.deleted) >= 1, `delete().all() removed ${all.deleted}`)
    t.equal(await client.getAll().count(), 0, 'nothing is left')
  })

  await t.test('getAll: prefix, ranges, sort, limit, keys, count', async (t) => {
    // Values chosen so key, value and mod-revision orders all differ.
    for (const [k, v] of [['b', '3'], ['c', '1'], ['a', '2'], ['d', '0']] as const) await client.put(`/e3/s/${k}`).value(v)
    await client.put('/e3/t').value('outside')
    const keysOf = async (p: Promise<{ kvs: IKeyValue[] }>) => (await p).kvs.map((kv) => kv.key.toString().slice('/e3/s/'.length))

    t.same(await client.getAll().prefix('/e3/s/').keys(), ['/e3/s/a', '/e3/s/b', '/e3/s/c', '/e3/s/d'], 'keys in key order')
    t.same(await client.getAll().prefix('/e3/s/').strings(), { '/e3/s/a': '2', '/e3/s/b': '3', '/e3/s/c': '1', '/e3/s/d': '0' })
    t.same(await client.getAll().prefix('/e3/s/').numbers(), { '/e3/s/a': 2, '/e3/s/b': 3, '/e3/s/c': 1, '/e3/s/d': 0 })
    t.equal(await client.getAll().prefix('/e3/s/').count(), 4)
    t.equal(await client.getAll().prefix('/e3/').count(), 5)
    t.same(await keysOf(client.getAll().prefix('/e3/s/').sort('Key', 'Descend').exec()), ['d', 'c', 'b', 'a'])
    t.same(await keysOf(client.getAll().prefix('/e3/s/').sort('Value', 'Ascend').exec()), ['d', 'c', 'a', 'b'])
    t.same(await keysOf(client.getAll().prefix('/e3/s/').sort('Mod', 'Descend').exec()), ['d', 'a', 'c', 'b'])
    t.same(await keysOf(client.getAll().prefix('/e3/s/').sort('Create', 'Ascend').exec()), ['b', 'c', 'a', 'd'])
    t.same(await keysOf(client.getAll().prefix('/e3/s/').sort('Version', 'Ascend').exec()), ['a', 'b', 'c', 'd'], 'equal versions: key order')

    const limited = await client.getAll().prefix('/e3/s/').sort('Value', 'Descend').limit(2).exec()
    t.same(limited.kvs.map((kv) => kv.value.toString()), ['3', '2'])
    t.equal(limited.more, true, 'more: the limit cut the answer')
    t.equal(limited.count, '4', 'count: every key in range, not only those returned')
    t.same(await client.getAll().prefix('/e3/s/').limit(2).keys(), ['/e3/s/a', '/e3/s/b'])

    t.same(await client.getAll().inRange({ start: '/e3/s/b', end: '/e3/s/d' }).keys(), ['/e3/s/b', '/e3/s/c'], 'inRange is half-open')
    const keysOnly = await client.getAll().prefix('/e3/s/').exec() // builder keys() asks keys_only
    t.equal(keysOnly.kvs.length, 4)
    t.same(await client.getAll().prefix('/e3/s/').keyBuffers(), ['a', 'b', 'c', 'd'].map((k) => Buffer.from(`/e3/s/${k}`)))
    t.same(await client.getAll().prefix('/e3/none/').keys(), [])
    t.equal(await client.getAll().prefix('/e3/none/').count(), 0)
  })

  await t.test('txn: if / then / else', async (t) => {
    const missing = await client
      .if('/e3/txn', 'Value', '==', 'x')
      .then(client.put('/e3/txn').value('then'))
      .else(client.put('/e3/txn').value('else'), client.get('/e3/txn'))
      .commit()
    t.equal(missing.succeeded, false, 'a value compare on a missing key fails')
    t.equal(missing.responses.length, 2)
    t.equal(missing.responses[1]!.response_range!.kvs[0]!.value.toString(), 'else', 'a get after a put in the same txn sees it')
    t.equal(await client.get('/e3/txn').string(), 'else')

    const ok = await client
      .if('/e3/txn', 'Value', '==', 'else')
      .and('/e3/txn', 'Version', '==', 1)
      .then(client.put('/e3/txn').value('then'), client.delete().key('/e3/other'))
      .else(client.put('/e3/txn').value('nope'))
      .commit()
    t.equal(ok.succeeded, true)
    t.equal(await client.get('/e3/txn').string(), 'then')

    const created = await client.if('/e3/new', 'Create', '==', 0).then(client.put('/e3/new').value('1')).commit()
    t.equal(created.succeeded, true, 'create-revision 0: the key did not exist')
    const again = await client.if('/e3/new', 'Create', '==', 0).then(client.put('/e3/new').value('2')).commit()
    t.equal(again.succeeded, false)
    t.equal(await client.get('/e3/new').string(), '1')

    const mod = (await client.get('/e3/new').exec()).kvs[0]!.mod_revision
    const stale = await client.if('/e3/new', 'Mod', '<', mod).then(client.put('/e3/new').value('3')).commit()
    t.equal(stale.succeeded, false)
    const fresh = await client.if('/e3/new', 'Mod', '==', mod).then(client.put('/e3/new').value('3')).commit()
    t.equal(fresh.succeeded, true)
    t.equal(await client.get('/e3/new').string(), '3')
  })

  await t.test('watch: prefix, put and delete events, prev kv, start revision', async (t) => {
    type Seen = { type: 'put' | 'delete'; key: string; value: string; prev: string | undefined; mod: string }
    const seen: Seen[] = []
    const watcher = await client.watch().prefix('/e3/w/').withPreviousKV().create()
    t.teardown(() => watcher.cancel())
    const note = (type: Seen['type']) => (kv: IKeyValue, prev?: IKeyValue) =>
      seen.push({ type, key: kv.key.toString(), value: kv.value.toString(), prev: prev?.value.toString(), mod: kv.mod_revision })
    watcher.on('put', note('put'))
    watcher.on('delete', note('delete'))

    const first = Number((await client.put('/e3/w/a').value('1')).header.revision)
    await client.put('/e3/w/a').value('2')
    await client.put('/e3/outside').value('x')
    await client.put('/e3/w/b').value('3')
    await client.delete().key('/e3/w/a')
    await waitFor('4 watch events', () => seen.length >= 4, 5000)
    t.same(seen, [
      { type: 'put', key: '/e3/w/a', value: '1', prev: undefined, mod: String(first) },
      { type: 'put', key: '/e3/w/a', value: '2', prev: '1', mod: String(first + 1) },
      { type: 'put', key: '/e3/w/b', value: '3', prev: undefined, mod: String(first + 3) },
      { type: 'delete', key: '/e3/w/a', value: '', prev: '2', mod: String(first + 4) },
    ])
    t.equal(String(watcher.lastRevision()), String(first + 5), 'the watcher would resume after the last revision it saw')

    // From a past revision: the history is replayed, then live events follow.
    const replay: IWatchResponse[] = []
    const from = await client.watch().key('/e3/w/a').startRevision(String(first + 1)).create()
    t.teardown(() => from.cancel())
    from.on('data', (r) => replay.push(r))
    await waitFor('replayed events', () => replay.flatMap((r) => r.events).length >= 2, 5000)
    await client.put('/e3/w/a').value('4')
    await waitFor('the live event', () => replay.flatMap((r) => r.events).length >= 3, 5000)
    t.same(
      replay.flatMap((r) => r.events).map((e) => [e.type, e.kv.mod_revision, e.kv.value.toString()]),
      [
        ['Put', String(first + 1), '2'],
        ['Delete', String(first + 4), ''],
        ['Put', String(first + 5), '4'],
      ],
    )
    await from.cancel()
    await watcher.cancel()
  })

  await t.test('lease: grant, put with lease, keepalive events, revoke removes keys', async (t) => {
    const lease = client.lease(3)
    t.teardown(() => (lease.revoked() ? undefined : lease.revoke().catch(() => undefined)))
    const id = await lease.grant()
    t.match(id, /^\d+$/, 'the ID is a decimal string')
    await lease.put('/e3/l/a').value('x')
    await client.put('/e3/l/b').value('y').lease(id)
    const kv = (await client.get('/e3/l/a').exec()).kvs[0]!
    t.equal(kv.lease, id, 'the key carries the exact lease ID')

    let kept = 0
    lease.on('keepaliveSucceeded', (res) => {
      if (res.ID === id && Number(res.TTL) === 3) kept++
    })
    // Keepalives go every TTL/3; past the TTL, the keys are still there.
    await sleep(4000)
    t.ok(kept >= 2, `${kept} keepalives succeeded in 4 s`)
    t.same(await client.getAll().prefix('/e3/l/').keys(), ['/e3/l/a', '/e3/l/b'], 'a kept-alive lease keeps its keys past the TTL')
    const once = await lease.keepaliveOnce()
    t.equal(once.ID, id)
    t.equal(once.TTL, '3')

    await lease.revoke()
    t.equal(lease.revoked(), true)
    t.same(await client.getAll().prefix('/e3/l/').keys(), [], 'revoking deleted the keys')
  })

  await t.test('lease: not kept alive, it expires and its keys vanish', async (t) => {
    const lease = client.lease(2, { autoKeepAlive: false })
    const id = await lease.grant()
    const start = Date.now()
    await client.put('/e3/x/a').value('x').lease(id)
    await client.put('/e3/x/b').value('y').lease(id)
    await client.put('/e3/x/kept').value('z')
    t.equal(await client.getAll().prefix('/e3/x/').count(), 3)
    await waitFor('the lease keys to vanish', async () => (await client.getAll().prefix('/e3/x/').count()) === 1, 10_000, 100)
    const took = Date.now() - start
    t.ok(took >= 1500, `the keys lived about the TTL (${took} ms)`)
    t.same(await client.getAll().prefix('/e3/x/').keys(), ['/e3/x/kept'], 'only the key without a lease is left')
    await t.rejects(client.put('/e3/x/c').value('late').lease(id).exec(), { message: /requested lease not found/ }, 'the expired lease is gone')
  })

  await t.test('lock: mutual exclusion between two clients', async (t) => {
    const a = connect()
    const b = connect()
    const lockA = await a.lock('/e3/lock').ttl(5).acquire()
    t.ok(await lockA.leaseId(), 'the lock holds a lease')
    const lockFails = async (c: Client) => (await c.lock('/e3/lock').ttl(5).acquire().then(() => null, (e: unknown) => e)) instanceof EtcdLockFailedError
    t.ok(await lockFails(b), 'the second client cannot take a held lock')
    await lockA.release()
    const lockB = await b.lock('/e3/lock').ttl(5).acquire()
    t.ok(await lockFails(a), 'now the first one cannot')
    await lockB.release()

    // Both clients take turns in a critical section; nobody is ever inside with the other.
    let inside = 0
    let overlaps = 0
    let entries = 0
    const worker = async (c: Client) => {
      for (let i = 0; i < 5; i++) {
        for (;;) {
          try {
            const lock = await c.lock('/e3/lock').ttl(5).acquire()
            inside++
            entries++
            if (inside > 1) overlaps++
            await sleep(20)
            inside--
            await lock.release()
            break
          } catch (err) {
            if (!(err instanceof EtcdLockFailedError)) throw err
            await sleep(10)
          }
        }
      }
    }
    await withTimeout('two clients taking the lock 5 times each', Promise.all([worker(a), worker(b)]), 30_000)
    t.equal(entries, 10)
    t.equal(overlaps, 0, 'never two holders at once')
    t.equal(await client.getAll().prefix('/e3/lock').count(), 0, 'released locks leave no keys')
  })

  await t.test('election: campaign, observe the leader, resign, the next candidate wins', async (t) => {
    const a = connect()
    const b = connect()
    const alice = a.election('/e3/election', 5).campaign('alice')
    await withTimeout('alice to be elected', alice.wait())
    t.equal(await b.election('/e3/election').leader(), 'alice')

    const observer = await b.election('/e3/election').observe()
    t.teardown(() => observer.cancel())
    t.equal(observer.leader(), 'alice', 'the observer sees the leader')
    const changes: (string | undefined)[] = []
    observer.on('change', (v) => changes.push(v))

    const bob = b.election('/e3/election', 5).campaign('bob')
    let bobElected = false
    bob.on('elected', () => (bobElected = true))
    await sleep(1000)
    t.equal(bobElected, false, 'a second candidate waits while the first leads')
    t.equal(await a.election('/e3/election').leader(), 'alice')

    await alice.proclaim('alice-2')
    await waitFor('the observer to see the proclamation', () => observer.leader() === 'alice-2', 5000)

    await alice.resign()
    await withTimeout('bob to be elected after alice resigned', bob.wait())
    t.equal(await a.election('/e3/election').leader(), 'bob')
    await waitFor('the observer to see bob', () => observer.leader() === 'bob', 5000)
    t.same(changes.filter((v) => v !== undefined), ['alice-2', 'bob'], 'change events: the proclamation, then the new leader')

    await bob.resign()
    t.equal(await a.election('/e3/election').leader(), undefined, 'no leader once both resigned')
    await observer.cancel()
  })
})
