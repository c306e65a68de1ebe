// The in-tree plugin names (upstream's plugins/names package): what a
// KubeSchedulerConfiguration names, what a Status carries as its plugin, and what the
// queue's hints are keyed by.
export const NODE_UNSCHEDULABLE = 'NodeUnschedulable'
export const NODE_NAME = 'NodeName'
export const NODE_RESOURCES_FIT = 'NodeResourcesFit'
export const NODE_RESOURCES_BALANCED_ALLOCATION = 'NodeResourcesBalancedAllocation'
export const NODE_AFFINITY = 'NodeAffinity'
export const TAINT_TOLERATION = 'TaintToleration'
export const NODE_PORTS = 'NodePorts'
export const POD_TOPOLOGY_SPREAD = 'PodTopologySpread'
export const INTER_POD_AFFINITY = 'InterPodAffinity'
export const VOLUME_BINDING = 'VolumeBinding'

/**
 * Upstream in-tree plugins we do not model (queue sort, binding, preemption, volume
 * restrictions, zones and limits, images, DRA, gates). A configuration may name them, to keep configs written for
 * kube-scheduler working; they have no effect here.
 */
export const UNMODELLED_PLUGINS: ReadonlySet<string> = new Set([
  'PrioritySort',
  'DefaultBinder',
  'DefaultPreemption',
  'SchedulingGates',
  'ImageLocality',
  'VolumeRestrictions',
  'VolumeZone',
  'NodeVolumeLimits',
  'EBSLimits',
  'GCEPDLimits',
  'AzureDiskLimits',
  'CinderLimits',
  'DynamicResources',
])
