// The scheduling framework's contracts (the shape of kube-scheduler's framework
// package, reduced to what our plugins use): pods and nodes as precomputed infos, a
// per-cycle state, Filter and Score plugins, and the Status a plugin answers with.
// Everything here is pure: no clocks, no I/O, so plugins and the algorithm are tested
// with plain objects.
import type { KubeObject } from '../../client/types.js'
import type { NodeInfo, PodInfo } from './node-info.js'

export type Pod = KubeObject
export type Node = KubeObject

/** The highest score a plugin gives a node after normalization (upstream's MaxNodeScore). */
export const MAX_NODE_SCORE = 100

export type Code =
  /** The node can host the pod. */
  | 'Success'
  /** Not on this node now; may change when the cluster changes (preemption could help upstream). */
  | 'Unschedulable'
  /** Not on this node whatever else changes (e.g. nodeSelector mismatch). */
  | 'UnschedulableAndUnresolvable'
  /** The plugin failed; the pod is retried with back-off. */
  | 'Error'

export interface Status {
  code: Code
  /** Upstream's reason strings, counted per node in the FitError message ("Insufficient cpu"). */
  reasons: string[]
  /** The plugin that answered, filled in by the framework. */
  plugin?: string
}

export const success = (): Status => ({ code: 'Success', reasons: [] })
export const unschedulable = (...reasons: string[]): Status => ({ code: 'Unschedulable', reasons })
export const unresolvable = (...reasons: string[]): Status => ({ code: 'UnschedulableAndUnresolvable', reasons })

/** A Status's message as upstream's Status.Message(): the reasons joined by ", ". */
export function statusMessage(s: Status): string {
  return s.reasons.join(', ')
}

/** Rejected: Unschedulable or UnschedulableAndUnresolvable (upstream's Status.IsRejected). */
export function isRejected(s: Status): boolean {
  return s.code === 'Unschedulable' || s.code === 'UnschedulableAndUnresolvable'
}

/** Data a plugin computes once per scheduling cycle (PreFilter/PreScore) and reads per node. */
export type CycleState = Map<string, unknown>

/**
 * What a PreFilter may answer besides a Status: only these nodes can host the pod
 * (upstream's PreFilterResult.NodeNames, e.g. from a `metadata.name` matchFields term).
 * The algorithm evaluates just these; every other node counts as rejected with
 * "node(s) didn't satisfy plugin(s) [Name]".
 */
export interface PreFilterResult {
  nodeNames: ReadonlySet<string>
}

/** What every plugin sees of the cluster: the snapshot taken at the start of the cycle. */
export interface Snapshot {
  /** In a stable order (the scheduler's node tree order); the algorithm iterates from a rotating start. */
  readonly nodes: readonly NodeInfo[]
  get(nodeName: string): NodeInfo | undefined
  /** Nodes with at least one pod that has (anti-)affinity terms: InterPodAffinity only looks at these. */
  readonly havePodsWithAffinity: readonly NodeInfo[]
  readonly havePodsWithRequiredAntiAffinity: readonly NodeInfo[]
}

export interface FilterPlugin {
  readonly name: string
  /**
   * Once per pod and cycle, before any Filter. Return a non-Success status to reject
   * the pod on every node at once (e.g. invalid spec), or `skip: true` when the plugin
   * has nothing to check for this pod (its Filter is then not called), or a
   * PreFilterResult naming the only nodes worth filtering.
   */
  preFilter?(state: CycleState, pod: PodInfo, snapshot: Snapshot): Status | { skip: true } | PreFilterResult | undefined
  /** undefined or Success: the node passes. */
  filter(state: CycleState, pod: PodInfo, node: NodeInfo): Status | undefined
}

export interface ScorePlugin {
  readonly name: string
  /** Once per cycle with the feasible nodes, before Score. `skip: true` leaves the plugin out. */
  preScore?(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[], snapshot: Snapshot): { skip: true } | undefined
  /** A raw score; normalize (if present) maps the raw scores of all nodes into 0..MAX_NODE_SCORE. */
  score(state: CycleState, pod: PodInfo, node: NodeInfo): number
  normalize?(state: CycleState, pod: PodInfo, scores: number[]): void
}

export interface WeightedScorePlugin {
  plugin: ScorePlugin
  weight: number
}

/** The configured plugin set of one scheduler profile. */
export interface Profile {
  schedulerName: string
  filters: readonly FilterPlugin[]
  scores: readonly WeightedScorePlugin[]
  /** 0: adaptive, as upstream (50% - nodes/125, at least 5%, at least 100 nodes). */
  percentageOfNodesToScore: number
}
