// --quota-backend-bytes: past the quota the NOSPACE alarm is raised and writes fail
// with etcd's error, reads and deletes still work, and after compaction, defragment
// and `alarm disarm` writes succeed again (etcd's documented recovery).
import t from 'tap'
import { etcdId } from '../../../src/kv/server/ids.js'
import { startMember } from './helpers.js'

const NOSPACE = /etcdserver: mvcc: database space exceeded/

t.test('NOSPACE alarm, refused writes, and recovery by compact + defrag + disarm', async (t) => {
  const { call, member } = await startMember(t, (cfg) => {
    cfg.quotaBackendBytes = 400 * 1024
  })
  const value = Buffer.alloc(32 * 1024, 7)
  let lastRev = 0
  let refused: Error | undefined
  // Overwrite one key until the backend outgrows the quota (its size is sampled every 500 ms).
  for (let i = 0; i < 400 && !refused; i++) {
    try {
      const r = await call<{ header: { revision: string } }>('KV', 'Put', { key: Buffer.from('big'), value })
      lastRev = Number(r.header.revision)
    } catch (err) {
      refused = err as Error
    }
    if (i % 20 === 19) await new Promise((r) => setTimeout(r, 600))
  }
  t.ok(refused, 'a write was refused')
  t.match(refused, { code: 8, details: NOSPACE })
  const alarms = await call<{ alarms: { memberID: string; alarm: string }[] }>('Maintenance', 'Alarm', { action: 'GET' })
  t.same(alarms.alarms, [{ memberID: etcdId(member.server.id), alarm: 'NOSPACE' }])
  await t.rejects(call('KV', 'Put', { key: Buffer.from('other'), value: Buffer.from('x') }), { code: 8, details: NOSPACE }, 'every put is refused')
  await t.rejects(call('Lease', 'LeaseGrant', { TTL: 10 }), { code: 8, details: NOSPACE }, 'lease grants too')
  const got = await call<{ kvs: unknown[] }>('KV', 'Range', { key: Buffer.from('big') })
  t.equal(got.kvs.length, 1, 'reads still work')
  const status = await call<{ errors: string[] }>('Maintenance', 'Status', {})
  t.match(status.errors, [/alarm:NOSPACE/])

  await call('KV', 'Compact', { revision: lastRev, physical: true })
  await call('Maintenance', 'Defragment', {})
  await call('Maintenance', 'Alarm', { action: 'DEACTIVATE', memberID: etcdId(member.server.id), alarm: 'NOSPACE' })
  t.same((await call<{ alarms: unknown[] }>('Maintenance', 'Alarm', { action: 'GET' })).alarms, [])
  await new Promise((r) => setTimeout(r, 600)) // the size sample after defragment
  const put = await call<{ header: { revision: string } }>('KV', 'Put', { key: Buffer.from('after'), value: Buffer.from('ok') })
  t.ok(Number(put.header.revision) > lastRev, 'writes work again')
})
