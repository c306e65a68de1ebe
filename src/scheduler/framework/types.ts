// The scheduling framework's contracts (the shape of kube-scheduler's framework
// package, reduced to what our plugins use): pods and nodes as precomputed infos, a
// per-cycle state, Filter and Score plugins, and the Status a plugin answers with.
// The scheduling cycle is pure: no clocks, no I/O, so plugins and the algorithm are
// tested with plain objects. The binding cycle (Reserve, PreBind) is where a plugin
// may write: it gets a BindingHandle with the scheduler's fenced writer.
import type { Clock } from '../../client/clock.js'
import type { RestClient } from '../../client/rest.js'
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

/**
 * PersistentVolumeClaims, PersistentVolumes and StorageClasses as the scheduler sees
 * them: its informers' caches, with the claims and volumes it has assumed (Reserve)
 * laid over them until the informers bring newer versions (upstream's PV/PVC assume
 * caches). Unlike the nodes, these are not copied per cycle; a cycle reads them
 * without yielding, so it sees one state.
 */
export interface VolumeListers {
  claim(namespace: string, name: string): KubeObject | undefined
  volume(name: string): KubeObject | undefined
  /** The PersistentVolumes of one class ('': those without a class). */
  volumesOfClass(className: string): readonly KubeObject[]
  storageClass(name: string): KubeObject | undefined
}

/** The volume listers with what the binding cycle needs besides: assuming, and the API's own versions. */
export interface VolumeAssumeCache extends VolumeListers {
  /**
   * Reads return `claim` (changed from the version cached now, whose resourceVersion it
   * keeps) until the informer brings a newer version. Throws when `claim` is not made
   * from the cached version.
   */
  assumeClaim(claim: KubeObject): void
  assumeVolume(volume: KubeObject): void
  /** Drops an assumption (none: nothing happens). */
  restoreClaim(namespace: string, name: string): void
  restoreVolume(name: string): void
  /** The informer's version, assumptions aside (what the API server and the other controllers see). */
  apiClaim(namespace: string, name: string): KubeObject | undefined
  apiVolume(name: string): KubeObject | undefined
  /** Resolves at the next change of any claim or volume, or when `signal` aborts. */
  nextChange(signal: AbortSignal): Promise<void>
}

/** What every plugin sees of the cluster: the snapshot taken at the start of the cycle. */
export interface Snapshot {
  /** In a stable order (the scheduler's node tree order); the algorithm iterates from a rotating start. */
  readonly nodes: readonly NodeInfo[]
  get(nodeName: string): NodeInfo | undefined
  /** Nodes with at least one pod that has (anti-)affinity terms: InterPodAffinity only looks at these. */
  readonly havePodsWithAffinity: readonly NodeInfo[]
  readonly havePodsWithRequiredAntiAffinity: readonly NodeInfo[]
  /** Claims, volumes and classes; undefined where no one lists them (plain test snapshots): a pod's claims are then not found. */
  readonly volumes?: VolumeListers
}

/** What the binding cycle lends Reserve and PreBind plugins (upstream's framework Handle, reduced). */
export interface BindingHandle {
  /** The leader's fenced client: every write goes through it. */
  readonly writer: RestClient
  readonly volumes: VolumeAssumeCache | undefined
  /** The node as the scheduler's cache has it now. */
  node(name: string): Node | undefined
  readonly clock: Clock
  /**
   * Aborts when the scheduler stops, or (PreBind) when the pod is deleted meanwhile:
   * the reason is POD_DELETED then; any other reason means stopping, with nothing more
   * to write.
   */
  readonly signal: AbortSignal
}

/** The abort reason of a BindingHandle's signal when the pod was deleted. */
export const POD_DELETED = 'PodDeleted'

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

/**
 * Reserve, in the scheduling cycle right after the pod is assumed on its node, before
 * the next pod's cycle: the plugin claims what it chose (e.g. volumes in the assume
 * cache). Unreserve undoes it when anything later fails; it must tolerate a Reserve
 * that did not run or failed.
 */
export interface ReservePlugin {
  readonly name: string
  reserve(state: CycleState, pod: PodInfo, nodeName: string, handle: BindingHandle): Status | undefined
  unreserve(state: CycleState, pod: PodInfo, nodeName: string, handle: BindingHandle): void
}

/** PreBind, in the binding cycle before the pod's Binding is written; may write and wait. A non-Success status fails the binding. */
export interface PreBindPlugin {
  readonly name: string
  preBind(state: CycleState, pod: PodInfo, nodeName: string, handle: BindingHandle): Promise<Status | undefined>
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
  /** Run in order after the node is chosen; Unreserve in reverse order. Absent: none. */
  reserve?: readonly ReservePlugin[]
  preBind?: readonly PreBindPlugin[]
}
