// The fault runner: `npm run test:faults -- --seconds 60 --nemesis all [--seed N]
// [--target raftplane|etcd] [--json FILE]`. A 3-member store cluster takes a register
// workload (./register-load.ts) and three resuming watchers while a seeded schedule of
// faults hits it — kill -9 and restart, SIGSTOP and SIGCONT, network partitions
// (isolated member, bridge; with root, ./netns-lab.ts) — each aimed at the leader or a
// random member, held for a few seconds, then healed. At the end it prints the
// timeline with, per fault, how long writes stopped and how long the member took to
// catch up after the heal, the operation counts, and the verdicts: linearizable
// (./checker/), watches ordered and complete, every acknowledged write in the
// history, HashKV equal. Any violation exits 1. The CI test (./soak.test.ts) runs
// a short seeded schedule through runFaults().
import { realpathSync, writeFileSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Command, Option } from 'commander'
import { StoreCluster } from '../../bench/kv/cluster.js'
import { Clients } from '../kv/e2e/helpers/fault-etcd.js'
import { TARGET } from '../kv/e2e/helpers/fault-harness.js'
import { machineLine, writeResultsSection } from '../../bench/results-file.js'
import { checkRegisters } from './checker/register.js'
import { checkWatch } from './checker/watch.js'
import { NetnsLab } from './netns-lab.js'
import { RegisterLoad } from './register-load.js'
import { ResumingWatcher } from './resuming-watcher.js'
import { seededRandom as seeded } from '../raft/helpers/network.js'

export type NemesisKind = 'kill' | 'pause' | 'partition' | 'bridge'
export const NEMESES: readonly NemesisKind[] = ['kill', 'pause', 'partition', 'bridge']

export interface FaultRunOptions {
  seconds: number
  nemeses: readonly NemesisKind[]
  seed: number
  /** Default: FAULTS_TARGET (raftplane unless it says etcd). */
  target?: 'raftplane' | 'etcd'
  /** Whom faults hit: the leader, a follower, or either at random (default). */
  aim?: 'leader' | 'follower' | 'any'
  /** Progress lines (default: none). */
  log?: (line: string) => void
}

export interface FaultEvent {
  kind: NemesisKind
  /** Member names: the one hit, or the two cut from each other. */
  target: string
  /** Their indexes. */
  hit: number[]
  leader: boolean
  /** ms since the run started. */
  at: number
  healedAt: number
  /** The longest time without an acknowledged write while the fault lasted. */
  writeGapMs: number
  /** The same in the 3 s after the heal. */
  afterHealGapMs: number
  /** From the heal until the member hit answered with the cluster's revision (undefined: not within 15 s). */
  recoveredMs: number | undefined
}

export interface Verdict {
  name: string
  ok: boolean
  detail: string
}

export interface FaultReport {
  target: string
  seed: number
  seconds: number
  aim: string
  nemeses: NemesisKind[]
  /** Partitions need root and network namespaces; without them they are left out. */
  skipped: NemesisKind[]
  operations: Record<string, number>
  errors: Record<string, number>
  timeline: FaultEvent[]
  verdicts: Verdict[]
  ok: boolean
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** The member a majority of members names as leader now, if any. */
async function leaderNow(cluster: StoreCluster, ids: readonly string[]): Promise<number | undefined> {
  const claims = await Promise.all(cluster.members.map((m, i) => (m.alive ? cluster.status(i, 500).then((s) => s.leader, () => undefined) : undefined)))
  for (const id of claims) {
    if (id === undefined || id === '0') continue
    if (claims.filter((c) => c === id).length >= 2) return ids.indexOf(id)
  }
  return undefined
}

/**
 * The leader once every member answers and names the same one (up to 3 s after a
 * heal, leadership may still be settling), else what a majority says.
 */
async function settledLeader(cluster: StoreCluster, ids: readonly string[]): Promise<number | undefined> {
  const until = performance.now() + 3000
  while (performance.now() < until) {
    const claims = await Promise.all(cluster.members.map((_, i) => cluster.status(i, 500).then((s) => s.leader, () => undefined)))
    if (claims.every((c) => c !== undefined && c !== '0' && c === claims[0])) return ids.indexOf(claims[0]!)
    await sleep(100)
  }
  return leaderNow(cluster, ids)
}

/** How long member i takes to answer with at least `revision`. */
async function recovery(clients: Clients, i: number, revision: number, since: number): Promise<number | undefined> {
  while (performance.now() - since < 15_000) {
    const r = await clients.m[i]!.status(500).then(
      (s) => s.revision,
      () => undefined,
    )
    if (r !== undefined && r >= revision) return Math.round(performance.now() - since)
    await sleep(100)
  }
  return undefined
}

const REPO = fileURLToPath(new URL('../../', import.meta.url))

export async function runFaults(o: FaultRunOptions): Promise<FaultReport> {
  const log = o.log ?? (() => {})
  const target = o.target ?? TARGET
  const command = target === 'etcd' ? ['/usr/bin/etcd'] : [process.execPath, '--import', 'tsx', `${REPO}src/cli/main.ts`, 'store']
  const random = seeded(o.seed)
  const lab = NetnsLab.available() ? new NetnsLab(3) : undefined
  const skipped: NemesisKind[] = lab === undefined ? o.nemeses.filter((n) => n === 'partition' || n === 'bridge') : []
  const nemeses = o.nemeses.filter((n) => !skipped.includes(n))
  let cluster: StoreCluster | undefined
  const closers: (() => void)[] = []
  try {
    cluster = await StoreCluster.start({
      label: target,
      command,
      startTimeoutMs: 60_000,
      ...(lab === undefined ? {} : { hosts: lab.hosts, wrap: (i: number) => lab.wrap(i) }),
    })
    const c = cluster
    const ids = await Promise.all([0, 1, 2].map(async (i) => (await c.status(i)).memberId))
    const clients = new Clients(c.endpoints)
    closers.push(() => clients.close())
    const keys = ['f/a', 'f/b', 'f/c', 'f/d']
    // Clients 0-5 each stay with one member (two per member), so those of the members
    // a fault spares show what the cluster still serves; clients 6-8 pick a member at
    // random for every operation.
    const load = new RegisterLoad({ endpoints: c.endpoints, keys, clients: 9, timeoutMs: 2000, pick: (client) => (client < 6 ? client % 3 : Math.floor(Math.random() * 3)) }).start()
    closers.push(() => load.close())
    const watchers = [0, 1, 2].map((m) => new ResumingWatcher(c.endpoints, 'f/', 1, m))
    closers.push(() => watchers.forEach((w) => w.close()))
    const t0 = performance.now()
    const timeline: FaultEvent[] = []
    const recoveries: Promise<void>[] = []
    await sleep(1500)
    while (nemeses.length > 0 && performance.now() - t0 < o.seconds * 1000) {
      const kind = nemeses[Math.floor(random() * nemeses.length)]!
      const leader = await settledLeader(c, ids)
      const aim = o.aim ?? 'any'
      const atLeader = leader !== undefined && (aim === 'leader' || (aim === 'any' && random() < 0.5))
      const followers = [0, 1, 2].filter((i) => i !== leader)
      const victim = atLeader ? leader : aim === 'follower' ? followers[Math.floor(random() * followers.length)]! : Math.floor(random() * 3)
      const other = (victim + 1 + Math.floor(random() * 2)) % 3
      const holdMs = 2000 + Math.floor(random() * 2000)
      const at = performance.now()
      log(`${((at - t0) / 1000).toFixed(1)}s ${kind} ${kind === 'bridge' ? `${c.members[victim]!.name}-${c.members[other]!.name}` : c.members[victim]!.name}${atLeader ? ' (leader)' : ''} for ${holdMs} ms`)
      if (kind === 'kill') await c.kill(victim, 'SIGKILL')
      else if (kind === 'pause') process.kill(c.members[victim]!.pid!, 'SIGSTOP')
      else if (kind === 'partition') lab!.isolate(victim)
      else lab!.cut(victim, other)
      await sleep(holdMs)
      if (kind === 'kill') await c.restart(victim)
      else if (kind === 'pause') process.kill(c.members[victim]!.pid!, 'SIGCONT')
      else lab!.healAll()
      const healedAt = performance.now()
      const event: FaultEvent = {
        kind,
        target: kind === 'bridge' ? `${c.members[victim]!.name}-${c.members[other]!.name}` : c.members[victim]!.name,
        hit: kind === 'bridge' ? [victim, other] : [victim],
        leader: atLeader,
        at: Math.round(at - t0),
        healedAt: Math.round(healedAt - t0),
        writeGapMs: 0,
        afterHealGapMs: 0,
        recoveredMs: undefined,
      }
      timeline.push(event)
      const rev = Math.max(...watchers.map((w) => w.revision))
      recoveries.push(recovery(clients, victim, rev, healedAt).then((ms) => void (event.recoveredMs = ms)))
      await sleep(1000 + Math.floor(random() * 1500))
    }
    await sleep(3000)
    await load.stop()
    await Promise.all(recoveries)

    // Write gaps: the longest stretch without a write acknowledged to the clients that
    // stay with a member the fault spared, while the fault lasted and in the 3 s after
    // its heal (a member catching up can cost too).
    const ackedAt = (spared: (member: number) => boolean): number[] =>
      load.history
        .filter((h) => h.client < 6 && spared(h.member) && Number.isFinite(h.ret) && (h.input.f === 'write' || (h.input.f === 'cas' && (h.output as { succeeded?: boolean }).succeeded === true)))
        .map((h) => h.ret - t0)
        .sort((a, b) => a - b)
    const longestGap = (writes: number[], from: number, to: number): number => {
      let last = from
      let gap = 0
      for (const w of writes) {
        if (w < from) continue
        if (w > to) break
        gap = Math.max(gap, w - last)
        last = w
      }
      return Math.round(Math.max(gap, to - last))
    }
    for (const e of timeline) {
      const writes = ackedAt((m) => !e.hit.includes(m))
      e.writeGapMs = longestGap(writes, e.at, e.healedAt)
      e.afterHealGapMs = longestGap(writes, e.healedAt, e.healedAt + 3000)
    }

    const verdicts: Verdict[] = []
    const lin = checkRegisters(load.history)
    const bad = lin.objects.filter((x) => !x.linearizable)
    verdicts.push({ name: 'linearizable', ok: lin.conclusive && bad.length === 0, detail: lin.conclusive ? (bad.length === 0 ? `${load.history.length} operations on ${keys.length} keys` : `${bad[0]!.object}: ${bad[0]!.explanation ?? ''}`) : 'the search gave up (inconclusive)' })

    const revision = await convergedRevision(clients)
    const reference = new ResumingWatcher(c.endpoints, 'f/', 1, (await leaderNow(c, ids)) ?? 0)
    closers.push(() => reference.close())
    const caught = await reference.caughtUp(revision, 20_000)
    const history = reference.events
    const present = new Set(history.map((e) => `${e.revision}\0${e.value}`))
    const missing = [...load.acked].filter(([v, r]) => !present.has(`${r}\0${v}`))
    verdicts.push({ name: 'durable', ok: caught && missing.length === 0, detail: caught ? `${load.acked.size} acknowledged writes, ${missing.length} missing from the history${missing.length ? `: ${JSON.stringify(missing.slice(0, 3))}` : ''}` : `the history did not reach revision ${revision}` })
    for (const [i, w] of watchers.entries()) {
      const reached = await w.caughtUp(revision, 20_000)
      const problems = checkWatch(w.events, history, w.startRevision)
      verdicts.push({ name: `watch ${i}`, ok: reached && problems.length === 0, detail: `${w.events.length} events, ${w.resumes} resumes${reached ? '' : `, stopped at revision ${w.revision}`}${problems.length ? `: ${problems.map((p) => p.message).join('; ')}` : ''}` })
    }
    const hashes = await Promise.all(clients.m.map(async (m) => (await m.hashKV(revision)).hash))
    verdicts.push({ name: 'HashKV', ok: hashes.every((h) => h === hashes[0]), detail: `at revision ${revision}: ${hashes.join(', ')}` })

    const operations = load.counts()
    return {
      target,
      seed: o.seed,
      seconds: o.seconds,
      aim: o.aim ?? 'any',
      nemeses,
      skipped,
      operations,
      errors: Object.fromEntries(load.errors),
      timeline,
      verdicts,
      ok: verdicts.every((v) => v.ok),
    }
  } finally {
    for (const close of closers) close()
    await cluster?.stop(3000)
    lab?.destroy()
  }
}

/** The revision every member reports twice in a row. */
async function convergedRevision(clients: Clients): Promise<number> {
  const until = Date.now() + 30_000
  let prev = -1
  while (Date.now() < until) {
    const revs = await Promise.all(clients.m.map((m) => m.status(1000).then((s) => s.revision, () => -1)))
    if (revs.every((r) => r === revs[0] && r >= 0)) {
      if (revs[0] === prev) return prev
      prev = revs[0]!
    } else prev = -1
    await sleep(250)
  }
  throw new Error('the members did not agree on a revision within 30 s')
}

export function formatReport(r: FaultReport): string {
  const lines = [
    `fault run: ${r.target}, seed ${r.seed}, ${r.seconds} s, aimed at ${r.aim}, nemeses ${r.nemeses.join(',')}${r.skipped.length ? ` (left out, needs root and netns: ${r.skipped.join(',')})` : ''}`,
    '',
    '  at(s)  fault      target     held(ms)  write gap(ms)  after heal(ms)  recovered(ms)',
    ...r.timeline.map(
      (e) =>
        `  ${(e.at / 1000).toFixed(1).padStart(5)}  ${e.kind.padEnd(9)}  ${(e.target + (e.leader ? '*' : '')).padEnd(9)}  ${String(e.healedAt - e.at).padStart(8)}  ${String(e.writeGapMs).padStart(13)}  ${String(e.afterHealGapMs).padStart(14)}  ${String(e.recoveredMs ?? '-').padStart(13)}`,
    ),
    '  (* the leader; write gap: the longest time without a write acknowledged by a member the fault spared, during the fault',
    '   and in the 3 s after its heal;',
    '   recovered: from the heal until the member answered at the revision the cluster had reached)',
    '',
    `operations: ${Object.entries(r.operations).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    ...r.verdicts.map((v) => `${v.ok ? 'ok  ' : 'FAIL'} ${v.name}: ${v.detail}`),
  ]
  return lines.join('\n')
}

async function main(): Promise<void> {
  const program = new Command('test:faults')
    .description('run the store under a seeded schedule of faults and check what clients saw')
    .addOption(new Option('--seconds <n>', 'how long faults keep coming').argParser(Number).default(60))
    .addOption(new Option('--nemesis <list>', `comma-separated: ${NEMESES.join(', ')} or all`).default('all'))
    .addOption(new Option('--seed <n>', 'the schedule seed (default: from the clock; printed)').argParser(Number))
    .addOption(new Option('--aim <who>', 'whom faults hit').choices(['leader', 'follower', 'any']).default('any'))
    .option('--vs-etcd', 'run the same schedule on a real etcd cluster too (Debian etcd-server)')
    .option('--json <file>', 'write the report(s) as JSON')
    .option('--results <file>', 'rewrite the Faults section of this results file (bench/RESULTS.md)')
    .parse()
  const f = program.opts<{ seconds: number; nemesis: string; seed?: number; aim: 'leader' | 'follower' | 'any'; vsEtcd?: boolean; json?: string; results?: string }>()
  const wanted = f.nemesis === 'all' ? [...NEMESES] : f.nemesis.split(',').map((s) => s.trim())
  const unknown = wanted.filter((n) => !NEMESES.includes(n as NemesisKind))
  if (unknown.length > 0) program.error(`--nemesis: unknown ${unknown.join(', ')} (choose from ${NEMESES.join(', ')}, all)`)
  const seed = f.seed ?? Date.now() % 1_000_000
  const reports: FaultReport[] = []
  for (const target of f.vsEtcd === true ? (['raftplane', 'etcd'] as const) : [TARGET]) {
    const report = await runFaults({ seconds: f.seconds, nemeses: wanted as NemesisKind[], seed, aim: f.aim, target, log: (l) => console.error(`${target} ${l}`) })
    console.log(formatReport(report) + '\n')
    reports.push(report)
  }
  if (f.json !== undefined) writeFileSync(f.json, JSON.stringify(reports.length === 1 ? reports[0] : reports, null, 2) + '\n')
  if (f.results !== undefined) {
    const command = `npm run test:faults -- ${process.argv.slice(2).join(' ')}`
    await writeResultsSection(f.results, 'faults', 'Faults: a seeded schedule of kills, pauses and partitions under a register workload', resultsBody(reports, command))
  }
  process.exitCode = reports.every((r) => r.ok) ? 0 : 1
}

function median(xs: number[]): number | undefined {
  if (xs.length === 0) return undefined
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor((s.length - 1) / 2)]
}

/** The results file's section: per target and fault kind, the median write gaps and recovery. */
function resultsBody(reports: FaultReport[], command: string): string {
  const rows: string[] = []
  for (const r of reports) {
    const seconds = r.timeline.length > 0 ? (r.timeline.at(-1)!.healedAt + 3000) / 1000 : r.seconds
    for (const kind of NEMESES) {
      const es = r.timeline.filter((e) => e.kind === kind)
      if (es.length === 0) continue
      for (const leader of [true, false]) {
        const xs = es.filter((e) => e.leader === leader)
        if (xs.length === 0) continue
        const show = (v: number | undefined): string => (v === undefined ? '-' : `${v} ms`)
        rows.push(`| ${r.target} | ${kind} ${leader ? 'leader' : 'follower'} | ${xs.length} | ${show(median(xs.map((e) => e.writeGapMs)))} | ${show(median(xs.map((e) => e.afterHealGapMs)))} | ${show(median(xs.flatMap((e) => (e.recoveredMs === undefined ? [] : [e.recoveredMs]))))} |`)
      }
    }
    const ops = r.operations
    rows.push(`| ${r.target} | all (${r.verdicts.every((v) => v.ok) ? 'every verdict ok' : 'VIOLATIONS'}) | ${r.timeline.length} | ${Math.round((ops.read! + ops.write! + ops.cas!) / seconds)} answered ops/s | ${ops.unknown} unknown | |`)
  }
  return [
    `${new Date().toISOString().slice(0, 10)} · ${machineLine()}`,
    '',
    `\`${command}\``,
    '',
    '| target | fault (aimed at) | count | write gap during (median) | write gap after heal (median) | caught up after heal (median) |',
    '|---|---|---:|---:|---:|---:|',
    ...rows,
    '',
    'Write gap: the longest time without a write acknowledged to the clients that stay with a member the fault spared. Caught up: from the heal (for a kill, the restarted member answering) until the member answers at the revision the cluster had reached. Verdicts: linearizable (reads, writes, compare-and-sets on 4 keys), every acknowledged write in the watch history, three resuming watchers ordered and complete, HashKV equal. Same seed, same schedule for both targets; ours restarts in ~5 s (a tsx start), etcd in ~1 s, which shows in the kill rows\' held time, not in the gaps.',
  ].join('\n')
}

// Run as a script (npm run test:faults), not when a test imports runFaults.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) await main()
