// The text Go's JSON encoding gives the apimachinery types whose protobuf form is a
// number: metav1.Time and metav1.MicroTime ({seconds, nanos}) as RFC 3339 in UTC, and
// metav1.Duration (int64 nanoseconds) as time.Duration.String(). Written from Go's
// documented formats, so that a protobuf body decodes to what the same object sent as
// JSON would hold.

const NANOS_PER_SECOND = 1_000_000_000n

// JS Date covers ±8.64e15 ms; Go's time covers far more, but a timestamp out there is
// no timestamp any Kubernetes client sends.
const MAX_DATE_SECONDS = 8_640_000_000_000n

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0')
}

/**
 * `2006-01-02T15:04:05Z` (fractionDigits 0: metav1.Time) or
 * `2006-01-02T15:04:05.000000Z` (6: metav1.MicroTime), in UTC, from Unix seconds and
 * nanoseconds as time.Unix takes them (nanos outside [0, 1e9) carry into the seconds).
 * Go truncates, never rounds, the fraction.
 */
export function formatGoTime(seconds: bigint, nanos: number, fractionDigits: 0 | 6): string {
  const total = seconds * NANOS_PER_SECOND + BigInt(Math.trunc(nanos))
  let sec = total / NANOS_PER_SECOND
  let ns = total % NANOS_PER_SECOND
  if (ns < 0n) {
    ns += NANOS_PER_SECOND
    sec -= 1n
  }
  if (sec > MAX_DATE_SECONDS || sec < -MAX_DATE_SECONDS) throw new Error(`time out of range: ${seconds} seconds`)
  const d = new Date(Number(sec) * 1000)
  const year = d.getUTCFullYear()
  // Go pads the year to four digits and keeps its sign: -0001, 0000, 10000.
  const y = year < 0 ? `-${pad(-year, 4)}` : pad(year, 4)
  const date = `${y}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`
  const time = `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`
  const fraction = fractionDigits === 0 ? '' : '.' + pad(Number(ns / 1000n), 6)
  return `${date}T${time}${fraction}Z`
}

/** Digits of v / 10^prec after the point, trailing zeros dropped ('' when none). */
function fraction(v: bigint, prec: number): string {
  const digits = (v % 10n ** BigInt(prec)).toString().padStart(prec, '0').replace(/0+$/, '')
  return digits === '' ? '' : `.${digits}`
}

/**
 * Go's time.Duration.String(): `0s`, `1.5µs`, `250ms`, `1m30s`, `2h0m0s`, `-5s`.
 * Units below a second are used only for durations below a second.
 */
export function formatGoDuration(nanoseconds: bigint): string {
  if (nanoseconds === 0n) return '0s'
  const neg = nanoseconds < 0n
  const u = neg ? -nanoseconds : nanoseconds
  let text: string
  if (u < NANOS_PER_SECOND) {
    const [prec, unit] = u < 1_000n ? [0, 'ns'] : u < 1_000_000n ? [3, 'µs'] : [6, 'ms']
    text = `${u / 10n ** BigInt(prec)}${fraction(u, prec)}${unit}`
  } else {
    const secs = u / NANOS_PER_SECOND
    text = `${secs % 60n}${fraction(u, 9)}s`
    const mins = secs / 60n
    if (mins > 0n) {
      text = `${mins % 60n}m${text}`
      const hours = mins / 60n
      if (hours > 0n) text = `${hours}h${text}`
    }
  }
  return neg ? `-${text}` : text
}
