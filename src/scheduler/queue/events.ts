// Cluster events, as the scheduling queue understands them (upstream's ClusterEvent
// labels): what happened to a node or an assigned pod, so the queue can tell which
// unschedulable pods it might help. A node update is split into the properties that
// changed, because nodes are updated all the time (heartbeats, images, conditions'
// timestamps) and almost none of those updates can make a pod fit.
import { rec, semanticEqual } from '../../api/json.js'
import { tryParseQuantity } from '../../api/quantity.js'

export type ClusterEvent =
  | 'NodeAdd'
  | 'NodeDelete'
  /** A node update whose details are unknown: stands for every Node*Change below. */
  | 'NodeUpdate'
  /** Some allocatable resource went up (a decrease helps no pod fit). */
  | 'NodeAllocatableChange'
  | 'NodeLabelChange'
  | 'NodeTaintChange'
  /** A condition's status changed (heartbeat times ignored). */
  | 'NodeConditionChange'
  /** spec.unschedulable went from true to false. */
  | 'NodeSpecUnschedulableChange'
  | 'NodeAnnotationChange'
  | 'AssignedPodAdd'
  | 'AssignedPodUpdate'
  | 'AssignedPodDelete'
  /** The pod itself changed while it waited (its own update may make it fit). */
  | 'UnscheduledPodUpdate'
  /** The pod waited in unschedulablePods for podMaxInUnschedulablePodsDuration. */
  | 'UnschedulableTimeout'
  /** Moves every waiting pod, whatever failed it. */
  | 'ForceActivate'
  /** Claims, volumes and classes (only VolumeBinding cares). */
  | 'PersistentVolumeClaimAdd'
  | 'PersistentVolumeClaimUpdate'
  | 'PersistentVolumeAdd'
  | 'PersistentVolumeUpdate'
  | 'StorageClassAdd'
  | 'StorageClassUpdate'

/** Every event above: a string outside this vocabulary is an event the hints cannot judge. */
export const CLUSTER_EVENTS: ReadonlySet<string> = new Set<ClusterEvent>([
  'NodeAdd',
  'NodeDelete',
  'NodeUpdate',
  'NodeAllocatableChange',
  'NodeLabelChange',
  'NodeTaintChange',
  'NodeConditionChange',
  'NodeSpecUnschedulableChange',
  'NodeAnnotationChange',
  'AssignedPodAdd',
  'AssignedPodUpdate',
  'AssignedPodDelete',
  'UnscheduledPodUpdate',
  'UnschedulableTimeout',
  'ForceActivate',
  'PersistentVolumeClaimAdd',
  'PersistentVolumeClaimUpdate',
  'PersistentVolumeAdd',
  'PersistentVolumeUpdate',
  'StorageClassAdd',
  'StorageClassUpdate',
])

/** What 'NodeUpdate' without the old and new objects stands for. */
export const NODE_UPDATE_EVENTS: readonly ClusterEvent[] = [
  'NodeAllocatableChange',
  'NodeLabelChange',
  'NodeTaintChange',
  'NodeConditionChange',
  'NodeSpecUnschedulableChange',
  'NodeAnnotationChange',
]

/**
 * The scheduling-relevant changes between two versions of a node (upstream's
 * nodeSchedulingPropertiesChange); empty when the update cannot help any pod.
 */
export function nodeSchedulingPropertiesChange(oldNode: unknown, newNode: unknown): ClusterEvent[] {
  const events: ClusterEvent[] = []
  const oldSpec = rec(rec(oldNode).spec)
  const newSpec = rec(rec(newNode).spec)
  const oldMeta = rec(rec(oldNode).metadata)
  const newMeta = rec(rec(newNode).metadata)
  const oldStatus = rec(rec(oldNode).status)
  const newStatus = rec(rec(newNode).status)
  if (oldSpec.unschedulable === true && newSpec.unschedulable !== true) events.push('NodeSpecUnschedulableChange')
  if (allocatableWentUp(oldStatus.allocatable, newStatus.allocatable)) events.push('NodeAllocatableChange')
  if (!semanticEqual(oldMeta.labels, newMeta.labels)) events.push('NodeLabelChange')
  if (!semanticEqual(oldSpec.taints, newSpec.taints)) events.push('NodeTaintChange')
  if (!semanticEqual(conditionStatuses(oldStatus.conditions), conditionStatuses(newStatus.conditions))) events.push('NodeConditionChange')
  if (!semanticEqual(oldMeta.annotations, newMeta.annotations)) events.push('NodeAnnotationChange')
  return events
}

function allocatableWentUp(oldList: unknown, newList: unknown): boolean {
  if (semanticEqual(oldList, newList)) return false
  const before = rec(oldList)
  for (const [name, raw] of Object.entries(rec(newList))) {
    const now = tryParseQuantity(raw)
    if (now === undefined) continue
    const was = tryParseQuantity(before[name])
    if (was === undefined || now.cmp(was) > 0) return true
  }
  return false
}

function conditionStatuses(conditions: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  if (Array.isArray(conditions)) for (const c of conditions) out[String(rec(c).type)] = rec(c).status
  return out
}

/**
 * What an update of an assigned (bound) pod may do for others: new labels matter to
 * affinity and topology spreading, changed requests (an in-place resize) to resource
 * fit. A status update, the bulk of them, is nothing.
 */
export function assignedPodSchedulingPropertiesChange(oldPod: unknown, newPod: unknown): ClusterEvent[] {
  const changed =
    !semanticEqual(rec(rec(oldPod).metadata).labels, rec(rec(newPod).metadata).labels) || !semanticEqual(podResources(oldPod), podResources(newPod))
  return changed ? ['AssignedPodUpdate'] : []
}

function podResources(pod: unknown): unknown {
  const spec = rec(rec(pod).spec)
  const of = (cs: unknown) => (Array.isArray(cs) ? cs.map((c) => rec(c).resources) : [])
  return { containers: of(spec.containers), init: of(spec.initContainers), overhead: spec.overhead }
}

/**
 * Whether an update of a waiting pod may change the scheduling outcome (upstream's
 * isPodUpdated): anything beyond status, resourceVersion, generation and
 * managedFields. The scheduler's own PodScheduled condition write must not count, or a
 * pod would be retried as soon as it is reported unschedulable.
 */
export function isPodUpdated(oldPod: unknown, newPod: unknown): boolean {
  return !semanticEqual(strip(oldPod), strip(newPod))
}

function strip(pod: unknown): Record<string, unknown> {
  const { status: _status, metadata, ...rest } = rec(pod)
  const { resourceVersion: _rv, generation: _gen, managedFields: _mf, ...meta } = rec(metadata)
  return { ...rest, metadata: meta }
}

/** A pod whose spec.schedulingGates is non-empty waits outside activeQ (gated). */
export function isGated(pod: unknown): boolean {
  const gates = rec(rec(pod).spec).schedulingGates
  return Array.isArray(gates) && gates.length > 0
}
