// Issue 8's Prometheus check, with Debian's own prometheus and promtool: `raftplane up
// --prometheus-config` writes a configuration, a real Prometheus scrapes the cluster
// with it (every target up, through the TLS and credentials the file names), key
// series have the values a healthy cluster gives them, and `promtool check metrics`
// passes on every endpoint. Skipped when prometheus or promtool is not installed
// (scripts/install-deps.sh installs them).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { get as httpGet } from 'node:http'
import { get as httpsGet } from 'node:https'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { parse as parseYaml, stringify } from 'yaml'
import { startCluster } from '../apiserver/e2e/helpers/cluster.js'

const onPath = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0
const missing = ['prometheus', 'promtool'].filter((c) => !onPath(c))

/**
 * Lint lines promtool prints that we accept, each for a name we keep on purpose:
 * gauges named `_total` exactly as etcd declares them (etcd_server_proposals_*_total,
 * etcd_debugging_mvcc_*_total are Gauges in etcd too), and prom-client's default
 * Node.js metrics, which are gauges under those names in every Node service.
 */
const UPSTREAM_GAUGES_NAMED_TOTAL = new Set([
  'etcd_server_proposals_committed_total',
  'etcd_server_proposals_applied_total',
  'etcd_debugging_mvcc_watcher_total',
  'etcd_debugging_mvcc_slow_watcher_total',
  'etcd_debugging_mvcc_watch_stream_total',
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
])

function acceptedLint(line: string): boolean {
  const m = /^(\S+) non-counter metrics should not have "_total" suffix$/.exec(line)
  return m !== null && UPSTREAM_GAUGES_NAMED_TOTAL.has(m[1]!)
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

/** GET `url`; https with the cluster's CA and admin credentials, or unverified for self-signed kubelets. */
function fetchText(url: string, tls: { ca?: string; cert?: string; key?: string; insecure?: boolean } = {}): Promise<{ code: number; body: string }> {
  return new Promise((resolve, reject) => {
    const onRes = (res: import('node:http').IncomingMessage): void => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => (body += d))
      res.on('end', () => resolve({ code: res.statusCode ?? 0, body }))
    }
    const req = url.startsWith('https:')
      ? httpsGet(url, { ca: tls.ca, cert: tls.cert, key: tls.key, rejectUnauthorized: tls.insecure !== true, timeout: 10_000 }, onRes)
      : httpGet(url, { timeout: 10_000 }, onRes)
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: timed out`)))
    req.on('error', reject)
  })
}

interface Target {
  labels: Record<string, string>
  scrapeUrl: string
  health: string
  lastError: string
}

interface Sample {
  metric: Record<string, string>
  value: [number, string]
}

t.test('a real Prometheus scrapes every part with the config `raftplane up --prometheus-config` writes', { skip: missing.length > 0 ? `not on PATH: ${missing.join(', ')} (scripts/install-deps.sh installs the Debian prometheus package)` : false }, async (t) => {
  const work = await mkdtemp(join(tmpdir(), 'raftplane-prom-'))
  const running: { prom?: ChildProcess } = {}
  t.teardown(async () => {
    const prom = running.prom
    if (prom !== undefined && prom.exitCode === null && prom.signalCode === null) {
      const exited = new Promise((r) => prom.once('exit', r))
      prom.kill('SIGTERM')
      const timer = setTimeout(() => prom.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    }
    await rm(work, { recursive: true, force: true })
  })
  const generated = join(work, 'generated.yml')
  const c = await startCluster(t, { masters: 3, nodes: 2, args: ['--prometheus-config', generated] })
  t.match(c.output(), `prometheus config: ${generated}`)

  // The file as `up` wrote it: a job per kind of endpoint, every part named.
  const config = parseYaml(await readFile(generated, 'utf8')) as { global: Record<string, string>; scrape_configs: { job_name: string; static_configs: { labels: { part: string } }[] }[] }
  const parts = (job: string): string[] => config.scrape_configs.find((j) => j.job_name === job)?.static_configs.map((s) => s.labels.part) ?? []
  t.same(config.scrape_configs.map((j) => j.job_name), ['etcd', 'apiserver', 'kubelet', 'kube-proxy'])
  t.same(parts('etcd'), ['master-1', 'master-2', 'master-3'])
  t.same(parts('apiserver'), ['master-1', 'master-2', 'master-3'])
  t.same(parts('kubelet'), ['node-1', 'node-2'])
  t.same(parts('kube-proxy'), ['node-1'], 'only node-1 runs kube-proxy')

  // Scrape every second so the test does not wait for 15 s intervals.
  config.global = { scrape_interval: '1s', evaluation_interval: '1s' }
  const configFile = join(work, 'prometheus.yml')
  await writeFile(configFile, stringify(config))
  const check = spawnSync('promtool', ['check', 'config', configFile], { encoding: 'utf8' })
  t.equal(check.status, 0, `promtool check config:\n${check.stdout}${check.stderr}`)

  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  let promLog = ''
  const prom = spawn('prometheus', [`--config.file=${configFile}`, `--web.listen-address=127.0.0.1:${port}`, `--storage.tsdb.path=${join(work, 'tsdb')}`, '--log.level=warn'], { stdio: ['ignore', 'pipe', 'pipe'] })
  running.prom = prom
  prom.stdout!.on('data', (d: Buffer) => (promLog += d.toString()))
  prom.stderr!.on('data', (d: Buffer) => (promLog += d.toString()))

  const api = async <T>(path: string): Promise<T | undefined> => {
    try {
      const r = await fetchText(`${base}${path}`)
      if (r.code !== 200) return undefined
      return (JSON.parse(r.body) as { data: T }).data
    } catch {
      return undefined
    }
  }

  // Every target up: 3 etcd + 3 apiserver + 2 kubelet + 1 kube-proxy.
  let targets: Target[]
  const deadline = Date.now() + 60_000
  for (;;) {
    if (prom.exitCode !== null) throw new Error(`prometheus exited (${prom.exitCode}):\n${promLog}`)
    targets = (await api<{ activeTargets: Target[] }>('/api/v1/targets'))?.activeTargets ?? []
    if (targets.length === 9 && targets.every((x) => x.health === 'up')) break
    if (Date.now() > deadline) {
      const table = targets.map((x) => `${x.labels.job} ${x.labels.part} ${x.scrapeUrl} ${x.health} ${x.lastError}`).join('\n')
      t.fail(`targets not all up:\n${table}\nprometheus log:\n${promLog}`)
      return
    }
    await new Promise((r) => setTimeout(r, 500))
  }
  t.pass('all 9 targets up')

  /** An instant query's samples, waiting until it has `atLeast` of them (the first scrapes may still be coming in). */
  const query = async (q: string, atLeast = 1): Promise<Sample[]> => {
    const until = Date.now() + 20_000
    for (;;) {
      const r = (await api<{ result: Sample[] }>(`/api/v1/query?query=${encodeURIComponent(q)}`))?.result ?? []
      if (r.length >= atLeast || Date.now() > until) return r
      await new Promise((res) => setTimeout(res, 500))
    }
  }
  /** Polls `q` until `ok` holds of its samples (a lease may be changing hands on a loaded machine); the last samples either way. */
  const eventually = async (q: string, ok: (s: Sample[]) => boolean): Promise<Sample[]> => {
    const until = Date.now() + 20_000
    for (;;) {
      const r = await query(q, 0)
      if (ok(r) || Date.now() > until) return r
      await new Promise((res) => setTimeout(res, 500))
    }
  }
  const byPart = (samples: Sample[]): Record<string, number> => Object.fromEntries(samples.map((s) => [s.metric.part ?? '', Number(s.value[1])]))

  // raft and the store
  t.same(byPart(await query('etcd_server_has_leader{job="etcd"}', 3)), { 'master-1': 1, 'master-2': 1, 'master-3': 1 }, 'every member sees a leader')
  t.same((await query('sum(etcd_server_is_leader{job="etcd"})')).map((s) => s.value[1]), ['1'], 'exactly one raft leader')
  const fsyncs = await query('etcd_disk_wal_fsync_duration_seconds_count{job="etcd"}', 3)
  t.ok(fsyncs.length === 3 && fsyncs.every((s) => Number(s.value[1]) > 0), 'every member has fsynced its WAL')
  const applied = await query('etcd_server_proposals_applied_total{job="etcd"}', 3)
  t.ok(applied.every((s) => Number(s.value[1]) > 0), 'proposals applied on every member')
  t.equal((await query('etcd_mvcc_db_total_size_in_bytes{job="etcd"}', 3)).length, 3)
  t.equal((await query('etcd_server_proposals_pending{job="etcd"}', 3)).length, 3)
  t.same(await query('etcd_server_has_leader{job="apiserver"}', 0), [], 'store series are kept once, under the etcd job')

  // apiserver
  const requests = await query('sum by (part) (apiserver_request_total{job="apiserver"})', 3)
  t.ok(requests.length === 3 && requests.every((s) => Number(s.value[1]) > 0), 'every apiserver counted requests')
  t.ok((await query('apiserver_request_total{job="apiserver",verb="GET",resource="nodes",code="200"}')).length > 0, 'requests by verb, resource and code')
  t.ok((await query('apiserver_request_duration_seconds_count{job="apiserver"}')).length > 0)
  t.ok((await query('apiserver_longrunning_requests{job="apiserver",verb="WATCH"}')).length > 0)
  t.same(byPart(await query('apiserver_storage_objects{job="apiserver",resource="nodes"}', 3)), { 'master-1': 2, 'master-2': 2, 'master-3': 2 }, 'each watch cache holds both nodes')

  // The leader-only loops: one holder of each lease, and its controllers' work queues.
  // (A master that led before keeps its series, so queues are counted as present, not once.)
  const leaders = (s: Sample[]): string[][] => s.map((x) => [x.metric.name!, x.value[1]]).sort()
  const want = [['kube-controller-manager', '1'], ['kube-scheduler', '1']]
  t.same(leaders(await eventually('sum by (name) (leader_election_master_status{job="apiserver"})', (s) => JSON.stringify(leaders(s)) === JSON.stringify(want))), want, 'one holder of each lease')
  t.ok((await query('workqueue_depth{job="apiserver",name="namespace"}')).length >= 1, 'the controller-manager leader reports its namespace queue')
  t.ok((await query('workqueue_adds_total{job="apiserver"}')).length > 0)
  t.ok((await query('workqueue_queue_duration_seconds_count{job="apiserver"}')).length > 0)
  t.ok((await query('workqueue_longest_running_processor_seconds{job="apiserver",name="deployment"}')).length >= 1, 'work in progress is reported per queue')
  t.ok((await query('scheduler_pending_pods{job="apiserver",queue="active"}')).length >= 1, "the scheduler leader's queue")

  // nodes
  t.same((await query('kubelet_node_name{job="kubelet"}', 2)).map((s) => [s.metric.part, s.metric.node]).sort(), [
    ['node-1', 'node-1'],
    ['node-2', 'node-2'],
  ])
  t.equal((await query('kubelet_running_pods{job="kubelet"}', 2)).length, 2)
  const synced = await query('kubeproxy_sync_proxy_rules_last_timestamp_seconds{job="kube-proxy"}')
  t.ok(synced.length === 1 && Number(synced[0]!.value[1]) > 0, 'kube-proxy has synced')
  // A master's process metrics come through its apiserver job (the etcd job keeps store series only).
  t.same((await query('count by (job) (process_resident_memory_bytes)', 3)).map((x) => [x.metric.job, x.value[1]]).sort(), [
    ['apiserver', '3'],
    ['kube-proxy', '1'],
    ['kubelet', '2'],
  ], 'process metrics from every process')

  // promtool check metrics on every endpoint, as Prometheus reached it.
  const pki = (f: string): Promise<string> => readFile(join(c.dataDir, 'pki', f), 'utf8')
  const creds = { ca: await pki('ca.crt'), cert: await pki('admin.crt'), key: await pki('admin.key') }
  for (const target of targets) {
    const name = `${target.labels.job} ${target.labels.part}`
    const r = await fetchText(target.scrapeUrl, target.labels.job === 'kubelet' ? { insecure: true } : creds)
    t.equal(r.code, 200, `${name}: GET /metrics`)
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: r.body, encoding: 'utf8' })
    const problems = `${lint.stdout}${lint.stderr}`.split('\n').filter((l) => l.trim() !== '' && !acceptedLint(l))
    // 0: clean; 3: lint findings only (all accepted above); anything else: it could not parse.
    t.ok(lint.status === 0 || lint.status === 3, `${name}: promtool parsed the exposition (exit ${lint.status})`)
    t.same(problems, [], `${name}: promtool check metrics`)
  }
})
