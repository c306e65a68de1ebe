// InterPodAffinity: pods that want to share (or avoid) a topology domain with other
// pods. The filter checks three things, as upstream: the incoming pod's required
// affinity (some matching pod in the node's domain for every term — or, for the
// first pod of a group that matches its own terms, no matching pod anywhere), its
// required anti-affinity (no matching pod in the domain), and the required
// anti-affinity of pods already placed (the incoming pod must not land in the domain
// of a pod whose terms it matches). The score adds preferred terms both ways, and
// existing pods' required affinity at hardPodAffinityWeight.
//
// Counts per topology pair are summed over the cluster in PreFilter/PreScore (kept
// from cycle to cycle and updated only for nodes that changed, see
// helpers/incremental.ts); Filter and Score then only look up the node's label values.
import type { Labels } from '../../api/labels.js'
import type { NodeInfo, PodInfo } from '../framework/node-info.js'
import { type CycleState, type FilterPlugin, MAX_NODE_SCORE, type ScorePlugin, type Snapshot, type Status } from '../framework/types.js'
import { type AffinityTerm, defaultNamespaceLabels, type NamespaceLabels, podAffinityTerms, TopologyCounts, type WeightedAffinityTerm } from './helpers/affinity-terms.js'
import { type Aggregate, IncrementalNodeSum, LruCache } from './helpers/incremental.js'
import { INTER_POD_AFFINITY } from './names.js'

export const ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH = "node(s) didn't satisfy existing pods anti-affinity rules"
export const ERR_REASON_AFFINITY_RULES_NOT_MATCH = "node(s) didn't match pod affinity rules"
export const ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH = "node(s) didn't match pod anti-affinity rules"

export interface InterPodAffinityArgs {
  /** Weight of an existing pod's required affinity term the incoming pod matches (0..100, default 1). */
  hardPodAffinityWeight?: number
  /** Skip scoring for a pod without preferred terms of its own, instead of scoring it by existing pods' terms (default false). */
  ignorePreferredTermsOfExistingPods?: boolean
  /** Namespace labels for namespaceSelector terms (default: only kubernetes.io/metadata.name). */
  namespaceLabels?: NamespaceLabels
}

interface FilterState {
  requiredAffinity: readonly AffinityTerm[]
  requiredAntiAffinity: readonly AffinityTerm[]
  existingAntiAffinityCounts: TopologyCounts
  /** existingAntiAffinityCounts.byKey as an array: Filter walks it for every node. */
  existingByKey: [string, Map<string, number>][]
  affinityCounts: TopologyCounts
  antiAffinityCounts: TopologyCounts
  /** The pod matches all its own required affinity terms (may start a group). */
  selfMatchesAffinity: boolean
}

function matchesAll(terms: readonly AffinityTerm[], pod: PodInfo, nsLabels: NamespaceLabels): boolean {
  if (terms.length === 0) return false
  for (const t of terms) if (!t.matches(pod, nsLabels)) return false
  return true
}

function hasAnyLabel(labels: Labels): boolean {
  for (const _ in labels) return true
  return false
}

const labelsKeys = new WeakMap<PodInfo, string>()

/** The pod's labels as text, once per PodInfo. */
function labelsKey(pod: PodInfo): string {
  let k = labelsKeys.get(pod)
  if (k === undefined) labelsKeys.set(pod, (k = JSON.stringify(pod.labels)))
  return k
}

/** One node's contribution: [which sum, topology key, value, amount] entries. */
type Pairs = [number, string, string, number][]

/** Sums per topology pair over the cluster (one or two of them), from a per-node function. */
class PairSums implements Aggregate<Pairs> {
  readonly sums: TopologyCounts[]

  constructor(
    n: number,
    private readonly each: (node: NodeInfo, out: Pairs) => void,
  ) {
    this.sums = Array.from({ length: n }, () => new TopologyCounts())
  }

  compute(node: NodeInfo): Pairs | undefined {
    const out: Pairs = []
    this.each(node, out)
    return out.length === 0 ? undefined : out
  }

  apply(c: Pairs, sign: 1 | -1): void {
    for (const [which, key, value, n] of c) this.sums[which].addPair(key, value, sign * n)
  }

  clear(): void {
    for (const s of this.sums) s.clear()
  }
}

/** Adds [which, key, node's value of key, n] when the node has the label. */
function push(out: Pairs, which: number, labels: Labels, key: string, n: number): void {
  const v = labels[key]
  if (typeof v === 'string') out.push([which, key, v, n])
}

interface Cached {
  sum: IncrementalNodeSum<Pairs>
  agg: PairSums
}

export class InterPodAffinity implements FilterPlugin, ScorePlugin {
  readonly name = INTER_POD_AFFINITY
  readonly hardPodAffinityWeight: number
  readonly ignorePreferredTermsOfExistingPods: boolean
  private readonly nsLabels: NamespaceLabels
  private readonly filterKey = `${INTER_POD_AFFINITY}/preFilter`
  private readonly scoreKey = `${INTER_POD_AFFINITY}/preScore`
  private readonly affinityRejected: Status = { code: 'UnschedulableAndUnresolvable', reasons: [ERR_REASON_AFFINITY_RULES_NOT_MATCH], plugin: INTER_POD_AFFINITY }
  private readonly antiAffinityRejected: Status = { code: 'Unschedulable', reasons: [ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH], plugin: INTER_POD_AFFINITY }
  private readonly existingRejected: Status = { code: 'Unschedulable', reasons: [ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH], plugin: INTER_POD_AFFINITY }
  private readonly cache = new LruCache<Cached>(64)

  constructor(args: InterPodAffinityArgs = {}) {
    this.hardPodAffinityWeight = args.hardPodAffinityWeight ?? 1
    this.ignorePreferredTermsOfExistingPods = args.ignorePreferredTermsOfExistingPods ?? false
    this.nsLabels = args.namespaceLabels ?? defaultNamespaceLabels
  }

  /**
   * Sums over `nodes` by `each`, kept across cycles under `key` (which must capture
   * everything `each` reads of the pod); computed afresh when `key` is undefined.
   */
  private sums(key: string | undefined, n: number, nodes: readonly NodeInfo[], each: (node: NodeInfo, out: Pairs) => void): TopologyCounts[] {
    if (key === undefined) {
      const agg = new PairSums(n, each)
      new IncrementalNodeSum(agg).sync(nodes)
      return agg.sums
    }
    const entry = this.cache.getOrCreate(key, () => {
      const agg = new PairSums(n, each)
      return { agg, sum: new IncrementalNodeSum(agg) }
    })
    entry.sum.sync(nodes)
    return entry.agg.sums
  }

  preFilter(state: CycleState, pod: PodInfo, snapshot: Snapshot): Status | { skip: true } | undefined {
    const terms = podAffinityTerms(pod)
    if (terms.error !== undefined) return { code: 'UnschedulableAndUnresolvable', reasons: [`parsing pod: ${terms.error}`] }
    const ns = this.nsLabels
    // Existing pods' required anti-affinity terms that the incoming pod matches. They
    // read the pod's namespace, labels and namespace labels, nothing else of it.
    // Only nodes on the snapshot's required-anti-affinity list can hold such pods (as
    // upstream): with none, a pod without terms of its own skips the plugin at once.
    const withAnti = snapshot.havePodsWithRequiredAntiAffinity
    const [existing] =
      withAnti.length === 0
        ? [EMPTY_COUNTS]
        : this.sums(
      ['existing', pod.namespace, labelsKey(pod), JSON.stringify(ns(pod.namespace) ?? null)].join('\u0001'),
      1,
      withAnti,
      (node, out) => {
        if (node.podsWithRequiredAntiAffinity.size === 0) return
        const labels = node.labels
        for (const p of node.podsWithRequiredAntiAffinity.values()) {
          for (const t of podAffinityTerms(p).requiredAntiAffinity) if (t.matches(pod, ns)) push(out, 0, labels, t.topologyKey, 1)
        }
      },
    )
    const { requiredAffinity, requiredAntiAffinity } = terms
    if (existing.size === 0 && requiredAffinity.length === 0 && requiredAntiAffinity.length === 0) return { skip: true }
    let affinityCounts = EMPTY_COUNTS
    let antiAffinityCounts = EMPTY_COUNTS
    if (requiredAffinity.length > 0 || requiredAntiAffinity.length > 0) {
      // Terms reading other namespaces' labels are not cached: those labels may change.
      const readsNs = [...requiredAffinity, ...requiredAntiAffinity].some((t) => t.readsNamespaceLabels)
      ;[affinityCounts, antiAffinityCounts] = this.sums(readsNs ? undefined : ['required', pod.namespace, terms.requiredKey].join('\u0001'), 2, snapshot.nodes, (node, out) => {
        if (node.pods.size === 0) return
        const labels = node.labels
        for (const p of node.pods.values()) {
          if (matchesAll(requiredAffinity, p, ns)) for (const t of requiredAffinity) push(out, 0, labels, t.topologyKey, 1)
          for (const t of requiredAntiAffinity) if (t.matches(p, ns)) push(out, 1, labels, t.topologyKey, 1)
        }
      })
    }
    const s: FilterState = {
      requiredAffinity,
      requiredAntiAffinity,
      existingAntiAffinityCounts: existing,
      existingByKey: [...existing.byKey],
      affinityCounts,
      antiAffinityCounts,
      selfMatchesAffinity: matchesAll(requiredAffinity, pod, ns),
    }
    state.set(this.filterKey, s)
    return undefined
  }

  filter(state: CycleState, _pod: PodInfo, node: NodeInfo): Status | undefined {
    const s = state.get(this.filterKey) as FilterState | undefined
    if (s === undefined) return undefined
    const labels = node.labels
    if (s.requiredAffinity.length > 0 && !satisfiesPodAffinity(s, labels)) return this.affinityRejected
    if (s.antiAffinityCounts.size > 0) {
      for (const t of s.requiredAntiAffinity) {
        const v = labels[t.topologyKey]
        if (typeof v === 'string' && s.antiAffinityCounts.get(t.topologyKey, v) > 0) return this.antiAffinityRejected
      }
    }
    const existing = s.existingByKey
    for (let i = 0; i < existing.length; i++) {
      const v = labels[existing[i][0]]
      if (typeof v === 'string' && (existing[i][1].get(v) ?? 0) > 0) return this.existingRejected
    }
    return undefined
  }

  preScore(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[], snapshot: Snapshot): { skip: true } | undefined {
    if (nodes.length === 0) return { skip: true }
    const terms = podAffinityTerms(pod)
    const hasConstraints = terms.preferredAffinity.length > 0 || terms.preferredAntiAffinity.length > 0
    if (this.ignorePreferredTermsOfExistingPods && !hasConstraints) return { skip: true }
    // Without preferred terms of its own, no pod exists on the snapshot's affinity list: nothing to score.
    if (!hasConstraints && snapshot.havePodsWithAffinity.length === 0) return { skip: true }
    const ns = this.nsLabels
    const hard = this.hardPodAffinityWeight
    const weighted = (out: Pairs, ts: readonly WeightedAffinityTerm[], target: PodInfo, labels: Labels, sign: 1 | -1): void => {
      for (const { term, weight } of ts) if (term.matches(target, ns)) push(out, 0, labels, term.topologyKey, weight * sign)
    }
    const readsNs = [...terms.preferredAffinity, ...terms.preferredAntiAffinity].some((w) => w.term.readsNamespaceLabels)
    const key = readsNs ? undefined : ['score', pod.namespace, labelsKey(pod), terms.preferredKey, JSON.stringify(ns(pod.namespace) ?? null)].join('\u0001')
    const [scores] = this.sums(key, 1, snapshot.nodes, (node, out) => {
      // Unless the pod has preferred terms, only pods with terms of their own can score.
      const pods = hasConstraints ? node.pods : node.podsWithAffinity
      if (pods.size === 0) return
      const labels = node.labels
      if (!hasAnyLabel(labels)) return
      for (const existing of pods.values()) {
        weighted(out, terms.preferredAffinity, existing, labels, 1)
        weighted(out, terms.preferredAntiAffinity, existing, labels, -1)
        const theirs = podAffinityTerms(existing)
        if (hard > 0) for (const t of theirs.requiredAffinity) if (t.matches(pod, ns)) push(out, 0, labels, t.topologyKey, hard)
        weighted(out, theirs.preferredAffinity, pod, labels, 1)
        weighted(out, theirs.preferredAntiAffinity, pod, labels, -1)
      }
    })
    if (scores.size === 0) return { skip: true }
    state.set(this.scoreKey, scores)
    return undefined
  }

  score(state: CycleState, _pod: PodInfo, node: NodeInfo): number {
    const scores = state.get(this.scoreKey) as TopologyCounts | undefined
    if (scores === undefined) return 0
    const labels = node.labels
    let s = 0
    for (const [key, values] of scores.byKey) {
      const v = labels[key]
      if (typeof v === 'string') s += values.get(v) ?? 0
    }
    return s
  }

  normalize(_state: CycleState, _pod: PodInfo, scores: number[]): void {
    let min = Infinity
    let max = -Infinity
    for (const s of scores) {
      if (s > max) max = s
      if (s < min) min = s
    }
    const diff = max - min
    for (let i = 0; i < scores.length; i++) scores[i] = diff > 0 ? Math.trunc(MAX_NODE_SCORE * ((scores[i] - min) / diff)) : 0
  }
}

const EMPTY_COUNTS = new TopologyCounts()

function satisfiesPodAffinity(s: FilterState, labels: Labels): boolean {
  let podsExist = true
  for (const t of s.requiredAffinity) {
    const v = labels[t.topologyKey]
    // Every topology label must exist on the node.
    if (typeof v !== 'string') return false
    if (s.affinityCounts.get(t.topologyKey, v) <= 0) podsExist = false
  }
  if (podsExist) return true
  // The first pod of a group with affinity to itself: allowed while no pod anywhere matches.
  return s.affinityCounts.size === 0 && s.selfMatchesAffinity
}
