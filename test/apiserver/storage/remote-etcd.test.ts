// RemoteStorage against a real etcd 3.4 (Debian's etcd-server): the Storage contract,
// so the registry code proven on our store is proven on etcd too.
import { existsSync } from 'node:fs'
import t from 'tap'
import { freePort, StoreCluster } from '../../../bench/kv/cluster.js'
import { StorageError } from '../../../src/apiserver/storage/interface.js'
import { RemoteStorage } from '../../../src/apiserver/storage/remote.js'
import { storageContract } from './contract.js'
import { Recorder } from './recorder.js'

const ETCD = '/usr/bin/etcd'

if (!existsSync(ETCD)) {
  t.fail(`${ETCD} is not installed (scripts/install-deps.sh installs etcd-server)`)
} else {
  const cluster = await StoreCluster.start({ command: [ETCD], label: 'etcd', size: 1, startTimeoutMs: 30_000 })
  t.teardown(() => cluster.stop())
  const endpoints = cluster.members.map((m) => m.clientUrl)

  t.test('contract', async (t) => {
    storageContract(t, (opts) => new RemoteStorage({ endpoints, ...opts }))
  })

  t.test('an unreachable endpoint is skipped', async (t) => {
    const dead = `http://127.0.0.1:${await freePort()}`
    const s = new RemoteStorage({ endpoints: [dead, ...endpoints] })
    t.teardown(() => s.close())
    const p = `/registry/skip-${process.pid}/`
    const rec = new Recorder().watch(s, p, await s.currentRevision())
    t.teardown(() => rec.cancel())
    t.equal(s.endpoint, endpoints[0], 'moved past the dead endpoint')
    const c = await s.create(`${p}a`, Buffer.from('x'))
    t.equal(c.ok, true)
    await rec.untilEvents(1)
  })

  t.test('nothing reachable: requests and watches end as unavailable', async (t) => {
    const dead = [`http://127.0.0.1:${await freePort()}`, `127.0.0.1:${await freePort()}`]
    const s = new RemoteStorage({ endpoints: dead, requestTimeoutMs: 800, watchRetryTimeoutMs: 800 })
    t.teardown(() => s.close())
    const started = Date.now()
    try {
      await s.get('/registry/x')
      t.fail('a read with no store')
    } catch (err) {
      t.equal((err as StorageError).code, 'Unavailable')
    }
    try {
      await s.create('/registry/x', Buffer.from('x'))
      t.fail('a write with no store')
    } catch (err) {
      t.equal((err as StorageError).code, 'Unavailable')
    }
    t.ok(Date.now() - started < 5000, 'within the request deadlines')
    t.equal(await s.healthy(), false)
    const rec = new Recorder().watch(s, '/registry/x/', 0)
    await rec.until(() => rec.closed !== undefined, 'the watch to give up', 10_000)
    t.equal(rec.closed?.reason, 'error')
    t.equal((rec.closed?.err as StorageError).code, 'Unavailable')
  })

  // Last: restarts the store.
  t.test('a watch survives the store restarting', async (t) => {
    const s = new RemoteStorage({ endpoints, requestTimeoutMs: 15_000 })
    t.teardown(() => s.close())
    const p = `/registry/restart-${process.pid}/`
    const rec = new Recorder().watch(s, p, await s.currentRevision())
    t.teardown(() => rec.cancel())
    const written: number[] = []
    const put = async (name: string) => {
      const r = await s.create(`${p}${name}`, Buffer.from(name))
      if (!r.ok) throw new Error(`create ${name} refused`)
      written.push(r.revision)
    }
    await put('a')
    await put('b')
    await rec.untilEvents(2)
    await cluster.kill(0)
    await cluster.restart(0)
    await put('c')
    await put('d')
    await rec.untilEvents(4, 20_000)
    t.same(
      rec.deliveries.map((d) => d.revision),
      written,
      'every write once, in order',
    )
    t.equal(rec.closed, undefined)
  })
}
