// The real clock's timers: a wait longer than Node's setTimeout limit (~24.8 days)
// must not fire at once (Node would run it after 1 ms).
import t from 'tap'
import { realClock } from '../../src/client/index.js'

t.test('a very long timeout does not fire early, and can be cancelled', async (t) => {
  let fired = false
  const timer = realClock.setTimeout(() => (fired = true), 40 * 24 * 3600 * 1000)
  await new Promise((r) => setTimeout(r, 50))
  t.notOk(fired, 'still waiting after 50 ms')
  timer.cancel()
})

t.test('short timeouts fire as before', async (t) => {
  await new Promise<void>((resolve) => realClock.setTimeout(resolve, 5))
  t.pass('fired')
})
