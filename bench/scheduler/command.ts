// `raftplane bench scheduler`: prints the table, writes JSON and the scheduler section of bench/RESULTS.md.
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { Command } from 'commander'
import { machineLine, writeResultsSection } from '../results-file.js'
import { FULL_CASES, formatSchedulerBench, QUICK_CASES, runSchedulerCase, type SchedulerCaseResult } from './run.js'

interface SchedulerBenchFlags {
  quick?: boolean
  only?: string
  json?: string
  results?: string
  cpuProf?: boolean
}

async function benchScheduler(f: SchedulerBenchFlags): Promise<void> {
  let cases = f.quick === true ? QUICK_CASES : FULL_CASES
  if (f.only !== undefined) cases = cases.filter((c) => c.name.toLowerCase().includes(f.only!.toLowerCase()))
  if (cases.length === 0) throw new Error(`--only ${f.only}: no case matches`)
  const results: SchedulerCaseResult[] = []
  for (const c of cases) {
    const r = await runSchedulerCase(c, (line) => console.error(line), { cpuProfile: f.cpuProf === true })
    console.error(`  ${r.bound}/${r.pods} bound in ${r.seconds.toFixed(1)} s: ${r.podsPerSecond.toFixed(0)} pods/s`)
    results.push(r)
  }
  const table = formatSchedulerBench(results)
  console.log(table)
  const date = new Date().toISOString()
  if (f.json !== undefined) {
    await mkdir(dirname(f.json), { recursive: true })
    await writeFile(f.json, JSON.stringify({ date, machine: machineLine(), results }, null, 2) + '\n')
    console.log(`\nwrote ${f.json}`)
  }
  if (f.results !== undefined) {
    const command = ['raftplane', ...process.argv.slice(2)].join(' ')
    const body = `${date.slice(0, 10)} · ${machineLine()}\n\n\`${command}\`\n\n${table}\n\nTargets: SchedulingBasic 5,000 nodes / 10,000 pods ≥ 1,000 pods/s; TopologySpreading ≥ 300 pods/s; scheduler RSS ≤ 500 MiB (the scheduler lives in the leader master: its RSS growth from before to after is the scheduler's share).\n`
    await writeResultsSection(f.results, 'scheduler', 'Scheduler: pods bound per second on 3 masters (bindings replicated by Raft)', body)
    console.log(`updated ${f.results}`)
  }
}

export function registerSchedulerBench(bench: Command): void {
  bench
    .command('scheduler')
    .description('scheduling throughput end to end on 3 masters (scheduler_perf shapes: SchedulingBasic, TopologySpreading, PodAntiAffinity)')
    .option('--quick', 'small cases (100 nodes / 300 pods)')
    .option('--only <text>', 'only the cases whose name contains this text')
    .option('--cpu-prof', 'profile the masters (node --cpu-prof) and summarize the scheduling leader\'s profile')
    .option('--json <file>', 'also write the results as JSON')
    .option('--results <file>', 'rewrite the scheduler section of this results file (bench/RESULTS.md)')
    .action(benchScheduler)
}
