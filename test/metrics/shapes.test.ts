// What the metrics API answers (metrics-server's JSON shapes, quantities, windows,
// tables), the stored record's TTL and freshness, the report checks of
// ReportResourceUsage, and the usage store over the in-memory store.
import t from 'tap'
import { usageRecordOf } from '../../src/apiserver/node-grpc/usage.js'
import type { ReportResourceUsageRequest } from '../../src/apiserver/node-grpc/proto.js'
import { goDuration, metricsList, metricsTable, nodeMetrics, podMetrics, usageList } from '../../src/apiserver/metrics-api/objects.js'
import { isFresh, type UsageRecord, usageKey, usageTtlSeconds } from '../../src/apiserver/metrics-api/record.js'
import { ResourceUsageStore } from '../../src/apiserver/metrics-api/usage-store.js'
import { ApiError } from '../../src/apiserver/status.js'
import { MemoryStorage } from '../../src/apiserver/storage/memory.js'

const NOW = new Date('2026-03-01T10:00:30.500Z')

const record: UsageRecord = {
  apiVersion: 'raftplane.io/v1',
  kind: 'NodeResourceUsage',
  metadata: { name: 'node-1' },
  timestampMs: Date.parse('2026-03-01T10:00:29.700Z'),
  receivedMs: Date.parse('2026-03-01T10:00:29.710Z'),
  intervalMs: 15_000,
  windowMs: 15_002,
  usage: { cpuNanoCores: 61_234_567, memoryBytes: 285_212_672 },
  pods: [{ namespace: 'default', name: 'web', uid: 'u1', windowMs: 15_000, containers: [{ name: 'web', usage: { cpuNanoCores: 12_345, memoryBytes: 4567 * 1024 } }, { name: 'side', usage: { cpuNanoCores: 250_000_000, memoryBytes: 1000 } }] }],
}

t.test('quantities and windows as metrics-server prints them', async (t) => {
  t.same(usageList({ cpuNanoCores: 12_345, memoryBytes: 4567 * 1024 }), { cpu: '12345n', memory: '4567Ki' })
  t.same(usageList({ cpuNanoCores: 250_000_000, memoryBytes: 64 * 1024 * 1024 }), { cpu: '250m', memory: '64Mi' })
  t.same(usageList({ cpuNanoCores: 0, memoryBytes: 1000 }), { cpu: '0', memory: '1k' })
  t.same(usageList({ cpuNanoCores: 1_500_000, memoryBytes: 1025 }), { cpu: '1500u', memory: '1025' })
  t.same(
    [0, 500, 1000, 15_000, 15_002, 15_120, 60_000, 90_500, 3_600_000, 3_725_000].map(goDuration),
    ['0s', '500ms', '1s', '15s', '15.002s', '15.12s', '1m0s', '1m30.5s', '1h0m0s', '1h2m5s'],
  )
})

t.test('NodeMetrics and PodMetrics: shapes, key order, labels from the objects', async (t) => {
  const node = { metadata: { name: 'node-1', labels: { 'kubernetes.io/hostname': 'node-1' }, uid: 'x' } }
  const nm = nodeMetrics(node, record, NOW)
  t.equal(
    JSON.stringify(nm),
    '{"kind":"NodeMetrics","apiVersion":"metrics.k8s.io/v1beta1","metadata":{"name":"node-1","creationTimestamp":"2026-03-01T10:00:30Z","labels":{"kubernetes.io/hostname":"node-1"}},"timestamp":"2026-03-01T10:00:29Z","window":"15.002s","usage":{"cpu":"61234567n","memory":"272Mi"}}',
  )
  const pod = { metadata: { name: 'web', namespace: 'default', uid: 'u1', labels: { app: 'web' } } }
  t.equal(
    JSON.stringify(podMetrics(pod, record.pods[0]!, record, NOW)),
    '{"kind":"PodMetrics","apiVersion":"metrics.k8s.io/v1beta1","metadata":{"name":"web","namespace":"default","creationTimestamp":"2026-03-01T10:00:30Z","labels":{"app":"web"}},"timestamp":"2026-03-01T10:00:29Z","window":"15s","containers":[{"name":"web","usage":{"cpu":"12345n","memory":"4567Ki"}},{"name":"side","usage":{"cpu":"250m","memory":"1k"}}]}',
  )
  t.notOk('labels' in (podMetrics({ metadata: { name: 'p', namespace: 'ns' } }, record.pods[0]!, record, NOW).metadata as object), 'no labels: none written')
  t.same(metricsList('PodMetrics', []), { kind: 'PodMetricsList', apiVersion: 'metrics.k8s.io/v1beta1', metadata: {}, items: [] })
  const table = metricsTable([podMetrics(pod, record.pods[0]!, record, NOW)], 'Metadata') as { columnDefinitions: { name: string }[]; rows: { cells: unknown[]; object: { kind: string } }[] }
  t.same(table.columnDefinitions.map((c) => c.name), ['Name', 'cpu', 'memory', 'Window'])
  t.same(table.rows[0]!.cells, ['web', '250012345n', '4677608', '15s'], "a pod's usage summed over its containers")
  t.equal(table.rows[0]!.object.kind, 'PartialObjectMetadata')
  t.same((metricsTable([nm], 'None') as { rows: { cells: unknown[]; object: unknown }[] }).rows[0], { cells: ['node-1', '61234567n', '272Mi', '15.002s'], object: null })
})

t.test('TTL: twice the interval, at least 5 s; freshness on the master clock', async (t) => {
  t.equal(usageTtlSeconds(15_000), 30)
  t.equal(usageTtlSeconds(1000), 5)
  t.equal(usageTtlSeconds(2600), 6)
  t.ok(isFresh(record, record.receivedMs + 30_000))
  t.notOk(isFresh(record, record.receivedMs + 30_001))
})

function request(over: Partial<ReportResourceUsageRequest> = {}): ReportResourceUsageRequest {
  return {
    node_name: 'node-1',
    timestamp_ms: '1772359229700',
    window_ms: 15_002,
    interval_ms: 15_000,
    node: { cpu_nano_cores: '61234567', memory_working_set_bytes: '285212672' },
    pods: [{ namespace: 'default', name: 'web', uid: 'u1', window_ms: 15_000, containers: [{ name: 'web', usage: { cpu_nano_cores: '12345', memory_working_set_bytes: '4676608' } }] }],
    ...over,
  }
}

t.test('ReportResourceUsage: a report becomes the record; bad ones are refused with every reason', async (t) => {
  t.same(usageRecordOf(request()), {
    apiVersion: 'raftplane.io/v1',
    kind: 'NodeResourceUsage',
    metadata: { name: 'node-1' },
    timestampMs: 1772359229700,
    intervalMs: 15_000,
    windowMs: 15_002,
    usage: { cpuNanoCores: 61234567, memoryBytes: 285212672 },
    pods: [{ namespace: 'default', name: 'web', uid: 'u1', windowMs: 15_000, containers: [{ name: 'web', usage: { cpuNanoCores: 12345, memoryBytes: 4676608 } }] }],
  })
  const refused = (req: ReportResourceUsageRequest): string => {
    try {
      usageRecordOf(req)
    } catch (err) {
      t.ok(err instanceof ApiError && err.code === 400)
      return (err as Error).message
    }
    throw new Error('accepted')
  }
  t.equal(refused(request({ node_name: '' })), 'invalid resource usage report: node_name: Required value')
  t.equal(
    refused(request({ timestamp_ms: '-5', window_ms: 0, interval_ms: 7_200_000, node: null })),
    'invalid resource usage report of node node-1: timestamp_ms: Invalid value: "-5": must be a non-negative integer; interval_ms: Invalid value: 7200000: must be at most 3600000; window_ms: Invalid value: 0: must be greater than 0; node: Required value',
  )
  t.equal(refused(request({ timestamp_ms: '0' })), 'invalid resource usage report of node node-1: timestamp_ms: Required value')
  t.match(refused(request({ node: { cpu_nano_cores: '18446744073709551615', memory_working_set_bytes: '1' } })), /node.cpu_nano_cores: Invalid value: 18446744073709551615: must be at most 9007199254740991/)
  const web = request().pods[0]!
  t.equal(
    refused(request({ pods: [web, web, { namespace: '', name: 'x', uid: '', window_ms: 1, containers: [] }, { ...web, uid: 'u2', containers: [{ name: 'a', usage: null }, { name: 'a', usage: { cpu_nano_cores: '1', memory_working_set_bytes: '1' } }] }] })),
    'invalid resource usage report of node node-1: pods[1]: Duplicate value: pod default/web (uid u1) is reported twice; pods[2].namespace: Required value; pods[2].containers: Required value: a pod is reported with its running containers; pods[3].containers[0].usage: Required value; pods[3].containers[1].name: Duplicate value: "a"',
  )
})

t.test('ResourceUsageStore: one key per node, replaced by each report, stale ones not served', async (t) => {
  const storage = new MemoryStorage()
  let now = 1_000_000
  const store = new ResourceUsageStore(storage, { now: () => now })
  t.teardown(() => store.stop())
  const { receivedMs: _r, ...rec } = record
  await store.write(rec)
  await store.write({ ...rec, windowMs: 14_000 })
  const { kv } = await storage.get(usageKey('node-1'))
  t.ok(kv !== undefined && kv.lease !== '0', 'written with a lease')
  t.equal(JSON.parse(Buffer.from(kv!.value).toString()).windowMs, 14_000)
  t.equal(JSON.parse(Buffer.from(kv!.value).toString()).receivedMs, now)
  // The cache catches up with the store's watch.
  for (let i = 0; i < 100 && (await store.record('node-1'))?.windowMs !== 14_000; i++) await new Promise((r) => setTimeout(r, 10))
  t.equal((await store.record('node-1'))?.windowMs, 14_000)
  // Written through another master (its own cache): this one's is behind, the write still lands.
  const other = new ResourceUsageStore(storage, { now: () => now })
  t.teardown(() => other.stop())
  await other.ready()
  await store.write({ ...rec, windowMs: 13_000 })
  await other.write({ ...rec, windowMs: 12_000 })
  await store.write({ ...rec, windowMs: 11_000 })
  for (let i = 0; i < 100 && (await other.record('node-1'))?.windowMs !== 11_000; i++) await new Promise((r) => setTimeout(r, 10))
  t.equal((await other.record('node-1'))?.windowMs, 11_000)
  t.same([...(await other.records()).keys()], ['node-1'])
  now += 30_001
  t.equal(await store.record('node-1'), undefined, 'older than its TTL')
  t.equal((await store.records()).size, 0)
})
