// `raftplane up`: a whole highly available cluster on this machine — three masters
// (store member + apiserver each) and two worker nodes as supervised child
// processes, data under ./data, a kubeconfig written once every master is ready.
// Run again, it resumes the same cluster from its data dir; Ctrl-C stops every
// child cleanly.
//
// The nodes run the hollow runtime (pods that only pretend) until the process
// runtime exists. All nodes share this host's loopback, where kube-proxy serves
// Service IPs, so node-1 runs kube-proxy and the cluster DNS for all of them.
import { type ChildProcess, spawn } from 'node:child_process'
import { createWriteStream, existsSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join, resolve } from 'node:path'
import { InvalidArgumentError, type Command } from 'commander'
import { issueCert, type KeyPair, newCA } from '../../certs/pki.js'
import { localPathStorageClass } from '../../controllers/volume/local-path.js'
import { type ControlReply, type ControlRequest, sendControl, serveControl } from '../up-control.js'
import { LoadBalancer } from '../load-balancer.js'
import { portInUseMessage } from '../port-holder.js'
import { type NodeEndpoints, writePrometheusConfig } from '../prometheus-config.js'
import { adminPost, type ClusterLayout, type ClusterPki, HOST, type MasterLayout, masterRoles, nodeReady, readyz } from '../cluster-access.js'

/** A port the OS says is free right now (bound and released). */
async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, HOST, () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolvePort(port))
    })
  })
}

async function portInUse(port: number): Promise<boolean> {
  return new Promise((resolveUse) => {
    const s = createServer()
    s.once('error', () => resolveUse(true))
    s.listen(port, HOST, () => s.close(() => resolveUse(false)))
  })
}

export async function planLayout(masters: number, basePort: number): Promise<ClusterLayout> {
  // The load balancer takes the base port, where users expect the apiserver; the masters' own apiservers follow it.
  const layout: ClusterLayout = { token: `raftplane-${Date.now().toString(36)}`, masters: [], lbPort: basePort === 0 ? await freePort() : basePort }
  for (let i = 0; i < masters; i++) {
    const name = `master-${i + 1}`
    if (basePort === 0) {
      layout.masters.push({ name, apiserverPort: await freePort(), nodeApiPort: await freePort(), clientPort: await freePort(), peerPort: await freePort() })
    } else {
      layout.masters.push({ name, apiserverPort: basePort + 1 + i, nodeApiPort: basePort + 100 + i, clientPort: 2379 + 10 * i, peerPort: 2380 + 10 * i })
    }
  }
  return layout
}

export function masterArgs(layout: ClusterLayout, m: MasterLayout, dataDir: string): string[] {
  const cluster = layout.masters.map((x) => `${x.name}=http://${HOST}:${x.peerPort}`).join(',')
  return [
    'master',
    '--name', m.name,
    '--data-dir', join(dataDir, m.name, 'store'),
    '--listen-client-urls', `http://${HOST}:${m.clientPort}`,
    '--advertise-client-urls', `http://${HOST}:${m.clientPort}`,
    '--listen-peer-urls', `http://${HOST}:${m.peerPort}`,
    '--initial-advertise-peer-urls', `http://${HOST}:${m.peerPort}`,
    '--initial-cluster', cluster,
    '--initial-cluster-token', layout.token,
    '--bind-address', HOST,
    '--secure-port', String(m.apiserverPort),
    '--node-api-port', String(m.nodeApiPort),
    '--tls-cert-file', join(dataDir, 'pki', `${m.name}-apiserver.crt`),
    '--tls-private-key-file', join(dataDir, 'pki', `${m.name}-apiserver.key`),
  ]
}

/**
 * The cluster's CA, each master's serving certificate (SANs: localhost, 127.0.0.1,
 * the `kubernetes` Service names and IP) and the admin's client certificate
 * (CN kubernetes-admin, O system:masters), made once and kept under DIR/pki.
 */
async function ensurePki(dataDir: string, layout: ClusterLayout): Promise<ClusterPki> {
  const dir = join(dataDir, 'pki')
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const load = async (name: string, make: () => KeyPair): Promise<KeyPair> => {
    const crt = join(dir, `${name}.crt`)
    const key = join(dir, `${name}.key`)
    if (existsSync(crt) && existsSync(key)) return { certPem: await readFile(crt, 'utf8'), keyPem: await readFile(key, 'utf8') }
    const kp = make()
    await writeFile(key, kp.keyPem, { mode: 0o600 })
    await writeFile(crt, kp.certPem)
    return kp
  }
  const ca = await load('ca', () => newCA('raftplane-ca'))
  for (const m of layout.masters) {
    await load(`${m.name}-apiserver`, () =>
      issueCert(ca, {
        commonName: 'kube-apiserver',
        dnsNames: ['localhost', m.name, 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'],
        ips: [HOST, '10.96.0.1'],
        usage: 'server',
      }),
    )
  }
  const admin = await load('admin', () => issueCert(ca, { commonName: 'kubernetes-admin', organizations: ['system:masters'], usage: 'client' }))
  return { ca, admin }
}

export function kubeconfig(layout: ClusterLayout, pki: ClusterPki): string {
  const b64 = (s: string): string => Buffer.from(s).toString('base64')
  const server = `https://${HOST}:${layout.lbPort ?? layout.masters[0]!.apiserverPort}`
  const contexts = layout.masters.map((m) => ({ name: m.name, server: `https://${HOST}:${m.apiserverPort}` }))
  const cluster = (url: string): string[] => ['  cluster:', `    server: ${url}`, `    certificate-authority-data: ${b64(pki.ca.certPem)}`]
  const lines = [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: raftplane`,
    ...cluster(server),
    ...contexts.flatMap((c) => [`- name: raftplane-${c.name}`, ...cluster(c.server)]),
    'users:',
    '- name: admin',
    '  user:',
    `    client-certificate-data: ${b64(pki.admin.certPem)}`,
    `    client-key-data: ${b64(pki.admin.keyPem)}`,
    'contexts:',
    '- name: raftplane',
    '  context:',
    '    cluster: raftplane',
    '    user: admin',
    ...contexts.flatMap((c) => [`- name: ${c.name}`, '  context:', `    cluster: raftplane-${c.name}`, '    user: admin']),
    'current-context: raftplane',
    '',
  ]
  return lines.join('\n')
}

async function waitReady(port: number, ca: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited (${child.exitCode ?? child.signalCode})`)
    if (await readyz(port, ca)) return
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error(`not ready after ${timeoutMs / 1000} s`)
}

/** The command that runs this same CLI (compiled or from source through tsx). */
function selfCommand(): { cmd: string; args: string[] } {
  return { cmd: process.execPath, args: [...process.execArgv, process.argv[1]!] }
}

interface UpFlags {
  data: string
  masters: string
  nodes: string
  basePort: string
  prometheusConfig?: string
}

/** The ports a node serves on: its kubelet server and, on the node with kube-proxy, kube-proxy's metrics (0: a free one each). */
export interface NodePorts {
  kubelet: number
  proxyMetrics: number
}

export function nodeArgs(layout: ClusterLayout, name: string, index: number, dataDir: string, ports: NodePorts = { kubelet: 0, proxyMetrics: 0 }): string[] {
  return [
    'node',
    '--name', name,
    '--apiservers', layout.masters.map((m) => `${HOST}:${m.nodeApiPort}`).join(','),
    '--certificate-authority', join(dataDir, 'pki', 'ca.crt'),
    '--runtime', 'hollow',
    // Nodes share this host: each kubelet server takes its own port and its Node says which.
    '--kubelet-port', String(ports.kubelet),
    ...(index === 0 ? ['--metrics-bind-address', `${HOST}:${ports.proxyMetrics}`] : ['--no-kube-proxy']),
  ]
}

/**
 * The cluster's default StorageClass, `local-path` (as kind ships `standard`): claims
 * that name no class get it, the scheduler picks their node, the PV binder provisions.
 * Made once; a class the user deleted on purpose is not made again on resume.
 */
async function ensureDefaultStorageClass(layout: ClusterLayout, pki: ClusterPki, dataDir: string): Promise<void> {
  const marker = join(dataDir, 'default-storage-class')
  if (existsSync(marker)) return
  for (let i = 0; i < 20; i++) {
    const code = await adminPost(layout.masters[i % layout.masters.length]!.apiserverPort, pki, '/apis/storage.k8s.io/v1/storageclasses', localPathStorageClass())
    if (code === 201 || code === 409) {
      await writeFile(marker, 'local-path\n')
      return
    }
    await new Promise((r) => setTimeout(r, 500))
  }
  console.error('raftplane up: could not create the default StorageClass local-path; claims without a class will stay Pending')
}

async function waitNodeReady(layout: ClusterLayout, pki: ClusterPki, name: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let i = 0
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited (${child.exitCode ?? child.signalCode})`)
    // Any master will do; try them in turn so one that is slow to start does not hold us up.
    if (await nodeReady(layout.masters[i++ % layout.masters.length]!.apiserverPort, pki, name)) return
    await new Promise((r) => setTimeout(r, 250))
  }
  throw new Error(`not Ready after ${timeoutMs / 1000} s`)
}

function positiveInt(v: string, flag: string): number {
  const n = Number(v)
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${flag}: not a non-negative integer: ${v}`)
  return n
}

export function registerUp(program: Command): void {
  program
    .command('up')
    .description('run a highly available cluster on this machine: masters as child processes, kubeconfig written')
    .option('--data <dir>', 'where the cluster keeps its data, logs and kubeconfig', './data')
    .option('--masters <n>', 'number of masters (1, 3 or 5)', '3')
    .option('--nodes <n>', 'number of worker nodes (hollow runtime), named node-1 … node-N', '2')
    .option('--base-port <port>', 'first apiserver port (0: free ports chosen by the OS)', '6443')
    .option('--prometheus-config <file>', 'once the cluster is up, write a Prometheus configuration scraping every master and node to this file')
    .action(async (f: UpFlags) => {
      const dataDir = resolve(f.data)
      const count = positiveInt(f.masters, '--masters')
      if (count < 1 || count % 2 === 0) throw new InvalidArgumentError(`--masters: must be an odd number ≥ 1, got ${count}`)
      const nodeNames = Array.from({ length: positiveInt(f.nodes, '--nodes') }, (_, i) => `node-${i + 1}`)
      const running = await sendControl(dataDir, { op: 'ping' }).catch(() => undefined)
      if (running !== undefined) {
        console.error(`raftplane up: a cluster is already running from ${dataDir}${running.pid === undefined ? '' : ` (pid ${running.pid})`}; \`raftplane status --data ${f.data}\` shows it, \`raftplane down --data ${f.data}\` stops it`)
        process.exitCode = 1
        return
      }
      const layoutFile = join(dataDir, 'cluster.json')
      let layout: ClusterLayout
      if (existsSync(layoutFile)) {
        layout = JSON.parse(await readFile(layoutFile, 'utf8')) as ClusterLayout
        console.log(`resuming the cluster in ${dataDir} (${layout.masters.length} masters)`)
        if (layout.lbPort === undefined) {
          layout.lbPort = await freePort()
          await writeFile(layoutFile, JSON.stringify(layout, null, 2) + '\n')
        }
      } else {
        layout = await planLayout(count, positiveInt(f.basePort, '--base-port'))
        await mkdir(dataDir, { recursive: true })
        await writeFile(layoutFile, JSON.stringify(layout, null, 2) + '\n')
      }
      if (layout.lbPort !== undefined && (await portInUse(layout.lbPort))) {
        console.error(`raftplane up: ${await portInUseMessage(layout.lbPort, "the apiservers' load balancer", 'use --data with another directory and --base-port')}`)
        process.exitCode = 1
        return
      }
      for (const m of layout.masters) {
        for (const [what, port] of [
          ['apiserver', m.apiserverPort],
          ['node API', m.nodeApiPort],
          ['store client', m.clientPort],
          ['store peer', m.peerPort],
        ] as const) {
          if (await portInUse(port)) {
            console.error(`raftplane up: ${await portInUseMessage(port, `${m.name} ${what}`, 'use --data with another directory and --base-port')}`)
            process.exitCode = 1
            return
          }
        }
      }
      const pki = await ensurePki(dataDir, layout)
      const self = selfCommand()
      const children = new Map<string, ChildProcess>()
      let stopping = false
      const control: { server?: { close(): void } } = {}
      const balancer = new LoadBalancer({
        backends: layout.masters.map((m) => ({ name: m.name, host: HOST, port: m.apiserverPort })),
        check: (b) => readyz(b.port, pki.ca.certPem),
      })
      const stopAll = async (): Promise<void> => {
        stopping = true
        // Nodes first, while the masters can still take their last status writes.
        await stopChildren([...children].filter(([name]) => nodeNames.includes(name)).map(([, c]) => c))
        await stopChildren([...children.values()])
        await balancer.close()
        // Last, so `raftplane down` (waiting for the socket to go) returns once everything has exited.
        control.server?.close()
      }
      const stopChildren = async (list: ChildProcess[]): Promise<void> => {
        const exits = list.map(
          (c) =>
            new Promise<void>((r) => {
              if (c.exitCode !== null || c.signalCode !== null) return r()
              c.once('exit', () => r())
              c.kill('SIGTERM')
              setTimeout(() => c.kill('SIGKILL'), 10_000).unref()
            }),
        )
        await Promise.all(exits)
      }
      let stopRequested!: () => void
      const signalled = new Promise<void>((r) => {
        stopRequested = r
        process.once('SIGINT', () => r())
        process.once('SIGTERM', () => r())
      })
      const argsOf = new Map<string, string[]>()
      const killed = new Set<string>()
      const launch = (name: string, args: string[]): ChildProcess => {
        const log = createWriteStream(join(dataDir, `${name}.log`), { flags: 'a' })
        const child = spawn(self.cmd, [...self.args, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
        child.stdout!.pipe(log)
        child.stderr!.pipe(log)
        child.on('exit', (code, sig) => {
          if (stopping) return
          if (killed.has(name)) console.error(`${name} killed (raftplane kill); \`raftplane start ${name}\` starts it again`)
          else console.error(`${name} exited (${code ?? sig}); its log: ${join(dataDir, `${name}.log`)}`)
        })
        children.set(name, child)
        argsOf.set(name, args)
        killed.delete(name)
        return child
      }
      const isRunning = (c: ChildProcess | undefined): boolean => c !== undefined && c.exitCode === null && c.signalCode === null
      const handleControl = async (req: ControlRequest): Promise<ControlReply> => {
        if (req.op === 'down') {
          stopRequested()
          return { ok: true, message: 'stopping', pid: process.pid }
        }
        if (req.op === 'ping') return { ok: true, message: 'running', pid: process.pid }
        const args = argsOf.get(req.part ?? '')
        if (args === undefined) return { ok: false, message: `no part named ${JSON.stringify(req.part)}; the parts are ${[...argsOf.keys()].join(', ')}` }
        const name = req.part!
        const child = children.get(name)
        if (req.op === 'kill') {
          if (!isRunning(child)) return { ok: false, message: `${name} is not running` }
          killed.add(name)
          child!.kill('SIGKILL')
          await new Promise((r) => child!.once('exit', r))
          return { ok: true, message: `${name} killed (pid ${child!.pid})` }
        }
        if (isRunning(child)) return { ok: false, message: `${name} is already running (pid ${child!.pid})` }
        const fresh = launch(name, args)
        return { ok: true, message: `${name} started (pid ${fresh.pid})` }
      }
      control.server = await serveControl(dataDir, handleControl)
      const lbPort = await balancer.listen(HOST, layout.lbPort ?? 0)
      for (const m of layout.masters) {
        await mkdir(join(dataDir, m.name), { recursive: true })
        launch(m.name, masterArgs(layout, m, dataDir))
        console.log(`starting ${m.name}: apiserver https://${HOST}:${m.apiserverPort}, store ${HOST}:${m.clientPort}`)
      }
      try {
        await Promise.all(
          layout.masters.map(async (m) => {
            try {
              await waitReady(m.apiserverPort, pki.ca.certPem, children.get(m.name)!, 90_000)
            } catch (err) {
              throw new Error(`${m.name} ${(err as Error).message}; see ${join(dataDir, `${m.name}.log`)}`, { cause: err })
            }
            console.log(`${m.name} ready`)
          }),
        )
      } catch (err) {
        console.error(`raftplane up: ${(err as Error).message}`)
        await stopAll()
        process.exitCode = 1
        return
      }
      // Nodes start once the masters serve, so they register at once instead of backing off.
      // Their ports are chosen now and kept, so a node started again (`raftplane start`) is where Prometheus looks.
      const nodeEndpoints: NodeEndpoints[] = []
      for (const [i, name] of nodeNames.entries()) {
        const ports = { kubelet: await freePort(), proxyMetrics: i === 0 ? await freePort() : 0 }
        nodeEndpoints.push({ name, kubeletPort: ports.kubelet, ...(i === 0 ? { proxyMetricsPort: ports.proxyMetrics } : {}) })
        launch(name, nodeArgs(layout, name, i, dataDir, ports))
        console.log(`starting ${name}${i === 0 ? ' (with kube-proxy and cluster DNS)' : ''}`)
      }
      try {
        await Promise.all(
          nodeNames.map(async (name) => {
            try {
              await waitNodeReady(layout, pki, name, children.get(name)!, 60_000)
            } catch (err) {
              throw new Error(`${name} ${(err as Error).message}; see ${join(dataDir, `${name}.log`)}`, { cause: err })
            }
            console.log(`${name} ready`)
          }),
        )
      } catch (err) {
        console.error(`raftplane up: ${(err as Error).message}`)
        await stopAll()
        process.exitCode = 1
        return
      }
      const kubeconfigPath = join(dataDir, 'kubeconfig')
      await writeFile(kubeconfigPath, kubeconfig(layout, pki), { mode: 0o600 })
      console.log('')
      await ensureDefaultStorageClass(layout, pki, dataDir)
      const roles = await masterRoles(layout, pki, 15_000)
      console.log(`cluster ready: ${layout.masters.length} masters, ${nodeNames.length} nodes`)
      console.log(`  apiservers  https://${HOST}:${lbPort}  (load balancer over ${balancer.up.join(', ')})`)
      for (const m of layout.masters) {
        const r = roles.get(m.name) ?? []
        console.log(`  ${m.name}  ${r.length > 0 ? r.join(', ') : 'follower'}  apiserver https://${HOST}:${m.apiserverPort}  store http://${HOST}:${m.clientPort}  node API ${HOST}:${m.nodeApiPort}`)
      }
      for (const n of nodeEndpoints) {
        const proxy = n.proxyMetricsPort === undefined ? '' : `  kube-proxy metrics http://${HOST}:${n.proxyMetricsPort}/metrics`
        console.log(`  ${n.name}  hollow runtime  kubelet https://${HOST}:${n.kubeletPort}${proxy}  log ${join(dataDir, `${n.name}.log`)}`)
      }
      console.log(`kubeconfig: ${kubeconfigPath}`)
      if (f.prometheusConfig !== undefined) {
        const file = resolve(f.prometheusConfig)
        await writePrometheusConfig(file, { layout, nodes: nodeEndpoints, dataDir })
        console.log(`prometheus config: ${file}  (prometheus --config.file=${file})`)
      }
      console.log(`next: export KUBECONFIG=${kubeconfigPath}; kubectl get namespaces`)
      console.log('(Ctrl-C stops the cluster; `raftplane up` again resumes it)')
      await signalled
      console.log('stopping…')
      await stopAll()
    })
}
