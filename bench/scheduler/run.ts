// `raftplane bench scheduler`: scheduling throughput end to end on 3 masters, in the
// shape of kube-scheduler's scheduler_perf (SchedulingBasic, TopologySpreading,
// SchedulingPodAntiAffinity). Hollow nodes are Node objects with allocatable
// resources and zone labels; pods are created through the API. Every binding is a
// write replicated by Raft across the 3 masters.
//
// To measure the scheduler and not the pod creation rate, the cluster is filled with
// the schedulers off (`--no-scheduler`), then the masters are restarted with them on:
// one wins the kube-scheduler Lease, lists everything and binds every pending pod.
// Progress comes from each master's scheduler_schedule_attempts_total, polled every
// 200 ms; the end is confirmed by listing the pods (every one bound).
import { mkdtempSync } from 'node:fs'
import { readdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { formatProfile, summarizeProfile } from '../apiserver/profile.js'
import { ApiTarget } from '../apiserver/cluster.js'
import { closedLoop, RestClient } from '../apiserver/rest.js'

export interface SchedulerCase {
  name: string
  nodes: number
  pods: number
  /** The measured pods' spec beyond one container. */
  template: 'basic' | 'spread' | 'anti-affinity'
}

export const FULL_CASES: SchedulerCase[] = [
  { name: 'SchedulingBasic 500 nodes / 1,000 pods', nodes: 500, pods: 1000, template: 'basic' },
  { name: 'SchedulingBasic 5,000 nodes / 10,000 pods', nodes: 5000, pods: 10_000, template: 'basic' },
  { name: 'TopologySpreading 5,000 nodes / 10,000 pods', nodes: 5000, pods: 10_000, template: 'spread' },
  { name: 'PodAntiAffinity 500 nodes / 1,000 pods', nodes: 500, pods: 1000, template: 'anti-affinity' },
]

export const QUICK_CASES: SchedulerCase[] = [
  { name: 'SchedulingBasic 100 nodes / 300 pods', nodes: 100, pods: 300, template: 'basic' },
  { name: 'TopologySpreading 100 nodes / 300 pods', nodes: 100, pods: 300, template: 'spread' },
]

export interface SchedulerCaseResult {
  name: string
  nodes: number
  pods: number
  /** Pods bound at the end (must equal pods). */
  bound: number
  seconds: number
  podsPerSecond: number
  /** Median over the 1-second windows of the run (scheduler_perf's SchedulingThroughput Perc50). */
  p50WindowPodsPerSecond: number
  /** scheduler_scheduling_attempt_duration_seconds{result="scheduled"} p99 on the leader (from its buckets). */
  attemptP99Ms: number
  leader: string
  /** The leader master's RSS before the scheduler started and at the end. */
  leaderRssBeforeMiB: number
  leaderRssAfterMiB: number
  /** CPU of all 3 masters during the run, in cores (1.0 = one core busy). */
  mastersCpuCores: number
  raftLeaderChanges: number
}

const ZONES = 10

function nodeObject(i: number): unknown {
  const name = `hollow-${String(i).padStart(5, '0')}`
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'topology.kubernetes.io/zone': `zone-${i % ZONES}` } },
    status: {
      capacity: { cpu: '4', memory: '32Gi', pods: '110' },
      allocatable: { cpu: '4', memory: '32Gi', pods: '110' },
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'hollow node' }],
    },
  }
}

function podObject(i: number, template: SchedulerCase['template']): unknown {
  const labels = { app: 'bench', color: i % 2 === 0 ? 'a' : 'b' }
  const spec: Record<string, unknown> = {
    containers: [{ name: 'pause', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: '100m', memory: '500Mi' } } }],
  }
  if (template === 'spread') {
    spec.topologySpreadConstraints = [
      { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'bench' } } },
      { maxSkew: 5, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { app: 'bench' } } },
    ]
  }
  if (template === 'anti-affinity') {
    spec.affinity = {
      podAntiAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { color: labels.color } } }],
      },
    }
  }
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: `pod-${String(i).padStart(6, '0')}`, labels }, spec }
}

async function createAll(client: RestClient, path: string, count: number, make: (i: number) => unknown): Promise<void> {
  const r = await closedLoop({
    concurrency: 32,
    seconds: 3600,
    maxOps: count,
    op: async (i) => {
      const res = await client.request('POST', path, JSON.stringify(make(i)))
      return res.status === 201 ? undefined : `HTTP ${res.status}: ${res.body.toString('utf8').slice(0, 200)}`
    },
  })
  if (r.errors > 0) throw new Error(`creating ${path}: ${r.errors} failed, first: ${r.firstError}`)
}

/** Parses one counter/histogram sample family from Prometheus text. */
function sampleValue(text: string, name: string, labels: Record<string, string>): number {
  let total = 0
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue
    total += Number(line.slice(line.lastIndexOf(' ') + 1))
  }
  return total
}

/** p99 of a Prometheus histogram from its cumulative buckets (linear inside the bucket, as histogram_quantile). */
function histogramP99(text: string, name: string, labels: Record<string, string>): number {
  const buckets: [number, number][] = []
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}_bucket{`)) continue
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue
    const le = /le="([^"]+)"/.exec(line)?.[1]
    if (le === undefined) continue
    buckets.push([le === '+Inf' ? Infinity : Number(le), Number(line.slice(line.lastIndexOf(' ') + 1))])
  }
  buckets.sort((a, b) => a[0] - b[0])
  const total = buckets.at(-1)?.[1] ?? 0
  if (total === 0) return 0
  const rank = 0.99 * total
  let prevLe = 0
  let prevCount = 0
  for (const [le, count] of buckets) {
    if (count >= rank) {
      if (le === Infinity) return prevLe
      return prevLe + ((le - prevLe) * (rank - prevCount)) / Math.max(1, count - prevCount)
    }
    prevLe = le
    prevCount = count
  }
  return prevLe
}

async function metricsText(url: string): Promise<string> {
  try {
    const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(2000) })
    return await res.text()
  } catch {
    return ''
  }
}

function median(xs: number[]): number {
  if (xs.length === 0) return 0
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

export async function runSchedulerCase(c: SchedulerCase, log: (line: string) => void, opts: { cpuProfile?: boolean } = {}): Promise<SchedulerCaseResult> {
  log(`${c.name}: starting 3 masters with the schedulers off`)
  const profDir = opts.cpuProfile === true ? mkdtempSync(join(tmpdir(), 'raftplane-bench-scheduler-prof-')) : undefined
  const target = await ApiTarget.start({
    kind: 'embedded',
    masters: 3,
    masterFlags: ['--no-scheduler', '--no-controller-manager'],
    log,
    ...(profDir === undefined ? {} : { nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${profDir}`] }),
  })
  let leaderPid: number | undefined
  try {
    const client = new RestClient(target.master.url)
    log(`  creating ${c.nodes} nodes and ${c.pods} pods`)
    await createAll(client, '/api/v1/nodes', c.nodes, nodeObject)
    await createAll(client, '/api/v1/namespaces/default/pods', c.pods, (i) => podObject(i, c.template))
    client.close()

    log('  restarting the masters with the schedulers on')
    // Progress is polled from the moment the masters are spawned: the scheduler starts
    // as soon as its master has won the Lease, before every /readyz answers.
    const samples: { at: number; scheduled: number }[] = []
    let leaderIdx = -1
    let rssBefore = 0
    let polling = true
    let spawnedAt = 0
    const poll = (async () => {
      while (polling) {
        const texts = await Promise.all(target.masters.map((m) => (m.alive ? metricsText(m.url) : Promise.resolve(''))))
        const counts = texts.map((t) => sampleValue(t, 'scheduler_schedule_attempts_total', { result: 'scheduled' }))
        const scheduled = counts.reduce((a, b) => a + b, 0)
        if (leaderIdx < 0) {
          const i = counts.findIndex((n) => n > 0)
          if (i >= 0) leaderIdx = i
          // Until the first binding the leader is unknown: the largest master is the "before".
          else rssBefore = Math.max(rssBefore, ...target.masters.map((m) => m.rssBytes()))
        }
        samples.push({ at: performance.now(), scheduled })
        if (scheduled >= c.pods) return
        await sleep(100)
      }
    })()
    const cpuBefore = target.masters.map(() => 0)
    spawnedAt = performance.now()
    const deadline = spawnedAt + Math.max(120_000, c.pods * 20)
    await target.restartMasters(['--no-controller-manager'])
    while (samples.at(-1) === undefined || samples.at(-1)!.scheduled < c.pods) {
      if (performance.now() > deadline) {
        polling = false
        throw new Error(`only ${samples.at(-1)?.scheduled ?? 0} of ${c.pods} pods scheduled after ${Math.round((performance.now() - spawnedAt) / 1000)} s`)
      }
      await sleep(100)
    }
    polling = false
    await poll
    const leader = target.masters[leaderIdx]!
    leaderPid = leader.child?.pid
    const leaderText = await metricsText(leader.url)
    const cpuAfter = target.masters.map((m) => m.cpuMs())
    // The run starts at the last sample that saw nothing scheduled.
    const firstIdx = Math.max(0, samples.findIndex((s) => s.scheduled > 0) - 1)
    const start = samples[firstIdx]!
    const end = samples.at(-1)!
    const seconds = (end.at - start.at) / 1000
    // Throughput per 1-second window, interpolated between samples.
    const countAt = (t: number): number => {
      for (let i = 1; i < samples.length; i++) {
        const a = samples[i - 1]!
        const b = samples[i]!
        if (t <= b.at) return a.scheduled + ((b.scheduled - a.scheduled) * (t - a.at)) / Math.max(1, b.at - a.at)
      }
      return end.scheduled
    }
    const windows: number[] = []
    for (let t = start.at; t + 1000 <= end.at; t += 1000) windows.push(countAt(t + 1000) - countAt(t))
    const verify = new RestClient(leader.url)
    const list = await verify.json('GET', '/api/v1/namespaces/default/pods')
    verify.close()
    const bound = (list.items as { spec?: { nodeName?: string } }[]).filter((p) => (p.spec?.nodeName ?? '') !== '').length
    const changesAfter = (await target.leaderChangesSeen()).reduce((a, b) => a + Math.max(0, b), 0)
    const cpuMs = cpuAfter.reduce((a, b) => a + b, 0) - cpuBefore.reduce((a, b) => a + b, 0)
    return {
      name: c.name,
      nodes: c.nodes,
      pods: c.pods,
      bound,
      seconds,
      podsPerSecond: c.pods / Math.max(seconds, 0.001),
      p50WindowPodsPerSecond: windows.length > 0 ? median(windows) : c.pods / Math.max(seconds, 0.001),
      attemptP99Ms: histogramP99(leaderText, 'scheduler_scheduling_attempt_duration_seconds', { result: 'scheduled' }) * 1000,
      leader: leader.name,
      leaderRssBeforeMiB: rssBefore / 2 ** 20,
      leaderRssAfterMiB: leader.rssBytes() / 2 ** 20,
      mastersCpuCores: cpuMs / Math.max(1, end.at - spawnedAt),
      // Counters start again with the restarted processes, where each member saw the first election once.
      raftLeaderChanges: Math.max(0, changesAfter - target.masters.length),
    }
  } finally {
    await target.stop()
    if (profDir !== undefined) {
      const file = (await readdir(profDir)).find((f) => leaderPid !== undefined && f.includes(`.${leaderPid}.`) && f.endsWith('.cpuprofile'))
      if (file !== undefined) {
        log(formatProfile(await summarizeProfile(join(profDir, file), 30)))
        log(`  CPU profile of the scheduling leader: ${join(profDir, file)}`)
      } else log(`  no CPU profile of the leader (pid ${leaderPid}) in ${profDir}`)
    }
  }
}

export function formatSchedulerBench(results: SchedulerCaseResult[]): string {
  const head = '| case | bound | pods/s (avg) | pods/s (p50 of 1 s windows) | attempt p99 | leader RSS before → after | masters CPU | raft leader changes |'
  const sep = '|---|---:|---:|---:|---:|---:|---:|---:|'
  const rows = results.map(
    (r) =>
      `| ${r.name} | ${r.bound}/${r.pods} | ${r.podsPerSecond.toFixed(0)} | ${r.p50WindowPodsPerSecond.toFixed(0)} | ${r.attemptP99Ms.toFixed(0)} ms | ${r.leaderRssBeforeMiB.toFixed(0)} → ${r.leaderRssAfterMiB.toFixed(0)} MiB | ${r.mastersCpuCores.toFixed(2)} | ${r.raftLeaderChanges} |`,
  )
  return [head, sep, ...rows].join('\n')
}
