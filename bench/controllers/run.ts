// `raftplane bench controllers`: Deployments rolled out end to end on 3 masters and
// hollow nodes, the shape issue 7 asks for (100 Deployments × 50 replicas on 1,000
// hollow nodes). Everything is on: every master campaigns for the scheduler and the
// controller-manager; the hollow kubelets run in one child process
// (`raftplane node --runtime hollow --hollow-nodes N`), so their CPU is theirs, not the
// bench's. The clock starts at the first Deployment create and stops when every
// Deployment reports all replicas available; a final LIST confirms every pod is
// Running and Ready. The controller-manager lives in the master that holds its Lease:
// that process's RSS and CPU are reported (it also serves its store member and
// apiserver, as on a real master).
import { type ChildProcess, spawn } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import { ApiTarget, type MasterProcess } from '../apiserver/cluster.js'
import { closedLoop, RestClient } from '../apiserver/rest.js'
import { procSample } from '../kv/cluster.js'

export interface ControllersCase {
  name: string
  nodes: number
  deployments: number
  replicas: number
}

export const FULL_CASES: ControllersCase[] = [{ name: '100 Deployments × 50 replicas on 1,000 hollow nodes', nodes: 1000, deployments: 100, replicas: 50 }]
export const QUICK_CASES: ControllersCase[] = [{ name: '10 Deployments × 20 replicas on 50 hollow nodes', nodes: 50, deployments: 10, replicas: 20 }]

export interface ControllersCaseResult {
  name: string
  nodes: number
  deployments: number
  replicas: number
  pods: number
  /** Pods Running and Ready at the end (must equal pods). */
  ready: number
  seconds: number
  podsPerSecond: number
  /** From the first create until the first Deployment had all its replicas available. */
  firstAvailableSeconds: number
  controllerManagerMaster: string
  /** The controller-manager leader master's RSS when the run started and at the end. */
  leaderRssBeforeMiB: number
  leaderRssAfterMiB: number
  /** CPU of the controller-manager leader master during the run, in cores. */
  leaderCpuCores: number
  /** CPU of all 3 masters during the run, in cores. */
  mastersCpuCores: number
  /** CPU of the hollow node process during the run, in cores. */
  nodesCpuCores: number
}


function deploymentObject(i: number, replicas: number): unknown {
  const name = `bench-${String(i).padStart(3, '0')}`
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'pause', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
      },
    },
  }
}

async function holder(client: RestClient): Promise<string | undefined> {
  try {
    const lease = await client.json('GET', '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-controller-manager')
    const h = (lease.spec as { holderIdentity?: string } | undefined)?.holderIdentity
    return h === undefined || h === '' ? undefined : h
  } catch {
    return undefined
  }
}

/** Starts the hollow nodes; resolves once all N Nodes are Ready. */
async function startNodes(c: ControllersCase, target: ApiTarget, client: RestClient, log: (line: string) => void): Promise<ChildProcess> {
  // This same CLI (compiled, or from source through tsx), as `raftplane up` runs its parts.
  // No usage reports (--resource-usage-interval 0): nothing here reads them, and 1,000
  // nodes reporting every 15 s would add ~67 store writes/s the controllers do not cause.
  const args = [
    ...process.execArgv, process.argv[1]!, 'node', '--name', 'hollow', '--runtime', 'hollow', '--hollow-nodes', String(c.nodes), '--insecure',
    '--apiservers', target.masters.map((m) => m.nodeEndpoint).join(','), '--no-events', '--resource-usage-interval', '0', '--log-level', 'warn', '--cpu', '32', '--memory', '64Gi',
  ]
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)))
  const deadline = Date.now() + Math.max(120_000, c.nodes * 200)
  for (;;) {
    if (child.exitCode !== null) throw new Error(`hollow nodes exited ${child.exitCode}: ${stderr}`)
    const list = await client.json('GET', '/api/v1/nodes').catch(() => ({ items: [] }))
    const ready = (list.items as { status?: { conditions?: { type: string; status: string }[] } }[]).filter((n) => n.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True')).length
    if (ready >= c.nodes) {
      log(`  ${ready} hollow nodes Ready`)
      return child
    }
    if (Date.now() > deadline) throw new Error(`only ${ready} of ${c.nodes} hollow nodes Ready: ${stderr}`)
    await sleep(1000)
  }
}

export async function runControllersCase(c: ControllersCase, log: (line: string) => void): Promise<ControllersCaseResult> {
  log(`${c.name}: starting 3 masters with the scheduler and controller-manager on`)
  const target = await ApiTarget.start({ kind: 'embedded', masters: 3, masterFlags: [], log })
  let nodes: ChildProcess | undefined
  const client = new RestClient(target.master.url)
  try {
    nodes = await startNodes(c, target, client, log)
    const identity = await (async () => {
      for (let i = 0; i < 300; i++) {
        const h = await holder(client)
        if (h !== undefined) return h
        await sleep(200)
      }
      throw new Error('no kube-controller-manager Lease holder after 60 s')
    })()
    const leader: MasterProcess = target.masters.find((m) => identity.startsWith(`${m.name}_`))!
    const pods = c.deployments * c.replicas
    const rssBefore = leader.rssBytes()
    const leaderCpuBefore = leader.cpuMs()
    const mastersCpuBefore = target.masters.reduce((a, m) => a + m.cpuMs(), 0)
    const nodesCpuBefore = procSample(nodes.pid).cpuMs
    log(`  creating ${c.deployments} Deployments × ${c.replicas} replicas (${pods} pods); controller-manager on ${leader.name}`)
    const start = performance.now()
    const created = await closedLoop({
      concurrency: 8,
      seconds: 600,
      maxOps: c.deployments,
      op: async (i) => {
        const res = await client.request('POST', '/apis/apps/v1/namespaces/default/deployments', JSON.stringify(deploymentObject(i, c.replicas)))
        return res.status === 201 ? undefined : `HTTP ${res.status}: ${res.body.toString('utf8').slice(0, 200)}`
      },
    })
    if (created.errors > 0) throw new Error(`creating Deployments: ${created.errors} failed, first: ${created.firstError}`)
    const samples: { at: number; available: number }[] = [{ at: start, available: 0 }]
    let firstAvailableAt: number | undefined
    const deadline = start + Math.max(300_000, pods * 100)
    let lastLog = start
    for (;;) {
      const list = await client.json('GET', '/apis/apps/v1/namespaces/default/deployments').catch(() => undefined)
      if (list !== undefined) {
        const items = list.items as { status?: { availableReplicas?: number } }[]
        const available = items.reduce((a, d) => a + (d.status?.availableReplicas ?? 0), 0)
        const now = performance.now()
        if (firstAvailableAt === undefined && items.some((d) => (d.status?.availableReplicas ?? 0) >= c.replicas)) firstAvailableAt = now
        samples.push({ at: now, available })
        if (now - lastLog > 10_000) {
          log(`  ${available}/${pods} available after ${((now - start) / 1000).toFixed(0)} s`)
          lastLog = now
        }
        if (items.length === c.deployments && available >= pods) break
      }
      if (performance.now() > deadline) throw new Error(`only ${samples.at(-1)!.available} of ${pods} replicas available after ${Math.round((performance.now() - start) / 1000)} s`)
      await sleep(250)
    }
    const end = samples.at(-1)!
    const seconds = (end.at - start) / 1000
    const leaderCpuMs = leader.cpuMs() - leaderCpuBefore
    const mastersCpuMs = target.masters.reduce((a, m) => a + m.cpuMs(), 0) - mastersCpuBefore
    const nodesCpuMs = procSample(nodes.pid).cpuMs - nodesCpuBefore
    const rssAfter = leader.rssBytes()
    const podList = await client.json('GET', '/api/v1/namespaces/default/pods')
    const ready = (podList.items as { status?: { phase?: string; conditions?: { type: string; status: string }[] } }[]).filter(
      (p) => p.status?.phase === 'Running' && p.status.conditions?.some((x) => x.type === 'Ready' && x.status === 'True'),
    ).length
    const wall = end.at - start
    return {
      name: c.name,
      nodes: c.nodes,
      deployments: c.deployments,
      replicas: c.replicas,
      pods,
      ready,
      seconds,
      podsPerSecond: pods / Math.max(seconds, 0.001),
      firstAvailableSeconds: ((firstAvailableAt ?? end.at) - start) / 1000,
      controllerManagerMaster: leader.name,
      leaderRssBeforeMiB: rssBefore / 2 ** 20,
      leaderRssAfterMiB: rssAfter / 2 ** 20,
      leaderCpuCores: leaderCpuMs / wall,
      mastersCpuCores: mastersCpuMs / wall,
      nodesCpuCores: nodesCpuMs / wall,
    }
  } finally {
    client.close()
    if (nodes !== undefined && nodes.exitCode === null) {
      const exited = new Promise((r) => nodes!.once('exit', r))
      nodes.kill('SIGTERM')
      const timer = setTimeout(() => nodes!.kill('SIGKILL'), 20_000)
      await exited
      clearTimeout(timer)
    }
    await target.stop()
  }
}

export function formatControllersBench(results: ControllersCaseResult[]): string {
  const head = '| case | Running+Ready | seconds | pods/s | first Deployment available after | controller-manager master RSS before → after | its CPU | masters CPU | hollow nodes CPU |'
  const sep = '|---|---:|---:|---:|---:|---:|---:|---:|---:|'
  const rows = results.map(
    (r) =>
      `| ${r.name} | ${r.ready}/${r.pods} | ${r.seconds.toFixed(1)} | ${r.podsPerSecond.toFixed(0)} | ${r.firstAvailableSeconds.toFixed(1)} s | ${r.leaderRssBeforeMiB.toFixed(0)} → ${r.leaderRssAfterMiB.toFixed(0)} MiB | ${r.leaderCpuCores.toFixed(2)} | ${r.mastersCpuCores.toFixed(2)} | ${r.nodesCpuCores.toFixed(2)} |`,
  )
  return [head, sep, ...rows].join('\n')
}
