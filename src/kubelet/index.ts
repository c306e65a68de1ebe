// The node agent: the kubelet (./kubelet.ts), its container runtimes (./runtime/),
// and the harness that runs many hollow kubelets in one process (./hollow-nodes.ts).
export { Kubelet, type KubeletOptions } from './kubelet.js'
export { KubeletServer, type KubeletServerOptions, type LogSource, LogError } from './server.js'
export { kubeletMetrics, type KubeletMetricsSource } from './metrics.js'
export { KUBELET_PORT } from './node-status.js'
export { HollowCluster, type HollowClusterOptions, type HollowNode } from './hollow-nodes.js'
export { HollowRuntime, type HollowRuntimeOptions, HOLLOW_RUNTIME_VERSION } from './runtime/hollow.js'
export { HOLLOW_ANNOTATIONS } from './runtime/hollow-behaviour.js'
export {
  type ContainerRuntime,
  type ContainerRecord,
  type ContainerReadiness,
  type StartContainerRequest,
  type TerminatedState,
  ContainerStartError,
  readyWhenRunning,
} from './runtime/types.js'
export { hostFacts, hollowFacts, hostResources, hostIPv4, hostName, KUBELET_VERSION, type MachineFacts } from './machine.js'
export { nodeCapacity, nodeAllocatable, parseKeyValueList, parseEvictionThresholds, DEFAULT_EVICTION_HARD, type NodeResourceConfig } from './node-resources.js'
export { defaultPodCidr, indexedPodCidr, PodIpAllocator } from './pod-ip.js'
export { DEFAULT_BACKOFF_INITIAL_MS, DEFAULT_BACKOFF_MAX_MS } from './crash-backoff.js'
