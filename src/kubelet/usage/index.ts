// Resource usage for `kubectl top` and the HorizontalPodAutoscaler: the kubelet
// measures its node and running containers (a UsageSource: hollow or /proc) and
// reports the usage over each interval to the masters (./reporter.ts), which serve it
// as metrics.k8s.io/v1beta1.
export { DEFAULT_USAGE_INTERVAL_MS, UsageReporter, type UsageReportClient, type UsageReporterOptions } from './reporter.js'
export { rateBetween, usageReport, type Rate, type RateOptions } from './rates.js'
export {
  DEFAULT_HOLLOW_CONTAINER_USAGE,
  DEFAULT_HOLLOW_NODE_BASE_USAGE,
  HOLLOW_USAGE_ANNOTATIONS,
  HollowUsageSource,
  hollowContainerUsage,
  type HollowUsageSourceOptions,
} from './hollow.js'
export { ProcUsageSource, readNodeUsage, readProcessUsage, type ProcUsageSourceOptions } from './proc.js'
export type { ContainerUsagePoint, PodContainers, PodUsagePoints, UsagePoint, UsageSnapshot, UsageSource } from './types.js'
