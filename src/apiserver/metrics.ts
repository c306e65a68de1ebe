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

/** What the watch-cache metrics read of one resource at scrape time. */
export interface CachedResource {
  rt: { group: string; version: string; kind: string; plural: string }
  cache: unknown
}

interface CacheStats {
  objects: number
  watchers: number
  eventsReceived: number
  watchersTerminated: number
  revision: number
}

function statsOf(cache: unknown): CacheStats | undefined {
  const c = cache as { stats?: () => CacheStats }
  return typeof c.stats === 'function' ? c.stats() : undefined
}

/**
 * kube-apiserver's storage and watch-cache gauges, read from each resource's watch
 * cache when scraped (caches without stats, such as test doubles, are left out).
 * `resource` is upstream's `plural.group` (`pods`, `deployments.apps`).
 */
export function watchCacheMetrics(registry: Registry, resources: () => Iterable<CachedResource>): void {
  const names = ['apiserver_storage_objects', 'apiserver_registered_watchers', 'apiserver_watch_cache_events_received_total', 'apiserver_terminated_watchers_total', 'apiserver_watch_cache_resource_version']
  for (const n of names) if (registry.getSingleMetric(n) !== undefined) registry.removeSingleMetric(n)
  const each = (fn: (r: CachedResource, s: CacheStats, resource: string) => void): void => {
    for (const r of resources()) {
      const s = statsOf(r.cache)
      if (s !== undefined) fn(r, s, r.rt.group === '' ? r.rt.plural : `${r.rt.plural}.${r.rt.group}`)
    }
  }
  const registers = [registry]
  new Gauge({
    name: 'apiserver_storage_objects',
    help: 'Number of stored objects at the time of last check split by kind.',
    labelNames: ['resource'],
    registers,
    collect() {
      each((_, s, resource) => this.set({ resource }, s.objects))
    },
  })
  new Gauge({
    name: 'apiserver_registered_watchers',
    help: 'Number of currently registered watchers for a given resources',
    labelNames: ['group', 'version', 'kind'],
    registers,
    collect() {
      each((r, s) => this.set({ group: r.rt.group, version: r.rt.version, kind: r.rt.kind }, s.watchers))
    },
  })
  new Gauge({
    name: 'apiserver_watch_cache_resource_version',
    help: 'Current resource version of watch cache broken by resource type.',
    labelNames: ['resource'],
    registers,
    collect() {
      each((_, s, resource) => this.set({ resource }, s.revision))
    },
  })
  // Counters that mirror the caches' own tallies: each scrape adds what is new.
  const mirrored = (name: string, help: string, value: (s: CacheStats) => number): void => {
    const last = new Map<string, number>()
    new Counter({
      name,
      help,
      labelNames: ['resource'],
      registers,
      collect() {
        each((_, s, resource) => {
          const v = value(s)
          const prev = last.get(resource) ?? 0
          // A cache made anew (a restarted apiserver in tests) starts from 0 again.
          if (v > prev) this.inc({ resource }, v - prev)
          else if (v < prev) this.inc({ resource }, v)
          last.set(resource, v)
          if (v === 0 && prev === 0) this.inc({ resource }, 0)
        })
      },
    })
  }
  mirrored('apiserver_watch_cache_events_received_total', 'Counter of events received in watch cache broken by resource type.', (s) => s.eventsReceived)
  mirrored('apiserver_terminated_watchers_total', 'Counter of watchers closed due to unresponsiveness broken by resource type.', (s) => s.watchersTerminated)
}
