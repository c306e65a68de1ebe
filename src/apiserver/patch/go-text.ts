// Text exactly as kube-apiserver's Go code prints it, for the error messages and
// serialized keys that clients see: encoding/json's syntax errors and string escaping,
// fmt's %v of decoded JSON values, reflect's type names.

import { isObject, type Json } from './json.js'

/** The Go type a JSON value decodes to (ints kept as int64, as kube-apiserver decodes patches). */
export function goTypeName(v: unknown): string {
  if (v === null || v === undefined) return '%!s(<nil>)'
  if (Array.isArray(v)) return '[]interface {}'
  if (typeof v === 'object') return 'map[string]interface {}'
  if (typeof v === 'number') return Number.isInteger(v) ? 'int64' : 'float64'
  if (typeof v === 'boolean') return 'bool'
  return 'string'
}

/** The JSON kind word encoding/json uses in "cannot unmarshal X into Go value of type Y". */
export function jsonKindWord(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'array'
  if (typeof v === 'object') return 'object'
  return typeof v
}

function goFloat(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return String(n)
  const abs = Math.abs(n)
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e21)) {
    const [mantissa = '', exponent = '0'] = n.toExponential().split('e')
    const exp = Number(exponent)
    return `${mantissa}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`
  }
  return String(n)
}

/** fmt's %v of a decoded JSON value: `map[image:nginx name:web]`, `[a b]`, `<nil>`. */
export function formatGoValue(v: unknown): string {
  if (v === null || v === undefined) return '<nil>'
  if (Array.isArray(v)) return `[${v.map(formatGoValue).join(' ')}]`
  if (isObject(v)) {
    const keys = Object.keys(v).sort()
    return `map[${keys.map((k) => `${k}:${formatGoValue(v[k])}`).join(' ')}]`
  }
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : goFloat(v)
  return String(v)
}

const HTML_ESCAPES: Readonly<Record<string, string>> = { '<': '\\u003c', '>': '\\u003e', '&': '\\u0026', '\u2028': '\\u2028', '\u2029': '\\u2029' }

// Characters encoding/json escapes: controls, quote, backslash, <, >, &, U+2028/9, surrogates.
function needsEscape(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x20 || c === 0x22 || c === 0x5c || c === 0x3c || c === 0x3e || c === 0x26 || c === 0x2028 || c === 0x2029 || (c >= 0xd800 && c <= 0xdfff)) return true
  }
  return false
}

/** encoding/json's string encoding: JSON.stringify plus Go's HTML-safe escapes. */
export function goJsonString(s: string): string {
  if (!needsEscape(s)) return `"${s}"`
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => HTML_ESCAPES[c] ?? c)
}

/** encoding/json's Marshal of a decoded value: map keys sorted, HTML-safe strings. */
export function goJsonMarshal(v: unknown): string {
  if (v === null || v === undefined) return 'null'
  if (Array.isArray(v)) return `[${v.map(goJsonMarshal).join(',')}]`
  if (isObject(v)) {
    const keys = Object.keys(v).sort()
    return `{${keys.map((k) => `${goJsonString(k)}:${goJsonMarshal(v[k])}`).join(',')}}`
  }
  if (typeof v === 'string') return goJsonString(v)
  return String(v)
}

// encoding/json's scanner quotes the offending byte like this.
function quoteChar(c: string): string {
  if (c === "'") return `'\\''`
  if (c === '"') return `'"'`
  const quoted = JSON.stringify(c)
  return `'${quoted.slice(1, -1)}'`
}

class SyntaxFault extends Error {}

/**
 * The message encoding/json gives for malformed input (`invalid character 'x' looking
 * for beginning of value`, `unexpected end of JSON input`); only called once JSON.parse
 * has already failed, so speed does not matter.
 */
export function goJsonSyntaxError(text: string): string {
  let i = 0
  const ws = (): void => {
    while (i < text.length && ' \t\r\n'.includes(text[i] ?? '')) i++
  }
  const fail = (context: string): never => {
    if (i >= text.length) throw new SyntaxFault('unexpected end of JSON input')
    throw new SyntaxFault(`invalid character ${quoteChar(text[i] ?? '')} ${context}`)
  }
  const literal = (word: string): void => {
    for (let k = 0; k < word.length; k++, i++) {
      if (text[i] !== word[k]) fail(`in literal ${word} (expecting ${quoteChar(word[k] ?? '')})`)
    }
  }
  const string = (): void => {
    i++
    for (;;) {
      if (i >= text.length) fail('')
      const c = text[i] ?? ''
      if (c === '"') {
        i++
        return
      }
      if (c < ' ') fail('in string literal')
      if (c === '\\') {
        i++
        const e = text[i] ?? ''
        if (i >= text.length) fail('')
        if (e === 'u') {
          i++
          for (let k = 0; k < 4; k++, i++) if (!/[0-9a-fA-F]/.test(text[i] ?? '') || i >= text.length) fail('in \\u hexadecimal character escape')
          continue
        }
        if (!'"\\/bfnrt'.includes(e)) fail('in string escape code')
      }
      i++
    }
  }
  const digits = (): boolean => {
    const start = i
    while (/[0-9]/.test(text[i] ?? '') && i < text.length) i++
    return i > start
  }
  const number = (): void => {
    if (text[i] === '-') {
      i++
      if (!/[0-9]/.test(text[i] ?? '') || i >= text.length) fail('in numeric literal')
    }
    if (text[i] === '0') i++
    else digits()
    if (text[i] === '.') {
      i++
      if (!digits()) fail('after decimal point in numeric literal')
    }
    if (text[i] === 'e' || text[i] === 'E') {
      i++
      if (text[i] === '+' || text[i] === '-') i++
      if (!digits()) fail('in exponent of numeric literal')
    }
  }
  const value = (): void => {
    ws()
    const c = text[i] ?? ''
    if (c === '{') {
      i++
      ws()
      if (text[i] === '}') {
        i++
        return
      }
      for (;;) {
        ws()
        if (text[i] !== '"') fail('looking for beginning of object key string')
        string()
        ws()
        if (text[i] !== ':') fail('after object key')
        i++
        value()
        ws()
        if (text[i] === ',') {
          i++
          continue
        }
        if (text[i] === '}') {
          i++
          return
        }
        fail('after object key:value pair')
      }
    }
    if (c === '[') {
      i++
      ws()
      if (text[i] === ']') {
        i++
        return
      }
      for (;;) {
        value()
        ws()
        if (text[i] === ',') {
          i++
          continue
        }
        if (text[i] === ']') {
          i++
          return
        }
        fail('after array element')
      }
    }
    if (c === '"') return string()
    if (c === 't') return literal('true')
    if (c === 'f') return literal('false')
    if (c === 'n') return literal('null')
    if (c === '-' || /[0-9]/.test(c)) return number()
    fail('looking for beginning of value')
  }
  try {
    value()
    ws()
    if (i < text.length) fail('after top-level value')
    return 'unexpected end of JSON input'
  } catch (err) {
    if (err instanceof SyntaxFault) return err.message
    throw err
  }
}

export type ParsedJson = { ok: true; value: Json } | { ok: false; message: string }

/** Parses a request body as JSON, with encoding/json's message on failure. */
export function parseJson(body: string | Uint8Array): ParsedJson {
  const text = typeof body === 'string' ? body : new TextDecoder().decode(body)
  try {
    return { ok: true, value: JSON.parse(text) as Json }
  } catch {
    return { ok: false, message: goJsonSyntaxError(text) }
  }
}
