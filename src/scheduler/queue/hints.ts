// Queueing hints: which cluster events could turn a filter plugin's "no" into a
// "yes" (upstream's EventsToRegister per plugin). A pod rejected only by TaintToleration
// stays put when a pod is deleted somewhere; one rejected by NodeResourcesFit moves.
// A plugin not listed here, a pod rejected by no named plugin (an error), or an event
// outside events.ts's vocabulary are answered "may help": losing a wake-up strands a
// pod for minutes, an extra attempt costs one cycle.
import { CLUSTER_EVENTS, type ClusterEvent } from './events.js'

export type QueueingHints = ReadonlyMap<string, ReadonlySet<ClusterEvent>>

const hints = (table: Record<string, ClusterEvent[]>): QueueingHints => new Map(Object.entries(table).map(([k, v]) => [k, new Set(v)]))

/** The in-tree filter plugins' events, as upstream registers them. */
export const DEFAULT_QUEUEING_HINTS: QueueingHints = hints({
  NodeUnschedulable: ['NodeAdd', 'NodeTaintChange', 'NodeSpecUnschedulableChange'],
  NodeName: ['NodeAdd'],
  // A pod resized in place can free resources too (AssignedPodUpdate).
  NodeResourcesFit: ['NodeAdd', 'NodeAllocatableChange', 'AssignedPodDelete', 'AssignedPodUpdate'],
  NodePorts: ['NodeAdd', 'AssignedPodDelete'],
  NodeAffinity: ['NodeAdd', 'NodeLabelChange'],
  NodeSelector: ['NodeAdd', 'NodeLabelChange'],
  TaintToleration: ['NodeAdd', 'NodeTaintChange'],
  PodTopologySpread: ['NodeAdd', 'NodeDelete', 'NodeLabelChange', 'NodeTaintChange', 'AssignedPodAdd', 'AssignedPodUpdate', 'AssignedPodDelete'],
  InterPodAffinity: ['NodeAdd', 'NodeLabelChange', 'AssignedPodAdd', 'AssignedPodUpdate', 'AssignedPodDelete'],
  VolumeBinding: [
    'NodeAdd',
    'NodeLabelChange',
    'PersistentVolumeClaimAdd',
    'PersistentVolumeClaimUpdate',
    'PersistentVolumeAdd',
    'PersistentVolumeUpdate',
    'StorageClassAdd',
    'StorageClassUpdate',
  ],
})

/** Events every plugin answers "may help" to. */
const UNIVERSAL: ReadonlySet<string> = new Set<ClusterEvent>(['UnscheduledPodUpdate', 'UnschedulableTimeout', 'ForceActivate'])

export class HintTable {
  constructor(private readonly table: QueueingHints) {}

  /** Whether `event` could help a pod that `plugin` rejected. */
  mayHelp(plugin: string, event: string): boolean {
    if (UNIVERSAL.has(event) || !CLUSTER_EVENTS.has(event)) return true
    const events = this.table.get(plugin)
    return events === undefined || events.has(event as ClusterEvent)
  }

  /** Whether `event` could help a pod that `plugins` rejected (an empty set: rejected by an error, always). */
  mayHelpAny(plugins: ReadonlySet<string>, event: string): boolean {
    if (plugins.size === 0) return true
    for (const p of plugins) if (this.mayHelp(p, event)) return true
    return false
  }
}
