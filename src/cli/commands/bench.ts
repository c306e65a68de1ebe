import { mkdir, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { type Command, InvalidArgumentError } from 'commander'
import { formatRaftBench, runRaftBench } from '../../../bench/raft/run.js'
import { machineLine, writeResultsSection } from '../../../bench/results-file.js'

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
}
