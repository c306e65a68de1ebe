// Talking to a cluster made by `raftplane up`, from this machine: its layout
// (DATA/cluster.json), its CA and admin certificate (DATA/pki), and the few questions
// `up` and `status` ask — is an apiserver ready, is a store member the raft leader,
// who holds the leader-only loops' Leases, is a Node Ready.
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { get as httpsGet, request as httpsRequest } from 'node:https'
import { join } from 'node:path'
import type { KeyPair } from '../certs/pki.js'

export const HOST = '127.0.0.1'

export interface MasterLayout {
  name: string
  apiserverPort: number
  /** The node gRPC API (kubelets, kube-proxies). */
  nodeApiPort: number
  clientPort: number
  peerPort: number
}

export interface ClusterLayout {
  /** Identifies the cluster (its store's initial cluster token). */
  token: string
  masters: MasterLayout[]
  /** The load balancer in front of the apiservers (what the kubeconfig's default context uses); absent in layouts made before it existed. */
  lbPort?: number
}

export interface ClusterPki {
  ca: KeyPair
  admin: KeyPair
}

/** Whether the apiserver on `port` answers /readyz with 200. */
export function readyz(port: number, ca: string): Promise<boolean> {
  return new Promise((resolveReady) => {
    const req = httpsGet({ host: HOST, port, path: '/readyz', ca, timeout: 1000 }, (res) => {
      res.resume()
      resolveReady(res.statusCode === 200)
    })
    req.on('timeout', () => req.destroy())
    req.on('error', () => resolveReady(false))
  })
}

/** GET `path` from an apiserver as the admin: the parsed body of a 200, else undefined. */
export function adminGet(port: number, pki: ClusterPki, path: string): Promise<Record<string, unknown> | undefined> {
  return new Promise((resolveGet) => {
    const req = httpsGet({ host: HOST, port, path, ca: pki.ca.certPem, cert: pki.admin.certPem, key: pki.admin.keyPem, timeout: 2000 }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => (body += d))
      res.on('end', () => {
        if (res.statusCode !== 200) return resolveGet(undefined)
        try {
          resolveGet(JSON.parse(body) as Record<string, unknown>)
        } catch {
          resolveGet(undefined)
        }
      })
    })
    req.on('timeout', () => req.destroy())
    req.on('error', () => resolveGet(undefined))
  })
}

/** POSTs `obj` to an apiserver as the admin; resolves with the status code (0 when unreachable). */
export function adminPost(port: number, pki: ClusterPki, path: string, obj: unknown): Promise<number> {
  return new Promise((resolvePost) => {
    const body = JSON.stringify(obj)
    const req = httpsRequest(
      { host: HOST, port, path, method: 'POST', ca: pki.ca.certPem, cert: pki.admin.certPem, key: pki.admin.keyPem, timeout: 5000, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } },
      (res) => {
        res.resume()
        res.on('end', () => resolvePost(res.statusCode ?? 0))
      },
    )
    req.on('timeout', () => req.destroy())
    req.on('error', () => resolvePost(0))
    req.end(body)
  })
}

/** Whether the Node object `name` says Ready, asked as the admin. */
export async function nodeReady(port: number, pki: ClusterPki, name: string): Promise<boolean> {
  const node = (await adminGet(port, pki, `/api/v1/nodes/${name}`)) as { status?: { conditions?: { type: string; status: string }[] } } | undefined
  return node?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true
}

/** Whether the master's store member leads Raft, from its /metrics (etcd_server_is_leader). */
export async function raftLeader(m: MasterLayout): Promise<boolean> {
  try {
    const text = await (await fetch(`http://${HOST}:${m.clientPort}/metrics`, { signal: AbortSignal.timeout(2000) })).text()
    return /^etcd_server_is_leader 1$/m.test(text)
  } catch {
    return false
  }
}

/** Each master's roles: raft leader, and the leader-only loops whose Lease it holds (waiting a little for the first holders). */
export async function masterRoles(layout: ClusterLayout, pki: ClusterPki, waitMs: number): Promise<Map<string, string[]>> {
  const loops = ['kube-scheduler', 'kube-controller-manager']
  const holders = new Map<string, string>()
  const deadline = Date.now() + waitMs
  for (let i = 0; holders.size < loops.length && Date.now() < deadline; i++) {
    for (const loop of loops) {
      if (holders.has(loop)) continue
      const lease = await adminGet(layout.masters[i % layout.masters.length]!.apiserverPort, pki, `/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/${loop}`)
      const holder = (lease?.spec as { holderIdentity?: string } | undefined)?.holderIdentity
      if (holder) holders.set(loop, holder)
    }
    if (holders.size < loops.length) await new Promise((r) => setTimeout(r, 250))
  }
  const roles = new Map<string, string[]>()
  for (const m of layout.masters) {
    const r: string[] = []
    if (await raftLeader(m)) r.push('raft leader')
    for (const loop of loops) if (holders.get(loop)?.startsWith(`${m.name}_`)) r.push(`${loop} leader`)
    roles.set(m.name, r)
  }
  return roles
}

/** The layout and admin credentials of the cluster in `dataDir`; an Error saying what is missing otherwise. */
export async function loadCluster(dataDir: string): Promise<{ layout: ClusterLayout; pki: ClusterPki }> {
  const file = join(dataDir, 'cluster.json')
  if (!existsSync(file)) throw new Error(`no cluster in ${dataDir} (no cluster.json): start one with \`raftplane up --data ${dataDir}\``)
  let layout: ClusterLayout
  try {
    layout = JSON.parse(await readFile(file, 'utf8')) as ClusterLayout
    if (!Array.isArray(layout.masters)) throw new Error('no masters listed')
  } catch (err) {
    throw new Error(`${file} is not a raftplane cluster layout: ${(err as Error).message}`, { cause: err })
  }
  const pem = (name: string): Promise<string> => readFile(join(dataDir, 'pki', name), 'utf8')
  try {
    return { layout, pki: { ca: { certPem: await pem('ca.crt'), keyPem: '' }, admin: { certPem: await pem('admin.crt'), keyPem: await pem('admin.key') } } }
  } catch (err) {
    throw new Error(`${join(dataDir, 'pki')}: ${(err as Error).message}`, { cause: err })
  }
}
