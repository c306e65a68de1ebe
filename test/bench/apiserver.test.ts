// `raftplane bench apiserver` with tiny sizes, end to end through the CLI: one master
// on its embedded store and one on a real etcd 3.4, every row, the table, the JSON,
// the results-file section, and that no process or temp dir is left behind. Plus the
// wire scanners the watch workers count events with.
import { execFile } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { summarizeProfile } from '../../bench/apiserver/profile.js'
import type { ApiBenchReport } from '../../bench/apiserver/run.js'
import { ChunkedLines, scanJsonLine, scanWatchEvent, STAMP_ANNOTATION, watchPodsFrame } from '../../bench/apiserver/watch-wire.js'

const REPO = new URL('../../', import.meta.url).pathname
const ETCD = '/usr/bin/etcd'

/** Processes whose command line names a bench data dir (masters, etcd members). */
/** The bench's masters and etcd members: their data dirs live under `root` (the bench's TMPDIR). */
function benchProcesses(root: string): string[] {
  const out: string[] = []
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ')
      if (cmd.includes(root)) out.push(`${pid} ${cmd.slice(0, 200)}`)
    } catch {
      // gone meanwhile
    }
  }
  return out
}

const benchDirs = (root: string) => new Set(readdirSync(root).filter((d) => d.startsWith('raftplane-bench-apiserver-')))

/** `tmp`: the bench's TMPDIR, so what it leaves behind is told apart from other tests' clusters running beside it. */
function run(args: string[], tmp?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env: NodeJS.ProcessEnv = { ...process.env, ...(tmp === undefined ? {} : { TMPDIR: tmp }) }
    // The bench's own children should not carry tap's coverage hooks (slower, and beside the point).
    delete env.NODE_OPTIONS
    execFile(process.execPath, ['--import', 'tsx', join(REPO, 'src/cli/main.ts'), ...args], { env, timeout: 100_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr })
    })
  })
}

t.test('watch wire scanners', async (t) => {
  const pod = (rv: number, stamp: string) =>
    JSON.stringify({ kind: 'Pod', metadata: { name: 'p', resourceVersion: String(rv), annotations: { [STAMP_ANNOTATION]: stamp }, managedFields: [{ fieldsV1: { [`f:${STAMP_ANNOTATION}`]: {} } }] } })
  const lines = [`{"type":"MODIFIED","object":${pod(7, '123.5')}}`, `{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"8"}}}`, `{"type":"ADDED","object":${pod(9, '124')}}`]
  const chunked = Buffer.from(lines.map((l) => `${Buffer.byteLength(l + '\n').toString(16)}\r\n${l}\n\r\n`).join('') + '0\r\n\r\n')
  // Every split point, including inside sizes, data and CRLFs.
  for (const cut of [1, 3, 17, 100, chunked.length - 2]) {
    const seen: string[] = []
    const dec = new ChunkedLines((line) => {
      const ev = scanJsonLine(line)
      seen.push(`${ev.kind} ${ev.revision} ${ev.stampMs}`)
    })
    for (let at = 0; at < chunked.length; at += cut) dec.push(chunked.subarray(at, Math.min(chunked.length, at + cut)))
    t.same(seen, ['MODIFIED 7 123.5', 'BOOKMARK 0 NaN', 'ADDED 9 124'], `split every ${cut} bytes`)
    t.ok(dec.done, 'the last chunk ends the body')
  }

  // WatchEvent {type MODIFIED=1, object_json, resource_version "42"}, by hand.
  const obj = Buffer.from(pod(42, '99.25'))
  const rv = Buffer.from('42')
  const msg = Buffer.concat([Buffer.from([0x08, 1, 0x12, (obj.length & 127) | 128, obj.length >> 7]), obj, Buffer.from([0x1a, rv.length]), rv])
  t.same(scanWatchEvent(msg), { kind: 'MODIFIED', revision: 42, stampMs: 99.25 })
  t.same(scanWatchEvent(Buffer.from([0x08, 3, 0x1a, 1, 0x35])), { kind: 'BOOKMARK', revision: 5, stampMs: NaN })
  const frame = watchPodsFrame('n1', '17')
  t.equal(frame.readUInt32BE(1), frame.length - 5, 'gRPC length prefix')
  t.same([...frame.subarray(5)], [0x0a, 2, 0x6e, 0x31, 0x12, 2, 0x31, 0x37])
})

t.test('CPU profile summary: self and inclusive time, and what ran in a window', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'apiserver-bench-prof-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const frame = (functionName: string, url = '') => ({ functionName, url, lineNumber: 0 })
  // (root) → handle → encode; (root) → (idle). Samples 1 ms apart from t = 1,000,000 µs.
  const profile = {
    nodes: [
      { id: 1, callFrame: frame('(root)'), children: [2, 4] },
      { id: 2, callFrame: frame('handle', 'file:///x/src/apiserver/http/h.ts'), children: [3] },
      { id: 3, callFrame: frame('encode', 'file:///x/src/apiserver/http/e.ts') },
      { id: 4, callFrame: frame('(idle)') },
    ],
    startTime: 1_000_000,
    endTime: 1_010_000,
    samples: [4, 2, 3, 3, 3, 4, 4, 2, 4, 4],
    timeDeltas: [0, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000],
  }
  const file = join(dir, 'p.cpuprofile')
  await writeFile(file, JSON.stringify(profile))
  const s = await summarizeProfile(file, 5, { fromUs: 1_001_000, toUs: 1_004_500 })
  t.equal(s.idleMs, 4, 'idle samples (the last has no next delta)')
  t.same(
    s.topFunctions.map((e) => [e.name, e.ms]),
    [
      ['encode src/apiserver/http/e.ts', 3],
      ['handle src/apiserver/http/h.ts', 2],
    ],
  )
  t.same(s.topFiles.map((e) => e.name), ['src/apiserver/http/e.ts', 'src/apiserver/http/h.ts'])
  t.same(s.worstDelay?.topInclusive.map((e) => [e.name, e.ms]), [
    ['handle src/apiserver/http/h.ts', 4],
    ['encode src/apiserver/http/e.ts', 3],
  ])
  t.equal(s.worstDelay?.ms, 3.5)
})

t.test('bench apiserver --quick, tiny, both targets', async (t) => {
  const haveEtcd = existsSync(ETCD)
  const dir = await mkdtemp(join(tmpdir(), 'apiserver-bench-test-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const json = join(dir, 'report.json')
  const results = join(dir, 'RESULTS.md')
  await writeFile(results, '# Benchmark results\n\n<!-- kv:begin -->\nkept\n<!-- kv:end -->\n')
  const benchTmp = join(dir, 'tmp')
  await mkdir(benchTmp)
  const dirsBefore = benchDirs(benchTmp)
  const args = ['bench', 'apiserver', '--quick', '--target', haveEtcd ? 'both' : 'embedded', '--masters', '1', '--pods', '200', '--watchers', '20', '--seconds', '1', '--lists', '3']
  const r = await run([...args, '--json', json, '--results', results], benchTmp)
  t.equal(r.code, 0, `exit code (stderr: ${r.stderr.slice(-2000)})`)

  const report = JSON.parse(await readFile(json, 'utf8')) as ApiBenchReport
  const kinds = haveEtcd ? ['embedded', 'etcd'] : ['embedded']
  t.same(report.targets.map((x) => x.target), kinds)
  t.equal(report.options.pods, 200)
  t.same(report.options.watchers, [20])
  for (const target of report.targets) {
    t.same(
      target.rows.map((row) => `${row.workload} ${row.clients}`),
      ['create 32', 'list rv=0 1', 'list consistent 1', 'update idle 1', 'watch http 20', 'watch grpc 20'],
      `${target.target}: every row`,
    )
    for (const row of target.rows) {
      const name = `${target.target} ${row.workload}`
      t.equal(row.errors, 0, `${name}: no errors${row.firstError ? ` (${row.firstError})` : ''}`)
      t.ok(row.ops > 0 && row.perSecond > 0, `${name}: ops and rate`)
      t.ok(row.p50Ms > 0 && row.p99Ms >= row.p50Ms && row.maxMs >= row.p99Ms, `${name}: p50 ≤ p99 ≤ max`)
      // /proc counts CPU in 10 ms ticks: a row of a few ms may show none; the creates always do.
      t.ok(row.workload === 'create' ? row.masterCpuPercent > 0 : row.masterCpuPercent >= 0, `${name}: master CPU measured`)
      t.ok(row.loopDelay.maxMs >= row.loopDelay.p99Ms && row.loopDelay.p99Ms >= 0, `${name}: loop delay`)
      t.type(row.leaderChanges, 'number')
    }
    const list = target.rows.find((row) => row.workload === 'list rv=0')!
    t.equal(list.detail?.items, 200, 'a LIST holds every pod')
    for (const w of target.rows.filter((row) => row.workload.startsWith('watch'))) {
      // Every watcher got every update of the measured phase, nothing else.
      t.equal(w.ops, 20 * w.detail!.updates!, `${target.target} ${w.workload}: events = watchers × updates`)
      t.equal(w.detail!.complete, 20)
      t.ok(w.mutating && w.mutating.perSecond > 0 && w.mutating.errors === 0, 'updates measured')
    }
  }
  t.ok(report.checks.some((c) => /LIST/.test(c.what)) && report.checks.some((c) => /mutating latency, idle/.test(c.what)), 'the issue targets are checked')
  if (haveEtcd) t.equal(report.ratios?.length, 6, 'embedded ÷ etcd for every row')

  t.match(r.stdout, /\| workload \| clients \| ops\/s \(events\/s\) \| p50 ms \| p99 ms \|/)
  t.match(r.stdout, /\| watch grpc \| 20 watchers \|/)
  t.match(r.stdout, /\| target \(issue 4\) \| goal \|/)
  const md = await readFile(results, 'utf8')
  t.match(md, /<!-- kv:begin -->\nkept\n<!-- kv:end -->/, 'other sections kept')
  t.match(md, /<!-- apiserver:begin -->\n## API server/)
  t.match(md, new RegExp(`\`raftplane ${args.join(' ')} --json \\S+ --results \\S+\``), 'the exact command')
  t.match(md, /<!-- apiserver:end -->/)
  t.same(benchDirs(benchTmp), dirsBefore, 'temp dirs removed')
  t.same(benchProcesses(benchTmp), [], 'no master or etcd member left running')
})
