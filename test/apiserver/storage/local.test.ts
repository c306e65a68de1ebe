// LocalStorage on an in-process single-member store: the Storage contract, plus what
// only the in-process watch has (the member stopping under it).
import t from 'tap'
import { LocalStorage } from '../../../src/apiserver/storage/local.js'
import { startMember } from '../../kv/server/helpers.js'
import { storageContract } from './contract.js'
import { StorageError } from '../../../src/apiserver/storage/interface.js'
import { Recorder } from './recorder.js'

const { member } = await startMember(t)

t.test('contract', async (t) => {
  storageContract(t, (opts) => new LocalStorage(member, opts))
})

t.test('the subscription is dropped when the last watch ends', async (t) => {
  const s = new LocalStorage(member)
  t.teardown(() => s.close())
  const sm = member.server.sm as unknown as { subscribers: Set<unknown> }
  const a = new Recorder().watch(s, '/registry/subs/', 0)
  const b = new Recorder().watch(s, '/registry/subs/', 0)
  t.equal(sm.subscribers.size, 2)
  a.cancel()
  b.cancel()
  t.equal(sm.subscribers.size, 0)
})

t.test('a member that stops ends its watches as unavailable', async (t) => {
  const own = await startMember(t)
  const s = new LocalStorage(own.member)
  t.teardown(() => s.close())
  const rec = new Recorder().watch(s, '/registry/stop/', await s.currentRevision())
  await own.member.server.stop()
  await rec.until(() => rec.closed !== undefined, 'the watch to close')
  t.equal(rec.closed?.reason, 'error')
  t.equal((rec.closed?.err as StorageError).code, 'Unavailable')
  t.equal(await s.healthy(), false)
  try {
    await s.get('/registry/stop/a')
    t.fail('a read from a stopped member')
  } catch (err) {
    t.equal((err as StorageError).code, 'Unavailable', 'reads fail as unavailable')
  }
  try {
    await s.create('/registry/stop/a', Buffer.from('x'))
    t.fail('a write to a stopped member')
  } catch (err) {
    t.equal((err as StorageError).code, 'Unavailable', 'writes fail as unavailable')
  }
  const late = new Recorder().watch(s, '/registry/stop/', 0)
  await late.until(() => late.closed !== undefined, 'a watch opened after the stop to close')
  t.equal(late.closed?.reason, 'error')
})
