import t from 'tap'
import { parseGoDuration } from '../../src/api/go-duration.js'

t.test('Go durations', async (t) => {
  t.equal(parseGoDuration('15s'), 15_000)
  t.equal(parseGoDuration('500ms'), 500)
  t.equal(parseGoDuration('1m30s'), 90_000)
  t.equal(parseGoDuration('1.5s'), 1500)
  t.equal(parseGoDuration('2h'), 7_200_000)
  t.equal(parseGoDuration('0'), 0)
  for (const bad of ['', '15', 's', '1x', '-1s']) {
    t.throws(() => parseGoDuration(bad), { message: `time: invalid duration "${bad}"` }, bad)
  }
})
