// Pod (anti-)affinity terms as upstream's framework.PodInfo holds them: each term's
// label selector, the namespaces it looks in and its topology key, parsed once per
// PodInfo (for the incoming pod and for every existing pod with terms).
//
// Namespaces: a term with neither `namespaces` nor `namespaceSelector` looks in the
// pod's own namespace; `namespaceSelector: {}` means every namespace; a non-empty
// namespaceSelector is matched against the labels of the other pod's namespace, which
// the scheduler gets from a lookup function. Without one, a namespace is known only
// by the label the API server puts on every namespace, kubernetes.io/metadata.name,
// so selectors on other namespace labels match nothing (a documented limitation).
import { type Labels, nothing, selectorFromLabelSelector, type Selector } from '../../../api/labels.js'
import { rec, recs, str, strs } from '../../../api/json.js'
import type { PodInfo } from '../../framework/node-info.js'

export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name'

/** A namespace's labels; undefined when the namespace is unknown. */
export type NamespaceLabels = (namespace: string) => Labels | undefined

export const defaultNamespaceLabels: NamespaceLabels = (ns) => ({ [NAMESPACE_NAME_LABEL]: ns })

export class AffinityTerm {
  constructor(
    readonly namespaces: ReadonlySet<string>,
    readonly selector: Selector,
    readonly topologyKey: string,
    readonly namespaceSelector: Selector,
  ) {}

  /** Upstream's AffinityTerm.Matches: the pod is in one of the term's namespaces and its labels match. */
  matches(pod: PodInfo, nsLabels: NamespaceLabels): boolean {
    if (this.namespaces.has(pod.namespace) || this.matchesNamespaceSelector(pod.namespace, nsLabels)) return this.selector.matches(pod.labels)
    return false
  }

  /** The term reads namespace labels (a non-empty namespaceSelector). */
  get readsNamespaceLabels(): boolean {
    return !this.namespaceSelector.nothing && !this.namespaceSelector.empty()
  }

  private matchesNamespaceSelector(ns: string, nsLabels: NamespaceLabels): boolean {
    const sel = this.namespaceSelector
    if (sel.nothing) return false
    if (sel.empty()) return true
    return sel.matches(nsLabels(ns))
  }
}

export interface WeightedAffinityTerm {
  readonly term: AffinityTerm
  readonly weight: number
}

export interface PodAffinityTerms {
  readonly requiredAffinity: readonly AffinityTerm[]
  readonly requiredAntiAffinity: readonly AffinityTerm[]
  readonly preferredAffinity: readonly WeightedAffinityTerm[]
  readonly preferredAntiAffinity: readonly WeightedAffinityTerm[]
  /** Why a term did not parse (upstream rejects such an incoming pod: "parsing pod: …"). */
  readonly error: string | undefined
  /** The required terms as text: pods with equal text (and namespace) have equal terms. */
  readonly requiredKey: string
  /** The preferred terms as text. */
  readonly preferredKey: string
}

const NONE: PodAffinityTerms = { requiredAffinity: [], requiredAntiAffinity: [], preferredAffinity: [], preferredAntiAffinity: [], error: undefined, requiredKey: '', preferredKey: '' }
const cache = new WeakMap<PodInfo, PodAffinityTerms>()

export function podAffinityTerms(pod: PodInfo): PodAffinityTerms {
  let t = cache.get(pod)
  if (t === undefined) {
    t = pod.hasAffinity ? parse(pod) : NONE
    cache.set(pod, t)
  }
  return t
}

function parse(pod: PodInfo): PodAffinityTerms {
  const aff = rec(rec(pod.pod.spec).affinity)
  const pa = rec(aff.podAffinity)
  const paa = rec(aff.podAntiAffinity)
  const errors: string[] = []
  const term = (raw: unknown): AffinityTerm | undefined => {
    const r = rec(raw)
    try {
      const namespaces = strs(r.namespaces)
      const hasNsSelector = r.namespaceSelector !== undefined && r.namespaceSelector !== null
      const names = namespaces.length === 0 && !hasNsSelector ? [pod.namespace] : namespaces
      return new AffinityTerm(new Set(names), selectorFromLabelSelector(r.labelSelector), str(r.topologyKey), hasNsSelector ? selectorFromLabelSelector(r.namespaceSelector) : nothing())
    } catch (err) {
      errors.push((err as Error).message)
      return undefined
    }
  }
  const required = (raw: unknown): AffinityTerm[] => recs(raw).flatMap((x) => term(x) ?? [])
  const weighted = (raw: unknown): WeightedAffinityTerm[] =>
    recs(raw).flatMap((x) => {
      const t = term(x.podAffinityTerm)
      return t === undefined ? [] : [{ term: t, weight: typeof x.weight === 'number' ? x.weight : 0 }]
    })
  return {
    requiredAffinity: required(pa.requiredDuringSchedulingIgnoredDuringExecution),
    requiredAntiAffinity: required(paa.requiredDuringSchedulingIgnoredDuringExecution),
    preferredAffinity: weighted(pa.preferredDuringSchedulingIgnoredDuringExecution),
    preferredAntiAffinity: weighted(paa.preferredDuringSchedulingIgnoredDuringExecution),
    error: errors.length === 0 ? undefined : errors.join('; '),
    requiredKey: JSON.stringify([pa.requiredDuringSchedulingIgnoredDuringExecution ?? null, paa.requiredDuringSchedulingIgnoredDuringExecution ?? null]),
    preferredKey: JSON.stringify([pa.preferredDuringSchedulingIgnoredDuringExecution ?? null, paa.preferredDuringSchedulingIgnoredDuringExecution ?? null]),
  }
}

/** Counts per topology key and value (upstream's topologyToMatchedTermCount, nested for cheap lookups). */
export class TopologyCounts {
  readonly byKey = new Map<string, Map<string, number>>()

  get size(): number {
    return this.byKey.size
  }

  /** Adds `value` for the node's value of `key`; a node without the label counts nowhere. Zero entries are removed. */
  add(key: string, labels: Labels, value: number): void {
    const tv = labels[key]
    if (typeof tv === 'string') this.addPair(key, tv, value)
  }

  addPair(key: string, tv: string, value: number): void {
    let m = this.byKey.get(key)
    if (m === undefined) this.byKey.set(key, (m = new Map()))
    const next = (m.get(tv) ?? 0) + value
    if (next === 0) {
      m.delete(tv)
      if (m.size === 0) this.byKey.delete(key)
    } else m.set(tv, next)
  }

  get(key: string, value: string): number {
    return this.byKey.get(key)?.get(value) ?? 0
  }

  clear(): void {
    this.byKey.clear()
  }
}
