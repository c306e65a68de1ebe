// metrics.k8s.io/v1beta1, served by every apiserver from the kubelets' usage reports
// (the node API's ReportResourceUsage): no metrics-server, no APIService.
export { MetricsApi, type MetricsApiOptions } from './handler.js'
export { ResourceUsageStore, type ResourceUsageStoreOptions } from './usage-store.js'
export { METRICS_API_VERSION, METRICS_GROUP, METRICS_VERSION, goDuration, usageList } from './objects.js'
export { USAGE_PREFIX, usageKey, usageTtlSeconds, type UsageRecord } from './record.js'
