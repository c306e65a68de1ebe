// The kubelet side's arithmetic: rates from cumulative counters (fresh containers,
// restarts, counters going back, partial pods), the hollow source's annotations and
// integration, and the /proc parsers (plus one real read of this process).
import t from 'tap'
import type { KubeObject } from '../../src/client/index.js'
import { hollowContainerUsage, HollowUsageSource, rateBetween, readNodeUsage, readProcessUsage, usageReport } from '../../src/kubelet/usage/index.js'
import { parseMemInfo, parseProcStat, parseRss, parseSystemStat, processGroup } from '../../src/kubelet/usage/proc.js'
import type { UsageSnapshot } from '../../src/kubelet/usage/types.js'
import type { ContainerRecord } from '../../src/kubelet/runtime/types.js'

const O = { minWindowMs: 1000, maxWindowMs: 31_000 }

t.test('rateBetween: the CPU time between two points of one instance over the time between them', async (t) => {
  // Running for long (started 100 s before): the previous point is the only way to a rate.
  const prev = { timestampMs: 10_000, startTimeMs: -100_000, usageCoreNanoSeconds: 5e9, workingSetBytes: 1 }
  const cur = { timestampMs: 25_000, startTimeMs: -100_000, usageCoreNanoSeconds: 5e9 + 3.75e9, workingSetBytes: 4096 }
  t.same(rateBetween(prev, cur, O), { usage: { cpuNanoCores: 250_000_000, memoryWorkingSetBytes: 4096 }, windowMs: 15_000 })
  // A restart (another start time): from the new start, when it ran long enough.
  const restarted = { timestampMs: 25_000, startTimeMs: 20_000, usageCoreNanoSeconds: 0.5e9, workingSetBytes: 10 }
  t.same(rateBetween(prev, restarted, O), { usage: { cpuNanoCores: 100_000_000, memoryWorkingSetBytes: 10 }, windowMs: 5000 })
  t.equal(rateBetween(prev, { ...restarted, startTimeMs: 24_500 }, O), undefined, 'ran 500 ms: too short a window')
  // A counter that went back (a child not reaped): that window has no rate.
  t.equal(rateBetween(prev, { ...cur, usageCoreNanoSeconds: 1e9 }, O), undefined)
  // No earlier point: from the start, but not a lifetime average of an old container.
  t.same(rateBetween(undefined, { timestampMs: 12_000, startTimeMs: 2000, usageCoreNanoSeconds: 1e9, workingSetBytes: 0 }, O)?.usage.cpuNanoCores, 100_000_000)
  t.equal(rateBetween(undefined, { timestampMs: 100_000, startTimeMs: 0, usageCoreNanoSeconds: 1e9, workingSetBytes: 0 }, O), undefined)
  t.equal(rateBetween({ ...cur }, cur, O), undefined, 'no time between the points')
})

t.test('usageReport: node and pods over the window; a pod only when every running container has usage', async (t) => {
  const node = (cpu: number) => ({ startTimeMs: 0, usageCoreNanoSeconds: cpu, workingSetBytes: 1 << 30 })
  const c = (name: string, start: number, cpu: number, mem = 1024) => ({ name, startTimeMs: start, usageCoreNanoSeconds: cpu, workingSetBytes: mem })
  const prev: UsageSnapshot = {
    timestampMs: 15_000,
    node: node(15e9),
    pods: [{ namespace: 'default', name: 'a', uid: 'ua', containers: [c('main', 0, 3e9), c('side', 0, 0)] }],
  }
  const cur: UsageSnapshot = {
    timestampMs: 30_000,
    node: node(30e9),
    pods: [
      { namespace: 'default', name: 'a', uid: 'ua', containers: [c('main', 0, 6e9), c('side', 0, 0.15e9)] },
      // Started 10 s ago: from its start.
      { namespace: 'default', name: 'b', uid: 'ub', containers: [c('main', 20_000, 5e9)] },
      // One container started 200 ms ago: no usage yet, so the pod is left out.
      { namespace: 'default', name: 'c', uid: 'uc', containers: [c('main', 20_000, 1e9), c('late', 29_800, 0)] },
      // Re-created under the same name (another uid): its own history.
      { namespace: 'default', name: 'd', uid: 'ud2', containers: [c('main', 28_000, 0.2e9)] },
    ],
  }
  const r = usageReport('n1', 15_000, prev, cur, O)!
  t.same(r.node, { cpuNanoCores: 1e9, memoryWorkingSetBytes: 1 << 30 })
  t.equal(r.windowMs, 15_000)
  t.equal(r.timestampMs, 30_000)
  t.equal(r.intervalMs, 15_000)
  t.same(
    r.pods.map((p) => [p.name, p.windowMs, p.containers.map((x) => [x.name, x.usage.cpuNanoCores])]),
    [
      ['a', 15_000, [['main', 200_000_000], ['side', 10_000_000]]],
      ['b', 10_000, [['main', 500_000_000]]],
      ['d', 2000, [['main', 100_000_000]]],
    ],
  )
  t.equal(usageReport('n1', 15_000, undefined, { ...cur, node: { ...cur.node, startTimeMs: 29_900 } }, O), undefined, 'no node usage yet: no report')
})

function pod(name: string, annotations: Record<string, string> = {}): KubeObject {
  return { metadata: { namespace: 'default', name, uid: `uid-${name}`, annotations } }
}

function running(name: string, startedAt: number, id = `hollow://${name}`): ContainerRecord {
  return { name, containerID: id, image: 'x', imageID: 'x', restartCount: 0, state: 'running', startedAt: new Date(startedAt) }
}

t.test('hollow annotations: pod-wide value, per-container value wins, bad values fall back to the default', async (t) => {
  const p = pod('web', { 'hollow.raftplane.io/cpu-usage': '250m', 'hollow.raftplane.io/memory-usage': '64Mi', 'hollow.raftplane.io/cpu-usage.side': '0.01', 'hollow.raftplane.io/memory-usage.bad': '-1Mi' })
  t.same(hollowContainerUsage(p, 'main'), { cpuNanoCores: 250_000_000, memoryBytes: 64 * 1024 * 1024 })
  t.same(hollowContainerUsage(p, 'side'), { cpuNanoCores: 10_000_000, memoryBytes: 64 * 1024 * 1024 })
  const problems: string[] = []
  t.same(hollowContainerUsage(p, 'bad', undefined, (x) => problems.push(x.annotation)), { cpuNanoCores: 250_000_000, memoryBytes: 64 * 1024 * 1024 }, 'the pod-wide value after a bad per-container one')
  t.same(problems, ['hollow.raftplane.io/memory-usage.bad'])
  t.same(hollowContainerUsage(pod('plain'), 'c'), { cpuNanoCores: 1_000_000, memoryBytes: 4 * 1024 * 1024 }, 'defaults: 1m, 4Mi')
  t.same(hollowContainerUsage(pod('x', { 'hollow.raftplane.io/cpu-usage': 'lots' }), 'c').cpuNanoCores, 1_000_000)
  t.throws(() => new HollowUsageSource({ nodeBase: { cpu: 'x', memory: '1Mi' } }), /nodeBase.cpu/)
})

t.test('HollowUsageSource: counters integrate the annotated rates; the node is its base plus its containers', async (t) => {
  let now = 100_000
  const src = new HollowUsageSource({ now: () => now })
  const p = pod('web', { 'hollow.raftplane.io/cpu-usage': '500m', 'hollow.raftplane.io/memory-usage': '100Mi' })
  const first = src.snapshot([{ pod: p, containers: [running('c', 90_000), { ...running('gone', 0), state: 'exited' }] }])
  t.equal(first.pods.length, 1)
  t.same(first.pods[0]!.containers.map((c) => c.name), ['c'], 'only running containers')
  t.equal(first.pods[0]!.containers[0]!.usageCoreNanoSeconds, 5e9, '0.5 cores since its start 10 s ago')
  now += 15_000
  const second = src.snapshot([{ pod: p, containers: [running('c', 90_000)] }])
  const r = usageReport('n', 15_000, first, second, O)!
  t.equal(r.pods[0]!.containers[0]!.usage.cpuNanoCores, 500_000_000)
  t.equal(r.pods[0]!.containers[0]!.usage.memoryWorkingSetBytes, 100 * 1024 * 1024)
  t.equal(r.node.cpuNanoCores, 550_000_000, 'base 50m + 500m')
  t.equal(r.node.memoryWorkingSetBytes, (256 + 100) * 1024 * 1024)
  // A restarted container (new containerID) starts its counter again.
  now += 15_000
  const third = src.snapshot([{ pod: p, containers: [running('c', now - 5000, 'hollow://again')] }])
  t.equal(third.pods[0]!.containers[0]!.usageCoreNanoSeconds, 2.5e9)
  t.equal(usageReport('n', 15_000, second, third, O)!.pods[0]!.windowMs, 5000)
})

t.test('/proc parsers', async (t) => {
  const stat = '4242 (my (odd) cmd) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 10 5 20 0 1 0 12345 1000 100 18446744073709551615'
  t.same(parseProcStat(4242, stat), { pid: 4242, ppid: 1, cpuTicks: 315, startTicks: 12345 })
  t.equal(parseProcStat(1, 'garbage'), undefined)
  t.same(parseSystemStat('cpu  100 5 50 1000 7 3 2 1 0 0\ncpu0 1 2 3\nbtime 1700000000\n'), { bootTimeMs: 1_700_000_000_000, busyTicks: 161 })
  t.equal(parseMemInfo('MemTotal:       16000 kB\nMemFree: 1 kB\nMemAvailable:    6000 kB\n'), 10000 * 1024)
  t.equal(parseRss('Name:\tx\nVmRSS:\t    2048 kB\n'), 2048 * 1024)
  t.equal(parseRss('Name:\tkthreadd\n'), 0)
  const table = new Map([[1, { ppid: 0 }], [10, { ppid: 1 }], [11, { ppid: 10 }], [12, { ppid: 11 }], [20, { ppid: 1 }]])
  t.same(processGroup([10, 99], table).sort((a, b) => a - b), [10, 11, 12], 'descendants included, dead pids skipped')
})

t.test('/proc: this process and the machine', { skip: process.platform !== 'linux' && 'Linux only' }, async (t) => {
  const self = await readProcessUsage([process.pid])
  t.ok(self !== undefined && self.workingSetBytes > 1024 * 1024, 'resident memory')
  t.ok(self!.usageCoreNanoSeconds > 0, 'CPU time')
  t.ok(Math.abs(self!.startTimeMs - (Date.now() - process.uptime() * 1000)) < 5000, 'start time near process start')
  const node = await readNodeUsage()
  t.ok(node.workingSetBytes > 0 && node.usageCoreNanoSeconds > 0 && node.startTimeMs < Date.now())
  t.equal(await readProcessUsage([2 ** 30]), undefined, 'no such process')
})
