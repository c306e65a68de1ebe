// client-go's workqueue metrics (workqueue_depth, _adds_total, _queue_duration_seconds,
// _work_duration_seconds, _retries_total, _unfinished_work_seconds,
// _longest_running_processor_seconds) under their upstream names and the queue's
// name as the `name` label, so controller-manager dashboards carry over. Install with
// setQueueMetricsProvider(workqueueMetrics(registry)); queues made after that report.
// The two in-progress gauges are computed when scraped (upstream refreshes them every
// 500 ms), from the start times of the items workers hold.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import type { QueueMetrics, QueueMetricsProvider } from './workqueue.js'

// client-go's buckets: 10 ns to 10 s, ×10 apart.
const BUCKETS = Array.from({ length: 10 }, (_, i) => 1e-8 * 10 ** i)

const byRegistry = new WeakMap<Registry, QueueMetricsProvider>()

export function workqueueMetrics(registry: Registry): QueueMetricsProvider {
  const known = byRegistry.get(registry)
  if (known !== undefined) return known
  const registers = [registry]
  const labelNames = ['name'] as const
  const depth = new Gauge({ name: 'workqueue_depth', help: 'Current depth of workqueue', labelNames, registers })
  const adds = new Counter({ name: 'workqueue_adds_total', help: 'Total number of adds handled by workqueue', labelNames, registers })
  const retries = new Counter({ name: 'workqueue_retries_total', help: 'Total number of retries handled by workqueue', labelNames, registers })
  const queueDuration = new Histogram({
    name: 'workqueue_queue_duration_seconds',
    help: 'How long in seconds an item stays in workqueue before being requested.',
    labelNames,
    buckets: BUCKETS,
    registers,
  })
  const workDuration = new Histogram({
    name: 'workqueue_work_duration_seconds',
    help: 'How long in seconds processing an item from workqueue takes.',
    labelNames,
    buckets: BUCKETS,
    registers,
  })
  // Per queue name, when each item in a worker's hands was handed out.
  const inProgress = new Map<string, Map<unknown, number>>()
  const running = (each: (name: string, seconds: number[]) => void): void => {
    const now = performance.now()
    for (const [name, started] of inProgress) each(name, [...started.values()].map((t) => (now - t) / 1000))
  }
  new Gauge({
    name: 'workqueue_unfinished_work_seconds',
    help: 'How many seconds of work has done that is in progress and hasn\'t been observed by work_duration. Large values indicate stuck threads. One can deduce the number of stuck threads by observing the rate at which this increases.',
    labelNames,
    registers,
    collect() {
      running((name, s) => this.set({ name }, s.reduce((a, b) => a + b, 0)))
    },
  })
  new Gauge({
    name: 'workqueue_longest_running_processor_seconds',
    help: 'How many seconds has the longest running processor for workqueue been running.',
    labelNames,
    registers,
    collect() {
      running((name, s) => this.set({ name }, s.length === 0 ? 0 : Math.max(...s)))
    },
  })
  const provider: QueueMetricsProvider = {
    forQueue<T>(name: string): QueueMetrics<T> {
      const labels = { name }
      // Series exist from the queue's start, as upstream's do.
      depth.set(labels, 0)
      adds.inc(labels, 0)
      retries.inc(labels, 0)
      const addedAt = new Map<T, number>()
      // Two queues of one name (a controller restarted on re-election) share the series.
      const startedAt = (inProgress.get(name) as Map<T, number> | undefined) ?? new Map<T, number>()
      inProgress.set(name, startedAt)
      return {
        add(key) {
          depth.inc(labels)
          adds.inc(labels)
          if (!addedAt.has(key)) addedAt.set(key, performance.now())
        },
        get(key) {
          depth.dec(labels)
          const t = addedAt.get(key)
          if (t !== undefined) {
            queueDuration.observe(labels, (performance.now() - t) / 1000)
            addedAt.delete(key)
          }
          startedAt.set(key, performance.now())
        },
        done(key) {
          const t = startedAt.get(key)
          if (t === undefined) return
          workDuration.observe(labels, (performance.now() - t) / 1000)
          startedAt.delete(key)
        },
        retry() {
          retries.inc(labels)
        },
      }
    },
  }
  byRegistry.set(registry, provider)
  return provider
}
