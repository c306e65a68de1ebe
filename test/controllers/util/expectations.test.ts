// Expectations hold an owner back until its informer has seen the creations and
// deletions it asked for, and release it after the TTL if an event was lost.
import t from 'tap'
import { FakeClock } from '../../../src/client/index.js'
import { Expectations } from '../../../src/controllers/util/expectations.js'

t.test('satisfied once every add and delete was observed', async (t) => {
  const e = new Expectations(new FakeClock())
  t.ok(e.satisfied('ns/rs'), 'an unknown owner may sync')
  e.expect('ns/rs', 2, ['ns/p1'])
  t.notOk(e.satisfied('ns/rs'))
  e.creationObserved('ns/rs')
  e.creationObserved('ns/rs')
  t.notOk(e.satisfied('ns/rs'), 'the deletion is still pending')
  e.deletionObserved('ns/rs', 'ns/other')
  t.notOk(e.satisfied('ns/rs'), 'a deletion of another pod does not count')
  e.deletionObserved('ns/rs', 'ns/p1')
  t.ok(e.satisfied('ns/rs'))
  e.deletionObserved('ns/rs', 'ns/p1')
  t.strictSame(e.pending('ns/rs'), { adds: 0, deletes: 0 }, 'the same pod seen deleted twice counts once')
})

t.test('pending expectations expire after the TTL', async (t) => {
  const clock = new FakeClock()
  const e = new Expectations(clock, 1000)
  e.expect('k', 3)
  clock.step(999)
  t.notOk(e.satisfied('k'))
  clock.step(2)
  t.ok(e.satisfied('k'))
})

t.test('delete forgets the owner', async (t) => {
  const e = new Expectations(new FakeClock())
  e.expect('k', 1)
  e.delete('k')
  t.ok(e.satisfied('k'))
  t.equal(e.pending('k'), undefined)
})
