// `raftplane bench apiserver`: flags, the run over the chosen targets, the table, the
// JSON and the results-file section. Registered by src/cli/commands/bench.ts.
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { type Command, InvalidArgumentError } from 'commander'
import { machineLine, writeResultsSection } from '../results-file.js'
import { StoreStartError } from '../kv/cluster.js'
import type { TargetKind } from './cluster.js'
import { assembleApiReport, formatApiBench, runApiTarget, type ApiBenchOptions, type ApiTargetReport } from './run.js'

function positiveNumber(v: string): number {
  const n = Number(v)
  if (!(n > 0)) throw new InvalidArgumentError('not a positive number.')
  return n
}

function counts(v: string): number[] {
  return v.split(',').map((c) => {
    const n = Number(c)
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`'${c}' is not a positive integer.`)
    return n
  })
}

interface ApiBenchFlags {
  quick?: boolean
  json?: string
  results?: string
  target: 'embedded' | 'etcd' | 'both'
  pods?: number
  watchers?: number[]
  transports?: ('http' | 'grpc')[]
  seconds?: number
  updateRate?: number
  createConcurrency?: number
  lists?: number
  watchWorkers?: number
  masters?: number
  cpuProf?: boolean
  only?: string[]
}

function rowList(v: string): string[] {
  const known = ['list', 'update', 'watch']
  const list = v.split(',').map((w) => w.trim())
  for (const w of list) if (!known.includes(w)) throw new InvalidArgumentError(`'${w}' is not one of ${known.join(', ')}.`)
  return list
}

function apiTargetName(v: string): 'embedded' | 'etcd' | 'both' {
  if (v !== 'embedded' && v !== 'etcd' && v !== 'both') throw new InvalidArgumentError("must be 'embedded', 'etcd' or 'both'.")
  return v
}

function watchTransports(v: string): ('http' | 'grpc')[] {
  return v.split(',').map((t) => {
    const x = t.trim()
    if (x !== 'http' && x !== 'grpc') throw new InvalidArgumentError(`'${x}' is not one of http, grpc.`)
    return x
  })
}

/** `raftplane bench apiserver`: the API server on its embedded store and/or on a real etcd; same workloads, both reported. */
async function benchApiserver(opts: ApiBenchFlags): Promise<void> {
  const kinds: TargetKind[] = opts.target === 'both' ? ['embedded', 'etcd'] : [opts.target]
  const benchOpts: ApiBenchOptions = {
    quick: opts.quick,
    pods: opts.pods,
    watchers: opts.watchers,
    transports: opts.transports,
    seconds: opts.seconds,
    updateRate: opts.updateRate,
    createConcurrency: opts.createConcurrency,
    lists: opts.lists,
    watchWorkers: opts.watchWorkers,
    masters: opts.masters,
    cpuProfile: opts.cpuProf,
    only: opts.only,
  }
  const log = (line: string) => console.error(line)
  const reports: ApiTargetReport[] = []
  let failure: Error | undefined
  for (const k of kinds) {
    try {
      reports.push(await runApiTarget(k, benchOpts, log))
    } catch (err) {
      failure = err as Error
      break
    }
  }
  if (reports.length > 0) {
    const report = assembleApiReport(reports, benchOpts)
    console.log(formatApiBench(report))
    if (opts.json) {
      await mkdir(dirname(opts.json), { recursive: true })
      await writeFile(opts.json, JSON.stringify(report, null, 2) + '\n')
      console.log(`\nwrote ${opts.json}`)
    }
    if (opts.results && !failure) {
      const command = ['raftplane', ...process.argv.slice(2)].join(' ')
      const body = `${report.date.slice(0, 10)} · ${machineLine()}\n\n\`${command}\`\n\n${formatApiBench(report)}\n`
      await writeResultsSection(opts.results, 'apiserver', 'API server: our store vs a real etcd 3.4 under the same apiserver', body)
      console.log(`updated ${opts.results}`)
    }
  }
  if (failure) {
    if (reports.length > 0) console.error(`\n${reports.map((r) => r.target).join(', ')} finished; then:`)
    // A target that does not start is a user-facing error (which command, its output); anything else is a crash with its stack.
    console.error(`raftplane bench apiserver: ${failure instanceof StoreStartError ? failure.message : (failure.stack ?? failure.message)}`)
    process.exitCode = 1
  }
}

/** Adds `apiserver` to the `raftplane bench` command. */
export function registerApiserverBench(bench: Command): void {
  bench
    .command('apiserver')
    .description(
      'the API server under load: pod creates, LIST of all pods (from the watch cache), idle updates, and watch fan-out ' +
        'over HTTP and the node gRPC API while pods are updated; on the embedded store, on a real etcd 3.4, or both',
    )
    .option('--quick', 'smaller and shorter (1,000 pods, 100 and 1,000 watchers, 3 s rows)')
    .option('--target <name>', 'embedded | etcd | both', apiTargetName, 'both')
    .option('--pods <n>', 'pods created, listed and updated (default 10000)', positiveNumber)
    .option('--watchers <list>', 'fan-out rows: comma-separated watcher counts (default 1000,10000)', counts)
    .option('--transports <list>', 'fan-out rows over: http,grpc', watchTransports)
    .option('--seconds <n>', 'seconds of pod updates per fan-out row (default 10)', positiveNumber)
    .option('--update-rate <n>', 'pod updates/s during fan-out (default: 20,000 events/s ÷ watchers, 1–100)', positiveNumber)
    .option('--create-concurrency <n>', 'creates in flight (default 32)', positiveNumber)
    .option('--lists <n>', 'LISTs per list row (default 20)', positiveNumber)
    .option('--watch-workers <n>', 'watch client processes (default 2)', positiveNumber)
    .option('--masters <n>', 'masters of the embedded target (default 3)', positiveNumber)
    .option('--only <list>', 'only these rows after the creates: list,update,watch', rowList)
    .option('--cpu-prof', "profile the masters (node --cpu-prof) and summarize the driven master's profile")
    .option('--json <file>', 'also write the report as JSON')
    .option('--results <file>', 'rewrite the apiserver section of this results file (bench/RESULTS.md)')
    .action(benchApiserver)
}
