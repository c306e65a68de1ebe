// client-go's workqueue metrics on our queues: named queues report depth, adds,
// retries and how long keys wait and are worked on; unnamed queues report nothing.
import { Registry } from 'prom-client'
import t from 'tap'
import { RateLimitingQueue, setQueueMetricsProvider } from '../../src/client/workqueue.js'
import { workqueueMetrics } from '../../src/client/workqueue-metrics.js'
import { parseBindAddress } from '../../src/proxy/metrics-server.js'

/** One sample: `series` is the metric's name or, for a histogram, its `_count`/`_sum`/`_bucket` series. */
async function value(registry: Registry, series: string, labels: Record<string, string>): Promise<number | undefined> {
  const name = series.replace(/_(count|sum|bucket)$/, '')
  const metric = await registry.getSingleMetric(name)?.get()
  const match = metric?.values.find((v) => ((v as { metricName?: string }).metricName ?? name) === series && Object.entries(labels).every(([k, want]) => v.labels[k] === want))
  return match?.value
}

t.test('a named queue reports depth, adds, retries and durations under its name', async (t) => {
  const registry = new Registry()
  setQueueMetricsProvider(workqueueMetrics(registry))
  t.teardown(() => setQueueMetricsProvider(undefined))
  const q = new RateLimitingQueue<string>(undefined, { name: 'things' })
  const unnamed = new RateLimitingQueue<string>()
  unnamed.add('x')

  t.equal(await value(registry, 'workqueue_depth', { name: 'things' }), 0, 'the series exists before any add')
  q.add('a')
  q.add('b')
  q.add('a')
  t.equal(await value(registry, 'workqueue_depth', { name: 'things' }), 2)
  t.equal(await value(registry, 'workqueue_adds_total', { name: 'things' }), 2, 'a key already queued is not counted again')
  const got = await q.get()
  t.equal(got.key, 'a')
  t.equal(await value(registry, 'workqueue_depth', { name: 'things' }), 1)
  q.addRateLimited('a')
  q.done('a')
  t.equal(await value(registry, 'workqueue_retries_total', { name: 'things' }), 1)
  t.equal(await value(registry, 'workqueue_queue_duration_seconds_count', { name: 'things' }), 1)
  t.equal(await value(registry, 'workqueue_work_duration_seconds_count', { name: 'things' }), 1)
  t.equal(await value(registry, 'workqueue_depth', { name: '' }), undefined, 'unnamed queues report nothing')
  q.shutDown()
  unnamed.shutDown()
})

t.test('work in progress: unfinished work and the longest running processor, as of the scrape', async (t) => {
  const registry = new Registry()
  setQueueMetricsProvider(workqueueMetrics(registry))
  t.teardown(() => setQueueMetricsProvider(undefined))
  const q = new RateLimitingQueue<string>(undefined, { name: 'slow' })
  t.teardown(() => q.shutDown())
  t.equal(await value(registry, 'workqueue_unfinished_work_seconds', { name: 'slow' }), 0, 'nothing held: 0')
  t.equal(await value(registry, 'workqueue_longest_running_processor_seconds', { name: 'slow' }), 0)
  q.add('a')
  q.add('b')
  await q.get()
  await new Promise((r) => setTimeout(r, 60))
  await q.get()
  await new Promise((r) => setTimeout(r, 40))
  const unfinished = (await value(registry, 'workqueue_unfinished_work_seconds', { name: 'slow' }))!
  const longest = (await value(registry, 'workqueue_longest_running_processor_seconds', { name: 'slow' }))!
  t.ok(longest >= 0.095 && longest < 5, `the first item has been held ~0.1 s: ${longest}`)
  t.ok(unfinished >= longest + 0.035 && unfinished < 10, `both items' time: ${unfinished} > ${longest}`)
  q.done('a')
  q.done('b')
  t.equal(await value(registry, 'workqueue_unfinished_work_seconds', { name: 'slow' }), 0, 'all done: 0 again')
  t.equal(await value(registry, 'workqueue_longest_running_processor_seconds', { name: 'slow' }), 0)
})

t.test("kube-proxy's --metrics-bind-address: host:port, [v6]:port", async (t) => {
  t.same(parseBindAddress('127.0.0.1:10249'), { host: '127.0.0.1', port: 10249 })
  t.same(parseBindAddress('[::1]:0'), { host: '::1', port: 0 })
  t.throws(() => parseBindAddress('127.0.0.1'), /host:port/)
  t.throws(() => parseBindAddress('127.0.0.1:70000'), /host:port/)
})
