// Cron schedules as CronJobs accept them: robfig/cron's standard parser (five fields,
// names for months and weekdays, ranges, steps, `@every`/`@daily`-style descriptors),
// with its error texts, which CronJob validation reports verbatim. The parsed form
// (parseCron) is what src/api/cron-schedule.ts computes activation times from, so
// validation and the CronJob controller read a schedule the same way.

interface Bounds {
  min: number
  max: number
  names?: Record<string, number>
}

const MONTHS: Record<string, number> = { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 }
const DAYS: Record<string, number> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 }

const SECONDS: Bounds = { min: 0, max: 59 }
const FIELDS: Bounds[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: MONTHS },
  { min: 0, max: 6, names: DAYS },
]

/** The values one field matches. */
export interface CronField {
  values: ReadonlySet<number>
  /**
   * Written as `*` or `?` (with no step, or a step of 1): robfig's star bit. When
   * day-of-month or day-of-week has it, a day must match both; otherwise either.
   */
  star: boolean
}

export type ParsedCron =
  | {
      kind: 'fields'
      /** The zone of a `TZ=`/`CRON_TZ=` prefix, as written (not checked here). */
      location?: string
      second: CronField
      minute: CronField
      hour: CronField
      dom: CronField
      month: CronField
      dow: CronField
    }
  | {
      kind: 'every'
      location?: string
      /** The @every duration in nanoseconds, as time.ParseDuration reads it. */
      nanoseconds: number
    }

// strconv.Atoi and its error text.
function atoi(s: string): number {
  if (!/^[+-]?[0-9]+$/.test(s)) throw new Error(`failed to parse int from ${s}: strconv.Atoi: parsing "${s}": invalid syntax`)
  const n = Number(s)
  if (!Number.isSafeInteger(n)) throw new Error(`failed to parse int from ${s}: strconv.Atoi: parsing "${s}": value out of range`)
  return n
}

function mustParseInt(expr: string): number {
  const n = atoi(expr)
  if (n < 0) throw new Error(`negative number (${n}) not allowed: ${expr}`)
  return n
}

function parseIntOrName(expr: string, names: Record<string, number> | undefined): number {
  const named = names?.[expr.toLowerCase()]
  return named ?? mustParseInt(expr)
}

/** One comma-separated part of a field: `*`, `N`, `N-M`, each with an optional `/step`. */
function parseRange(expr: string, b: Bounds, into: Set<number>): boolean {
  const rangeAndStep = expr.split('/')
  const lowAndHigh = rangeAndStep[0].split('-')
  let start: number
  let end: number
  let star = false
  if (lowAndHigh[0] === '*' || lowAndHigh[0] === '?') {
    start = b.min
    end = b.max
    star = true
  } else {
    start = parseIntOrName(lowAndHigh[0], b.names)
    if (lowAndHigh.length === 1) end = start
    else if (lowAndHigh.length === 2) end = parseIntOrName(lowAndHigh[1], b.names)
    else throw new Error(`too many hyphens: ${expr}`)
  }
  let step = 1
  if (rangeAndStep.length === 2) {
    step = mustParseInt(rangeAndStep[1])
    // "N/step" means "N-max/step".
    if (lowAndHigh.length === 1) end = b.max
    if (step > 1) star = false
  } else if (rangeAndStep.length > 2) {
    throw new Error(`too many slashes: ${expr}`)
  }
  if (start < b.min) throw new Error(`beginning of range (${start}) below minimum (${b.min}): ${expr}`)
  if (end > b.max) throw new Error(`end of range (${end}) above maximum (${b.max}): ${expr}`)
  if (start > end) throw new Error(`beginning of range (${start}) beyond end of range (${end}): ${expr}`)
  if (step === 0) throw new Error(`step of range should be a positive number: ${expr}`)
  for (let v = start; v <= end; v += step) into.add(v)
  return star
}

function parseField(field: string, b: Bounds): CronField {
  const values = new Set<number>()
  let star = false
  for (const expr of field.split(',').filter((e) => e !== '')) star = parseRange(expr, b, values) || star
  return { values, star }
}

const only = (v: number): CronField => ({ values: new Set([v]), star: false })
const every = (b: Bounds): CronField => parseField('*', b)

function descriptor(name: string): Omit<Extract<ParsedCron, { kind: 'fields' }>, 'kind' | 'location'> | undefined {
  const midnight = { second: only(0), minute: only(0), hour: only(0) }
  switch (name) {
    case '@yearly':
    case '@annually':
      return { ...midnight, dom: only(1), month: only(1), dow: every(FIELDS[4]) }
    case '@monthly':
      return { ...midnight, dom: only(1), month: every(FIELDS[3]), dow: every(FIELDS[4]) }
    case '@weekly':
      return { ...midnight, dom: every(FIELDS[2]), month: every(FIELDS[3]), dow: only(0) }
    case '@daily':
    case '@midnight':
      return { ...midnight, dom: every(FIELDS[2]), month: every(FIELDS[3]), dow: every(FIELDS[4]) }
    case '@hourly':
      return { second: only(0), minute: only(0), hour: every(FIELDS[1]), dom: every(FIELDS[2]), month: every(FIELDS[3]), dow: every(FIELDS[4]) }
    default:
      return undefined
  }
}

// Go's time.ParseDuration, enough to accept what @every takes.
const GO_DURATION = /^[+-]?([0-9]*(\.[0-9]*)?(ns|us|µs|ms|s|m|h))+$/
const UNIT_NANOS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 }

function goDurationNanos(s: string): number {
  let total = 0
  for (const [, whole, frac, unit] of s.matchAll(/([0-9]*)(?:\.([0-9]*))?(ns|us|µs|ms|s|m|h)/g)) {
    const scale = UNIT_NANOS[unit]
    total += Number(whole === '' ? 0 : whole) * scale
    if (frac !== undefined && frac !== '') total += (Number(frac) / 10 ** frac.length) * scale
  }
  return s.startsWith('-') ? -total : total
}

/** cron.ParseStandard: the parsed schedule, or an Error with robfig's message. */
export function parseCron(spec: string): ParsedCron {
  if (spec.length === 0) throw new Error('empty spec string')
  let s = spec
  let location: string | undefined
  if (s.startsWith('TZ=') || s.startsWith('CRON_TZ=')) {
    const i = s.indexOf(' ')
    if (i < 0) throw new Error(`provided bad location ${s.slice(s.indexOf('=') + 1)}: unknown time zone`)
    location = s.slice(s.indexOf('=') + 1, i)
    s = s.slice(i).trim()
  }
  const at = location === undefined ? {} : { location }
  if (s.startsWith('@')) {
    const fixed = descriptor(s)
    if (fixed !== undefined) return { kind: 'fields', ...at, ...fixed }
    if (s.startsWith('@every ')) {
      const d = s.slice('@every '.length)
      if (d !== '0' && !GO_DURATION.test(d)) throw new Error(`failed to parse duration ${s}: time: invalid duration "${d}"`)
      return { kind: 'every', ...at, nanoseconds: d === '0' ? 0 : goDurationNanos(d) }
    }
    throw new Error(`unrecognized descriptor: ${s}`)
  }
  const fields = s.split(/\s+/).filter((f) => f !== '')
  if (fields.length !== 5) throw new Error(`expected exactly 5 fields, found ${fields.length}: [${fields.join(' ')}]`)
  const [minute, hour, dom, month, dow] = fields.map((f, i) => parseField(f, FIELDS[i]))
  return { kind: 'fields', ...at, second: parseField('0', SECONDS), minute, hour, dom, month, dow }
}

/** cron.ParseStandard: returns the error message, or undefined when the schedule parses. */
export function cronScheduleError(spec: string): string | undefined {
  try {
    parseCron(spec)
    return undefined
  } catch (e) {
    return (e as Error).message
  }
}
