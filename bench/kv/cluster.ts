// Starts a 3-member cluster of any binary that takes etcd's flags — real etcd
// (`['/usr/bin/etcd']`) or ours (`[node, 'bin/raftplane.js', 'store']`) — on loopback
// ports chosen by the OS, with temp data dirs. Waits until every member answers
// Maintenance.Status and agrees on a leader. Reusable by end-to-end tests: nothing
// here exits the process; stop() kills the members (SIGTERM, then SIGKILL) and
// removes the data dir, and Ctrl-C / SIGTERM / exit of the parent do the same.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as grpc from '@grpc/grpc-js'
import { loadEtcdProto } from '../../src/kv/etcd-proto.js'

export interface StoreClusterOptions {
  /** argv prefix of one member: the etcd flags are appended as `--flag=value`. */
  command: string[]
  /** Label in messages, e.g. 'etcd' or 'raftplane'. */
  label?: string
  size?: number
  /** Parent of the temp data dir (default: the OS temp dir). */
  baseDir?: string
  heartbeatMs?: number
  electionMs?: number
  snapshotCount?: number
  quotaBackendBytes?: number
  maxRequestBytes?: number
  logLevel?: string
  /** More flags for every member (not passed to ours by default). */
  extraArgs?: string[]
  env?: NodeJS.ProcessEnv
  /** Time for all members to answer Status and agree on a leader (default 30 s). */
  startTimeoutMs?: number
  /** Member i's address (default 127.0.0.1 for all). */
  hosts?: readonly string[]
  /** An argv prefix for member i, e.g. `ip netns exec NS` (it must exec the command, so signals reach the member). */
  wrap?: (i: number) => readonly string[]
}

export interface MemberStatus {
  /** Member and leader IDs as decimal strings (uint64). */
  memberId: string
  leader: string
  raftTerm: number
  raftIndex: number
  dbSize: number
  version: string
}

export interface ProcSample {
  /** utime + stime in ms, per member. */
  cpuMs: number[]
  /** VmRSS in bytes, per member. */
  rssBytes: number[]
}

export class StoreMember {
  child: ChildProcess | undefined
  exitCode: number | string | undefined
  private stderr = ''
  client: grpc.Client | undefined

  constructor(
    readonly name: string,
    readonly dataDir: string,
    readonly clientPort: number,
    readonly peerPort: number,
    /** The address it listens on (its own network namespace's, for the partition tests). */
    readonly host = '127.0.0.1',
  ) {}

  get endpoint(): string {
    return `${this.host}:${this.clientPort}`
  }
  get clientUrl(): string {
    return `http://${this.host}:${this.clientPort}`
  }
  get peerUrl(): string {
    return `http://${this.host}:${this.peerPort}`
  }
  get pid(): number | undefined {
    return this.child?.pid
  }
  get alive(): boolean {
    return this.child !== undefined && this.exitCode === undefined
  }
  /** The last ~4 KB the member wrote to stdout and stderr. */
  get stderrTail(): string {
    return this.stderr.trim()
  }

  appendOutput(chunk: Buffer): void {
    const text = chunk.toString('utf8')
    this.stderr = (this.stderr + text).slice(-4096)
    for (const fn of this.outputListeners) fn(text)
  }

  private readonly outputListeners = new Set<(text: string) => void>()

  /** Calls fn with every chunk the member writes from now on (across restarts); returns an unsubscribe. */
  onOutput(fn: (text: string) => void): () => void {
    this.outputListeners.add(fn)
    return () => this.outputListeners.delete(fn)
  }
}

type StatusClient = grpc.Client & {
  Status(req: object, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Record<string, string>) => void): void
}

let maintenanceCtor: (new (address: string, creds: grpc.ChannelCredentials) => StatusClient) | undefined
function maintenanceClient(address: string): StatusClient {
  if (!maintenanceCtor) {
    const pkg = grpc.loadPackageDefinition(loadEtcdProto()) as unknown as { etcdserverpb: { Maintenance: typeof maintenanceCtor } }
    maintenanceCtor = pkg.etcdserverpb.Maintenance
  }
  return new maintenanceCtor!(address, grpc.credentials.createInsecure())
}

/** A free loopback TCP port: bind :0, read it, close. */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const { port } = server.address() as AddressInfo
  await new Promise((r) => server.close(r))
  return port
}

let clockTicks: number | undefined
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
    } catch {
      clockTicks = 100
    }
  }
  return clockTicks
}

/** CPU (utime+stime, ms) and RSS (bytes) of a process from /proc; 0 if it is gone. */
export function procSample(pid: number | undefined): { cpuMs: number; rssBytes: number } {
  if (!pid) return { cpuMs: 0, rssBytes: 0 }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const cpuMs = ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond()
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const rss = /VmRSS:\s+(\d+) kB/.exec(status)
    return { cpuMs, rssBytes: rss ? Number(rss[1]) * 1024 : 0 }
  } catch {
    return { cpuMs: 0, rssBytes: 0 }
  }
}

// Every cluster not yet stopped, so a signal or exit kills them all.
const live = new Set<StoreCluster>()
function killLive(): void {
  for (const c of live) c.killSync()
}
function onSignal(signal: NodeJS.Signals): void {
  killLive()
  uninstall()
  process.kill(process.pid, signal)
}
let installed = false
function install(): void {
  if (installed) return
  installed = true
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  process.on('exit', killLive)
}
function uninstall(): void {
  if (!installed) return
  installed = false
  process.off('SIGINT', onSignal)
  process.off('SIGTERM', onSignal)
  process.off('exit', killLive)
}

export class StoreStartError extends Error {}

function statusOf(client: StatusClient, timeoutMs: number): Promise<MemberStatus> {
  return new Promise((resolve, reject) => {
    client.Status({}, { deadline: Date.now() + timeoutMs }, (err, res) => {
      if (err || !res) return reject(err ?? new Error('no status'))
      const header = res.header as unknown as Record<string, string>
      resolve({
        memberId: header.member_id!,
        leader: res.leader!,
        raftTerm: Number(res.raftTerm),
        raftIndex: Number(res.raftIndex),
        dbSize: Number(res.dbSize),
        version: res.version!,
      })
    })
  })
}

/** Maintenance.Status over any endpoints (for --endpoints runs, where no cluster is ours). */
export class StatusClients {
  private readonly clients: StatusClient[]
  constructor(readonly endpoints: string[]) {
    this.clients = endpoints.map((e) => maintenanceClient(e))
  }
  status(i: number, timeoutMs = 1000): Promise<MemberStatus> {
    return statusOf(this.clients[i]!, timeoutMs)
  }
  /** Index of the member all endpoints name as leader, or 0 if they do not agree. */
  async leaderIndex(): Promise<number> {
    const st = await Promise.all(this.endpoints.map((_, i) => this.status(i).catch(() => undefined)))
    const lead = st[0]?.leader
    return Math.max(0, st.findIndex((s) => s && s.memberId === lead))
  }
  close(): void {
    for (const c of this.clients) c.close()
  }
}

export interface LeaderMonitor {
  stop(): Promise<{ changes: number; polls: number; failedPolls: number }>
}

/**
 * Polls Status of members 0..n-1 every intervalMs until stop(); `changes` counts
 * leader changes: distinct (raft_term, leader) pairs seen, minus one.
 */
export function monitorLeader(n: number, status: (i: number) => Promise<MemberStatus>, intervalMs = 200): LeaderMonitor {
  const seen = new Set<string>()
  let polls = 0
  let failedPolls = 0
  let busy: Promise<void> | undefined
  const poll = async () => {
    polls++
    const st = await Promise.all(Array.from({ length: n }, (_, i) => status(i).catch(() => undefined)))
    for (const s of st) {
      if (!s) failedPolls++
      else seen.add(`${s.raftTerm}:${s.leader === '0' ? 'none' : s.leader}`)
    }
  }
  busy = poll().finally(() => (busy = undefined))
  const timer = setInterval(() => {
    busy ??= poll().finally(() => (busy = undefined))
  }, intervalMs)
  return {
    stop: async () => {
      clearInterval(timer)
      await busy
      await poll()
      return { changes: Math.max(0, seen.size - 1), polls, failedPolls }
    },
  }
}

export class StoreCluster {
  readonly label: string
  members: StoreMember[] = []
  readonly dir: string
  private stopped = false
  private token = ''
  private initialCluster = ''

  private constructor(readonly opts: StoreClusterOptions) {
    this.label = opts.label ?? opts.command.join(' ')
    this.dir = mkdtempSync(join(opts.baseDir ?? tmpdir(), 'raftplane-bench-kv-'))
  }

  /** Start the members and wait for a leader; retries with new ports on EADDRINUSE. */
  static async start(opts: StoreClusterOptions): Promise<StoreCluster> {
    const cluster = new StoreCluster(opts)
    live.add(cluster)
    install()
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          await cluster.startOnce(attempt)
          return cluster
        } catch (err) {
          const inUse = cluster.members.some((m) => /address already in use|EADDRINUSE/i.test(m.stderrTail))
          await cluster.stopMembers()
          if (!inUse || attempt >= 3) throw err
        }
      }
    } catch (err) {
      await cluster.stop()
      throw err
    }
  }

  private argv(m: StoreMember, initialCluster: string, extraArgs: string[] = []): string[] {
    const o = this.opts
    return [
      ...(o.wrap?.(this.members.indexOf(m)) ?? []),
      ...o.command,
      `--name=${m.name}`,
      `--data-dir=${m.dataDir}`,
      `--listen-client-urls=${m.clientUrl}`,
      `--advertise-client-urls=${m.clientUrl}`,
      `--listen-peer-urls=${m.peerUrl}`,
      `--initial-advertise-peer-urls=${m.peerUrl}`,
      `--initial-cluster=${initialCluster}`,
      '--initial-cluster-state=new',
      `--initial-cluster-token=${this.token}`,
      `--heartbeat-interval=${o.heartbeatMs ?? 100}`,
      `--election-timeout=${o.electionMs ?? 1000}`,
      `--snapshot-count=${o.snapshotCount ?? 100_000}`,
      `--quota-backend-bytes=${o.quotaBackendBytes ?? 8 * 2 ** 30}`,
      `--max-request-bytes=${o.maxRequestBytes ?? 1.5 * 2 ** 20}`,
      `--log-level=${o.logLevel ?? 'warn'}`,
      ...(o.extraArgs ?? []),
      ...extraArgs,
    ]
  }

  /**
   * Spawn member m (again) with the cluster's flags plus extraArgs; onFail gets a
   * StoreStartError if it cannot run or exits (used only while something waits for it).
   */
  private spawnMember(m: StoreMember, extraArgs: string[], onFail: (e: Error) => void): void {
    const [cmd, ...args] = this.argv(m, this.initialCluster, extraArgs)
    const shown = [cmd, ...args].join(' ')
    const child = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'pipe'], env: this.opts.env ?? process.env })
    m.child = child
    m.exitCode = undefined
    child.stdout!.on('data', (d: Buffer) => m.appendOutput(d))
    child.stderr!.on('data', (d: Buffer) => m.appendOutput(d))
    child.once('error', (err) => {
      m.exitCode = 'spawn-error'
      onFail(new StoreStartError(`${this.label}: member ${m.name} could not run \`${shown}\`: ${err.message}`))
    })
    child.once('exit', (code, signal) => {
      m.exitCode = code ?? signal ?? 'exit'
      // Let the last output arrive before quoting it.
      setTimeout(() => {
        onFail(
          new StoreStartError(
            `${this.label}: member ${m.name} exited (${m.exitCode}) while starting: \`${shown}\`\n` +
              `--- its output, last lines ---\n${m.stderrTail.split('\n').slice(-15).join('\n') || '(nothing)'}`,
          ),
        )
      }, 100)
    })
  }

  private async startOnce(attempt: number): Promise<void> {
    const size = this.opts.size ?? 3
    const ports: number[] = []
    while (ports.length < size * 2) {
      const p = await freePort()
      if (!ports.includes(p)) ports.push(p)
    }
    this.members = Array.from(
      { length: size },
      (_, i) => new StoreMember(`m${i + 1}`, join(this.dir, `a${attempt}-m${i + 1}`), ports[2 * i]!, ports[2 * i + 1]!, this.opts.hosts?.[i]),
    )
    this.token = `bench-${process.pid}-${Date.now()}-${attempt}`
    this.initialCluster = this.members.map((m) => `${m.name}=${m.peerUrl}`).join(',')
    let failed: ((e: Error) => void) | undefined
    const failure = new Promise<never>((_, reject) => (failed = reject))
    failure.catch(() => {})
    for (const m of this.members) this.spawnMember(m, [], (e) => failed!(e))
    const timeout = this.opts.startTimeoutMs ?? 30_000
    await Promise.race([failure, this.waitForLeader(timeout)])
    failed = () => {}
  }

  /** client endpoints as host:port, in member order. */
  get endpoints(): string[] {
    return this.members.map((m) => m.endpoint)
  }

  pids(): number[] {
    return this.members.map((m) => m.pid ?? 0)
  }

  /** Maintenance.Status of member i. */
  status(i: number, timeoutMs = 1000): Promise<MemberStatus> {
    const m = this.members[i]!
    m.client ??= maintenanceClient(m.endpoint)
    return statusOf(m.client as StatusClient, timeoutMs)
  }

  /** Index (into members) of the leader every live member agrees on, waiting up to timeoutMs. */
  async leader(timeoutMs = 10_000): Promise<number> {
    return this.waitForLeader(timeoutMs)
  }

  private async waitForLeader(timeoutMs: number): Promise<number> {
    const until = Date.now() + timeoutMs
    let last = 'no member answered Status'
    while (Date.now() < until) {
      const st = await Promise.all(this.members.map((m, i) => (m.alive ? this.status(i).catch((e: Error) => e) : new Error(`${m.name} is not running`))))
      const ok = st.filter((s): s is MemberStatus => !(s instanceof Error))
      if (ok.length === st.length) {
        const lead = ok[0]!.leader
        if (lead !== '0' && ok.every((s) => s.leader === lead)) {
          const at = ok.findIndex((s) => s.memberId === lead)
          if (at >= 0) return at
        }
        last = `leaders seen: ${ok.map((s) => s.leader).join(', ')}`
      } else last = st.map((s) => (s instanceof Error ? s.message : 'ok')).join('; ')
      await new Promise((r) => setTimeout(r, 100))
    }
    const tails = this.members.map((m) => `--- ${m.name} (${this.argv(m, '…').join(' ')}), last lines ---\n${m.stderrTail.split('\n').slice(-8).join('\n') || '(nothing)'}`)
    throw new StoreStartError(`${this.label}: no agreed leader within ${timeoutMs} ms (${last})\n${tails.join('\n')}`)
  }

  /** CPU and RSS of every member now. */
  sample(): ProcSample {
    const s = this.members.map((m) => procSample(m.alive ? m.pid : undefined))
    return { cpuMs: s.map((x) => x.cpuMs), rssBytes: s.map((x) => x.rssBytes) }
  }

  /** Polls every member's Status each intervalMs until stop(); see monitorLeader(). */
  monitorLeader(intervalMs = 200): LeaderMonitor {
    return monitorLeader(this.members.length, (i) => this.status(i), intervalMs)
  }

  private async stopMembers(timeoutMs = 5000): Promise<void> {
    await Promise.all(
      this.members.map(async (m) => {
        m.client?.close()
        m.client = undefined
        const child = m.child
        if (!child || m.exitCode !== undefined) return
        const exited = new Promise((r) => child.once('exit', r))
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
        await exited
        clearTimeout(timer)
      }),
    )
  }

  // ---- faults: stop and start members, keeping their ports and data dirs ----------

  /**
   * Send `signal` to member i (default SIGKILL) and wait until it has exited
   * (SIGKILL after timeoutMs if it has not). Its data dir and ports are kept.
   */
  async kill(i: number, signal: NodeJS.Signals = 'SIGKILL', timeoutMs = 10_000): Promise<void> {
    const m = this.members[i]!
    m.client?.close()
    m.client = undefined
    const child = m.child
    if (!child || m.exitCode !== undefined) return
    const exited = new Promise((r) => child.once('exit', r))
    child.kill(signal)
    const timer = signal === 'SIGKILL' ? undefined : setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    await exited
    clearTimeout(timer)
  }

  /**
   * Start member i again (it must have exited) with the same flags, ports and data dir,
   * plus extraArgs (later flags win, e.g. `--log-level=info`). Resolves once it answers
   * Maintenance.Status; rejects if it exits first or does not answer within timeoutMs.
   */
  async restart(i: number, opts: { extraArgs?: string[]; timeoutMs?: number } = {}): Promise<void> {
    if (this.stopped) throw new Error(`${this.label}: cluster is stopped`)
    const m = this.members[i]!
    if (m.alive) throw new Error(`${this.label}: member ${m.name} is still running`)
    m.client?.close()
    m.client = undefined
    let failed: ((e: Error) => void) | undefined
    const failure = new Promise<never>((_, reject) => (failed = reject))
    failure.catch(() => {})
    this.spawnMember(m, opts.extraArgs ?? [], (e) => failed!(e))
    const until = Date.now() + (opts.timeoutMs ?? 30_000)
    const answered = (async () => {
      let last: unknown
      while (Date.now() < until) {
        if (!m.alive) return failure // rejects with its output once the last of it has arrived
        try {
          await this.status(i)
          return
        } catch (err) {
          last = err
          await new Promise((r) => setTimeout(r, 100))
        }
      }
      throw new StoreStartError(`${this.label}: member ${m.name} did not answer Status within ${opts.timeoutMs ?? 30_000} ms after restart (${String(last)})\n${m.stderrTail.split('\n').slice(-8).join('\n')}`)
    })()
    await Promise.race([failure, answered])
    failed = () => {}
  }

  /** Stop every member with `signal` (SIGTERM: graceful, SIGKILL after timeoutMs), at once; data dirs are kept. */
  async stopAll(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<void> {
    await Promise.all(this.members.map((_, i) => this.kill(i, signal, timeoutMs)))
  }

  /** Start every stopped member again on its data dir and ports; waits for an agreed leader. */
  async startAll(opts: { extraArgs?: string[]; timeoutMs?: number } = {}): Promise<number> {
    if (this.stopped) throw new Error(`${this.label}: cluster is stopped`)
    let failed: ((e: Error) => void) | undefined
    const failure = new Promise<never>((_, reject) => (failed = reject))
    failure.catch(() => {})
    for (const m of this.members) {
      if (m.alive) continue
      m.client?.close()
      m.client = undefined
      this.spawnMember(m, opts.extraArgs ?? [], (e) => failed!(e))
    }
    const lead = await Promise.race([failure, this.waitForLeader(opts.timeoutMs ?? this.opts.startTimeoutMs ?? 30_000)])
    failed = () => {}
    return lead
  }

  /** SIGTERM every member, SIGKILL after timeoutMs, remove the data dir. Idempotent. */
  async stop(timeoutMs = 5000): Promise<void> {
    if (this.stopped) return
    await this.stopMembers(timeoutMs)
    this.stopped = true
    rmSync(this.dir, { recursive: true, force: true })
    live.delete(this)
    if (live.size === 0) uninstall()
  }

  /** Synchronous last resort (signal, exit): SIGKILL every member, remove the data dir. */
  killSync(): void {
    for (const m of this.members) if (m.alive) m.child?.kill('SIGKILL')
    rmSync(this.dir, { recursive: true, force: true })
    this.stopped = true
    live.delete(this)
  }
}
