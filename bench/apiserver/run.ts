// `raftplane bench apiserver`: the API server under load, on its embedded store and on
// a real etcd 3.4, with the same workloads and the same client:
//   create   POST pods, `createConcurrency` in flight (the pods every later row uses)
//   list     LIST all of them, resourceVersion "0" (the cache as is) and "" (consistent)
//   update   PATCH one pod at a time on the otherwise idle server
//   watch    fan-out to N watchers over HTTP and over the node gRPC API while pods are
//            updated at a fixed rate (see fanout.ts)
// For every row: the master's CPU and event-loop delay (loop-probe.ts) and the store's
// leader changes (etcd_server_leader_changes_seen_total). There is no kube-apiserver
// on this machine, so the comparison is ours-on-ours vs ours-on-etcd.
import { readdir } from 'node:fs/promises'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { mkdtempSync, rmSync } from 'node:fs'
import { ApiTarget, type TargetKind } from './cluster.js'
import { fanout, GRPC_STREAMS_PER_CONNECTION } from './fanout.js'
import { formatProfile, type ProfileSummary, summarizeProfile } from './profile.js'
import { RestClient } from './rest.js'
import type { WatchTransport } from './watch-worker.js'
import { createNamespace, createPods, currentResourceVersion, idleUpdates, listPods } from './workloads.js'

export interface ApiBenchOptions {
  quick?: boolean
  /** Pods created and listed (default 10,000; 1,000 with --quick). */
  pods?: number
  /** Watcher counts of the fan-out rows (default 1,000 and 10,000; 100 and 1,000 with --quick). */
  watchers?: number[]
  transports?: WatchTransport[]
  /** Seconds of updates per fan-out row (default 10; 3 with --quick). */
  seconds?: number
  /** Pod updates/s during a fan-out row; default: 100,000 events/s ÷ watchers, 5–200. */
  updateRate?: number
  createConcurrency?: number
  /** LISTs per list row (default 20; 5 with --quick). */
  lists?: number
  /** Seconds of idle updates (default 5; 2 with --quick). */
  idleSeconds?: number
  watchWorkers?: number
  /** Masters of the embedded target (default 3). */
  masters?: number
  /** Profile the masters (`node --cpu-prof`) and summarize the driven one's profile. */
  cpuProfile?: boolean
  /** Only these rows besides create (which makes the pods): list, update, watch (default all). */
  only?: string[]
}

/** Marks of a row's measured phase. */
interface Phase {
  start(): void
  end(): void
}

export interface LoopDelayFigures {
  p99Ms: number
  maxMs: number
}

export interface ApiRow {
  /** create | list rv=0 | list consistent | update idle | watch http | watch grpc */
  workload: string
  /** Requests in flight, or watchers. */
  clients: number
  ops: number
  /** Operations/s; for watch rows, events delivered/s. */
  perSecond: number
  /** Request latency; for watch rows, update → event delivery. */
  p50Ms: number
  p99Ms: number
  maxMs: number
  errors: number
  firstError?: string
  /** Watch rows: the updates sent meanwhile (mutating latency under that load). */
  mutating?: { perSecond: number; p50Ms: number; p99Ms: number; errors: number }
  /** The driven master's CPU, % of one core, over the row. */
  masterCpuPercent: number
  /** All server processes (masters, etcd members), CPU ms per operation (per event for watch rows). */
  serverCpuMsPerOp: number
  /** The bench's own CPU (this process and watch workers), % of one core. */
  clientCpuPercent: number
  loopDelay: LoopDelayFigures
  /** Watch rows: the worst loop delay while the watchers were set up, and torn down. */
  loopDelayOutside?: { setupMaxMs: number; teardownMaxMs: number }
  /** Leader changes from the start of the row (set-up included) to its end. */
  leaderChanges: number
  seconds: number
  detail?: Record<string, number>
}

export interface ApiTargetReport {
  target: TargetKind
  /** What runs: e.g. '3 masters (embedded store)' or 'etcd 3.4.23 ×3 + 1 master (--etcd-servers)'. */
  description: string
  date: string
  pods: number
  masterRssBytes: number
  rows: ApiRow[]
  leaderChanges: number
  profile?: ProfileSummary
}

export interface TargetCheck {
  what: string
  target: string
  /** embedded's figure, etcd's figure. */
  values: Partial<Record<TargetKind, number>>
  unit: string
  met: Partial<Record<TargetKind, boolean>>
}

export interface RatioRow {
  workload: string
  clients: number
  /** embedded ÷ etcd ops/s (events/s): higher is better. */
  throughput: number
  /** embedded ÷ etcd p99: lower is better. */
  p99: number
}

export interface ApiBenchReport {
  date: string
  machine: { cpus: number; node: string }
  options: Required<Omit<ApiBenchOptions, 'quick' | 'cpuProfile' | 'updateRate'>> & { quick: boolean; updateRate: number | 'auto' }
  targets: ApiTargetReport[]
  checks: TargetCheck[]
  ratios?: RatioRow[]
}

export function resolveOptions(o: ApiBenchOptions): ApiBenchReport['options'] {
  const q = o.quick === true
  return {
    quick: q,
    pods: o.pods ?? (q ? 1000 : 10_000),
    watchers: o.watchers ?? (q ? [100, 1000] : [1000, 10_000]),
    transports: o.transports ?? ['http', 'grpc'],
    seconds: o.seconds ?? (q ? 3 : 10),
    updateRate: o.updateRate ?? 'auto',
    createConcurrency: o.createConcurrency ?? 32,
    lists: o.lists ?? (q ? 5 : 20),
    idleSeconds: o.idleSeconds ?? (q ? 2 : 5),
    watchWorkers: o.watchWorkers ?? 2,
    masters: o.masters ?? 3,
    only: o.only ?? ['list', 'update', 'watch'],
  }
}

/**
 * Updates/s of a fan-out row: about 20,000 events/s offered (about half of what one
 * apiserver delivered to 10,000 HTTP watchers here), within 1–100 updates/s (100
 * merge-patches/s is well below what 3 masters on 2 cores absorb next to the fan-out).
 */
export function updateRateFor(watchers: number, fixed: number | 'auto'): number {
  return fixed === 'auto' ? Math.max(1, Math.min(100, Math.round(20_000 / watchers))) : fixed
}

function cpuOfClient(): number {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

/** Run every row against one target; starts and stops it. */
export async function runApiTarget(kind: TargetKind, opts: ApiBenchOptions = {}, log: (s: string) => void = () => {}): Promise<ApiTargetReport> {
  const o = resolveOptions(opts)
  const profDir = opts.cpuProfile ? mkdtempSync(join(tmpdir(), 'raftplane-bench-apiserver-prof-')) : undefined
  log(`${kind}: starting ${kind === 'embedded' ? `${o.masters} masters` : 'a 3-member etcd and 1 master on it'}`)
  const target = await ApiTarget.start({
    kind,
    masters: o.masters,
    log,
    ...(profDir ? { nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${profDir}`] } : {}),
  })
  const rest = new RestClient(target.master.url, Math.max(64, o.createConcurrency * 2))
  let drivenPid = target.master.child?.pid
  let keepProfile = false
  try {
    const description =
      kind === 'embedded'
        ? `${o.masters === 1 ? '1 master (apiserver + embedded store member)' : `${o.masters} masters (apiserver + embedded store member each)`}; driving ${target.master.name}, the store leader`
        : `etcd ${await etcdVersion(target)} ×3 + 1 master with --etcd-servers`
    log(`  ${description}`)
    const rows: ApiRow[] = []
    const leaderBase = await target.leaderChangesSeen()
    // The measured phase is all of fn, unless fn marks where it starts and ends (watch
    // rows: after every watcher is set up, and before the watchers are torn down).
    const measure = async <R>(
      fn: (phase: Phase) => Promise<R>,
      toRow: (r: R) => Omit<ApiRow, 'masterCpuPercent' | 'serverCpuMsPerOp' | 'clientCpuPercent' | 'loopDelay' | 'leaderChanges'>,
    ): Promise<ApiRow> => {
      const leadersBefore = await target.leaderChangesSeen()
      const sample = () => ({ at: Date.now(), master: target.master.cpuMs(), server: target.serverCpuMs(), client: cpuOfClient() })
      const rowStart = Date.now()
      let from = sample()
      let to: ReturnType<typeof sample> | undefined
      const r = await fn({ start: () => (from = sample()), end: () => (to = sample()) })
      const rowEnd = Date.now()
      to ??= sample()
      const wallMs = Math.max(1, to.at - from.at)
      const base = toRow(r)
      const workerCpu = base.detail?.workerCpuMs ?? 0
      // The probe prints once a second: let the window that covers the phase's end arrive.
      await new Promise((res) => setTimeout(res, 1100))
      const leadersAfter = await target.leaderChangesSeen()
      const row: ApiRow = {
        ...base,
        masterCpuPercent: (100 * (to.master - from.master)) / wallMs,
        serverCpuMsPerOp: base.ops > 0 ? (to.server - from.server) / base.ops : 0,
        clientCpuPercent: (100 * (to.client - from.client + workerCpu)) / wallMs,
        loopDelay: pick(target.master.loopDelay(from.at, to.at)),
        // Setting up and tearing down thousands of watchers is not measured, but it stalls the loop too.
        ...(from.at - rowStart > 1000 || rowEnd - to.at > 1000
          ? { loopDelayOutside: { setupMaxMs: target.master.loopDelay(rowStart, from.at).maxMs, teardownMaxMs: target.master.loopDelay(to.at, rowEnd).maxMs } }
          : {}),
        leaderChanges: Math.max(0, ...leadersAfter.map((v, i) => (v < 0 || (leadersBefore[i] ?? -1) < 0 ? 0 : v - leadersBefore[i]!))),
      }
      rows.push(row)
      log(`  ${formatRowLine(row)}`)
      return row
    }

    await createNamespace(rest)
    await measure(
      () => createPods(rest, { pods: o.pods, concurrency: o.createConcurrency }),
      (r) => ({ workload: 'create', clients: o.createConcurrency, ...loopFigures(r), seconds: r.seconds }),
    )
    if (rows[0]!.errors > 0) throw new Error(`creating ${o.pods} pods failed: ${rows[0]!.firstError}`)
    const only = new Set(o.only)
    for (const rv of only.has('list') ? (['0', ''] as const) : []) {
      await measure(
        () => listPods(rest, { resourceVersion: rv, times: o.lists, concurrency: 1, expect: o.pods }),
        (r) => ({ workload: rv === '0' ? 'list rv=0' : 'list consistent', clients: 1, ...loopFigures(r), seconds: r.seconds, detail: { items: r.items, bytes: r.bytes } }),
      )
    }
    if (only.has('update')) {
      await measure(
        () => idleUpdates(rest, { pods: o.pods, seconds: o.idleSeconds }),
        (r) => ({ workload: 'update idle', clients: 1, ...loopFigures(r), seconds: r.seconds }),
      )
    }
    for (const transport of only.has('watch') ? o.transports : []) {
      for (const watchers of o.watchers) {
        const rate = updateRateFor(watchers, o.updateRate)
        await measure(
          async (phase) =>
            fanout(rest, {
              transport,
              apiPort: target.master.apiPort,
              nodeApiPort: target.master.nodeApiPort,
              resourceVersion: await currentResourceVersion(rest),
              watchers,
              workers: o.watchWorkers,
              pods: o.pods,
              rate,
              seconds: o.seconds,
              onStart: phase.start,
              onEnd: phase.end,
            }),
          (r) => ({
            workload: `watch ${transport}`,
            clients: watchers,
            ops: r.events,
            perSecond: r.eventsPerSecond,
            p50Ms: r.hist.quantile(0.5),
            p99Ms: r.hist.quantile(0.99),
            maxMs: r.hist.quantile(1),
            errors: r.errors,
            ...(r.firstError === undefined ? {} : { firstError: r.firstError }),
            mutating: { perSecond: r.updates.ops / r.updates.seconds, p50Ms: r.updates.hist.quantile(0.5), p99Ms: r.updates.hist.quantile(0.99), errors: r.updates.errors },
            seconds: (r.toMs - r.fromMs) / 1000,
            detail: { ...r.detail, setupSeconds: r.setupSeconds, workerCpuMs: r.workerCpuMs },
          }),
        )
      }
    }
    const leaderEnd = await target.leaderChangesSeen()
    // The worst loop delay once the apiserver was ready, on the profile's clock (CLOCK_MONOTONIC µs).
    const worstDelay = target.master.worstDelay(target.readyAtMs, Date.now())
    const monoMinusWallUs = Number(process.hrtime.bigint() / 1000n) - Date.now() * 1000
    const worst = worstDelay && { fromUs: (worstDelay.atMs - worstDelay.ms) * 1000 + monoMinusWallUs, toUs: worstDelay.atMs * 1000 + monoMinusWallUs }
    const masterRssBytes = target.master.rssBytes()
    drivenPid = target.master.child?.pid
    const report: ApiTargetReport = {
      target: kind,
      description,
      date: new Date().toISOString(),
      pods: o.pods,
      masterRssBytes,
      rows,
      leaderChanges: Math.max(0, ...leaderEnd.map((v, i) => (v < 0 || (leaderBase[i] ?? -1) < 0 ? 0 : v - leaderBase[i]!))),
    }
    rest.close()
    await target.stop()
    if (profDir && drivenPid) {
      // The driven master's profile is kept (for a viewer such as Chrome DevTools); the others' go.
      const all = (await readdir(profDir)).filter((f) => f.endsWith('.cpuprofile'))
      const file = all.find((f) => f.includes(`.${drivenPid}.`))
      if (file) {
        report.profile = await summarizeProfile(join(profDir, file), 20, worst)
        for (const other of all) if (other !== file) rmSync(join(profDir, other), { force: true })
        keepProfile = true
        log(`  CPU profile of ${target.master.name}: ${join(profDir, file)}`)
      } else log(`  no CPU profile of pid ${drivenPid} in ${profDir} (the master did not exit cleanly)`)
    }
    return report
  } finally {
    rest.close()
    await target.stop()
    if (profDir && !keepProfile) rmSync(profDir, { recursive: true, force: true })
  }
}

function pick(d: { p99Ms: number; maxMs: number }): LoopDelayFigures {
  return { p99Ms: d.p99Ms, maxMs: d.maxMs }
}

function loopFigures(r: { ops: number; errors: number; seconds: number; firstError?: string; hist: { quantile(q: number): number } }) {
  return {
    ops: r.ops,
    perSecond: r.seconds > 0 ? r.ops / r.seconds : 0,
    p50Ms: r.hist.quantile(0.5),
    p99Ms: r.hist.quantile(0.99),
    maxMs: r.hist.quantile(1),
    errors: r.errors,
    ...(r.firstError === undefined ? {} : { firstError: r.firstError }),
  }
}

async function etcdVersion(target: ApiTarget): Promise<string> {
  try {
    const res = await fetch(`${target.storeClientUrls[0]}/version`, { signal: AbortSignal.timeout(2000) })
    return ((await res.json()) as { etcdserver?: string }).etcdserver ?? '3.4'
  } catch {
    return '3.4'
  }
}

/** Run the targets one after the other (never two on the 2 cores at once). */
export async function runApiBench(kinds: TargetKind[], opts: ApiBenchOptions = {}, log?: (s: string) => void): Promise<ApiBenchReport> {
  const reports: ApiTargetReport[] = []
  for (const k of kinds) reports.push(await runApiTarget(k, opts, log))
  return assembleApiReport(reports, opts)
}

export function assembleApiReport(reports: ApiTargetReport[], opts: ApiBenchOptions = {}): ApiBenchReport {
  const report: ApiBenchReport = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, node: process.version },
    options: resolveOptions(opts),
    targets: reports,
    checks: checks(reports),
  }
  const ours = reports.find((r) => r.target === 'embedded')
  const etcd = reports.find((r) => r.target === 'etcd')
  if (ours && etcd) report.ratios = ratios(ours, etcd)
  return report
}

// ---- the issue's targets ----------------------------------------------------------

function worstMutatingP99(r: ApiTargetReport): number {
  const watchRows = r.rows.filter((x) => x.mutating !== undefined)
  const most = Math.max(0, ...watchRows.map((x) => x.clients))
  const atMost = watchRows.filter((x) => x.clients === most).map((x) => x.mutating!.p99Ms)
  const create = r.rows.find((x) => x.workload === 'create')?.p99Ms ?? 0
  return Math.max(create, ...atMost)
}

export function checks(reports: ApiTargetReport[]): TargetCheck[] {
  const out: TargetCheck[] = []
  const add = (what: string, target: string, unit: string, value: (r: ApiTargetReport) => number | undefined, ok: (v: number) => boolean) => {
    const c: TargetCheck = { what, target, unit, values: {}, met: {} }
    for (const r of reports) {
      const v = value(r)
      if (v === undefined) continue
      c.values[r.target] = v
      c.met[r.target] = ok(v)
    }
    if (Object.keys(c.values).length > 0) out.push(c)
  }
  const row = (r: ApiTargetReport, workload: string, clients?: number) =>
    r.rows.filter((x) => x.workload === workload && (clients === undefined || x.clients === clients)).at(-1)
  add('p99 mutating latency, full load (creates at max rate; updates during the largest fan-out)', '< 1000', 'ms', (r) => worstMutatingP99(r), (v) => v < 1000)
  add('p99 mutating latency, idle (one update at a time)', '≤ 100 (far below 1 s)', 'ms', (r) => row(r, 'update idle')?.p99Ms, (v) => v <= 100)
  for (const t of ['http', 'grpc']) {
    const rowsOf = (r: ApiTargetReport) => r.rows.filter((x) => x.workload === `watch ${t}`)
    const most = Math.max(0, ...reports.flatMap((r) => rowsOf(r).map((x) => x.clients)))
    add(
      `watch ${t}: p99 update→event delivery, ${most} watchers`,
      '≤ 1000',
      'ms',
      (r) => {
        const rs = rowsOf(r)
        if (rs.length === 0) return undefined
        const most = rs.reduce((a, b) => (b.clients > a.clients ? b : a))
        return most.errors > 0 ? Infinity : most.p99Ms
      },
      (v) => v <= 1000,
    )
  }
  for (const w of ['list rv=0', 'list consistent']) add(`${w}: p99 LIST of all pods`, '≤ 200', 'ms', (r) => row(r, w)?.p99Ms, (v) => v <= 200)
  add('leader changes during the run', '0', '', (r) => r.leaderChanges, (v) => v === 0)
  return out
}

export function ratios(ours: ApiTargetReport, etcd: ApiTargetReport): RatioRow[] {
  const out: RatioRow[] = []
  for (const o of ours.rows) {
    const e = etcd.rows.find((r) => r.workload === o.workload && r.clients === o.clients)
    if (!e) continue
    out.push({
      workload: o.workload,
      clients: o.clients,
      throughput: e.perSecond > 0 ? o.perSecond / e.perSecond : 0,
      p99: e.p99Ms > 0 ? o.p99Ms / e.p99Ms : Infinity,
    })
  }
  return out
}

// ---- formatting ---------------------------------------------------------------------

const f = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : '–')
const ms = (n: number) => (n >= 100 ? f(n, 0) : n >= 10 ? f(n, 1) : f(n, 2))

function clientsLabel(r: ApiRow): string {
  return r.workload.startsWith('watch') ? `${r.clients} watchers` : `${r.clients} in flight`
}

function formatRowLine(r: ApiRow): string {
  const m = r.mutating ? `; updates ${f(r.mutating.perSecond)}/s p99 ${ms(r.mutating.p99Ms)} ms` : ''
  return `${r.workload} ×${r.clients}: ${f(r.perSecond)}/s p50 ${ms(r.p50Ms)} ms p99 ${ms(r.p99Ms)} ms errors ${r.errors}${r.firstError ? ` (${r.firstError})` : ''}${m}; master CPU ${f(r.masterCpuPercent)}%, loop delay p99 ${ms(r.loopDelay.p99Ms)} ms max ${ms(r.loopDelay.maxMs)} ms${r.loopDelayOutside ? ` (set-up max ${ms(r.loopDelayOutside.setupMaxMs)} ms, teardown max ${ms(r.loopDelayOutside.teardownMaxMs)} ms)` : ''}, leader changes ${r.leaderChanges}`
}

export function formatApiTarget(r: ApiTargetReport): string {
  const lines = [
    `apiserver benchmark — ${r.target}: ${r.description}; ${r.pods} pods; leader changes during run: ${r.leaderChanges}; master RSS at the end ${f(r.masterRssBytes / 2 ** 20)} MiB`,
    '',
    '| workload | clients | ops/s (events/s) | p50 ms | p99 ms | max ms | updates/s, p50 / p99 ms | errors | master CPU % | server CPU ms/op | client CPU % | loop delay p99 / max ms | leader changes |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ]
  for (const row of r.rows) {
    const m = row.mutating ? `${f(row.mutating.perSecond)}, ${ms(row.mutating.p50Ms)} / ${ms(row.mutating.p99Ms)}` : ''
    lines.push(
      `| ${row.workload} | ${clientsLabel(row)} | ${f(row.perSecond)} | ${ms(row.p50Ms)} | ${ms(row.p99Ms)} | ${ms(row.maxMs)} | ${m} | ${row.errors} | ${f(row.masterCpuPercent)} | ${f(row.serverCpuMsPerOp, 3)} | ${f(row.clientCpuPercent)} | ${ms(row.loopDelay.p99Ms)} / ${ms(row.loopDelay.maxMs)} | ${row.leaderChanges} |`,
    )
  }
  const outside = r.rows.filter((x) => x.loopDelayOutside)
  if (outside.length > 0) {
    lines.push(
      '',
      `Loop delay outside the measured phase (watchers being set up / torn down), max ms: ${outside.map((x) => `${x.workload} ×${x.clients} ${ms(x.loopDelayOutside!.setupMaxMs)} / ${ms(x.loopDelayOutside!.teardownMaxMs)}`).join('; ')}. Leader changes count the whole row.`,
    )
  }
  const list = r.rows.find((x) => x.workload.startsWith('list'))
  if (list?.detail) lines.push('', `LIST answers: ${list.detail.items} items, ${f((list.detail.bytes ?? 0) / 2 ** 20, 1)} MiB each.`)
  const errs = r.rows.filter((x) => x.firstError)
  for (const e of errs) lines.push(`${e.workload} ×${e.clients}: first error: ${e.firstError}`)
  return lines.join('\n')
}

export function formatChecks(report: ApiBenchReport): string {
  const kinds = report.targets.map((t) => t.target)
  const lines = [
    `| target (issue 4) | goal | ${kinds.map((k) => `${k}`).join(' | ')} |`,
    `|---|---:|${kinds.map(() => '---:|').join('')}`,
  ]
  for (const c of report.checks) {
    const cell = (k: TargetKind) => {
      const v = c.values[k]
      if (v === undefined) return 'n/a'
      return `${c.unit === 'ms' ? ms(v) : f(v)}${c.unit ? ` ${c.unit}` : ''} ${c.met[k] ? '✓' : '✗'}`
    }
    lines.push(`| ${c.what} | ${c.target}${c.unit ? ` ${c.unit}` : ''} | ${kinds.map(cell).join(' | ')} |`)
  }
  return lines.join('\n')
}

export function formatRatios(report: ApiBenchReport): string {
  if (!report.ratios) return ''
  const lines = [
    'embedded vs etcd in the same run — throughput = embedded ÷ etcd (higher is better), p99 = embedded ÷ etcd (lower is better)',
    '',
    '| workload | clients | throughput × | p99 × |',
    '|---|---:|---:|---:|',
  ]
  for (const r of report.ratios) lines.push(`| ${r.workload} | ${r.workload.startsWith('watch') ? `${r.clients} watchers` : r.clients} | ${f(r.throughput, 2)} | ${f(r.p99, 2)} |`)
  return lines.join('\n')
}

export function formatApiBench(report: ApiBenchReport): string {
  const o = report.options
  const parts = [
    `${o.pods} pods; fan-out rows: ${o.seconds} s of pod updates at ${o.updateRate === 'auto' ? '20,000 events/s ÷ watchers (1–100 updates/s)' : `${o.updateRate} updates/s`}; ` +
      `HTTP watchers one connection each, gRPC watchers ${GRPC_STREAMS_PER_CONNECTION} streams per connection, in ${o.watchWorkers} worker processes; plain HTTP (--insecure) on 127.0.0.1. ` +
      'Loop delay: how late a 10 ms timer in the driven master fires (bench/apiserver/loop-probe.ts), over the measured phase. ' +
      'Leader changes: etcd_server_leader_changes_seen_total of the store members (/metrics on their client URLs). ' +
      'Watch rows: p50/p99/max are update → event delivery; the updates column is the mutating latency meanwhile.',
    ...report.targets.map(formatApiTarget),
  ]
  parts.push(formatChecks(report))
  const r = formatRatios(report)
  if (r) parts.push(r)
  for (const t of report.targets) if (t.profile) parts.push(`${t.target}: ${formatProfile(t.profile)}`)
  return parts.join('\n\n')
}
