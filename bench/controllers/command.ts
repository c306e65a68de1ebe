// `raftplane bench controllers`: prints the table, writes JSON and the controllers section of bench/RESULTS.md.
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { Command } from 'commander'
import { machineLine, writeResultsSection } from '../results-file.js'
import { type ControllersCase, type ControllersCaseResult, formatControllersBench, FULL_CASES, QUICK_CASES, runControllersCase } from './run.js'

interface ControllersBenchFlags {
  quick?: boolean
  nodes?: string
  deployments?: string
  replicas?: string
  json?: string
  results?: string
}

function positiveInt(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined
  const n = Number(v)
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag}: not a positive integer: ${v}`)
  return n
}

async function benchControllers(f: ControllersBenchFlags): Promise<void> {
  let cases: ControllersCase[] = f.quick === true ? QUICK_CASES : FULL_CASES
  const nodes = positiveInt(f.nodes, '--nodes')
  const deployments = positiveInt(f.deployments, '--deployments')
  const replicas = positiveInt(f.replicas, '--replicas')
  if (nodes !== undefined || deployments !== undefined || replicas !== undefined) {
    const base = cases[0]!
    const c = { nodes: nodes ?? base.nodes, deployments: deployments ?? base.deployments, replicas: replicas ?? base.replicas }
    cases = [{ ...c, name: `${c.deployments} Deployments × ${c.replicas} replicas on ${c.nodes.toLocaleString('en')} hollow nodes` }]
  }
  const results: ControllersCaseResult[] = []
  for (const c of cases) {
    const r = await runControllersCase(c, (line) => console.error(line))
    console.error(`  ${r.ready}/${r.pods} Running+Ready in ${r.seconds.toFixed(1)} s: ${r.podsPerSecond.toFixed(0)} pods/s`)
    results.push(r)
  }
  const table = formatControllersBench(results)
  console.log(table)
  const date = new Date().toISOString()
  if (f.json !== undefined) {
    await mkdir(dirname(f.json), { recursive: true })
    await writeFile(f.json, JSON.stringify({ date, machine: machineLine(), results }, null, 2) + '\n')
    console.log(`\nwrote ${f.json}`)
  }
  if (f.results !== undefined) {
    const command = ['raftplane', ...process.argv.slice(2)].join(' ')
    const body = `${date.slice(0, 10)} · ${machineLine()}\n\n\`${command}\`\n\n${table}\n\nFrom the first Deployment create until every Deployment reports all replicas available (scheduler, controllers and hollow kubelets all on the path). Targets: 100 Deployments × 50 replicas on 1,000 hollow nodes ≥ 300 pods/s end to end; controller-manager RSS ≤ 400 MiB (it shares its process with a store member and an apiserver: the master's RSS is an upper bound).\n`
    await writeResultsSection(f.results, 'controllers', 'Controllers: Deployments rolled out end to end on 3 masters and hollow nodes', body)
    console.log(`updated ${f.results}`)
  }
}

export function registerControllersBench(bench: Command): void {
  bench
    .command('controllers')
    .description('Deployments rolled out end to end on 3 masters and hollow nodes: pods/s, controller-manager RSS and CPU')
    .option('--quick', 'a small case (10 Deployments × 20 replicas on 50 nodes)')
    .option('--nodes <n>', 'hollow nodes')
    .option('--deployments <n>', 'Deployments')
    .option('--replicas <n>', 'replicas per Deployment')
    .option('--json <file>', 'also write the results as JSON')
    .option('--results <file>', 'rewrite the controllers section of this results file (bench/RESULTS.md)')
    .action(benchControllers)
}
