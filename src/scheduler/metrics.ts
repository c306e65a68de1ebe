// The scheduler's metrics, with kube-scheduler's names so dashboards carry over.
// Registered once per registry: a master builds a new Scheduler every time it wins
// the lease, and all of them report into the same series.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'

export interface SchedulerMetrics {
  attempts: Counter<'result' | 'profile'>
  attemptDuration: Histogram<'result' | 'profile'>
  /** Set by the running scheduler; reads its queue at scrape time. */
  pending: Gauge<'queue'>
  setPendingSource(source: (() => Record<string, number>) | undefined): void
}

const byRegistry = new WeakMap<Registry, SchedulerMetrics>()

export function schedulerMetrics(registry: Registry): SchedulerMetrics {
  const known = byRegistry.get(registry)
  if (known !== undefined) return known
  let source: (() => Record<string, number>) | undefined
  const queues = ['active', 'backoff', 'unschedulable', 'gated']
  const m: SchedulerMetrics = {
    attempts: new Counter({
      name: 'scheduler_schedule_attempts_total',
      help: 'Number of attempts to schedule pods, by the result. "unschedulable" means a pod could not be scheduled, while "error" means an internal scheduler problem.',
      labelNames: ['result', 'profile'],
      registers: [registry],
    }),
    attemptDuration: new Histogram({
      name: 'scheduler_scheduling_attempt_duration_seconds',
      help: 'Scheduling attempt latency in seconds (scheduling algorithm + binding)',
      labelNames: ['result', 'profile'],
      buckets: [0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096, 8.192, 16.384],
      registers: [registry],
    }),
    pending: new Gauge({
      name: 'scheduler_pending_pods',
      help: 'Number of pending pods, by the queue type. "active" means number of pods in activeQ; "backoff" means number of pods in backoffQ; "unschedulable" means number of pods in unschedulablePods; "gated" is the number of pods whose scheduling gates are not removed yet.',
      labelNames: ['queue'],
      registers: [registry],
      collect() {
        const counts = source?.() ?? {}
        for (const q of queues) this.set({ queue: q }, counts[q] ?? 0)
      },
    }),
    setPendingSource(s) {
      source = s
    },
  }
  byRegistry.set(registry, m)
  return m
}
