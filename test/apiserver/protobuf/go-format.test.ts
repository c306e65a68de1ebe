// Go's text for times and durations (time.Time.Format with RFC 3339, time.Duration.String).
import t from 'tap'
import { formatGoDuration, formatGoTime } from '../../../src/apiserver/protobuf/go-format.js'

t.test('formatGoTime', async (t) => {
  const s = BigInt(Date.UTC(2026, 0, 2, 3, 4, 5) / 1000)
  t.equal(formatGoTime(s, 0, 0), '2026-01-02T03:04:05Z')
  t.equal(formatGoTime(s, 999_999_999, 0), '2026-01-02T03:04:05Z', 'the fraction is dropped, not rounded')
  t.equal(formatGoTime(s, 5_000, 6), '2026-01-02T03:04:05.000005Z')
  t.equal(formatGoTime(s, 123_456_789, 6), '2026-01-02T03:04:05.123456Z', 'micro: truncated to six digits')
  t.equal(formatGoTime(0n, 0, 0), '1970-01-01T00:00:00Z')
  t.equal(formatGoTime(0n, -1, 6), '1969-12-31T23:59:59.999999Z', 'negative nanos borrow a second, as time.Unix does')
  t.equal(formatGoTime(s, 2_500_000_000, 0), '2026-01-02T03:04:07Z', 'nanos beyond a second carry')
  t.equal(formatGoTime(-62135596800n, 0, 0), '0001-01-01T00:00:00Z', "Go's zero time, when it is sent as a value")
  t.equal(formatGoTime(253402300800n, 0, 0), '10000-01-01T00:00:00Z')
  t.throws(() => formatGoTime(2n ** 62n, 0, 0), /time out of range/)
})

t.test('formatGoDuration', async (t) => {
  const cases: [bigint, string][] = [
    [0n, '0s'],
    [1n, '1ns'],
    [999n, '999ns'],
    [1_500n, '1.5µs'],
    [1_000_000n, '1ms'],
    [100_000_000n, '100ms'],
    [1_500_000_000n, '1.5s'],
    [90_000_000_000n, '1m30s'],
    [3_600_000_000_000n, '1h0m0s'],
    [5_445_000_000_000n, '1h30m45s'],
    [-5_000_000_000n, '-5s'],
    [-1_500n, '-1.5µs'],
    [2n ** 63n - 1n, '2562047h47m16.854775807s'],
    [-(2n ** 63n), '-2562047h47m16.854775808s'],
  ]
  for (const [ns, text] of cases) t.equal(formatGoDuration(ns), text, `${ns}ns`)
})
