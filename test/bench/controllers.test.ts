// `raftplane bench controllers` at a tiny size, end to end through the CLI: 3 masters,
// a hollow node process, Deployments rolled out, the table, the JSON and the results
// section; nothing left running afterwards.
import { execFile } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import type { ControllersCaseResult } from '../../bench/controllers/run.js'

const REPO = new URL('../../', import.meta.url).pathname

/** Masters and hollow node processes this bench started (data dirs under `dir`, or the node process's argv). */
function benchProcesses(dir: string): string[] {
  const out: string[] = []
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ')
      if (cmd.includes(dir) || cmd.includes('--hollow-nodes 7 ')) out.push(`${pid} ${cmd.slice(0, 200)}`)
    } catch {
      // gone meanwhile
    }
  }
  return out
}

t.test('bench controllers: a small rollout measured end to end', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'raftplane-bench-controllers-test-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const json = join(dir, 'out.json')
  const results = join(dir, 'RESULTS.md')
  await writeFile(results, '# Results\n')
  // The bench's masters keep their data under TMPDIR: ours, so other tests' benches running beside this one are not counted.
  const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: dir }
  delete env.NODE_OPTIONS
  const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(REPO, 'src/cli/main.ts'), 'bench', 'controllers', '--nodes', '7', '--deployments', '3', '--replicas', '4', '--json', json, '--results', results],
      { env, timeout: 100_000 },
      (err, stdout, stderr) => resolve({ code: err === null ? 0 : Number((err as { code?: number }).code ?? 1), stdout, stderr }),
    )
  })
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /\| 3 Deployments × 4 replicas on 7 hollow nodes \| 12\/12 \|/)
  const report = JSON.parse(await readFile(json, 'utf8')) as { results: ControllersCaseResult[] }
  const [res] = report.results
  t.match(res, { nodes: 7, deployments: 3, replicas: 4, pods: 12, ready: 12 })
  t.ok(res!.podsPerSecond > 0 && res!.leaderRssAfterMiB > 0, 'throughput and RSS measured')
  t.match(await readFile(results, 'utf8'), /<!-- controllers:begin -->\n## Controllers: Deployments rolled out end to end/)
  t.same(benchProcesses(dir), [], 'no master or node process left')

  const bad = await new Promise<{ code: number; stderr: string }>((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', join(REPO, 'src/cli/main.ts'), 'bench', 'controllers', '--replicas', 'many'], { env, timeout: 60_000 }, (err, _o, stderr) =>
      resolve({ code: err === null ? 0 : 1, stderr }),
    )
  })
  t.equal(bad.code, 1)
  t.match(bad.stderr, /--replicas: not a positive integer: many/)
})
