// kube-proxy's metrics: upstream's names for the sync loop (so its dashboards carry
// over), plus what only a userspace proxy has: the connections it carries and the
// endpoints each service port balances over. Registered once per registry.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'

export interface ProxyMetrics {
  syncDuration: Histogram
  lastSync: Gauge
  serviceChanges: Counter
  endpointChanges: Counter
  /** Open TCP connections and UDP flows being forwarded. */
  activeConnections: Gauge<'protocol'>
  /** Connections and flows forwarded, refused (no endpoint, or not allowed) and failed (no endpoint answered). */
  connections: Counter<'protocol' | 'result'>
  /** Usable endpoints of each proxied service port (cluster-IP traffic). */
  endpoints: Gauge<'namespace' | 'service' | 'port'>
  /** Listeners that could not bind (address taken, not permitted), retried every sync. */
  bindFailures: Gauge
}

const byRegistry = new WeakMap<Registry, ProxyMetrics>()

export function proxyMetrics(registry: Registry): ProxyMetrics {
  const known = byRegistry.get(registry)
  if (known !== undefined) return known
  const registers = [registry]
  const m: ProxyMetrics = {
    syncDuration: new Histogram({
      name: 'kubeproxy_sync_proxy_rules_duration_seconds',
      help: 'SyncProxyRules latency in seconds',
      buckets: [0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096, 8.192, 16.384],
      registers,
    }),
    lastSync: new Gauge({ name: 'kubeproxy_sync_proxy_rules_last_timestamp_seconds', help: 'The last time proxy rules were successfully synced', registers }),
    serviceChanges: new Counter({ name: 'kubeproxy_sync_proxy_rules_service_changes_total', help: 'Cumulative proxy rules Service changes', registers }),
    endpointChanges: new Counter({ name: 'kubeproxy_sync_proxy_rules_endpoint_changes_total', help: 'Cumulative proxy rules Endpoint changes', registers }),
    activeConnections: new Gauge({
      name: 'kubeproxy_userspace_active_connections',
      help: 'TCP connections and UDP flows the userspace proxy is forwarding now',
      labelNames: ['protocol'],
      registers,
    }),
    connections: new Counter({
      name: 'kubeproxy_userspace_connections_total',
      help: 'Connections (TCP) and flows (UDP) accepted by the userspace proxy, by result: forwarded, refused (no usable endpoint or source not allowed), failed (no endpoint could be reached)',
      labelNames: ['protocol', 'result'],
      registers,
    }),
    endpoints: new Gauge({
      name: 'kubeproxy_userspace_service_endpoints',
      help: 'Usable endpoints of each proxied service port for cluster-IP traffic',
      labelNames: ['namespace', 'service', 'port'],
      registers,
    }),
    bindFailures: new Gauge({ name: 'kubeproxy_userspace_bind_failures', help: 'Service listeners that could not bind at the last sync (retried)', registers }),
  }
  byRegistry.set(registry, m)
  return m
}
