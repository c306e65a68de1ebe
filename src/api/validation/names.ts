// String-format checks of apimachinery's util/validation and api/validation/path: each
// returns the list of problem descriptions Kubernetes reports (empty when valid), with
// its exact wording, so callers can wrap them in field errors.

const QNAME_CHAR = '[A-Za-z0-9]'
const QNAME_EXT_CHAR = '[-A-Za-z0-9_.]'
const QUALIFIED_NAME_FMT = `(${QNAME_CHAR}${QNAME_EXT_CHAR}*)?${QNAME_CHAR}`
const QUALIFIED_NAME_ERR = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
const QUALIFIED_NAME_MAX = 63
const qualifiedNameRe = new RegExp(`^${QUALIFIED_NAME_FMT}$`)

const LABEL_VALUE_FMT = `(${QUALIFIED_NAME_FMT})?`
const LABEL_VALUE_ERR =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
export const LABEL_VALUE_MAX = 63
const labelValueRe = new RegExp(`^${LABEL_VALUE_FMT}$`)

const DNS1123_LABEL_FMT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?'
const DNS1123_LABEL_ERR =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character"
export const DNS1123_LABEL_MAX = 63
const dns1123LabelRe = new RegExp(`^${DNS1123_LABEL_FMT}$`)

const DNS1123_SUBDOMAIN_FMT = `${DNS1123_LABEL_FMT}(\\.${DNS1123_LABEL_FMT})*`
const DNS1123_SUBDOMAIN_ERR =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"
export const DNS1123_SUBDOMAIN_MAX = 253
const dns1123SubdomainRe = new RegExp(`^${DNS1123_SUBDOMAIN_FMT}$`)

const DNS1035_LABEL_FMT = '[a-z]([-a-z0-9]*[a-z0-9])?'
const DNS1035_LABEL_ERR =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character"
const dns1035LabelRe = new RegExp(`^${DNS1035_LABEL_FMT}$`)

const WILDCARD_DNS1123_SUBDOMAIN_FMT = `\\*\\.${DNS1123_SUBDOMAIN_FMT}`
const WILDCARD_DNS1123_SUBDOMAIN_ERR =
  "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character"
const wildcardRe = new RegExp(`^${WILDCARD_DNS1123_SUBDOMAIN_FMT}$`)

const C_IDENTIFIER_FMT = '[A-Za-z_][A-Za-z0-9_]*'

const ENV_VAR_NAME_FMT = '[-._a-zA-Z][-._a-zA-Z0-9]*'
const ENV_VAR_NAME_ERR =
  "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit"
const envVarNameRe = new RegExp(`^${ENV_VAR_NAME_FMT}$`)

const CONFIG_MAP_KEY_FMT = '[-._a-zA-Z0-9]+'
const CONFIG_MAP_KEY_ERR = "a valid config key must consist of alphanumeric characters, '-', '_' or '.'"
const configMapKeyRe = new RegExp(`^${CONFIG_MAP_KEY_FMT}$`)

const PERCENT_FMT = '[0-9]+%'
const PERCENT_ERR = "a valid percent string must be a numeric string followed by an ending '%'"
const percentRe = new RegExp(`^${PERCENT_FMT}$`)

const HTTP_HEADER_NAME_FMT = '[-A-Za-z0-9]+'
const HTTP_HEADER_NAME_ERR = "a valid HTTP header must consist of alphanumeric characters or '-'"
const httpHeaderNameRe = new RegExp(`^${HTTP_HEADER_NAME_FMT}$`)

const HTTP_PATH_FMT = "[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+"
const httpPathRe = new RegExp(`^${HTTP_PATH_FMT}$`)

// Go's len() counts bytes; names beyond ASCII fail the patterns anyway, but lengths
// must still match what Kubernetes reports.
export function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8')
}

export function maxLenError(length: number): string {
  return `must be no more than ${length} characters`
}

export function regexError(msg: string, fmt: string, ...examples: string[]): string {
  if (examples.length === 0) return `${msg} (regex used for validation is '${fmt}')`
  // Go joins the examples with " or " after each "'x', ", hence the double space.
  return `${msg} (e.g. ${examples.map((e) => `'${e}', `).join(' or ')}regex used for validation is '${fmt}')`
}

export function emptyError(): string {
  return 'must be non-empty'
}

export function inclusiveRangeError(lo: number, hi: number): string {
  return `must be between ${lo} and ${hi}, inclusive`
}

/** A label key, annotation key or other "prefix/name" qualified name. */
export function isQualifiedName(value: string): string[] {
  const errs: string[] = []
  const parts = value.split('/')
  let name: string
  if (parts.length === 1) {
    name = parts[0]
  } else if (parts.length === 2) {
    const prefix = parts[0]
    name = parts[1]
    if (prefix.length === 0) errs.push('prefix part ' + emptyError())
    else for (const m of isDNS1123Subdomain(prefix)) errs.push('prefix part ' + m)
  } else {
    return [
      'a qualified name ' +
        regexError(QUALIFIED_NAME_ERR, QUALIFIED_NAME_FMT, 'MyName', 'my.name', '123-abc') +
        " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    ]
  }
  if (name.length === 0) errs.push('name part ' + emptyError())
  else if (byteLength(name) > QUALIFIED_NAME_MAX) errs.push('name part ' + maxLenError(QUALIFIED_NAME_MAX))
  if (!qualifiedNameRe.test(name)) errs.push('name part ' + regexError(QUALIFIED_NAME_ERR, QUALIFIED_NAME_FMT, 'MyName', 'my.name', '123-abc'))
  return errs
}

export function isValidLabelValue(value: string): string[] {
  const errs: string[] = []
  if (byteLength(value) > LABEL_VALUE_MAX) errs.push(maxLenError(LABEL_VALUE_MAX))
  if (!labelValueRe.test(value)) errs.push(regexError(LABEL_VALUE_ERR, LABEL_VALUE_FMT, 'MyValue', 'my_value', '12345'))
  return errs
}

export function isDNS1123Label(value: string): string[] {
  const errs: string[] = []
  if (byteLength(value) > DNS1123_LABEL_MAX) errs.push(maxLenError(DNS1123_LABEL_MAX))
  if (!dns1123LabelRe.test(value)) {
    if (dns1123SubdomainRe.test(value)) errs.push('must not contain dots')
    else errs.push(regexError(DNS1123_LABEL_ERR, DNS1123_LABEL_FMT, 'my-name', '123-abc'))
  }
  return errs
}

export function isDNS1123Subdomain(value: string): string[] {
  const errs: string[] = []
  if (byteLength(value) > DNS1123_SUBDOMAIN_MAX) errs.push(maxLenError(DNS1123_SUBDOMAIN_MAX))
  if (!dns1123SubdomainRe.test(value)) errs.push(regexError(DNS1123_SUBDOMAIN_ERR, DNS1123_SUBDOMAIN_FMT, 'example.com'))
  return errs
}

export function isDNS1035Label(value: string): string[] {
  const errs: string[] = []
  if (byteLength(value) > DNS1123_LABEL_MAX) errs.push(maxLenError(DNS1123_LABEL_MAX))
  if (!dns1035LabelRe.test(value)) errs.push(regexError(DNS1035_LABEL_ERR, DNS1035_LABEL_FMT, 'my-name', 'abc-123'))
  return errs
}

export function isWildcardDNS1123Subdomain(value: string): string[] {
  const errs: string[] = []
  if (byteLength(value) > DNS1123_SUBDOMAIN_MAX) errs.push(maxLenError(DNS1123_SUBDOMAIN_MAX))
  if (!wildcardRe.test(value)) errs.push(regexError(WILDCARD_DNS1123_SUBDOMAIN_ERR, WILDCARD_DNS1123_SUBDOMAIN_FMT, '*.example.com'))
  return errs
}

export function isCIdentifier(value: string): string[] {
  const re = new RegExp(`^${C_IDENTIFIER_FMT}$`)
  if (re.test(value)) return []
  return [
    regexError(
      "a valid C identifier must start with alphabetic character or '_', followed by a string of alphanumeric characters or '_'",
      C_IDENTIFIER_FMT,
      'my_name',
      'MY_NAME',
      'MyName',
    ),
  ]
}

export function isValidPortNum(port: number): string[] {
  return Number.isInteger(port) && port >= 1 && port <= 65535 ? [] : [inclusiveRangeError(1, 65535)]
}

export function isInRange(value: number, min: number, max: number): string[] {
  return value >= min && value <= max ? [] : [inclusiveRangeError(min, max)]
}

export function isValidPortName(port: string): string[] {
  const errs: string[] = []
  if (byteLength(port) > 15) errs.push(maxLenError(15))
  if (!/^[-a-z0-9]+$/.test(port)) errs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)')
  if (!/[a-z]/.test(port)) errs.push('must contain at least one letter (a-z)')
  if (port.includes('--')) errs.push('must not contain consecutive hyphens')
  if (port.length > 0 && (port.startsWith('-') || port.endsWith('-'))) errs.push('must not begin or end with a hyphen')
  return errs
}

export function isValidPercent(percent: string): string[] {
  return percentRe.test(percent) ? [] : [regexError(PERCENT_ERR, PERCENT_FMT, '1%', '93%')]
}

export function isHTTPHeaderName(value: string): string[] {
  return httpHeaderNameRe.test(value) ? [] : [regexError(HTTP_HEADER_NAME_ERR, HTTP_HEADER_NAME_FMT, 'X-Header-Name')]
}

export function isHTTPPath(value: string): boolean {
  return httpPathRe.test(value)
}

export const HTTP_PATH_FORMAT = HTTP_PATH_FMT

function hasChDirPrefix(value: string): string[] {
  if (value === '.') return ["must not be '.'"]
  if (value === '..') return ["must not be '..'"]
  if (value.startsWith('..')) return ["must not start with '..'"]
  return []
}

export function isEnvVarName(value: string): string[] {
  const errs: string[] = []
  if (!envVarNameRe.test(value)) errs.push(regexError(ENV_VAR_NAME_ERR, ENV_VAR_NAME_FMT, 'my.env-name', 'MY_ENV.NAME', 'MyEnvName1'))
  return [...errs, ...hasChDirPrefix(value)]
}

/** IsRelaxedEnvVarName (RelaxedEnvironmentVariableValidation is on by default in 1.32). */
export function isRelaxedEnvVarName(value: string): string[] {
  const errs: string[] = []
  if (value.length === 0) errs.push('environment variable name ' + emptyError())
  for (const ch of value) {
    const cp = ch.codePointAt(0) ?? 0
    if (cp > 0x7e || cp < 0x20 || ch === '=') {
      errs.push("a valid environment variable name must consist only of printable ASCII characters other than '='")
      break
    }
  }
  return errs
}

export function isConfigMapKey(value: string): string[] {
  const errs: string[] = []
  if (byteLength(value) > DNS1123_SUBDOMAIN_MAX) errs.push(maxLenError(DNS1123_SUBDOMAIN_MAX))
  if (!configMapKeyRe.test(value)) errs.push(regexError(CONFIG_MAP_KEY_ERR, CONFIG_MAP_KEY_FMT, 'key.name', 'KEY_NAME', 'key-name'))
  return [...errs, ...hasChDirPrefix(value)]
}

// ---- IP addresses (Go's net.ParseIP, as netutils.ParseIPSloppy which also allows leading zeros)

function parseIPv4(s: string): number[] | undefined {
  const parts = s.split('.')
  if (parts.length !== 4) return undefined
  const out: number[] = []
  for (const p of parts) {
    if (!/^[0-9]{1,3}$/.test(p)) return undefined
    const n = Number(p)
    if (n > 255) return undefined
    out.push(n)
  }
  return out
}

/** The 16 bytes of an IPv6 address (IPv4 in the last 4 bytes for mapped forms), or undefined. */
function parseIPv6(s: string): number[] | undefined {
  if (!s.includes(':')) return undefined
  let head = s
  let v4: number[] | undefined
  const lastColon = s.lastIndexOf(':')
  if (s.slice(lastColon + 1).includes('.')) {
    v4 = parseIPv4(s.slice(lastColon + 1))
    if (v4 === undefined) return undefined
    head = s.slice(0, lastColon + 1) + '0:0'
  }
  const halves = head.split('::')
  if (halves.length > 2) return undefined
  const groups = (part: string): number[] | undefined => {
    if (part === '') return []
    const out: number[] = []
    for (const g of part.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined
      out.push(parseInt(g, 16))
    }
    return out
  }
  const left = groups(halves[0])
  const right = halves.length === 2 ? groups(halves[1]) : []
  if (left === undefined || right === undefined) return undefined
  let all: number[]
  if (halves.length === 2) {
    const missing = 8 - left.length - right.length
    if (missing < 1) return undefined
    all = [...left, ...new Array<number>(missing).fill(0), ...right]
  } else {
    if (left.length !== 8) return undefined
    all = left
  }
  const bytes: number[] = []
  for (const g of all) bytes.push(g >> 8, g & 0xff)
  if (v4 !== undefined) bytes.splice(12, 4, ...v4)
  return bytes
}

export interface ParsedIP {
  /** 4 bytes for IPv4 (and IPv4-mapped IPv6), 16 for IPv6. */
  bytes: number[]
  /** Written as IPv6 (contains ':'), even when it maps an IPv4 address. */
  v6Syntax: boolean
}

export function parseIP(s: string): ParsedIP | undefined {
  const v4 = parseIPv4(s)
  if (v4 !== undefined) return { bytes: v4, v6Syntax: false }
  const v6 = parseIPv6(s)
  if (v6 === undefined) return undefined
  const mapped = v6.slice(0, 10).every((b) => b === 0) && v6[10] === 0xff && v6[11] === 0xff
  return { bytes: mapped ? v6.slice(12) : v6, v6Syntax: true }
}

export function isIPv4(s: string): boolean {
  const ip = parseIP(s)
  return ip !== undefined && ip.bytes.length === 4
}

export function isIPv6(s: string): boolean {
  const ip = parseIP(s)
  return ip !== undefined && ip.bytes.length === 16
}

export function parseCIDR(s: string): { ip: ParsedIP; bits: number } | undefined {
  const slash = s.indexOf('/')
  if (slash < 0) return undefined
  const ip = parseIP(s.slice(0, slash))
  const bitsText = s.slice(slash + 1)
  if (ip === undefined || !/^[0-9]{1,3}$/.test(bitsText)) return undefined
  const bits = Number(bitsText)
  const max = ip.v6Syntax ? 128 : 32
  if (bits > max) return undefined
  return { ip, bits }
}

// ---- names of objects (api/validation: the ValidateNameFunc family)

/** A ValidateNameFunc: the problems with `name`, or with `name` as a generateName prefix. */
export type NameValidator = (name: string, prefix: boolean) => string[]

// A generateName prefix may end in '-': check it as if a random suffix followed.
function maskTrailingDash(name: string): string {
  return name.length > 1 && name.endsWith('-') ? name.slice(0, -2) + 'a' : name
}

export const nameIsDNSSubdomain: NameValidator = (name, prefix) => isDNS1123Subdomain(prefix ? maskTrailingDash(name) : name)
export const nameIsDNSLabel: NameValidator = (name, prefix) => isDNS1123Label(prefix ? maskTrailingDash(name) : name)
export const nameIsDNS1035Label: NameValidator = (name, prefix) => isDNS1035Label(prefix ? maskTrailingDash(name) : name)

/** path.ValidatePathSegmentName: what any name must satisfy to appear in a URL. */
export const nameIsPathSegment: NameValidator = (name, prefix) => {
  if (!prefix) {
    for (const bad of ['.', '..']) if (name === bad) return [`may not be '${bad}'`]
  }
  const errs: string[] = []
  for (const bad of ['/', '%']) if (name.includes(bad)) errs.push(`may not contain '${bad}'`)
  return errs
}
