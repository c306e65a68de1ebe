// Node selectors as upstream's component-helpers nodeaffinity package reads them:
// spec.nodeSelector (every label equal), required nodeAffinity terms (ORed; within a
// term matchExpressions and matchFields ANDed; an empty term or an empty term list
// matches nothing) and preferred terms (the sum of the matching terms' weights).
// A term that does not parse (bad operator, non-integer Gt value, invalid key)
// matches no node, as upstream's LazyErrorNodeSelector ignores it "for backwards
// compatibility". Read by the scheduler's filters and by the DaemonSet controller.
import { newRequirement, requirementMatches, type Operator, type Requirement } from './labels.js'
import { isRecord, rec, recs, str, strs } from './json.js'

export type Labels = Readonly<Record<string, string>>

/** The only field a node selector term can match on (upstream's extractNodeFields). */
export const NODE_NAME_FIELD = 'metadata.name'

const LABEL_OPERATORS: Record<string, Operator> = { In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!', Gt: 'gt', Lt: 'lt' }

interface FieldRequirement {
  readonly key: string
  readonly equal: boolean
  readonly value: string
}

export class NodeSelectorTerm {
  constructor(
    /** undefined: the term has no matchExpressions. */
    readonly labels: readonly Requirement[] | undefined,
    readonly fields: readonly FieldRequirement[] | undefined,
    /** Did not parse: matches nothing. */
    readonly invalid: boolean,
  ) {}

  matches(labels: Labels, nodeName: string): boolean {
    if (this.invalid) return false
    if (this.labels !== undefined) {
      for (const r of this.labels) if (!requirementMatches(r, labels)) return false
    }
    // Upstream skips the field check for a node without a name (no fields at all).
    if (this.fields !== undefined && nodeName !== '') {
      for (const f of this.fields) {
        const v = f.key === NODE_NAME_FIELD ? nodeName : ''
        if ((v === f.value) !== f.equal) return false
      }
    }
    return true
  }
}

/** A term, or undefined for an empty one (no expressions and no fields: dropped, as upstream). */
export function parseNodeSelectorTerm(term: unknown): NodeSelectorTerm | undefined {
  const t = rec(term)
  const exprs = recs(t.matchExpressions)
  const fieldExprs = recs(t.matchFields)
  if (exprs.length === 0 && fieldExprs.length === 0) return undefined
  let invalid = false
  let labels: Requirement[] | undefined
  let fields: FieldRequirement[] | undefined
  if (exprs.length > 0) {
    labels = []
    for (const e of exprs) {
      const op = LABEL_OPERATORS[str(e.operator)]
      if (op === undefined) {
        invalid = true
        continue
      }
      try {
        labels.push(newRequirement(str(e.key), op, strs(e.values)))
      } catch {
        invalid = true
      }
    }
  }
  if (fieldExprs.length > 0) {
    fields = []
    for (const e of fieldExprs) {
      const op = str(e.operator)
      const values = strs(e.values)
      if ((op !== 'In' && op !== 'NotIn') || values.length !== 1) {
        invalid = true
        continue
      }
      fields.push({ key: str(e.key), equal: op === 'In', value: values[0] })
    }
  }
  return new NodeSelectorTerm(labels, fields, invalid)
}

/** Terms ORed; no terms matches nothing. */
export class NodeSelector {
  constructor(readonly terms: readonly NodeSelectorTerm[]) {}

  matches(labels: Labels, nodeName: string): boolean {
    for (const t of this.terms) if (t.matches(labels, nodeName)) return true
    return false
  }
}

export function parseNodeSelector(ns: unknown): NodeSelector {
  const terms: NodeSelectorTerm[] = []
  for (const raw of recs(rec(ns).nodeSelectorTerms)) {
    const t = parseNodeSelectorTerm(raw)
    if (t !== undefined) terms.push(t)
  }
  return new NodeSelector(terms)
}

/** spec.nodeSelector and required node affinity together (upstream's RequiredNodeAffinity). */
export class RequiredNodeAffinity {
  private readonly selector: readonly (readonly [string, string])[]

  constructor(
    nodeSelector: Readonly<Record<string, string>> | undefined,
    /** undefined: the pod has no requiredDuringSchedulingIgnoredDuringExecution. */
    readonly affinity: NodeSelector | undefined,
  ) {
    this.selector = Object.entries(nodeSelector ?? {})
  }

  /** Nothing to check: every node matches. */
  get empty(): boolean {
    return this.selector.length === 0 && this.affinity === undefined
  }

  matches(labels: Labels, nodeName: string): boolean {
    for (const [k, v] of this.selector) if (labels[k] !== v) return false
    return this.affinity === undefined || this.affinity.matches(labels, nodeName)
  }
}

export class PreferredSchedulingTerms {
  constructor(readonly terms: readonly { readonly term: NodeSelectorTerm; readonly weight: number }[]) {}

  score(labels: Labels, nodeName: string): number {
    let s = 0
    for (const { term, weight } of this.terms) if (term.matches(labels, nodeName)) s += weight
    return s
  }
}

export function parsePreferredTerms(raw: unknown): PreferredSchedulingTerms {
  const terms: { term: NodeSelectorTerm; weight: number }[] = []
  for (const p of recs(raw)) {
    const weight = typeof p.weight === 'number' ? p.weight : 0
    if (weight === 0) continue
    const term = parseNodeSelectorTerm(p.preference)
    if (term !== undefined) terms.push({ term, weight })
  }
  return new PreferredSchedulingTerms(terms)
}

/** spec.nodeSelector and required node affinity of a pod. */
export function podRequiredNodeAffinity(pod: unknown): RequiredNodeAffinity {
  const spec = rec(rec(pod).spec)
  const required = rec(rec(spec.affinity).nodeAffinity).requiredDuringSchedulingIgnoredDuringExecution
  const nodeSelector = isRecord(spec.nodeSelector) ? (spec.nodeSelector as Record<string, string>) : undefined
  return new RequiredNodeAffinity(nodeSelector, isRecord(required) ? parseNodeSelector(required) : undefined)
}
