// Cron schedules as CronJobs accept them: robfig/cron's standard parser (five fields,
// names for months and weekdays, ranges, steps, `@every`/`@daily`-style descriptors),
// with its error texts, which CronJob validation reports verbatim.

interface Bounds {
  min: number
  max: number
  names?: Record<string, number>
}

const MONTHS: Record<string, number> = { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 }
const DAYS: Record<string, number> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 }

const FIELDS: Bounds[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: MONTHS },
  { min: 0, max: 6, names: DAYS },
]

const DESCRIPTORS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'])

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

function checkRange(expr: string, b: Bounds): void {
  const rangeAndStep = expr.split('/')
  const lowAndHigh = rangeAndStep[0].split('-')
  let start: number
  let end: number
  if (lowAndHigh[0] === '*' || lowAndHigh[0] === '?') {
    start = b.min
    end = b.max
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
  } else if (rangeAndStep.length > 2) {
    throw new Error(`too many slashes: ${expr}`)
  }
  if (start < b.min) throw new Error(`beginning of range (${start}) below minimum (${b.min}): ${expr}`)
  if (end > b.max) throw new Error(`end of range (${end}) above maximum (${b.max}): ${expr}`)
  if (start > end) throw new Error(`beginning of range (${start}) beyond end of range (${end}): ${expr}`)
  if (step === 0) throw new Error(`step of range should be a positive number: ${expr}`)
}

// Go's time.ParseDuration, enough to accept what @every takes.
function isGoDuration(s: string): boolean {
  return s === '0' || /^[+-]?([0-9]*(\.[0-9]*)?(ns|us|µs|ms|s|m|h))+$/.test(s)
}

/** cron.ParseStandard: returns the error message, or undefined when the schedule parses. */
export function cronScheduleError(spec: string): string | undefined {
  try {
    if (spec.length === 0) return 'empty spec string'
    let s = spec
    if (s.startsWith('TZ=') || s.startsWith('CRON_TZ=')) {
      const i = s.indexOf(' ')
      if (i < 0) return `provided bad location ${s.slice(s.indexOf('=') + 1)}: unknown time zone`
      s = s.slice(i).trim()
    }
    if (s.startsWith('@')) {
      if (DESCRIPTORS.has(s)) return undefined
      if (s.startsWith('@every ')) {
        const d = s.slice('@every '.length)
        return isGoDuration(d) ? undefined : `failed to parse duration ${s}: time: invalid duration "${d}"`
      }
      return `unrecognized descriptor: ${s}`
    }
    const fields = s.split(/\s+/).filter((f) => f !== '')
    if (fields.length !== 5) return `expected exactly 5 fields, found ${fields.length}: [${fields.join(' ')}]`
    fields.forEach((f, i) => {
      for (const expr of f.split(',').filter((e) => e !== '')) checkRange(expr, FIELDS[i])
    })
    return undefined
  } catch (e) {
    return (e as Error).message
  }
}
