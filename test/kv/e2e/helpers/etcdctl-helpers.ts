// Shared by test/kv/e2e/etcdctl*.test.ts: run the real etcdctl 3.4 (/usr/bin/etcdctl)
// against a raftplane store cluster started by bench/kv/cluster.ts, and spawn extra
// `raftplane store` members (joiners, restored clusters) that are always killed in
// teardown. Every helper takes the tap test so cleanup and diagnostics are registered
// where the process or dir is created.
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort, StoreCluster } from '../../../../bench/kv/cluster.js'

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..')
export const ETCDCTL = process.env.ETCDCTL_BIN ?? '/usr/bin/etcdctl'

/** argv prefix that runs `raftplane store` from source. */
export const STORE_COMMAND = [process.execPath, '--import', 'tsx', join(REPO, 'src/cli/main.ts'), 'store']

/** The part of tap's Test these helpers use. */
export interface T {
  teardown(fn: () => unknown): void
  comment(...args: unknown[]): void
  passing(): boolean
}

export interface CtlResult {
  code: number
  stdout: string
  stderr: string
}

export interface CtlOptions {
  endpoints: string[] | string
  /** Written to etcdctl's stdin (txn -i). */
  input?: string
  timeoutMs?: number
}

/** Runs etcdctl with ETCDCTL_API=3; never throws for a non-zero exit (see code). */
export function etcdctl(args: string[], opts: CtlOptions): Promise<CtlResult> {
  const endpoints = Array.isArray(opts.endpoints) ? opts.endpoints.join(',') : opts.endpoints
  const argv = [`--endpoints=${endpoints}`, '--dial-timeout=3s', '--command-timeout=10s', ...args]
  return new Promise((resolvePromise) => {
    const child = execFile(
      ETCDCTL,
      argv,
      { env: { ...process.env, ETCDCTL_API: '3' }, timeout: opts.timeoutMs ?? 20_000, maxBuffer: 16 * 2 ** 20, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { code?: number | string; killed?: boolean }) | null
        const code = e ? (typeof e.code === 'number' ? e.code : e.killed ? 124 : 1) : 0
        resolvePromise({ code, stdout, stderr: e?.killed ? `${stderr}\n(etcdctl ${args.join(' ')} killed after timeout)` : stderr })
      },
    )
    if (opts.input !== undefined) child.stdin!.end(opts.input)
    else child.stdin!.end()
  })
}

/** etcdctl that must succeed; the error names the command and quotes its output. */
export async function ctlOk(args: string[], opts: CtlOptions): Promise<string> {
  const r = await etcdctl(args, opts)
  if (r.code !== 0) throw new Error(`etcdctl ${args.join(' ')} exited ${r.code}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`)
  return r.stdout
}

/** etcdctl -w json, parsed. */
export async function ctlJson<J = Record<string, unknown>>(args: string[], opts: CtlOptions): Promise<J> {
  const out = await ctlOk([...args, '-w', 'json'], opts)
  try {
    return JSON.parse(out) as J
  } catch {
    throw new Error(`etcdctl ${args.join(' ')} -w json printed no JSON:\n${out}`)
  }
}

export const b64 = (s: string): string => Buffer.from(s).toString('base64')
export const unb64 = (s: string): string => Buffer.from(s, 'base64').toString('utf8')

/** etcdctl's JSON prints uint64 IDs as bare numbers; read them exactly. */
export function bigIds(json: string): string {
  return json.replace(/"(ID|id|member_id|cluster_id|leader|lease)":(\d+)/g, '"$1":"$2"')
}

/** A uint64 as etcdctl prints member and lease IDs in simple output (%x / %016x). */
export const hex = (id: string | number | bigint): string => BigInt(id).toString(16)

/** A 3-member raftplane store cluster, stopped in teardown; member output on failure. */
export async function startStoreCluster(t: T, opts: { size?: number; token?: string } = {}): Promise<StoreCluster> {
  const token = opts.token ?? `etcdctl-e2e-${process.pid}-${Date.now()}`
  const cluster = await StoreCluster.start({
    command: STORE_COMMAND,
    label: 'raftplane',
    size: opts.size ?? 3,
    logLevel: 'warn',
    // Last flag wins: a known token, so joiners can be started with it.
    extraArgs: [`--initial-cluster-token=${token}`],
  })
  ;(cluster as StoreCluster & { testToken?: string }).testToken = token
  t.teardown(async () => {
    if (!t.passing()) for (const m of cluster.members) t.comment(`--- ${m.name} (${m.endpoint}) last output ---\n${m.stderrTail.split('\n').slice(-15).join('\n')}`)
    await cluster.stop()
  })
  return cluster
}

export function clusterToken(cluster: StoreCluster): string {
  return (cluster as StoreCluster & { testToken?: string }).testToken ?? 'etcd-cluster'
}

/** A temp dir removed in teardown. */
export function tempDir(t: T, prefix = 'raftplane-etcdctl-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

export interface Spawned {
  child: ChildProcess
  output(): string
  exited: Promise<number | string>
  alive(): boolean
}

/** Spawns a process (a raftplane store member, a long etcdctl watch), SIGKILLed in teardown. */
export function spawnTracked(t: T, label: string, argv: string[], env: NodeJS.ProcessEnv = process.env): Spawned {
  const [cmd, ...args] = argv
  const child = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'pipe'], env })
  let out = ''
  let done: number | string | undefined
  const add = (d: Buffer) => (out = (out + d.toString('utf8')).slice(-64 * 1024))
  child.stdout!.on('data', add)
  child.stderr!.on('data', add)
  const exited = new Promise<number | string>((r) => {
    child.once('exit', (code, signal) => r((done = code ?? signal ?? 'exit')))
    child.once('error', (err) => r((done = `spawn error: ${err.message}`)))
  })
  t.teardown(async () => {
    if (!t.passing()) t.comment(`--- ${label} last output ---\n${out.split('\n').slice(-15).join('\n')}`)
    if (done === undefined) {
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
      await exited
      clearTimeout(timer)
    }
  })
  return { child, output: () => out, exited, alive: () => done === undefined }
}

/** Two free loopback ports (client, peer). */
export async function twoPorts(): Promise<[number, number]> {
  const a = await freePort()
  let b = await freePort()
  while (b === a) b = await freePort()
  return [a, b]
}

/** Flags of one store member on loopback. */
export function memberFlags(o: { name: string; dataDir: string; clientPort: number; peerPort: number; initialCluster: string; state: 'new' | 'existing'; token: string }): string[] {
  return [
    `--name=${o.name}`,
    `--data-dir=${o.dataDir}`,
    `--listen-client-urls=http://127.0.0.1:${o.clientPort}`,
    `--advertise-client-urls=http://127.0.0.1:${o.clientPort}`,
    `--listen-peer-urls=http://127.0.0.1:${o.peerPort}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${o.peerPort}`,
    `--initial-cluster=${o.initialCluster}`,
    `--initial-cluster-state=${o.state}`,
    `--initial-cluster-token=${o.token}`,
    '--heartbeat-interval=100',
    '--election-timeout=1000',
    '--log-level=warn',
  ]
}

/** Polls fn until it returns a value other than undefined/false; throws the last error or `what` on timeout. */
export async function waitFor<R>(what: string, fn: () => Promise<R | undefined | false>, timeoutMs = 20_000, everyMs = 200): Promise<R> {
  const until = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < until) {
    try {
      const r = await fn()
      if (r !== undefined && r !== false) return r
    } catch (err) {
      last = err
    }
    await new Promise((r) => setTimeout(r, everyMs))
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`)
}

export interface EndpointStatus {
  Endpoint: string
  Status: { header: { member_id: string; revision: number; raft_term: number }; leader: string; version: string; dbSize: number; raftIndex: number; raftTerm: number; raftAppliedIndex: number }
}

/** `endpoint status -w json` over the given endpoints, IDs as exact decimal strings. */
export async function endpointStatus(endpoints: string[]): Promise<EndpointStatus[]> {
  const out = await ctlOk(['endpoint', 'status', '-w', 'json'], { endpoints })
  return JSON.parse(bigIds(out)) as EndpointStatus[]
}
