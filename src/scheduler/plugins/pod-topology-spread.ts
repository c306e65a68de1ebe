// PodTopologySpread: spreads matching pods evenly across topology domains (zones,
// hosts, any node label). DoNotSchedule constraints filter: placing the pod in a
// domain must keep (matching pods there + 1 if the pod matches itself) − (the fewest
// in any eligible domain) within maxSkew; fewer than minDomains eligible domains
// makes that minimum 0. ScheduleAnyway constraints score: fewer matching pods in the
// node's domains scores higher.
//
// Eligible domains come from nodes that carry every constraint's topology key and,
// per constraint, pass nodeAffinityPolicy (default Honor: the pod's nodeSelector and
// required node affinity) and nodeTaintsPolicy (default Ignore). matchLabelKeys add
// the pod's own values of those labels to the selector. The cluster-level default
// constraints upstream derives from Services and ReplicaSets are not applied: the
// scheduler has no listers for them (a documented limitation).
import { type Json, rec, recs, str, strs } from '../../api/json.js'
import { nothing, type Selector, selectorFromLabelSelector } from '../../api/labels.js'
import type { NodeInfo, PodInfo } from '../framework/node-info.js'
import { type CycleState, type FilterPlugin, MAX_NODE_SCORE, type ScorePlugin, type Snapshot, type Status } from '../framework/types.js'
import { podNodeAffinity } from './helpers/node-selector.js'
import { IncrementalNodeSum, LruCache, type Aggregate } from './helpers/incremental.js'
import { countPodsMatchSelector, isTerminating } from './helpers/pod-counts.js'
import { findUntoleratedTaint } from '../../api/taints.js'
import { nodeTaints, podTolerations } from './helpers/taints.js'
import { POD_TOPOLOGY_SPREAD } from './names.js'

export const ERR_REASON_CONSTRAINTS_NOT_MATCH = "node(s) didn't match pod topology spread constraints"
export const ERR_REASON_NODE_LABEL_NOT_MATCH = `${ERR_REASON_CONSTRAINTS_NOT_MATCH} (missing required label)`

export const LABEL_HOSTNAME = 'kubernetes.io/hostname'

/** MaxInt32: the "global minimum" when no domain is eligible, so any skew passes. */
const NO_MINIMUM = 2147483647
/** A node Score leaves out (missing a topology key); normalized to 0. */
const INVALID_SCORE = -1

export interface SpreadConstraint {
  readonly maxSkew: number
  readonly topologyKey: string
  readonly whenUnsatisfiable: string
  readonly selector: Selector
  /** The selector's string form: the pod-count memo's key. */
  readonly selectorKey: string
  /** The namespace counted in, with the selector: what the matching-pod counts depend on. */
  readonly countKey: string
  readonly minDomains: number
  readonly honorNodeAffinity: boolean
  readonly honorNodeTaints: boolean
  /** 1 when the pod matches its own selector: placing it adds one to the domain. */
  readonly selfMatch: 0 | 1
}

interface ParsedConstraints {
  readonly hard: readonly SpreadConstraint[]
  readonly soft: readonly SpreadConstraint[]
  readonly error: string | undefined
}

const NONE: ParsedConstraints = { hard: [], soft: [], error: undefined }
const cache = new WeakMap<PodInfo, ParsedConstraints>()

export function podSpreadConstraints(pod: PodInfo): ParsedConstraints {
  let c = cache.get(pod)
  if (c === undefined) {
    c = parseConstraints(pod)
    cache.set(pod, c)
  }
  return c
}

function parseConstraints(pod: PodInfo): ParsedConstraints {
  const raw = recs(rec(pod.pod.spec).topologySpreadConstraints)
  if (raw.length === 0) return NONE
  const hard: SpreadConstraint[] = []
  const soft: SpreadConstraint[] = []
  try {
    for (const c of raw) {
      const sc = parseConstraint(c, pod)
      if (sc.whenUnsatisfiable === 'DoNotSchedule') hard.push(sc)
      else if (sc.whenUnsatisfiable === 'ScheduleAnyway') soft.push(sc)
    }
  } catch (err) {
    return { hard: [], soft: [], error: (err as Error).message }
  }
  return { hard, soft, error: undefined }
}

function parseConstraint(c: Json, pod: PodInfo): SpreadConstraint {
  let selector: Selector
  const ls = c.labelSelector
  if (ls === undefined || ls === null) selector = nothing()
  else {
    // matchLabelKeys: the pod's values of these labels, ANDed with the selector.
    const extra: Json[] = []
    for (const k of strs(c.matchLabelKeys)) {
      const v = pod.labels[k]
      if (typeof v === 'string') extra.push({ key: k, operator: 'In', values: [v] })
    }
    const sel = rec(ls)
    selector = selectorFromLabelSelector(extra.length === 0 ? sel : { ...sel, matchExpressions: [...recs(sel.matchExpressions), ...extra] })
  }
  const minDomains = typeof c.minDomains === 'number' ? c.minDomains : 1
  // Nothing and everything both print as "": tell them apart.
  const selectorKey = selector.nothing ? '\u0000nothing' : selector.toString()
  return {
    maxSkew: typeof c.maxSkew === 'number' ? c.maxSkew : 0,
    topologyKey: str(c.topologyKey),
    whenUnsatisfiable: str(c.whenUnsatisfiable),
    selector,
    selectorKey,
    countKey: `${pod.namespace}\u0000${selectorKey}`,
    minDomains,
    honorNodeAffinity: str(c.nodeAffinityPolicy) !== 'Ignore',
    honorNodeTaints: str(c.nodeTaintsPolicy) === 'Honor',
    selfMatch: selector.matches(pod.labels) ? 1 : 0,
  }
}

/** The node carries every constraint's topology key. */
function hasAllTopologyKeys(labels: Readonly<Record<string, string>>, constraints: readonly SpreadConstraint[]): boolean {
  for (const c of constraints) if (typeof labels[c.topologyKey] !== 'string') return false
  return true
}

/** Whether the node's domain is eligible for this constraint (upstream's matchNodeInclusionPolicies). */
function matchesInclusionPolicies(c: SpreadConstraint, pod: PodInfo, node: NodeInfo): boolean {
  if (c.honorNodeAffinity && !podNodeAffinity(pod).required.matches(node.labels, node.name)) return false
  if (c.honorNodeTaints) {
    const taints = nodeTaints(node).doNotSchedule
    if (taints.length > 0 && findUntoleratedTaint(taints, podTolerations(pod)) !== undefined) return false
  }
  return true
}

/** Matching pods in an eligible node's domain (its value of the topology key). */
interface DomainContribution {
  value: string
  count: number
}

/**
 * Matching pods per eligible domain for one constraint, across the cluster. A domain
 * is present (possibly with 0) while some eligible node carries it.
 */
class DomainCounts implements Aggregate<DomainContribution> {
  readonly counts = new Map<string, number>()
  private readonly nodesIn = new Map<string, number>()

  constructor(
    private readonly c: SpreadConstraint,
    /** Every topology key the node must carry (all of the pod's constraints of this kind). */
    private readonly keys: readonly SpreadConstraint[],
    /** Any pod with this aggregate's key: inclusion policies read its node affinity and tolerations. */
    private readonly pod: PodInfo,
  ) {}

  compute(node: NodeInfo): DomainContribution | undefined {
    const labels = node.labels
    if (!hasAllTopologyKeys(labels, this.keys) || !matchesInclusionPolicies(this.c, this.pod, node)) return undefined
    return { value: labels[this.c.topologyKey], count: countMatching(node, this.c.selector, this.pod.namespace) }
  }

  apply(d: DomainContribution, sign: 1 | -1): void {
    const nodes = (this.nodesIn.get(d.value) ?? 0) + sign
    if (nodes === 0) {
      this.nodesIn.delete(d.value)
      this.counts.delete(d.value)
      return
    }
    this.nodesIn.set(d.value, nodes)
    this.counts.set(d.value, (this.counts.get(d.value) ?? 0) + sign * d.count)
  }

  clear(): void {
    this.counts.clear()
    this.nodesIn.clear()
  }
}

/** Upstream's countPodsMatchSelector without the memo: only changed nodes get here. */
function countMatching(node: NodeInfo, selector: Selector, namespace: string): number {
  if (node.pods.size === 0 || selector.nothing || selector.empty()) return 0
  let n = 0
  for (const p of node.pods.values()) if (p.namespace === namespace && !isTerminating(p) && selector.matches(p.labels)) n++
  return n
}

const podSignatures = new WeakMap<PodInfo, { affinity: string; tolerations: string }>()

/** What the inclusion policies read of a pod, as strings (pods of one workload share them). */
function podSignature(pod: PodInfo): { affinity: string; tolerations: string } {
  let sig = podSignatures.get(pod)
  if (sig === undefined) {
    const spec = rec(pod.pod.spec)
    sig = {
      affinity: JSON.stringify([spec.nodeSelector ?? null, rec(rec(spec.affinity).nodeAffinity).requiredDuringSchedulingIgnoredDuringExecution ?? null]),
      tolerations: JSON.stringify(spec.tolerations ?? null),
    }
    podSignatures.set(pod, sig)
  }
  return sig
}

interface CountsEntry {
  sum: IncrementalNodeSum<DomainContribution>
  agg: DomainCounts
}

/** Domain counts for constraint `c` of `pod` over `nodes`, kept up to date incrementally across cycles. */
class DomainCountsCache {
  private readonly lru = new LruCache<CountsEntry>(64)

  counts(c: SpreadConstraint, keys: readonly SpreadConstraint[], pod: PodInfo, nodes: readonly NodeInfo[]): Map<string, number> {
    const sig = podSignature(pod)
    const key = [c.countKey, c.topologyKey, keys.map((k) => k.topologyKey).join(','), c.honorNodeAffinity ? sig.affinity : '-', c.honorNodeTaints ? sig.tolerations : '-'].join('\u0001')
    const entry = this.lru.getOrCreate(key, () => {
      const agg = new DomainCounts(c, keys, pod)
      return { agg, sum: new IncrementalNodeSum(agg) }
    })
    entry.sum.sync(nodes)
    return entry.agg.counts
  }
}

export interface SpreadFilterState {
  readonly constraints: readonly SpreadConstraint[]
  /** Per constraint: matching pods per domain value (every eligible domain present, 0 included). Read-only. */
  readonly counts: readonly ReadonlyMap<string, number>[]
  /** Per constraint: the fewest matching pods in an eligible domain. */
  readonly minMatch: readonly number[]
}

function minOf(counts: ReadonlyMap<string, number>): number {
  let min = NO_MINIMUM
  for (const n of counts.values()) if (n < min) min = n
  return min
}

interface SpreadScoreState {
  readonly constraints: readonly SpreadConstraint[]
  readonly ignored: ReadonlySet<NodeInfo>
  /** Per constraint: matching pods per domain (hostname constraints: undefined, counted per node in Score). */
  readonly pairCounts: readonly (ReadonlyMap<string, number> | undefined)[]
  readonly weights: readonly number[]
}

export class PodTopologySpread implements FilterPlugin, ScorePlugin {
  readonly name = POD_TOPOLOGY_SPREAD
  private readonly filterKey = `${POD_TOPOLOGY_SPREAD}/preFilter`
  private readonly scoreKey = `${POD_TOPOLOGY_SPREAD}/preScore`
  private readonly missingLabel: Status = { code: 'UnschedulableAndUnresolvable', reasons: [ERR_REASON_NODE_LABEL_NOT_MATCH], plugin: POD_TOPOLOGY_SPREAD }
  private readonly skewed: Status = { code: 'Unschedulable', reasons: [ERR_REASON_CONSTRAINTS_NOT_MATCH], plugin: POD_TOPOLOGY_SPREAD }
  private readonly domains = new DomainCountsCache()

  /** Matching pods per eligible domain for the DoNotSchedule constraints (exported for tests and tools). */
  filterState(pod: PodInfo, constraints: readonly SpreadConstraint[], nodes: readonly NodeInfo[]): SpreadFilterState {
    const counts = constraints.map((c) => this.domains.counts(c, constraints, pod, nodes))
    return { constraints, counts, minMatch: counts.map(minOf) }
  }

  preFilter(state: CycleState, pod: PodInfo, snapshot: Snapshot): Status | { skip: true } | undefined {
    const parsed = podSpreadConstraints(pod)
    if (parsed.error !== undefined) return { code: 'Error', reasons: [`calculating preFilterState: ${parsed.error}`] }
    if (parsed.hard.length === 0) return { skip: true }
    state.set(this.filterKey, this.filterState(pod, parsed.hard, snapshot.nodes))
    return undefined
  }

  filter(state: CycleState, pod: PodInfo, node: NodeInfo): Status | undefined {
    const s = state.get(this.filterKey) as SpreadFilterState | undefined
    if (s === undefined) return undefined
    const labels = node.labels
    const { constraints, counts, minMatch } = s
    for (let i = 0; i < constraints.length; i++) {
      const c = constraints[i]
      const v = labels[c.topologyKey]
      if (typeof v !== 'string') return this.missingLabel
      const min = counts[i].size < c.minDomains ? 0 : minMatch[i]
      const skew = (counts[i].get(v) ?? 0) + c.selfMatch - min
      if (skew > c.maxSkew) return this.skewed
    }
    return undefined
  }

  preScore(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[], snapshot: Snapshot): { skip: true } | undefined {
    if (nodes.length === 0 || snapshot.nodes.length === 0) return { skip: true }
    const parsed = podSpreadConstraints(pod)
    const constraints = parsed.soft
    if (constraints.length === 0) return { skip: true }
    const ignored = new Set<NodeInfo>()
    // Domains among the candidate nodes: only they are scored, and their number weighs the constraint.
    const present = constraints.map(() => new Set<string>())
    for (const node of nodes) {
      const labels = node.labels
      if (!hasAllTopologyKeys(labels, constraints)) {
        ignored.add(node)
        continue
      }
      for (let i = 0; i < constraints.length; i++) {
        const c = constraints[i]
        if (c.topologyKey !== LABEL_HOSTNAME) present[i].add(labels[c.topologyKey])
      }
    }
    const weights = constraints.map((c, i) => Math.log((c.topologyKey === LABEL_HOSTNAME ? nodes.length - ignored.size : present[i].size) + 2))
    const pairCounts = constraints.map((c) => (c.topologyKey === LABEL_HOSTNAME ? undefined : this.domains.counts(c, constraints, pod, snapshot.nodes)))
    const st: SpreadScoreState = { constraints, ignored, pairCounts, weights }
    state.set(this.scoreKey, st)
    return undefined
  }

  score(state: CycleState, pod: PodInfo, node: NodeInfo): number {
    const s = state.get(this.scoreKey) as SpreadScoreState | undefined
    if (s === undefined) return 0
    if (s.ignored.has(node)) return INVALID_SCORE
    const labels = node.labels
    let score = 0
    for (let i = 0; i < s.constraints.length; i++) {
      const c = s.constraints[i]
      const v = labels[c.topologyKey]
      if (typeof v !== 'string') continue
      const pairs = s.pairCounts[i]
      const cnt = pairs === undefined ? countPodsMatchSelector(node, c.selector, pod.namespace, c.countKey) : (pairs.get(v) ?? 0)
      score += cnt * s.weights[i] + (c.maxSkew - 1)
    }
    return Math.round(score)
  }

  normalize(_state: CycleState, _pod: PodInfo, scores: number[]): void {
    let min = Number.MAX_SAFE_INTEGER
    let max = 0
    for (const s of scores) {
      if (s === INVALID_SCORE) continue
      if (s < min) min = s
      if (s > max) max = s
    }
    for (let i = 0; i < scores.length; i++) {
      const s = scores[i]
      if (s === INVALID_SCORE) scores[i] = 0
      else if (max === 0) scores[i] = MAX_NODE_SCORE
      else scores[i] = Math.trunc((MAX_NODE_SCORE * (max + min - s)) / max)
    }
  }
}
