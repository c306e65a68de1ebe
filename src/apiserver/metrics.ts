// kube-apiserver's request metrics (same names and labels, so dashboards built for
// Kubernetes read ours), registered into the master's shared registry.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'

export interface ApiMetrics {
  requests: Counter<'verb' | 'group' | 'version' | 'resource' | 'subresource' | 'scope' | 'component' | 'code'>
  latency: Histogram<'verb' | 'group' | 'version' | 'resource' | 'subresource' | 'scope' | 'component'>
  longRunning: Gauge<'verb' | 'group' | 'version' | 'resource' | 'subresource' | 'scope' | 'component'>
  inflight: Gauge<'request_kind'>
}

export function apiMetrics(registry: Registry): ApiMetrics {
  const existing = registry.getSingleMetric('apiserver_request_total')
  if (existing !== undefined) registry.removeSingleMetric('apiserver_request_total')
  for (const n of ['apiserver_request_duration_seconds', 'apiserver_longrunning_requests', 'apiserver_current_inflight_requests']) {
    if (registry.getSingleMetric(n) !== undefined) registry.removeSingleMetric(n)
  }
  const labels = ['verb', 'group', 'version', 'resource', 'subresource', 'scope', 'component'] as const
  return {
    requests: new Counter({
      name: 'apiserver_request_total',
      help: 'Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.',
      labelNames: [...labels, 'code'],
      registers: [registry],
    }),
    latency: new Histogram({
      name: 'apiserver_request_duration_seconds',
      help: 'Response latency distribution in seconds for each verb, dry run value, group, version, resource, subresource, scope and component.',
      labelNames: labels,
      buckets: [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60],
      registers: [registry],
    }),
    longRunning: new Gauge({
      name: 'apiserver_longrunning_requests',
      help: 'Gauge of all active long-running apiserver requests broken out by verb, group, version, resource, scope and component.',
      labelNames: labels,
      registers: [registry],
    }),
    inflight: new Gauge({
      name: 'apiserver_current_inflight_requests',
      help: 'Maximal number of currently used inflight request limit of this apiserver per request kind in last second.',
      labelNames: ['request_kind'],
      registers: [registry],
    }),
  }
}
