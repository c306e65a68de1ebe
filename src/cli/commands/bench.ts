import { mkdir, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { type Command, InvalidArgumentError } from 'commander'
import {
  assembleKvReport,
  ETCD_COMMAND,
  formatKvBench,
  type KvTarget,
  type KvTargetReport,
  raftplaneStoreCommand,
  runKvTarget,
} from '../../../bench/kv/run.js'
import { StoreStartError } from '../../../bench/kv/cluster.js'
import { formatRaftBench, runRaftBench } from '../../../bench/raft/run.js'
import { machineLine, writeResultsSection } from '../../../bench/results-file.js'
import { registerApiserverBench } from '../../../bench/apiserver/command.js'
import { registerSchedulerBench } from '../../../bench/scheduler/command.js'
import { registerControllersBench } from '../../../bench/controllers/command.js'

interface RaftBenchFlags {
  quick?: boolean
  json?: string
  results?: string
  seconds?: number
  concurrency: number[]
}

function positiveNumber(v: string): number {
  const n = Number(v)
  if (!(n > 0)) throw new InvalidArgumentError('not a positive number.')
  return n
}

function proposerCounts(v: string): number[] {
  return v.split(',').map((c) => {
    const n = Number(c)
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`'${c}' is not a positive integer.`)
    return n
  })
}

interface KvBenchFlags {
  quick?: boolean
  seconds?: number
  endpoints?: string[]
  target: 'etcd' | 'raftplane'
  vsEtcd?: boolean
  json?: string
  results?: string
  rss?: boolean
  rssKeys?: number
  concurrency?: number[]
  watchers?: number[]
  watchWorkers?: number
  only?: string[]
  storeCommand?: string
  etcdCommand?: string
  transport: 'http2' | 'grpc-js'
}

function endpointList(v: string): string[] {
  return v.split(',').map((e) => {
    const hostPort = e.trim().replace(/^https?:\/\//, '')
    if (!/^[^:/\s]+:\d+$/.test(hostPort)) throw new InvalidArgumentError(`'${e}' is not host:port.`)
    return hostPort
  })
}

function targetName(v: string): 'etcd' | 'raftplane' {
  if (v !== 'etcd' && v !== 'raftplane') throw new InvalidArgumentError("must be 'etcd' or 'raftplane'.")
  return v
}

function transportName(v: string): 'http2' | 'grpc-js' {
  if (v !== 'http2' && v !== 'grpc-js') throw new InvalidArgumentError("must be 'http2' or 'grpc-js'.")
  return v
}

function workloadList(v: string): string[] {
  const known = ['put', 'range', 'txn', 'watch']
  const list = v.split(',').map((w) => w.trim())
  for (const w of list) if (!known.includes(w)) throw new InvalidArgumentError(`'${w}' is not one of ${known.join(', ')}.`)
  return list
}

/** `raftplane bench kv`: etcd v3 workloads against etcd, ours, or --endpoints; --vs-etcd runs both. */
async function benchKv(opts: KvBenchFlags): Promise<void> {
  const split = (c: string) => c.split(' ').filter(Boolean)
  const etcd: KvTarget = { label: 'etcd', command: opts.etcdCommand ? split(opts.etcdCommand) : ETCD_COMMAND }
  const ours: KvTarget = { label: 'raftplane', command: opts.storeCommand ? split(opts.storeCommand) : raftplaneStoreCommand() }
  const targets: KvTarget[] = opts.endpoints
    ? [{ label: 'endpoints', endpoints: opts.endpoints }]
    : opts.vsEtcd
      ? [etcd, ours]
      : [opts.target === 'etcd' ? etcd : ours]
  const benchOpts = {
    quick: opts.quick,
    seconds: opts.seconds,
    rss: opts.rss,
    rssKeys: opts.rssKeys,
    putConcurrency: opts.concurrency,
    watchers: opts.watchers,
    watchWorkers: opts.watchWorkers,
    only: opts.only,
    transport: opts.transport,
  }
  const log = (line: string) => console.error(line)
  const reports: KvTargetReport[] = []
  let failure: Error | undefined
  for (const t of targets) {
    try {
      reports.push(await runKvTarget(t, benchOpts, log))
    } catch (err) {
      failure = err as Error
      break
    }
  }
  // A store that does not start is a user-facing error (which command, its output), not a crash.
  const fail = (err: Error): void => {
    if (!(err instanceof StoreStartError)) throw err
    console.error(`raftplane bench kv: ${err.message}`)
    process.exitCode = 1
  }
  if (reports.length === 0 && failure) return fail(failure)
  const report = assembleKvReport(reports)
  console.log(formatKvBench(report))
  if (opts.json) {
    await mkdir(dirname(opts.json), { recursive: true })
    await writeFile(opts.json, JSON.stringify(report, null, 2) + '\n')
    console.log(`\nwrote ${opts.json}`)
  }
  if (opts.results && !failure) {
    const command = ['raftplane', ...process.argv.slice(2)].join(' ')
    const body = `${report.date.slice(0, 10)} · ${machineLine()}\n\n\`${command}\`\n\n${formatKvBench(report)}\n`
    await writeResultsSection(opts.results, 'kv', 'KV store: etcd v3 API, 3 members, same client for every target', body)
    console.log(`updated ${opts.results}`)
  }
  if (failure) {
    console.error(`\n${reports.map((r) => r.target).join(', ')} finished; then:`)
    fail(failure)
  }
}

/** `raftplane bench <name>`: benchmarks that print a table and optionally write JSON. */
export function registerBench(program: Command): void {
  const bench = program.command('bench').description('run a benchmark on this machine; prints a table, --json writes the figures')
  bench
    .command('raft')
    .description('3 raft members as separate processes on loopback with fsync; committed entries/s and latency at 1, 16, 256 proposers')
    .option('--quick', 'shorter runs (2 s per row)')
    .option('--seconds <n>', 'seconds per row (default 5, 2 with --quick)', positiveNumber)
    .option('--concurrency <list>', 'comma-separated proposer counts', proposerCounts, [1, 16, 256])
    .option('--json <file>', 'also write the report as JSON')
    .option('--results <file>', 'rewrite the Raft section of this results file (bench/RESULTS.md)')
    .action(async (opts: RaftBenchFlags) => {
      const report = await runRaftBench({ quick: opts.quick, concurrency: opts.concurrency, seconds: opts.seconds })
      console.log(formatRaftBench(report))
      if (opts.json) {
        await mkdir(dirname(opts.json), { recursive: true })
        await writeFile(opts.json, JSON.stringify(report, null, 2) + '\n')
        console.log(`\nwrote ${opts.json}`)
      }
      if (opts.results) {
        const command = ['raftplane', ...process.argv.slice(2)].join(' ')
        const body = `${report.date.slice(0, 10)} · ${machineLine()}\n\n\`${command}\`\n\n${formatRaftBench(report)}\n`
        await writeResultsSection(opts.results, 'raft', 'Raft: 3 members, separate processes, fsync', body)
        console.log(`updated ${opts.results}`)
      }
    })
  bench
    .command('kv')
    .description(
      'etcd v3 workloads (put, linearizable/serializable range, txn, watch fan-out) against a 3-member store on loopback: ' +
        'ours (`raftplane store`), real etcd, or existing --endpoints; --vs-etcd runs etcd and ours in turn and prints the ratios',
    )
    .option('--quick', 'shorter runs (2 s per row; 100k keys for --rss)')
    .option('--seconds <n>', 'seconds per row (default 5, 2 with --quick)', positiveNumber)
    .option('--endpoints <list>', 'drive an existing cluster: comma-separated host:port (no CPU/RSS figures)', endpointList)
    .option('--target <name>', 'start a cluster of: etcd | raftplane', targetName, 'raftplane')
    .option('--vs-etcd', 'run real etcd, then ours, with the same workload; print both and the ratios')
    .option('--rss', 'also load N keys of 256 B (1M, 100k with --quick) and report member RSS')
    .option('--rss-keys <n>', 'keys for --rss', positiveNumber)
    .option('--concurrency <list>', 'put rows: comma-separated requests in flight (default 1,16,64,256)', proposerCounts)
    .option('--watchers <list>', 'watch rows: comma-separated watcher counts (default 100,1000,10000)', proposerCounts)
    .option('--watch-workers <n>', 'watch client processes (default 2)', positiveNumber)
    .option('--only <list>', 'only these workloads: put,range,txn,watch', workloadList)
    .option('--transport <name>', 'client transport for calls and watch streams: http2 (gRPC framing on node:http2, low client CPU) | grpc-js', transportName, 'http2')
    .option('--store-command <cmd>', 'argv of our store member (default: this raftplane with `store`)')
    .option('--etcd-command <cmd>', 'argv of an etcd member (default /usr/bin/etcd)')
    .option('--json <file>', 'also write the report as JSON')
    .option('--results <file>', 'rewrite the kv section of this results file (bench/RESULTS.md)')
    .action(benchKv)
  registerApiserverBench(bench)
  registerSchedulerBench(bench)
  registerControllersBench(bench)
}
