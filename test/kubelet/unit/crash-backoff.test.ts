// The crash-loop back-off: the first restart is immediate, later ones wait 10 s, 20 s,
// 40 s … up to 5 min after the last exit, and a container that stayed up long enough
// starts over.
import t from 'tap'
import { backoffKey, CrashBackoff, goDuration } from '../../../src/kubelet/crash-backoff.js'

t.test('the first restart is immediate, then the delay doubles up to the maximum', async (t) => {
  const b = new CrashBackoff()
  const key = backoffKey('uid', 'c')
  let now = 1_000_000
  t.equal(b.remaining(key, now, now), 0, 'first exit: restart at once')
  b.next(key, now, now)
  const waits: number[] = []
  for (let i = 0; i < 7; i++) {
    now += 1000 // the instance ran 1 s and exited
    const finished = now
    const wait = b.remaining(key, finished, now)
    waits.push(wait)
    now += wait
    t.equal(b.remaining(key, finished, now), 0, 'may restart once the wait is over')
    b.next(key, finished, now)
  }
  t.same(waits, [10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000])
  t.equal(b.delay(key), 300_000)
})

t.test('a container that stayed up for twice the maximum starts over at the initial delay', async (t) => {
  const b = new CrashBackoff({ initialMs: 100, maxMs: 1000 })
  const key = backoffKey('uid', 'c')
  b.next(key, 0, 0)
  b.next(key, 10, 200)
  t.equal(b.delay(key), 200)
  const finished = 200 + 2001
  t.equal(b.remaining(key, finished, finished), 0, 'expired: no wait')
  b.next(key, finished, finished)
  t.equal(b.delay(key), 100, 'back to the initial delay')
})

t.test('forgetting a pod drops its containers only', async (t) => {
  const b = new CrashBackoff()
  b.next(backoffKey('a', 'c1'), 0, 0)
  b.next(backoffKey('a', 'c2'), 0, 0)
  b.next(backoffKey('b', 'c1'), 0, 0)
  b.forget(backoffKey('a', ''))
  t.equal(b.size, 1)
})

t.test("Go's duration spelling in the CrashLoopBackOff message", async (t) => {
  t.same([0, 500, 10_000, 20_000, 80_000, 160_000, 300_000, 3_600_000, 1500].map(goDuration), ['0s', '500ms', '10s', '20s', '1m20s', '2m40s', '5m0s', '1h0m0s', '1.5s'])
})
