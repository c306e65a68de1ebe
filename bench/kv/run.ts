// `raftplane bench kv`: the same etcd v3 workloads against any 3-member store —
// real etcd, ours (`raftplane store`), or existing --endpoints — with server CPU per
// operation (from /proc, summed over the members) and leader changes per row, and a
// ratio table when two targets ran in the same invocation (--vs-etcd).
//
// Rows: put at 1/16/64/256 in flight over a 10k-key keyspace; single-key range,
// linearizable and serializable, at 64; txn (mod_revision compare + put, else get)
// at 64, one key per slot; watch fan-out at 100/1,000/10,000 watchers on one prefix
// over 10 streams in 2 client processes. Client design: client.ts (bytes on the wire,
// gRPC over node:http2 by default, endpoint rule). CPU: utime+stime of every member
// from /proc before and after the row (watch: after the watchers exist); leader
// changes: Status of every member every 200 ms during the row.
import { cpus } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { KvClient, type Transport } from './client.js'
import { type ProcSample, StatusClients, StoreCluster, type StoreClusterOptions, monitorLeader } from './cluster.js'
import { loadKeys, putWorkload, rangeWorkload, txnWorkload, watchWorkload, type WorkloadResult } from './workloads.js'

export interface KvBenchOptions {
  quick?: boolean
  /** Seconds per closed-loop row (default 5, 2 with quick). */
  seconds?: number
  valueBytes?: number
  keyspace?: number
  putConcurrency?: number[]
  rangeConcurrency?: number
  txnConcurrency?: number
  watchers?: number[]
  watchStreams?: number
  watchWorkers?: number
  /** Events to deliver per watch row (puts = this ÷ watchers, clamped); default 250k × seconds. */
  watchEvents?: number
  /** Measure member RSS after loading rssKeys keys of valueBytes (default 1M, 100k quick). */
  rss?: boolean
  rssKeys?: number
  /** Unary-call transport (see client.ts); default http2. */
  transport?: Transport
  /** Only these workloads: put, range, txn, watch (default all). */
  only?: string[]
}

export interface KvTarget {
  /** 'etcd', 'raftplane', or 'endpoints'. */
  label: string
  /** Start a cluster of this binary (etcd flags appended) … */
  command?: string[]
  /** … or drive these existing endpoints (no CPU/RSS figures). */
  endpoints?: string[]
  cluster?: Partial<StoreClusterOptions>
}

export interface KvRow {
  workload: string
  /** Requests in flight, or watchers for watch rows. */
  concurrency: number
  ops: number
  /** Operations/s; for watch rows, events delivered/s. */
  perSecond: number
  p50Ms: number
  p99Ms: number
  errors: number
  /** Server CPU ms per operation (per event for watch), summed over members; null without pids. */
  cpuMsPerOp: number | null
  /** The benchmark client's own CPU ms per operation (main process + watch workers). */
  clientCpuMsPerOp: number
  leaderChanges: number
  seconds: number
  firstError?: string
  detail?: Record<string, number>
}

export interface KvTargetReport {
  target: string
  command?: string
  endpoints: string[]
  version: string
  date: string
  valueBytes: number
  seconds: number
  transport: Transport
  rows: KvRow[]
  leaderChanges: number
  rss?: { keys: number; valueBytes: number; loadSeconds: number; loadErrors: number; rssBytes: number[]; maxRssBytes: number }
}

export interface KvBenchReport {
  date: string
  machine: { cpus: number; node: string }
  targets: KvTargetReport[]
  ratios?: RatioRow[]
}

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', ...(fileURLToPath(import.meta.url).endsWith('.ts') ? [] : ['..']))

/** The argv prefix that runs our store member: from source under tsx, else bin/raftplane.js. */
export function raftplaneStoreCommand(): string[] {
  return fileURLToPath(import.meta.url).endsWith('.ts')
    ? [process.execPath, '--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts'), 'store']
    : [process.execPath, join(repoRoot, 'bin', 'raftplane.js'), 'store']
}

export const ETCD_COMMAND = ['/usr/bin/etcd']

function sumDelta(before: ProcSample, after: ProcSample): number {
  return after.cpuMs.reduce((a, v, i) => a + v - (before.cpuMs[i] ?? 0), 0)
}

/** Run every workload against one target; starts and stops its cluster when it has a command. */
export async function runKvTarget(target: KvTarget, opts: KvBenchOptions = {}, log: (s: string) => void = () => {}): Promise<KvTargetReport> {
  const seconds = opts.seconds ?? (opts.quick ? 2 : 5)
  const valueBytes = opts.valueBytes ?? 256
  const keyspace = opts.keyspace ?? 10_000
  const only = new Set(opts.only ?? ['put', 'range', 'txn', 'watch'])
  let cluster: StoreCluster | undefined
  let statuses: StatusClients | undefined
  let client: KvClient | undefined
  try {
    if (target.command) {
      log(`starting ${target.label}: ${target.command.join(' ')} (3 members)`)
      cluster = await StoreCluster.start({ ...target.cluster, command: target.command, label: target.label })
    }
    const endpoints = cluster ? cluster.endpoints : (target.endpoints ?? [])
    if (endpoints.length === 0) throw new Error('bench kv: no endpoints')
    const status = cluster ? (i: number) => cluster!.status(i) : (i: number) => statuses!.status(i)
    if (!cluster) statuses = new StatusClients(endpoints)
    const leader = cluster ? await cluster.leader() : await statuses!.leaderIndex()
    const version = (await status(leader)).version
    client = new KvClient(endpoints, leader, opts.transport ?? 'http2')
    const run = `/bench-kv/${Date.now().toString(36)}`
    const sample = () => cluster?.sample()
    const rows: KvRow[] = []
    // fn may call mark() when its measured phase starts (watch: after creating the watchers).
    const measure = async (workload: string, concurrency: number, fn: (mark: () => void) => Promise<WorkloadResult>) => {
      const monitor = monitorLeader(endpoints.length, status)
      let before = sample()
      let clientBefore = process.cpuUsage()
      const mark = () => {
        before = sample()
        clientBefore = process.cpuUsage()
      }
      const r = await fn(mark)
      const clientCpu = process.cpuUsage(clientBefore)
      const after = sample()
      const { changes } = await monitor.stop()
      const row: KvRow = {
        workload,
        concurrency,
        ops: r.ops,
        perSecond: r.seconds > 0 ? r.ops / r.seconds : 0,
        p50Ms: r.hist.quantile(0.5),
        p99Ms: r.hist.quantile(0.99),
        errors: r.errors,
        cpuMsPerOp: before && after && r.ops > 0 ? sumDelta(before, after) / r.ops : null,
        clientCpuMsPerOp: r.ops > 0 ? ((clientCpu.user + clientCpu.system) / 1000 + (r.workerCpuMs ?? 0)) / r.ops : 0,
        leaderChanges: changes,
        seconds: r.seconds,
        ...(r.firstError ? { firstError: r.firstError } : {}),
        ...(r.detail ? { detail: r.detail } : {}),
      }
      rows.push(row)
      log(`  ${workload} ×${concurrency}: ${row.perSecond.toFixed(0)}/s p50 ${row.p50Ms.toFixed(2)} ms p99 ${row.p99Ms.toFixed(2)} ms errors ${row.errors}${row.firstError ? ` (${row.firstError})` : ''}`)
    }

    // Warm up connections and JIT; fill the keyspace the range rows read.
    await putWorkload(client, { prefix: `${run}/warm/`, concurrency: 16, seconds: 0.5, keyspace: 100, valueBytes })
    const load = await loadKeys(client, { prefix: `${run}/k/`, keys: keyspace, valueBytes, timeoutSeconds: 60 })
    if (load.errors) throw new Error(`bench kv: loading ${keyspace} keys failed: ${load.firstError}`)
    // loadKeys names keys with 7 digits; the put and range rows use the same names.
    const keyPrefix = `${run}/k/0`

    if (only.has('put'))
      for (const c of opts.putConcurrency ?? [1, 16, 64, 256])
        await measure('put', c, () => putWorkload(client!, { prefix: keyPrefix, concurrency: c, seconds, keyspace, valueBytes }))
    if (only.has('range')) {
      const c = opts.rangeConcurrency ?? 64
      await measure('range linearizable', c, () => rangeWorkload(client!, { prefix: keyPrefix, concurrency: c, seconds, keyspace, serializable: false }))
      await measure('range serializable', c, () => rangeWorkload(client!, { prefix: keyPrefix, concurrency: c, seconds, keyspace, serializable: true }))
    }
    if (only.has('txn')) {
      const c = opts.txnConcurrency ?? 64
      await measure('txn', c, () => txnWorkload(client!, { prefix: `${run}/t/`, concurrency: c, seconds, valueBytes }))
    }
    if (only.has('watch')) {
      const budget = opts.watchEvents ?? 250_000 * seconds
      for (const w of opts.watchers ?? [100, 1000, 10_000]) {
        const puts = Math.max(10, Math.min(2000 * seconds, Math.ceil(budget / w)))
        await measure('watch', w, (mark) =>
          watchWorkload(client!, {
            onStart: mark,
            prefix: `${run}/w${w}/`,
            watchers: w,
            streams: opts.watchStreams ?? 10,
            workers: opts.watchWorkers ?? 2,
            puts,
            putConcurrency: 16,
            valueBytes,
            deliveryTimeoutMs: 30_000 + seconds * 5000,
          }),
        )
      }
    }

    let rss: KvTargetReport['rss']
    if (opts.rss) {
      const keys = opts.rssKeys ?? (opts.quick ? 100_000 : 1_000_000)
      log(`  loading ${keys} keys of ${valueBytes} B for RSS…`)
      const r = await loadKeys(client, { prefix: `${run}/rss/`, keys, valueBytes, batch: 100, concurrency: 16 })
      await new Promise((res) => setTimeout(res, 1000))
      const rssBytes = sample()?.rssBytes ?? []
      rss = { keys, valueBytes, loadSeconds: r.seconds, loadErrors: r.errors, rssBytes, maxRssBytes: Math.max(0, ...rssBytes) }
    }
    return {
      target: target.label,
      ...(target.command ? { command: target.command.join(' ') } : {}),
      endpoints,
      version,
      date: new Date().toISOString(),
      valueBytes,
      seconds,
      transport: client.transport,
      rows,
      leaderChanges: rows.reduce((a, r) => a + r.leaderChanges, 0),
      ...(rss ? { rss } : {}),
    }
  } finally {
    client?.close()
    statuses?.close()
    await cluster?.stop()
  }
}

/** Run the targets one after the other (never two clusters on the 2 cores at once). */
export async function runKvBench(targets: KvTarget[], opts: KvBenchOptions = {}, log?: (s: string) => void): Promise<KvBenchReport> {
  const reports: KvTargetReport[] = []
  for (const t of targets) reports.push(await runKvTarget(t, opts, log))
  return assembleKvReport(reports)
}

/** The report of targets that ran; with etcd and one other, the ratio table too. */
export function assembleKvReport(reports: KvTargetReport[]): KvBenchReport {
  const report: KvBenchReport = { date: new Date().toISOString(), machine: { cpus: cpus().length, node: process.version }, targets: reports }
  const etcd = reports.find((r) => r.target === 'etcd')
  const ours = reports.find((r) => r.target !== 'etcd')
  if (etcd && ours) report.ratios = ratios(ours, etcd)
  return report
}

// ---------------------------------------------------------------------------

export interface RatioRow {
  workload: string
  concurrency: number
  /** ours ÷ etcd, ops/s (events/s for watch): higher is better. */
  throughput: number
  throughputTarget: number
  /** ours ÷ etcd, p99 latency: ≤ 1 is the target. */
  p99: number
  /** ours ÷ etcd, server CPU per op: lower is better (no target). */
  cpuPerOp: number | null
  met: boolean
}

/** Throughput target from the issue: 1.5× for put at 256 and watch at 10,000, else 1.0×. */
function throughputTarget(workload: string, concurrency: number): number {
  return (workload === 'put' && concurrency === 256) || (workload === 'watch' && concurrency === 10_000) ? 1.5 : 1.0
}

export function ratios(ours: KvTargetReport, etcd: KvTargetReport): RatioRow[] {
  const out: RatioRow[] = []
  for (const o of ours.rows) {
    const e = etcd.rows.find((r) => r.workload === o.workload && r.concurrency === o.concurrency)
    if (!e) continue
    const throughput = e.perSecond > 0 ? o.perSecond / e.perSecond : 0
    const p99 = e.p99Ms > 0 ? o.p99Ms / e.p99Ms : Infinity
    const target = throughputTarget(o.workload, o.concurrency)
    out.push({
      workload: o.workload,
      concurrency: o.concurrency,
      throughput,
      throughputTarget: target,
      p99,
      cpuPerOp: o.cpuMsPerOp !== null && e.cpuMsPerOp ? o.cpuMsPerOp / e.cpuMsPerOp : null,
      met: throughput >= target && p99 <= 1 && o.errors === 0 && o.leaderChanges === 0,
    })
  }
  return out
}

const f = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : '–')
const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`

function concurrencyLabel(r: KvRow): string {
  return r.workload === 'watch' ? `${r.concurrency} watchers / ${r.detail?.streams ?? '?'} streams` : `${r.concurrency} in flight`
}

export function formatKvTarget(r: KvTargetReport): string {
  const lines = [
    `kv benchmark — ${r.target}${r.version ? ` ${r.version}` : ''}, 3 members on loopback, ${r.valueBytes}-byte values, ${r.seconds} s per row, client over ${r.transport}; leader changes during run: ${r.leaderChanges}`,
    r.command ? `command: \`${r.command}\`` : `endpoints: ${r.endpoints.join(', ')}`,
    '',
    '| workload | clients | ops/s (events/s) | p50 ms | p99 ms | errors | server CPU ms/op | client CPU ms/op | leader changes |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ]
  for (const row of r.rows) {
    lines.push(
      `| ${row.workload} | ${concurrencyLabel(row)} | ${f(row.perSecond)} | ${f(row.p50Ms, 2)} | ${f(row.p99Ms, 2)} | ${row.errors} | ${row.cpuMsPerOp === null ? 'n/a' : f(row.cpuMsPerOp, 3)} | ${f(row.clientCpuMsPerOp, 3)} | ${row.leaderChanges} |`,
    )
  }
  if (r.rss)
    lines.push(
      '',
      `RSS after loading ${r.rss.keys} keys of ${r.rss.valueBytes} B (${f(r.rss.loadSeconds, 1)} s, ${r.rss.loadErrors} errors): ${r.rss.rssBytes.map(mib).join(', ')} (max ${mib(r.rss.maxRssBytes)})`,
    )
  return lines.join('\n')
}

export function formatRatios(report: KvBenchReport): string {
  const ours = report.targets.find((t) => t.target !== 'etcd')
  const etcd = report.targets.find((t) => t.target === 'etcd')
  if (!report.ratios || !ours || !etcd) return ''
  const lines = [
    `${ours.target} vs etcd in the same run — throughput = ${ours.target} ÷ etcd (≥ target met), p99 = ${ours.target} ÷ etcd (≤ 1.00 met), CPU/op = ${ours.target} ÷ etcd (lower is better)`,
    '',
    '| workload | clients | throughput × | target | p99 × | CPU/op × | met |',
    '|---|---:|---:|---:|---:|---:|:---:|',
  ]
  for (const r of report.ratios) {
    lines.push(
      `| ${r.workload} | ${r.workload === 'watch' ? `${r.concurrency} watchers` : r.concurrency} | ${f(r.throughput, 2)} | ≥ ${f(r.throughputTarget, 1)} | ${f(r.p99, 2)} | ${r.cpuPerOp === null ? 'n/a' : f(r.cpuPerOp, 2)} | ${r.met ? '✓' : '✗'} |`,
    )
  }
  lines.push('', `leader changes: ${ours.target} ${ours.leaderChanges}, etcd ${etcd.leaderChanges} (target 0) ${ours.leaderChanges === 0 ? '✓' : '✗'}`)
  if (ours.rss && etcd.rss) {
    const x = ours.rss.maxRssBytes / etcd.rss.maxRssBytes
    lines.push(`member RSS with ${ours.rss.keys} keys: ${mib(ours.rss.maxRssBytes)} vs ${mib(etcd.rss.maxRssBytes)} = ${f(x, 2)}× (≤ 1.00 met) ${x <= 1 ? '✓' : '✗'}`)
  }
  return lines.join('\n')
}

export function formatKvBench(report: KvBenchReport): string {
  const parts = report.targets.map(formatKvTarget)
  const r = formatRatios(report)
  if (r) parts.push(r)
  return parts.join('\n\n')
}
