// Kubernetes quantities (apimachinery's pkg/api/resource): "500m", "1.5Gi", "12e6".
// Every quantity Kubernetes can hold is a whole number of nano-units once parsed (it
// rounds finer values up to 1n), so the value is kept exactly as a bigint count of
// nanos. String() follows resource.Quantity.String(): canonical form in the parsed
// format family, or the text as written when it already was canonical.

export type QuantityFormat = 'DecimalExponent' | 'BinarySI' | 'DecimalSI'

const SPLIT_RE_STRING = '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'

/** A string that is not a quantity; the message is Kubernetes' own. */
export class QuantityError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'QuantityError'
  }
}

const errFormatWrong = (): QuantityError => new QuantityError(`quantities must match the regular expression '${SPLIT_RE_STRING}'`)
const errNumeric = (): QuantityError => new QuantityError('unable to parse numeric part of quantity')
const errSuffix = (): QuantityError => new QuantityError("unable to parse quantity's suffix")

const NANO = 1_000_000_000n
const MAX_INT64 = (1n << 63n) - 1n
const SUFFIX_CHARS = 'eEinumkKMGTP'

interface Suffix {
  base: 2 | 10
  exponent: number
  format: QuantityFormat
}

const DECIMAL_SUFFIXES: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 }
const BINARY_SUFFIXES: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 }

function interpretSuffix(s: string): Suffix | undefined {
  if (Object.prototype.hasOwnProperty.call(DECIMAL_SUFFIXES, s)) return { base: 10, exponent: DECIMAL_SUFFIXES[s], format: 'DecimalSI' }
  if (Object.prototype.hasOwnProperty.call(BINARY_SUFFIXES, s)) return { base: 2, exponent: BINARY_SUFFIXES[s], format: 'BinarySI' }
  if (s.length > 1 && (s[0] === 'e' || s[0] === 'E')) {
    // strconv.ParseInt: an optional sign, then decimal digits.
    if (!/^[+-]?[0-9]+$/.test(s.slice(1))) return undefined
    const exp = Number(s.slice(1))
    if (!Number.isSafeInteger(exp)) return undefined
    return { base: 10, exponent: exp, format: 'DecimalExponent' }
  }
  return undefined
}

interface Split {
  positive: boolean
  num: string
  denom: string
  suffix: string
}

const isDigit = (c: string): boolean => c >= '0' && c <= '9'

// parseQuantityString: sign, digits (leading zeros dropped), fraction, suffix.
function splitQuantity(s: string): Split {
  let positive = true
  let pos = 0
  const end = s.length
  if (pos < end && (s[0] === '-' || s[0] === '+')) {
    positive = s[0] !== '-'
    pos++
  }
  while (pos < end && s[pos] === '0') pos++
  if (pos >= end) return { positive, num: '0', denom: '', suffix: '' }
  let i = pos
  while (i < end && isDigit(s[i])) i++
  let num = s.slice(pos, i)
  pos = i
  if (pos >= end) return { positive, num, denom: '', suffix: '' }
  if (num.length === 0) num = '0'
  let denom = ''
  if (s[pos] === '.') {
    pos++
    i = pos
    while (i < end && isDigit(s[i])) i++
    denom = s.slice(pos, i)
    pos = i
    if (pos >= end) return { positive, num, denom, suffix: '' }
  }
  const suffixStart = pos
  i = pos
  while (i < end && SUFFIX_CHARS.includes(s[i])) i++
  if (i >= end) return { positive, num, denom, suffix: s.slice(suffixStart) }
  pos = i
  if (s[pos] === '-' || s[pos] === '+') pos++
  i = pos
  while (i < end && isDigit(s[i])) i++
  if (i >= end) return { positive, num, denom, suffix: s.slice(suffixStart) }
  throw errFormatWrong()
}

const pow10 = (n: number): bigint => 10n ** BigInt(n)

function divRoundAway(n: bigint, d: bigint): bigint {
  const q = n / d
  if (n % d === 0n) return q
  return n < 0n ? q - 1n : q + 1n
}

// The inputs that Go keeps verbatim (its int64 fast path with an already canonical text).
function keepsOriginal(str: string, sp: Split, sfx: Suffix): boolean {
  const { num, denom } = sp
  let precision: number
  if (sfx.format === 'BinarySI') {
    precision = denom.length === 0 ? 15 - num.length - Math.trunc((sfx.exponent * 3) / 10) - 1 : -1
  } else {
    precision = 18 - (num.length + denom.length)
  }
  if (precision < 0) return false
  const scale = (sfx.format === 'BinarySI' ? 0 : sfx.exponent) - denom.length
  if (scale < -9) return false
  const shifted = num + denom
  const value = BigInt(shifted)
  if (value > MAX_INT64) return false
  const mantissa = sfx.format === 'BinarySI' ? 1n << BigInt(sfx.exponent) : 1n
  if (value * mantissa > MAX_INT64) return false
  if (sfx.format === 'BinarySI') return sfx.exponent % 10 === 0 && (value & 7n) !== 0n
  return scale % 3 === 0 && !shifted.endsWith('000') && shifted[0] !== '0' && str.length > 0
}

export class Quantity {
  private constructor(
    /** The value in units of 1e-9. */
    readonly nanos: bigint,
    readonly format: QuantityFormat,
    private readonly text?: string,
  ) {}

  /** resource.ParseQuantity. Throws QuantityError with Kubernetes' messages. */
  static parse(input: string | number): Quantity {
    const str = typeof input === 'number' ? String(input) : input
    if (str.length === 0) throw errFormatWrong()
    if (str === '0') return new Quantity(0n, 'DecimalSI', '0')
    const sp = splitQuantity(str)
    const sfx = interpretSuffix(sp.suffix)
    if (sfx === undefined) throw errSuffix()
    if (!/^[0-9]+$/.test(sp.num) || !/^[0-9]*$/.test(sp.denom)) throw errNumeric()
    let amount = BigInt(sp.num + sp.denom)
    let exp10 = 9 - sp.denom.length
    if (sfx.base === 2) amount <<= BigInt(sfx.exponent)
    else exp10 += sfx.exponent
    let nanos = exp10 >= 0 ? amount * pow10(exp10) : divRoundAway(amount, pow10(-exp10))
    let format = sfx.format
    if (format === 'BinarySI' && nanos > MAX_INT64 * NANO) nanos = MAX_INT64 * NANO
    if (format === 'BinarySI' && nanos > 0n && nanos < NANO) format = 'DecimalSI'
    if (!sp.positive) nanos = -nanos
    return new Quantity(nanos, format, keepsOriginal(str, sp, sfx) ? str : undefined)
  }

  static fromNanos(nanos: bigint, format: QuantityFormat = 'DecimalSI'): Quantity {
    return new Quantity(nanos, format)
  }

  /** resource.NewMilliQuantity. */
  static fromMilli(milli: number | bigint, format: QuantityFormat = 'DecimalSI'): Quantity {
    return new Quantity(BigInt(milli) * 1_000_000n, format)
  }

  /** resource.NewQuantity. */
  static fromValue(value: number | bigint, format: QuantityFormat = 'DecimalSI'): Quantity {
    return new Quantity(BigInt(value) * NANO, format)
  }

  isZero(): boolean {
    return this.nanos === 0n
  }

  sign(): -1 | 0 | 1 {
    return this.nanos === 0n ? 0 : this.nanos < 0n ? -1 : 1
  }

  cmp(other: Quantity): -1 | 0 | 1 {
    return this.nanos === other.nanos ? 0 : this.nanos < other.nanos ? -1 : 1
  }

  equal(other: Quantity): boolean {
    return this.nanos === other.nanos
  }

  /** q.Add(y): the result keeps this format unless this is zero. */
  add(other: Quantity): Quantity {
    return new Quantity(this.nanos + other.nanos, this.isZero() ? other.format : this.format)
  }

  sub(other: Quantity): Quantity {
    return new Quantity(this.nanos - other.nanos, this.isZero() ? other.format : this.format)
  }

  neg(): Quantity {
    return new Quantity(-this.nanos, this.format)
  }

  /** The value scaled to 10^scale, rounded away from zero (ScaledValue), as a bigint. */
  scaledBig(scale: number): bigint {
    const exp = scale + 9
    return exp >= 0 ? divRoundAway(this.nanos, pow10(exp)) : this.nanos * pow10(-exp)
  }

  /** q.Value(): whole units, rounded away from zero (memory in bytes, pods, ...). */
  value(): number {
    return Number(this.scaledBig(0))
  }

  /** q.MilliValue(): thousandths, rounded away from zero (CPU in millicores). */
  milliValue(): number {
    return Number(this.scaledBig(-3))
  }

  /** q.AsApproximateFloat64(). */
  toNumber(): number {
    return Number(this.nanos) / 1e9
  }

  /** q.RoundUp(scale): rounds away from zero to a multiple of 10^scale. */
  roundUp(scale: number): Quantity {
    const unit = scale + 9 >= 0 ? pow10(scale + 9) : 1n
    if (this.nanos % unit === 0n) return this
    return new Quantity(divRoundAway(this.nanos, unit) * unit, this.format)
  }

  /** resource.Quantity.String(). */
  toString(): string {
    return this.text ?? canonicalize(this.nanos, this.format)
  }

  toJSON(): string {
    return this.toString()
  }
}

function removeFactors(n: bigint, base: bigint): [bigint, number] {
  let times = 0
  let v = n
  while (v !== 0n && v % base === 0n) {
    v /= base
    times++
  }
  return [v, times]
}

const DECIMAL_SUFFIX_BY_EXP: Record<number, string> = { [-9]: 'n', [-6]: 'u', [-3]: 'm', 0: '', 3: 'k', 6: 'M', 9: 'G', 12: 'T', 15: 'P', 18: 'E' }
const BINARY_SUFFIX_BY_EXP: Record<number, string> = { 10: 'Ki', 20: 'Mi', 30: 'Gi', 40: 'Ti', 50: 'Pi', 60: 'Ei' }

function canonicalize(nanos: bigint, format: QuantityFormat): string {
  if (nanos === 0n) return '0'
  let fmt = format
  if (fmt === 'BinarySI') {
    const abs = nanos < 0n ? -nanos : nanos
    // Small or fractional binary values print in decimal SI instead.
    if (abs < 1024n * NANO || nanos % NANO !== 0n) fmt = 'DecimalSI'
  }
  if (fmt === 'BinarySI') {
    const [amount, times] = removeFactors(nanos / NANO, 1024n)
    // Go finds no suffix past Ei and prints the bare number, as here.
    return amount.toString() + (BINARY_SUFFIX_BY_EXP[times * 10] ?? '')
  }
  let [amount, exponent] = removeFactors(nanos, 10n)
  exponent -= 9
  while (exponent % 3 !== 0) {
    amount *= 10n
    exponent--
  }
  if (fmt === 'DecimalExponent') return amount.toString() + (exponent === 0 ? '' : `e${exponent}`)
  return amount.toString() + (DECIMAL_SUFFIX_BY_EXP[exponent] ?? '')
}

/** resource.ParseQuantity, returning undefined instead of throwing. */
export function tryParseQuantity(v: unknown): Quantity | undefined {
  if (typeof v !== 'string' && typeof v !== 'number') return undefined
  try {
    return Quantity.parse(v)
  } catch {
    return undefined
  }
}

export function parseQuantity(v: string | number): Quantity {
  return Quantity.parse(v)
}

/** The text Kubernetes would store for a quantity written as `v`, if it parses. */
export function canonicalQuantity(v: unknown): string | undefined {
  return tryParseQuantity(v)?.toString()
}

export const ZERO = Quantity.fromNanos(0n)
