// How Go's fmt prints the "bad values" Kubernetes puts in validation errors: strings
// quoted as strconv.Quote does, numbers and booleans bare, and composite values in
// %#v syntax (`map[string]string{"app":"web"}`, `v1.LabelSelector{...}`). Composite
// values are rendered by the helpers here into a GoText, which prints verbatim.
import { isRecord, rec, recs, str, strs, type Json } from '../json.js'

/** A value already written in Go's %#v syntax. */
export class GoText {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text
  }
  toJSON(): string {
    return this.text
  }
}

const ESCAPES: Record<string, string> = {
  '\x07': '\\a',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\v': '\\v',
  '\\': '\\\\',
  '"': '\\"',
}

/** strconv.Quote: double-quoted, with Go escapes for control characters. */
export function goQuote(s: string): string {
  let out = '"'
  for (const ch of s) {
    const esc = ESCAPES[ch]
    if (esc !== undefined) {
      out += esc
      continue
    }
    const cp = ch.codePointAt(0) ?? 0
    if (cp < 0x20 || cp === 0x7f) out += '\\x' + cp.toString(16).padStart(2, '0')
    else if (cp >= 0x80 && cp <= 0x9f) out += '\\u' + cp.toString(16).padStart(4, '0')
    else out += ch
  }
  return out + '"'
}

export function goStringSlice(v: unknown): GoText {
  if (!Array.isArray(v)) return new GoText('[]string(nil)')
  return new GoText(`[]string{${strs(v).map(goQuote).join(', ')}}`)
}

export function goStringMap(v: unknown): GoText {
  if (!isRecord(v)) return new GoText('map[string]string(nil)')
  const keys = Object.keys(v).sort()
  return new GoText(`map[string]string{${keys.map((k) => `${goQuote(k)}:${goQuote(str(v[k]))}`).join(', ')}}`)
}

function requirementText(r: Json): string {
  return `v1.LabelSelectorRequirement{Key:${goQuote(str(r.key))}, Operator:${goQuote(str(r.operator))}, Values:${goStringSlice(r.values).text}}`
}

/** A metav1.LabelSelector as %#v prints it (pointers are dereferenced by the error printer). */
export function goLabelSelector(v: unknown): GoText {
  if (v === undefined || v === null) return new GoText('null')
  const ls = rec(v)
  const exprs = Array.isArray(ls.matchExpressions)
    ? `[]v1.LabelSelectorRequirement{${recs(ls.matchExpressions).map(requirementText).join(', ')}}`
    : '[]v1.LabelSelectorRequirement(nil)'
  return new GoText(`v1.LabelSelector{MatchLabels:${goStringMap(ls.matchLabels).text}, MatchExpressions:${exprs}}`)
}

/** An intstr.IntOrString as %#v prints it. */
export function goIntOrString(v: unknown): GoText {
  if (typeof v === 'string') return new GoText(`intstr.IntOrString{Type:1, IntVal:0, StrVal:${goQuote(v)}}`)
  const n = typeof v === 'number' ? v : 0
  return new GoText(`intstr.IntOrString{Type:0, IntVal:${n}, StrVal:""}`)
}

/** How field.Error.ErrorBody prints a bad value (after `Invalid value: `). */
export function formatBadValue(v: unknown): string {
  if (v === undefined || v === null) return 'null'
  if (v instanceof GoText) return v.text
  if (typeof v === 'string') return goQuote(v)
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v)
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return goStringSlice(v).text
  if (isRecord(v) && Object.values(v).every((x) => typeof x === 'string')) return goStringMap(v).text
  return JSON.stringify(v)
}
