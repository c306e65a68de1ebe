// Starts what the apiserver bench measures, on loopback ports chosen by the OS:
//  - 'embedded': N masters (`raftplane master`, each a store member + apiserver),
//    the shape `raftplane up` runs; the bench drives the apiserver of the store leader.
//  - 'etcd': a 3-member real etcd (bench/kv's StoreCluster) and one master on it
//    with --etcd-servers, as kube-apiserver runs on etcd.
// Masters serve plain HTTP (--insecure) so the figures are the apiserver's, not TLS's,
// and carry loop-probe.ts for their event-loop delay. Nothing here exits the process:
// stop() ends every child (SIGTERM, then SIGKILL) and removes the data dir, and so do
// Ctrl-C, SIGTERM and exit of the parent.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort, procSample, StatusClients, StoreCluster, StoreStartError } from '../kv/cluster.js'

export type TargetKind = 'embedded' | 'etcd'

const here = fileURLToPath(import.meta.url)
const fromSource = here.endsWith('.ts')
const repoRoot = join(dirname(here), '..', '..', ...(fromSource ? [] : ['..']))

/** node argv that runs the raftplane CLI (from source under tsx, else the compiled one), with the loop probe preloaded. */
export function raftplaneArgv(nodeFlags: string[] = []): string[] {
  const probe = join(dirname(here), fromSource ? 'loop-probe.ts' : 'loop-probe.js')
  return fromSource
    ? [process.execPath, ...nodeFlags, '--import', 'tsx', '--import', probe, join(repoRoot, 'src', 'cli', 'main.ts')]
    : [process.execPath, ...nodeFlags, '--import', probe, join(repoRoot, 'bin', 'raftplane.js')]
}

export const ETCD_BINARY = '/usr/bin/etcd'

/** One window of the loop probe: when it was printed, samples taken, [when, delay] of delays over 1 ms. */
interface LoopWindow {
  t: number
  n: number
  d: [number, number][]
}

export interface LoopDelay {
  p50Ms: number
  p99Ms: number
  maxMs: number
  samples: number
}

/** A `raftplane master` child process. */
export class MasterProcess {
  child: ChildProcess | undefined
  exitCode: number | string | undefined
  private tail = ''
  private partial = ''
  private readonly windows: LoopWindow[] = []
  private readonly tracked = new Map<string, number>()

  constructor(
    readonly name: string,
    readonly apiPort: number,
    readonly nodeApiPort: number,
    /** Its store member's client URL (embedded only). */
    readonly clientUrl: string | undefined,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.apiPort}`
  }
  get nodeEndpoint(): string {
    return `127.0.0.1:${this.nodeApiPort}`
  }
  get alive(): boolean {
    return this.child !== undefined && this.exitCode === undefined
  }
  get output(): string {
    return this.tail.trim()
  }

  /** Counts output lines containing `text` from now on (the tail keeps only the last 4 KiB). */
  track(text: string): void {
    if (!this.tracked.has(text)) this.tracked.set(text, 0)
  }

  /** Lines seen containing a tracked `text`. */
  seen(text: string): number {
    return this.tracked.get(text) ?? 0
  }

  spawn(argv: string[], onExit: (err: Error) => void): void {
    const [cmd, ...args] = argv
    const child = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } })
    this.child = child
    this.exitCode = undefined
    const take = (chunk: Buffer) => this.take(chunk.toString('utf8'))
    child.stdout!.on('data', take)
    child.stderr!.on('data', take)
    child.once('error', (err) => {
      this.exitCode = 'spawn-error'
      onExit(new StoreStartError(`master ${this.name} could not run \`${argv.join(' ')}\`: ${err.message}`))
    })
    child.once('exit', (code, signal) => {
      this.exitCode = code ?? signal ?? 'exit'
      setTimeout(() => onExit(new StoreStartError(`master ${this.name} exited (${this.exitCode}): \`${argv.join(' ')}\`\n--- its output, last lines ---\n${this.output.split('\n').slice(-15).join('\n') || '(nothing)'}`)), 100)
    })
  }

  private take(text: string): void {
    const lines = (this.partial + text).split('\n')
    this.partial = lines.pop() ?? ''
    for (const line of lines) {
      if (line.startsWith('@loop-probe ')) {
        try {
          this.windows.push(JSON.parse(line.slice(12)) as LoopWindow)
        } catch {
          // a torn line: skip it
        }
      } else {
        this.tail = (this.tail + line + '\n').slice(-4096)
        for (const [text, n] of this.tracked) if (line.includes(text)) this.tracked.set(text, n + 1)
      }
    }
  }

  /**
   * Event-loop delay between two wall-clock times, from the probe's windows. A delay
   * belongs to the time it started in: a block that began while watchers were being
   * set up and ended a moment into the measured phase is set-up's.
   */
  loopDelay(fromMs: number, toMs: number): LoopDelay {
    let n = 0
    const d: number[] = []
    // A window covers about the second before its timestamp; its sample count is
    // prorated by how much of that second lies inside [fromMs, toMs].
    for (const w of this.windows) {
      const overlap = Math.min(w.t, toMs) - Math.max(w.t - 1000, fromMs)
      if (overlap > 0) n += (w.n * Math.min(1000, overlap)) / 1000
      for (const [at, x] of w.d) if (at - x >= fromMs && at - x < toMs) d.push(x)
    }
    n = Math.max(Math.round(n), d.length)
    d.sort((a, b) => b - a)
    const at = (q: number) => {
      const rank = Math.floor((1 - q) * n)
      return rank < d.length ? d[rank]! : 0
    }
    return { p50Ms: at(0.5), p99Ms: at(0.99), maxMs: d[0] ?? 0, samples: n }
  }

  /** The longest loop delay that started between two wall-clock times: when it ended, how long. */
  worstDelay(fromMs: number, toMs: number): { atMs: number; ms: number } | undefined {
    let worst: { atMs: number; ms: number } | undefined
    for (const w of this.windows) for (const [at, d] of w.d) if (at - d >= fromMs && at - d < toMs && (worst === undefined || d > worst.ms)) worst = { atMs: at, ms: d }
    return worst
  }

  cpuMs(): number {
    return procSample(this.alive ? this.child?.pid : undefined).cpuMs
  }
  rssBytes(): number {
    return procSample(this.alive ? this.child?.pid : undefined).rssBytes
  }

  async stop(timeoutMs = 15_000): Promise<void> {
    const child = this.child
    if (!child || !this.alive) return
    const exited = new Promise((r) => child.once('exit', r))
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    await exited
    clearTimeout(timer)
  }

  killSync(): void {
    if (this.alive) this.child?.kill('SIGKILL')
  }
}

export interface TargetOptions {
  kind: TargetKind
  /** Masters for 'embedded' (default 3). */
  masters?: number
  /** Node flags for the driven master, e.g. ['--cpu-prof', '--cpu-prof-dir=…']. */
  nodeFlags?: string[]
  startTimeoutMs?: number
  log?: (line: string) => void
  /**
   * Extra `raftplane master` flags. Default: --no-scheduler --no-controller-manager,
   * so the apiserver figures are the apiserver's alone (as kube-apiserver on etcd).
   */
  masterFlags?: string[]
}

// Every target not yet stopped, so a signal or exit ends its processes.
const live = new Set<ApiTarget>()
function killLive(): void {
  for (const t of live) t.killSync()
}
function onSignal(signal: NodeJS.Signals): void {
  killLive()
  process.off('exit', killLive)
  process.kill(process.pid, signal)
}
function install(): void {
  if (live.size > 0) return
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  process.on('exit', killLive)
}
function uninstall(): void {
  if (live.size > 0) return
  process.off('SIGINT', onSignal)
  process.off('SIGTERM', onSignal)
  process.off('exit', killLive)
}

async function get(url: string, timeoutMs = 1000): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) })
  return { status: res.status, text: await res.text() }
}

export class ApiTarget {
  readonly dir: string
  masters: MasterProcess[] = []
  etcd: StoreCluster | undefined
  /** Index into masters of the one the bench drives. */
  driven = 0
  /** When every apiserver answered /readyz (wall-clock ms). */
  readyAtMs = 0
  /** Each embedded master's argv, without the master flags. */
  private argvs: string[][] = []
  private stopped = false

  private constructor(readonly opts: TargetOptions) {
    this.dir = mkdtempSync(join(tmpdir(), 'raftplane-bench-apiserver-'))
  }

  static async start(opts: TargetOptions): Promise<ApiTarget> {
    const t = new ApiTarget(opts)
    install()
    live.add(t)
    try {
      await (opts.kind === 'etcd' ? t.startOnEtcd() : t.startEmbedded())
      return t
    } catch (err) {
      await t.stop()
      throw err
    }
  }

  private get masterFlags(): string[] {
    return this.opts.masterFlags ?? ['--no-scheduler', '--no-controller-manager']
  }

  get master(): MasterProcess {
    return this.masters[this.driven]!
  }

  /** Client URLs of the store members (ours or etcd), for /metrics. */
  get storeClientUrls(): string[] {
    return this.etcd ? this.etcd.members.map((m) => m.clientUrl) : this.masters.map((m) => m.clientUrl!)
  }

  /** Processes of the whole server side: masters and etcd members. */
  serverCpuMs(): number {
    const etcd = this.etcd ? this.etcd.sample().cpuMs.reduce((a, b) => a + b, 0) : 0
    return etcd + this.masters.reduce((a, m) => a + m.cpuMs(), 0)
  }

  private async startEmbedded(): Promise<void> {
    const n = this.opts.masters ?? 3
    const ports = new Set<number>()
    while (ports.size < n * 4) ports.add(await freePort())
    const p = [...ports]
    const token = `bench-apiserver-${process.pid}-${Date.now()}`
    const names = Array.from({ length: n }, (_, i) => `master-${i + 1}`)
    const peer = (i: number) => `http://127.0.0.1:${p[4 * i + 3]}`
    const cluster = names.map((name, i) => `${name}=${peer(i)}`).join(',')
    this.masters = names.map((name, i) => new MasterProcess(name, p[4 * i]!, p[4 * i + 1]!, `http://127.0.0.1:${p[4 * i + 2]}`))
    // Every master gets the node flags (a profile names its process id); only the driven one's is read.
    const argv = raftplaneArgv(this.opts.nodeFlags)
    this.argvs = this.masters.map((m, i) => [
      ...argv,
      'master',
      `--name=${m.name}`,
      `--data-dir=${join(this.dir, m.name)}`,
      `--listen-client-urls=${m.clientUrl}`,
      `--advertise-client-urls=${m.clientUrl}`,
      `--listen-peer-urls=${peer(i)}`,
      `--initial-advertise-peer-urls=${peer(i)}`,
      `--initial-cluster=${cluster}`,
      '--initial-cluster-state=new',
      `--initial-cluster-token=${token}`,
      '--log-level=warn',
      '--insecure',
      '--bind-address=127.0.0.1',
      `--secure-port=${m.apiPort}`,
      `--node-api-port=${m.nodeApiPort}`,
    ])
    await this.spawnEmbedded()
  }

  /**
   * Stops every master and starts them again on the same data with other master
   * flags (the scheduler bench fills the cluster with the scheduler off, then
   * measures a scheduler that starts with all the work pending).
   */
  async restartMasters(masterFlags: string[]): Promise<void> {
    await Promise.all(this.masters.map((m) => m.stop()))
    this.opts.masterFlags = masterFlags
    await this.spawnEmbedded()
  }

  private async spawnEmbedded(): Promise<void> {
    const n = this.masters.length
    const failure = this.failureSignal()
    this.masters.forEach((m, i) => m.spawn([...this.argvs[i]!, ...this.masterFlags], failure.fail))
    const argv = this.argvs[0]!
    this.opts.log?.(`  started ${n} masters (${argv.slice(1, argv.indexOf('master')).join(' ')} master …), waiting for /readyz`)
    await Promise.race([failure.promise, this.waitReady()])
    // Drive the store leader's apiserver: the busiest master, where a slow event loop would cost an election.
    const statuses = new StatusClients(this.masters.map((m) => m.clientUrl!.slice('http://'.length)))
    try {
      this.driven = await statuses.leaderIndex()
    } finally {
      statuses.close()
    }
    failure.disarm()
  }

  private async startOnEtcd(): Promise<void> {
    this.opts.log?.(`  starting etcd: ${ETCD_BINARY} (3 members)`)
    this.etcd = await StoreCluster.start({ command: [ETCD_BINARY], label: 'etcd', baseDir: this.dir, ...(this.opts.startTimeoutMs ? { startTimeoutMs: this.opts.startTimeoutMs } : {}) })
    const [apiPort, nodePort] = [await freePort(), await freePort()]
    const m = new MasterProcess('master-1', apiPort, nodePort === apiPort ? await freePort() : nodePort, undefined)
    this.masters = [m]
    const failure = this.failureSignal()
    m.spawn(
      [
        ...raftplaneArgv(this.opts.nodeFlags),
        'master',
        '--name=master-1',
        `--etcd-servers=${this.etcd.members.map((x) => x.clientUrl).join(',')}`,
        '--log-level=warn',
        '--insecure',
        '--bind-address=127.0.0.1',
        `--secure-port=${m.apiPort}`,
        `--node-api-port=${m.nodeApiPort}`,
        ...this.masterFlags,
      ],
      failure.fail,
    )
    await Promise.race([failure.promise, this.waitReady()])
    failure.disarm()
  }

  /** A promise that rejects when a master exits while something waits for it. */
  private failureSignal(): { promise: Promise<never>; fail: (e: Error) => void; disarm: () => void } {
    let armed = true
    let reject: (e: Error) => void = () => {}
    const promise = new Promise<never>((_, r) => (reject = r))
    promise.catch(() => {})
    return { promise, fail: (e) => armed && reject(e), disarm: () => (armed = false) }
  }

  private async waitReady(): Promise<void> {
    const timeoutMs = this.opts.startTimeoutMs ?? 90_000
    const until = Date.now() + timeoutMs
    for (;;) {
      const st = await Promise.all(this.masters.map((m) => get(`${m.url}/readyz?verbose`).catch((e: Error) => ({ status: 0, text: e.message }))))
      if (st.every((s) => s.status === 200)) {
        this.readyAtMs = Date.now()
        return
      }
      const last = st.map((s, i) => `${this.masters[i]!.name}: ${s.status} ${s.text.replace(/\n/g, ' ')}`).join('; ')
      if (Date.now() > until) throw new StoreStartError(`apiserver not ready within ${timeoutMs} ms (${last})`)
      await new Promise((r) => setTimeout(r, 250))
    }
  }

  /** Sum over store members of etcd_server_leader_changes_seen_total (-1 for a member that did not answer). */
  async leaderChangesSeen(): Promise<number[]> {
    return Promise.all(
      this.storeClientUrls.map(async (u) => {
        try {
          const { text } = await get(`${u}/metrics`, 2000)
          const m = /^etcd_server_leader_changes_seen_total (\d+)/m.exec(text)
          return m ? Number(m[1]) : -1
        } catch {
          return -1
        }
      }),
    )
  }

  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    await Promise.all(this.masters.map((m) => m.stop()))
    await this.etcd?.stop()
    rmSync(this.dir, { recursive: true, force: true })
    live.delete(this)
    uninstall()
  }

  killSync(): void {
    for (const m of this.masters) m.killSync()
    this.etcd?.killSync()
    rmSync(this.dir, { recursive: true, force: true })
    this.stopped = true
    live.delete(this)
  }
}
