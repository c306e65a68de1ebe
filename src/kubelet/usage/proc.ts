// Usage of real processes, read from /proc (Linux), for the process runtime: a
// container is a group of pids (its main process; its descendants are found and
// counted too), the node is the whole machine.
//
// - CPU time of a group: utime + stime + cutime + cstime of every live member (a reaped
//   child's time is in its parent's cutime/cstime, so it is counted once). A child
//   that exits without a member reaping it takes its time away: the counter goes back
//   and the rate math (./rates.ts) skips that window.
// - Working set: the sum of the members' VmRSS (cgroups would give usage minus
//   inactive file pages; without a cgroup per container, resident memory is closest).
// - Start: the earliest start of the given pids.
// - The node: non-idle CPU time of /proc/stat, MemTotal − MemAvailable of
//   /proc/meminfo, started at the boot time.
//
// Wiring (the lead): new ProcUsageSource({ pidsOf: (podUid, container) => runtime.pidsOf(podUid, container) }).
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { PodContainers, PodUsagePoints, UsagePoint, UsageSnapshot, UsageSource } from './types.js'

export interface ProcOptions {
  /** Default /proc. */
  procRoot?: string
  /** USER_HZ, the unit of /proc CPU times; 100 on every Linux architecture Node runs on. */
  clockTicksPerSecond?: number
}

interface ProcStat {
  pid: number
  ppid: number
  /** utime + stime + cutime + cstime, in clock ticks. */
  cpuTicks: number
  /** Clock ticks after boot. */
  startTicks: number
}

/** /proc/<pid>/stat: the fields after the command name (which may hold spaces and parentheses). */
export function parseProcStat(pid: number, text: string): ProcStat | undefined {
  const close = text.lastIndexOf(')')
  if (close < 0) return undefined
  const f = text.slice(close + 2).trim().split(/\s+/)
  // f[0] is field 3 (state): field n is f[n - 3].
  const num = (n: number): number => Number(f[n - 3])
  const stat = { pid, ppid: num(4), cpuTicks: num(14) + num(15) + num(16) + num(17), startTicks: num(22) }
  return Object.values(stat).every(Number.isFinite) ? stat : undefined
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch {
    // The process ended between listing and reading: it is simply gone.
    return undefined
  }
}

/** Boot time (ms since the epoch) and the machine's non-idle CPU ticks, from /proc/stat. */
export function parseSystemStat(text: string): { bootTimeMs: number; busyTicks: number } {
  let bootTimeMs = 0
  let busyTicks = 0
  for (const line of text.split('\n')) {
    if (line.startsWith('cpu ')) {
      // user nice system idle iowait irq softirq steal (guest time is already in user).
      const v = line.trim().split(/\s+/).slice(1).map(Number)
      busyTicks = (v[0] ?? 0) + (v[1] ?? 0) + (v[2] ?? 0) + (v[5] ?? 0) + (v[6] ?? 0) + (v[7] ?? 0)
    } else if (line.startsWith('btime ')) {
      bootTimeMs = Number(line.split(/\s+/)[1]) * 1000
    }
  }
  return { bootTimeMs, busyTicks }
}

/** MemTotal − MemAvailable, in bytes, from /proc/meminfo. */
export function parseMemInfo(text: string): number {
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0)
  return Math.max(0, kb('MemTotal') - kb('MemAvailable')) * 1024
}

/** VmRSS of /proc/<pid>/status, in bytes (0 for kernel threads and zombies). */
export function parseRss(text: string): number {
  return Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(text)?.[1] ?? 0) * 1024
}

/** Every process now, by pid. */
async function processTable(root: string): Promise<Map<number, ProcStat>> {
  const out = new Map<number, ProcStat>()
  const names = await readdir(root)
  await Promise.all(
    names
      .filter((n) => /^\d+$/.test(n))
      .map(async (n) => {
        const text = await readText(join(root, n, 'stat'))
        const st = text === undefined ? undefined : parseProcStat(Number(n), text)
        if (st !== undefined) out.set(st.pid, st)
      }),
  )
  return out
}

/** `pids` and all their descendants that are alive in `table`. */
export function processGroup(pids: readonly number[], table: ReadonlyMap<number, { ppid: number }>): number[] {
  const children = new Map<number, number[]>()
  for (const [pid, st] of table) {
    const list = children.get(st.ppid)
    if (list === undefined) children.set(st.ppid, [pid])
    else list.push(pid)
  }
  const out = new Set<number>()
  const stack = pids.filter((p) => table.has(p))
  while (stack.length > 0) {
    const p = stack.pop()!
    if (out.has(p)) continue
    out.add(p)
    for (const c of children.get(p) ?? []) stack.push(c)
  }
  return [...out]
}

class ProcReader {
  readonly root: string
  readonly nsPerTick: number
  private bootTimeMs: number | undefined

  constructor(o: ProcOptions) {
    this.root = o.procRoot ?? '/proc'
    this.nsPerTick = 1e9 / (o.clockTicksPerSecond ?? 100)
  }

  async node(): Promise<UsagePoint> {
    const [stat, mem] = await Promise.all([readFile(join(this.root, 'stat'), 'utf8'), readFile(join(this.root, 'meminfo'), 'utf8')])
    const s = parseSystemStat(stat)
    this.bootTimeMs = s.bootTimeMs
    return { startTimeMs: s.bootTimeMs, usageCoreNanoSeconds: s.busyTicks * this.nsPerTick, workingSetBytes: parseMemInfo(mem) }
  }

  async group(pids: readonly number[], table: ReadonlyMap<number, ProcStat>): Promise<UsagePoint | undefined> {
    const roots = pids.map((p) => table.get(p)).filter((s): s is ProcStat => s !== undefined)
    if (roots.length === 0) return undefined
    if (this.bootTimeMs === undefined) await this.node()
    const members = processGroup(pids, table)
    const rss = await Promise.all(members.map(async (p) => parseRss((await readText(join(this.root, String(p), 'status'))) ?? '')))
    const ticks = members.reduce((sum, p) => sum + (table.get(p)?.cpuTicks ?? 0), 0)
    const startTicks = Math.min(...roots.map((r) => r.startTicks))
    return {
      startTimeMs: Math.round(this.bootTimeMs! + (startTicks * this.nsPerTick) / 1e6),
      usageCoreNanoSeconds: ticks * this.nsPerTick,
      workingSetBytes: rss.reduce((a, b) => a + b, 0),
    }
  }

  table(): Promise<Map<number, ProcStat>> {
    return processTable(this.root)
  }
}

/** The usage counters of one group of processes (and their descendants) now; undefined when none is alive. */
export async function readProcessUsage(pids: readonly number[], o: ProcOptions = {}): Promise<UsagePoint | undefined> {
  const reader = new ProcReader(o)
  return reader.group(pids, await reader.table())
}

/** The machine's usage counters now. */
export function readNodeUsage(o: ProcOptions = {}): Promise<UsagePoint> {
  return new ProcReader(o).node()
}

export interface ProcUsageSourceOptions extends ProcOptions {
  /** The pids of a running container (its main process at least); undefined or empty: not running. */
  pidsOf(podUid: string, container: string): readonly number[] | undefined
  /** Wall clock, ms (tests). */
  now?: () => number
}

export class ProcUsageSource implements UsageSource {
  private readonly reader: ProcReader
  private readonly now: () => number

  constructor(private readonly o: ProcUsageSourceOptions) {
    this.reader = new ProcReader(o)
    this.now = o.now ?? Date.now
  }

  async snapshot(pods: readonly PodContainers[]): Promise<UsageSnapshot> {
    const timestampMs = this.now()
    // One scan of /proc per snapshot serves every container's process tree.
    const [node, table] = await Promise.all([this.reader.node(), this.reader.table()])
    const out: PodUsagePoints[] = []
    for (const { pod, containers } of pods) {
      const uid = String(pod.metadata?.uid ?? '')
      const points: PodUsagePoints['containers'] = []
      for (const record of containers) {
        if (record.state !== 'running') continue
        const pids = this.o.pidsOf(uid, record.name)
        if (pids === undefined || pids.length === 0) continue
        const p = await this.reader.group(pids, table)
        if (p !== undefined) points.push({ name: record.name, ...p })
      }
      if (points.length > 0) out.push({ namespace: String(pod.metadata?.namespace ?? ''), name: String(pod.metadata?.name ?? ''), uid, containers: points })
    }
    return { timestampMs, node, pods: out }
  }
}
