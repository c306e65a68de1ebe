// NodeAffinity: the filter for spec.nodeSelector and required node affinity (a node
// that does not match never will: unresolvable), and the score for preferred node
// affinity (sum of matching terms' weights, normalized so the best node gets 100).
// A required term pinning `metadata.name` lets PreFilter name the only candidate
// nodes, so a pod bound for one node does not filter all of them.
// `addedAffinity` (plugin args) is the scheduler-enforced affinity upstream offers
// per profile, applied to every pod on top of its own.
import { rec, recs, str, strs } from '../../api/json.js'
import type { NodeInfo, PodInfo } from '../framework/node-info.js'
import type { CycleState, FilterPlugin, PreFilterResult, ScorePlugin, Status } from '../framework/types.js'
import { defaultNormalizeScore } from './helpers/normalize.js'
import { NODE_NAME_FIELD, type NodeSelector, parseNodeSelector, parsePreferredTerms, type PreferredSchedulingTerms } from '../../api/node-selector.js'
import { podNodeAffinity } from './helpers/node-selector.js'
import { NODE_AFFINITY } from './names.js'

export const ERR_REASON_POD = "node(s) didn't match Pod's node affinity/selector"
export const ERR_REASON_ENFORCED = "node(s) didn't match scheduler-enforced node affinity"
export const ERR_REASON_CONFLICT = 'pod affinity terms conflict'

export interface NodeAffinityArgs {
  /** A core/v1 NodeAffinity applied to every pod of the profile. */
  addedAffinity?: unknown
}

export class NodeAffinity implements FilterPlugin, ScorePlugin {
  readonly name = NODE_AFFINITY
  private readonly addedRequired: NodeSelector | undefined
  private readonly addedPreferred: PreferredSchedulingTerms | undefined
  private readonly rejectedPod: Status = { code: 'UnschedulableAndUnresolvable', reasons: [ERR_REASON_POD], plugin: NODE_AFFINITY }
  private readonly rejectedEnforced: Status = { code: 'UnschedulableAndUnresolvable', reasons: [ERR_REASON_ENFORCED], plugin: NODE_AFFINITY }

  constructor(args: NodeAffinityArgs = {}) {
    const added = rec(args.addedAffinity)
    const req = added.requiredDuringSchedulingIgnoredDuringExecution
    this.addedRequired = req === undefined || req === null ? undefined : parseNodeSelector(req)
    const pref = parsePreferredTerms(added.preferredDuringSchedulingIgnoredDuringExecution)
    this.addedPreferred = pref.terms.length === 0 ? undefined : pref
  }

  preFilter(_state: CycleState, pod: PodInfo): Status | { skip: true } | PreFilterResult | undefined {
    const a = podNodeAffinity(pod)
    if (!a.hasRequired && this.addedRequired === undefined) return { skip: true }
    const terms = a.requiredTerms
    if (terms === undefined || terms.length === 0) return undefined
    // Nodes named by `metadata.name In [x]` in every term: the union over terms of
    // each term's intersection. A term without such a field allows every node.
    let names: Set<string> | undefined
    for (const t of terms) {
      let termNames: Set<string> | undefined
      for (const f of recs(t.matchFields)) {
        if (str(f.key) !== NODE_NAME_FIELD || str(f.operator) !== 'In') continue
        const values = new Set(strs(f.values))
        termNames = termNames === undefined ? values : new Set([...termNames].filter((n) => values.has(n)))
      }
      if (termNames === undefined) return undefined
      names = new Set([...(names ?? []), ...termNames])
    }
    if (names !== undefined && names.size === 0) return { code: 'UnschedulableAndUnresolvable', reasons: [ERR_REASON_CONFLICT] }
    return names === undefined ? undefined : { nodeNames: names }
  }

  filter(_state: CycleState, pod: PodInfo, node: NodeInfo): Status | undefined {
    const labels = node.labels
    if (this.addedRequired !== undefined && !this.addedRequired.matches(labels, node.name)) return this.rejectedEnforced
    if (!podNodeAffinity(pod).required.matches(labels, node.name)) return this.rejectedPod
    return undefined
  }

  preScore(_state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): { skip: true } | undefined {
    if (nodes.length === 0) return undefined
    if (podNodeAffinity(pod).preferred.terms.length === 0 && this.addedPreferred === undefined) return { skip: true }
    return undefined
  }

  score(_state: CycleState, pod: PodInfo, node: NodeInfo): number {
    const labels = node.labels
    let s = podNodeAffinity(pod).preferred.score(labels, node.name)
    if (this.addedPreferred !== undefined) s += this.addedPreferred.score(labels, node.name)
    return s
  }

  normalize(_state: CycleState, _pod: PodInfo, scores: number[]): void {
    defaultNormalizeScore(scores, false)
  }
}
