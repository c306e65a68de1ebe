// `raftplane status [--data DIR] [-o json]`: what the cluster `raftplane up` made in
// DIR looks like right now — each master's apiserver and store member (up, ready,
// raft leader), who holds the kube-scheduler and kube-controller-manager Leases, and
// the nodes with their Ready condition. Parts that are down are reported as down; the
// command fails only when DIR holds no cluster.
import { resolve } from 'node:path'
import { type Command, Option } from 'commander'
import { adminGet, type ClusterLayout, type ClusterPki, HOST, loadCluster, readyz } from '../cluster-access.js'

export interface MasterStatus {
  name: string
  apiserver: string
  apiserverReady: boolean
  store: string
  storeUp: boolean
  raftLeader: boolean
  roles: string[]
}

export interface NodeStatus {
  name: string
  ready: string
  internalIP: string
  version: string
}

export interface ClusterStatus {
  data: string
  masters: MasterStatus[]
  leases: Record<string, string | null>
  nodes: NodeStatus[]
}

const LOOPS = ['kube-scheduler', 'kube-controller-manager']

/** The store member's answer to /metrics: undefined when it does not answer. */
async function storeMetrics(clientPort: number): Promise<string | undefined> {
  try {
    const res = await fetch(`http://${HOST}:${clientPort}/metrics`, { signal: AbortSignal.timeout(2000) })
    return res.ok ? await res.text() : undefined
  } catch {
    return undefined
  }
}

export async function clusterStatus(dataDir: string, layout: ClusterLayout, pki: ClusterPki): Promise<ClusterStatus> {
  const masters = await Promise.all(
    layout.masters.map(async (m): Promise<MasterStatus> => {
      const [ready, metrics] = await Promise.all([readyz(m.apiserverPort, pki.ca.certPem), storeMetrics(m.clientPort)])
      return {
        name: m.name,
        apiserver: `https://${HOST}:${m.apiserverPort}`,
        apiserverReady: ready,
        store: `http://${HOST}:${m.clientPort}`,
        storeUp: metrics !== undefined,
        raftLeader: metrics !== undefined && /^etcd_server_is_leader 1$/m.test(metrics),
        roles: [],
      }
    }),
  )
  const leases: Record<string, string | null> = Object.fromEntries(LOOPS.map((l) => [l, null]))
  let nodes: NodeStatus[] = []
  const asked = layout.masters.find((_, i) => masters[i]!.apiserverReady)
  if (asked !== undefined) {
    for (const loop of LOOPS) {
      const lease = await adminGet(asked.apiserverPort, pki, `/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/${loop}`)
      const holder = (lease?.spec as { holderIdentity?: string } | undefined)?.holderIdentity
      leases[loop] = holder ? holder : null
    }
    const list = await adminGet(asked.apiserverPort, pki, '/api/v1/nodes')
    nodes = ((list?.items ?? []) as { metadata?: { name?: string }; status?: { conditions?: { type: string; status: string }[]; addresses?: { type: string; address: string }[]; nodeInfo?: { kubeletVersion?: string } } }[]).map(
      (n) => ({
        name: n.metadata?.name ?? '',
        ready: n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? 'Ready' : 'NotReady',
        internalIP: n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '',
        version: n.status?.nodeInfo?.kubeletVersion ?? '',
      }),
    )
  }
  for (const m of masters) {
    if (m.raftLeader) m.roles.push('raft leader')
    for (const loop of LOOPS) if (leases[loop]?.startsWith(`${m.name}_`)) m.roles.push(`${loop} leader`)
  }
  return { data: dataDir, masters, leases, nodes }
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('').trimEnd()).join('\n')
}

export function formatStatus(s: ClusterStatus): string {
  const masters = table([
    ['MASTER', 'APISERVER', 'STORE', 'ROLES'],
    ...s.masters.map((m) => [m.name, m.apiserverReady ? 'ready' : 'down', m.storeUp ? (m.raftLeader ? 'leader' : 'follower') : 'down', m.roles.join(', ') || '-']),
  ])
  const nodes = s.nodes.length === 0 ? '(no nodes)' : table([['NODE', 'STATUS', 'INTERNAL-IP', 'VERSION'], ...s.nodes.map((n) => [n.name, n.ready, n.internalIP, n.version])])
  const leases = LOOPS.map((l) => `${l}: ${s.leases[l] ?? '(no holder)'}`).join('\n')
  return `${masters}\n\n${nodes}\n\n${leases}\n`
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('show the masters, leaders and nodes of the cluster `raftplane up` runs from a data dir')
    .option('--data <dir>', 'the cluster\'s data dir', './data')
    .addOption(new Option('-o, --output <format>', 'text or json').choices(['text', 'json']).default('text'))
    .action(async (f: { data: string; output: 'text' | 'json' }) => {
      const dataDir = resolve(f.data)
      let cluster: Awaited<ReturnType<typeof loadCluster>>
      try {
        cluster = await loadCluster(dataDir)
      } catch (err) {
        console.error(`raftplane status: ${(err as Error).message}`)
        process.exitCode = 1
        return
      }
      const s = await clusterStatus(dataDir, cluster.layout, cluster.pki)
      process.stdout.write(f.output === 'json' ? JSON.stringify(s, null, 2) + '\n' : formatStatus(s))
    })
}
