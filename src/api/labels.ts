// Label selectors as apimachinery's pkg/labels: the selector string syntax
// (`app=web,tier!=db`, `env in (a,b)`, `!canary`, `partition`), its parse errors
// word for word, LabelSelector objects (matchLabels/matchExpressions), and matching.
import { errorString, fieldErrors, key as keyPath, index, type FieldError } from './validation/errors.js'
import { goQuote, GoText } from './validation/go-format.js'
import { isQualifiedName, isValidLabelValue } from './validation/names.js'
import { isRecord, rec, recs, str, strs } from './json.js'

export type Operator = '=' | '==' | '!=' | 'in' | 'notin' | 'exists' | '!' | 'gt' | 'lt'

export interface Requirement {
  readonly key: string
  readonly operator: Operator
  /** Sorted and de-duplicated for `in`/`notin` parsed from strings, as sets.String.List(). */
  readonly values: readonly string[]
}

export type Labels = Readonly<Record<string, string>>

export interface Selector {
  /** Requirements sorted by key (the order String() prints). Empty selects everything. */
  readonly requirements: readonly Requirement[]
  /** LabelSelectorAsSelector(nil): a selector that matches nothing. */
  readonly nothing: boolean
  matches(labels: Labels | undefined): boolean
  /** True when the selector has no requirement (and so matches everything). */
  empty(): boolean
  toString(): string
  /** The value `key` must equal for the selector to match (for `=`, `==`, single-value `in`). */
  requiresExactMatch(key: string): string | undefined
}

/** A selector that could not be parsed or built; the message is Kubernetes' own. */
export class LabelSelectorError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'LabelSelectorError'
  }
}

const BINARY_OPERATORS = ['in', 'notin', '=', '==', '!=', 'gt', 'lt']
const VALID_OPERATORS = [...BINARY_OPERATORS, 'exists', '!']

// ---- requirements

function aggregate(errs: FieldError[]): string {
  const seen: string[] = []
  for (const e of errs) {
    const m = errorString(e)
    if (!seen.includes(m)) seen.push(m)
  }
  return seen.length === 1 ? seen[0] : `[${seen.join(', ')}]`
}

/** labels.NewRequirement: validates key, operator and values (errors under a nil path). */
export function newRequirement(key: string, operator: Operator, values: readonly string[]): Requirement {
  const errs: FieldError[] = []
  const keyErrs = isQualifiedName(key)
  if (keyErrs.length > 0) errs.push(fieldErrors.invalid('key', key, keyErrs.join('; ')))
  switch (operator) {
    case 'in':
    case 'notin':
      // Only LabelSelector objects get here with no values, as a nil slice.
      if (values.length === 0) errs.push(fieldErrors.invalid('values', new GoText('[]string(nil)'), "for 'in', 'notin' operators, values set can't be empty"))
      break
    case '=':
    case '==':
    case '!=':
      if (values.length !== 1) errs.push(fieldErrors.invalid('values', values, 'exact-match compatibility requires one single value'))
      break
    case 'exists':
    case '!':
      if (values.length !== 0) errs.push(fieldErrors.invalid('values', values, 'values set must be empty for exists and does not exist'))
      break
    case 'gt':
    case 'lt':
      if (values.length !== 1) errs.push(fieldErrors.invalid('values', values, "for 'Gt', 'Lt' operators, exactly one value is required"))
      values.forEach((v, i) => {
        if (!/^[+-]?[0-9]+$/.test(v)) errs.push(fieldErrors.invalid(index('values', i), v, "for 'Gt', 'Lt' operators, the value must be an integer"))
      })
      break
    default:
      errs.push(fieldErrors.notSupported('operator', operator, VALID_OPERATORS))
  }
  values.forEach((v, i) => {
    const msgs = isValidLabelValue(v)
    if (msgs.length > 0) errs.push(fieldErrors.invalid(keyPath(index('values', i), key), v, msgs.join('; ')))
  })
  if (errs.length > 0) throw new LabelSelectorError(aggregate(errs))
  return { key, operator, values: [...values] }
}

function has(labels: Labels | undefined, key: string): boolean {
  return labels !== undefined && Object.prototype.hasOwnProperty.call(labels, key)
}

export function requirementMatches(r: Requirement, labels: Labels | undefined): boolean {
  switch (r.operator) {
    case 'in':
    case '=':
    case '==':
      return has(labels, r.key) && r.values.includes(labels![r.key])
    case 'notin':
    case '!=':
      return !has(labels, r.key) || !r.values.includes(labels![r.key])
    case 'exists':
      return has(labels, r.key)
    case '!':
      return !has(labels, r.key)
    case 'gt':
    case 'lt': {
      if (!has(labels, r.key) || r.values.length !== 1) return false
      const lv = labels![r.key]
      if (!/^[+-]?[0-9]+$/.test(lv) || !/^[+-]?[0-9]+$/.test(r.values[0])) return false
      const a = BigInt(lv)
      const b = BigInt(r.values[0])
      return r.operator === 'gt' ? a > b : a < b
    }
  }
}

export function requirementString(r: Requirement): string {
  let s = r.operator === '!' ? '!' + r.key : r.key
  switch (r.operator) {
    case 'exists':
    case '!':
      return s
    case 'in':
    case 'notin':
      s += r.operator === 'in' ? ' in ' : ' notin '
      break
    case 'gt':
      s += '>'
      break
    case 'lt':
      s += '<'
      break
    default:
      s += r.operator
  }
  const vals = r.values.length === 1 ? r.values[0] : [...r.values].sort().join(',')
  return r.operator === 'in' || r.operator === 'notin' ? `${s}(${vals})` : s + vals
}

function sortByKey(reqs: Requirement[]): Requirement[] {
  // Array.prototype.sort is stable; keys compare as Go strings (by code unit here).
  return reqs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
}

function makeSelector(reqs: Requirement[], nothing = false): Selector {
  const requirements = sortByKey([...reqs])
  return {
    requirements,
    nothing,
    matches: (labels) => !nothing && requirements.every((r) => requirementMatches(r, labels)),
    empty: () => !nothing && requirements.length === 0,
    toString: () => requirements.map(requirementString).join(','),
    requiresExactMatch: (key) => {
      const r = requirements.find((x) => x.key === key)
      if (r === undefined) return undefined
      if ((r.operator === '=' || r.operator === '==' || r.operator === 'in') && r.values.length === 1) return r.values[0]
      return undefined
    },
  }
}

export function everything(): Selector {
  return makeSelector([])
}

export function nothing(): Selector {
  return makeSelector([], true)
}

// ---- the selector string syntax

type Tok = 'error' | 'eos' | ')' | ',' | '!' | '==' | '=' | '>' | 'id' | 'in' | '<' | '!=' | 'notin' | '('
interface Item {
  tok: Tok
  lit: string
}

const KEYWORDS: Record<string, Tok> = { ')': ')', ',': ',', '!': '!', '==': '==', '=': '=', '>': '>', in: 'in', '<': '<', '!=': '!=', notin: 'notin', '(': '(' }

const isWhitespace = (c: string): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n'
const isSpecial = (c: string): boolean => '=!(),><'.includes(c)

function lex(s: string): Item[] {
  const items: Item[] = []
  let pos = 0
  for (;;) {
    while (pos < s.length && isWhitespace(s[pos])) pos++
    if (pos >= s.length) {
      items.push({ tok: 'eos', lit: '' })
      return items
    }
    if (isSpecial(s[pos])) {
      // The longest run of special characters that still spells a token.
      let buf = ''
      let last: Item | undefined
      while (pos < s.length && isSpecial(s[pos])) {
        const next = buf + s[pos]
        const tok = KEYWORDS[next]
        if (tok !== undefined) {
          buf = next
          last = { tok, lit: next }
          pos++
        } else if (last !== undefined) {
          break
        } else {
          buf = next
          pos++
        }
      }
      items.push(last ?? { tok: 'error', lit: `error expected: keyword found '${buf}'` })
    } else {
      let buf = ''
      while (pos < s.length && !isSpecial(s[pos]) && !isWhitespace(s[pos])) buf += s[pos++]
      const kw = KEYWORDS[buf]
      items.push({ tok: kw ?? 'id', lit: buf })
    }
  }
}

class Parser {
  private pos = 0
  constructor(private readonly items: Item[]) {}

  // In value context, `in` and `notin` are plain identifiers.
  private look(values: boolean): Item {
    const it = this.items[this.pos]
    return values && (it.tok === 'in' || it.tok === 'notin') ? { tok: 'id', lit: it.lit } : it
  }

  private take(values: boolean): Item {
    const it = this.look(values)
    this.pos++
    return it
  }

  parse(): Requirement[] {
    const reqs: Requirement[] = []
    for (;;) {
      const { tok, lit } = this.look(true)
      if (tok === 'id' || tok === '!') {
        let r: Requirement
        try {
          r = this.requirement()
        } catch (e) {
          throw new LabelSelectorError(`unable to parse requirement: ${(e as Error).message}`)
        }
        reqs.push(r)
        const next = this.take(true)
        if (next.tok === 'eos') return reqs
        if (next.tok === ',') {
          const after = this.look(true)
          if (after.tok !== 'id' && after.tok !== '!') throw new LabelSelectorError(`found '${after.lit}', expected: identifier after ','`)
          continue
        }
        throw new LabelSelectorError(`found '${next.lit}', expected: ',' or 'end of string'`)
      }
      if (tok === 'eos') return reqs
      throw new LabelSelectorError(`found '${lit}', expected: !, identifier, or 'end of string'`)
    }
  }

  private requirement(): Requirement {
    let operator: Operator | '' = ''
    let it = this.take(true)
    if (it.tok === '!') {
      operator = '!'
      it = this.take(true)
    }
    if (it.tok !== 'id') throw new Error(`found '${it.lit}', expected: identifier`)
    const key = it.lit
    const keyErrs = isQualifiedName(key)
    // The parser validates the key against a nil field path, which Go prints as "<nil>".
    if (keyErrs.length > 0) throw new Error(errorString(fieldErrors.invalid('<nil>', key, keyErrs.join('; '))))
    const after = this.look(true).tok
    if (after === 'eos' || after === ',') {
      if (operator !== '!') operator = 'exists'
    }
    if (operator === 'exists' || operator === '!') return newRequirement(key, operator, [])
    const op = this.operator()
    const values = op === 'in' || op === 'notin' ? this.setValues() : this.exactValue()
    return newRequirement(key, op, values)
  }

  private operator(): Operator {
    const { tok, lit } = this.take(false)
    switch (tok) {
      case 'in':
        return 'in'
      case '=':
        return '='
      case '==':
        return '=='
      case '>':
        return 'gt'
      case '<':
        return 'lt'
      case 'notin':
        return 'notin'
      case '!=':
        return '!='
      default:
        throw new Error(`found '${lit}', expected: ${BINARY_OPERATORS.join(', ')}`)
    }
  }

  private setValues(): string[] {
    const open = this.take(true)
    if (open.tok !== '(') throw new Error(`found '${open.lit}' expected: '('`)
    const { tok, lit } = this.look(true)
    if (tok === 'id' || tok === ',') {
      const set = this.identifiers()
      if (this.take(true).tok !== ')') throw new Error(`found '${lit}', expected: ')'`)
      return [...set].sort()
    }
    if (tok === ')') {
      this.take(true)
      return ['']
    }
    throw new Error(`found '${lit}', expected: ',', ')' or identifier`)
  }

  private identifiers(): Set<string> {
    const set = new Set<string>()
    for (;;) {
      const { tok, lit } = this.take(true)
      if (tok === 'id') {
        set.add(lit)
        const next = this.look(true)
        if (next.tok === ',') continue
        if (next.tok === ')') return set
        throw new Error(`found '${next.lit}', expected: ',' or ')'`)
      }
      if (tok === ',') {
        // "(,", ",)" and ",," all stand for the empty value.
        if (set.size === 0) set.add('')
        const next = this.look(true)
        if (next.tok === ')') {
          set.add('')
          return set
        }
        if (next.tok === ',') {
          this.take(true)
          set.add('')
        }
        continue
      }
      throw new Error(`found '${lit}', expected: ',', or identifier`)
    }
  }

  private exactValue(): string[] {
    const next = this.look(true)
    if (next.tok === 'eos' || next.tok === ',') return ['']
    const { tok, lit } = this.take(true)
    if (tok === 'id') return [lit]
    throw new Error(`found '${lit}', expected: identifier`)
  }
}

/** labels.Parse: throws LabelSelectorError with Kubernetes' message on bad input. */
export function parseSelector(selector: string): Selector {
  return makeSelector(new Parser(lex(selector)).parse())
}

/** A selector requiring every key to equal its value (labels.SelectorFromSet). */
export function selectorFromSet(set: Labels | undefined): Selector {
  return makeSelector(Object.entries(set ?? {}).map(([k, v]) => ({ key: k, operator: '=' as const, values: [v] })))
}

// ---- LabelSelector objects (metav1.LabelSelector)

export interface LabelSelectorRequirement {
  key: string
  operator: string
  values?: string[]
}

export interface LabelSelector {
  matchLabels?: Record<string, string>
  matchExpressions?: LabelSelectorRequirement[]
}

const EXPRESSION_OPERATORS: Record<string, Operator> = { In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!' }

/**
 * metav1.LabelSelectorAsSelector: null/undefined selects nothing, an empty selector
 * everything. Throws LabelSelectorError for invalid keys, values or operators.
 */
export function selectorFromLabelSelector(ls: unknown): Selector {
  if (ls === undefined || ls === null) return nothing()
  const sel = rec(ls)
  const matchLabels = rec(sel.matchLabels)
  const exprs = recs(sel.matchExpressions)
  if (Object.keys(matchLabels).length + exprs.length === 0) return everything()
  const reqs: Requirement[] = []
  for (const [k, v] of Object.entries(matchLabels)) reqs.push(newRequirement(k, '=', [str(v)]))
  for (const e of exprs) {
    const op = EXPRESSION_OPERATORS[str(e.operator)]
    if (op === undefined) throw new LabelSelectorError(`${goQuote(str(e.operator))} is not a valid label selector operator`)
    reqs.push(newRequirement(str(e.key), op, strs(e.values)))
  }
  return makeSelector(reqs)
}

/** Whether `labels` satisfy a LabelSelector object (false for an invalid selector). */
export function labelSelectorMatches(ls: unknown, labels: Labels | undefined): boolean {
  try {
    return selectorFromLabelSelector(ls).matches(labels)
  } catch {
    return false
  }
}

/** A selector's string form: a Selector, a LabelSelector object, or a map of labels. */
export function selectorToString(sel: Selector | LabelSelector | null | undefined): string {
  if (sel === null || sel === undefined) return ''
  if ('requirements' in sel && typeof (sel as Selector).matches === 'function') return (sel as Selector).toString()
  return selectorFromLabelSelector(sel).toString()
}

/** metav1.FormatLabelSelector: `<none>` for empty, `<error>` for invalid. */
export function formatLabelSelector(ls: unknown): string {
  try {
    const s = selectorFromLabelSelector(ls).toString()
    return s === '' ? '<none>' : s
  } catch {
    return '<error>'
  }
}

/** labels.FormatLabels: `k=v` pairs sorted, `<none>` when empty. */
export function formatLabels(labels: unknown): string {
  if (!isRecord(labels)) return '<none>'
  const pairs = Object.entries(labels).map(([k, v]) => `${k}=${str(v)}`)
  pairs.sort()
  return pairs.length === 0 ? '<none>' : pairs.join(',')
}
