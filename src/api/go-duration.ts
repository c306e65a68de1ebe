// Go's time.ParseDuration for the flags Kubernetes users know (`--leader-elect-lease-duration=15s`):
// a sequence of decimal numbers with units ns, us/µs, ms, s, m, h, e.g. "1m30s", "1.5s", "500ms".
const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

export function parseGoDuration(text: string): number {
  const s = text.trim()
  if (s === '0') return 0
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y
  let ms = 0
  let at = 0
  while (at < s.length) {
    re.lastIndex = at
    const m = re.exec(s)
    if (m === null) throw new Error(`time: invalid duration "${text}"`)
    ms += Number(m[1]) * UNIT_MS[m[2]!]!
    at = re.lastIndex
  }
  if (s.length === 0) throw new Error(`time: invalid duration "${text}"`)
  return ms
}
