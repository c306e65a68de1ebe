// RemoteStorage against a 3-member `raftplane store` cluster: the Storage contract,
// then failover — the member in use is killed under a running watch and writes.
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { StoreCluster } from '../../../bench/kv/cluster.js'
import { RemoteStorage } from '../../../src/apiserver/storage/remote.js'
import { storageContract } from './contract.js'
import { Recorder } from './recorder.js'

const REPO = fileURLToPath(new URL('../../../', import.meta.url))
const STORE = [process.execPath, '--import', 'tsx', `${REPO}src/cli/main.ts`, 'store']

const cluster = await StoreCluster.start({ command: STORE, label: 'raftplane', size: 3, startTimeoutMs: 60_000 })
t.teardown(() => cluster.stop(3000))
const endpoints = cluster.members.map((m) => m.clientUrl)

t.test('contract', async (t) => {
  storageContract(t, (opts) => new RemoteStorage({ endpoints, ...opts }))
})

t.test('failover when the member in use, the leader, is killed', async (t) => {
  // The leader first, so the kill also costs an election and loses proposals in flight.
  const lead = await cluster.leader()
  const ordered = [endpoints[lead]!, ...endpoints.filter((_, i) => i !== lead)]
  const s = new RemoteStorage({ endpoints: ordered, requestTimeoutMs: 15_000 })
  t.teardown(() => s.close())
  const p = `/registry/failover-${process.pid}/`
  const rec = new Recorder().watch(s, p, await s.currentRevision())
  t.teardown(() => rec.cancel())

  const written: number[] = []
  const first = await s.create(`${p}k`, Buffer.from('0'))
  if (!first.ok) throw new Error('create refused')
  let mod = first.revision
  written.push(mod)
  const update = async (i: number) => {
    const r = await s.update(`${p}k`, Buffer.from(String(i)), mod)
    if (!r.ok) throw new Error(`update ${i} refused`)
    mod = r.revision
    written.push(mod)
  }
  for (let i = 1; i <= 5; i++) await update(i)
  await rec.untilEvents(6)

  const used = endpoints.indexOf(s.endpoint)
  t.equal(used, lead, `requests go to the leader, ${s.endpoint}`)
  await cluster.kill(used)

  // Writes, reads and the watch carry on through another member.
  for (let i = 6; i <= 15; i++) await update(i)
  t.not(s.endpoint, endpoints[used], `moved to ${s.endpoint}`)
  t.equal(Buffer.from((await s.get(`${p}k`)).kv!.value).toString(), '15')
  await rec.untilEvents(16, 20_000)
  t.same(
    rec.deliveries.map((d) => d.revision),
    written,
    'the watch saw every write once, in order, across the failover',
  )
  t.same(
    rec.events.slice(1).map((e) => Buffer.from(e.prev!.value).toString()),
    Array.from({ length: 15 }, (_, i) => String(i)),
    'with prev values',
  )
  t.equal(rec.closed, undefined, 'the watch did not end')
})
