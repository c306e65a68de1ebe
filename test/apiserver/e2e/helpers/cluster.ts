// A cluster for end-to-end tests: `raftplane up --base-port 0` (free ports) in a temp
// data dir, stopped in teardown even when a test fails; plus a kubectl runner.
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import type { Test } from 'tap'

const REPO = new URL('../../../../', import.meta.url).pathname
export const RAFTPLANE = [process.execPath, '--import', 'tsx', join(REPO, 'src/cli/main.ts')]
export const KUBECTL = '/usr/bin/kubectl'

export interface TestCluster {
  dataDir: string
  kubeconfig: string
  /** https://127.0.0.1:<port> of each master's apiserver (CA in DIR/pki/ca.crt). */
  urls: string[]
  layout: { masters: { name: string; apiserverPort: number; clientPort: number; peerPort: number }[] }
  kubectl(args: string[], opts?: { input?: string; allowFail?: boolean; timeoutMs?: number }): Promise<KubectlResult>
  output(): string
  /** Stops `raftplane up` as Ctrl-C would and resolves with its exit code. */
  stop(): Promise<number | null>
  /** Resolves with the exit code once `raftplane up` has exited by itself (after `raftplane down`). */
  exited: Promise<number | null>
}

export interface KubectlResult {
  code: number
  stdout: string
  stderr: string
}

/** `nodes` defaults to none: most API tests want pods to stay where they put them. */
/** `args`: more `raftplane up` flags. */
export async function startCluster(t: Test, opts: { masters?: number; nodes?: number; args?: string[] } = {}): Promise<TestCluster> {
  const dataDir = await mkdtemp(join(tmpdir(), 'raftplane-e2e-'))
  const args = ['up', '--data', dataDir, '--base-port', '0', '--masters', String(opts.masters ?? 3), '--nodes', String(opts.nodes ?? 0), ...(opts.args ?? [])]
  const child: ChildProcess = spawn(RAFTPLANE[0]!, [...RAFTPLANE.slice(1), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()))
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
  const stop = async (): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGINT')
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
      await exited
      clearTimeout(timer)
    }
    return exited
  }
  t.teardown(async () => {
    await stop()
    // The masters are `up`'s children; make sure none outlives the test.
    if (!process.env.KEEP_E2E_DATA) await rm(dataDir, { recursive: true, force: true })
  })
  const kubeconfig = join(dataDir, 'kubeconfig')
  const deadline = Date.now() + 100_000
  while (!(existsSync(kubeconfig) && out.includes('cluster ready'))) {
    if (child.exitCode !== null) throw new Error(`raftplane up exited ${child.exitCode}:\n${out}`)
    if (Date.now() > deadline) throw new Error(`raftplane up not ready:\n${out}`)
    await new Promise((r) => setTimeout(r, 200))
  }
  const layout = JSON.parse(await readFile(join(dataDir, 'cluster.json'), 'utf8')) as TestCluster['layout']
  const urls = layout.masters.map((m) => `https://127.0.0.1:${m.apiserverPort}`)
  return {
    dataDir,
    kubeconfig,
    urls,
    layout,
    output: () => out,
    stop,
    exited,
    kubectl: (args, o = {}) => kubectl(kubeconfig, args, o),
  }
}

export function kubectl(kubeconfig: string, args: string[], o: { input?: string; allowFail?: boolean; timeoutMs?: number } = {}): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    const p = execFile(
      KUBECTL,
      ['--kubeconfig', kubeconfig, '--cache-dir', join(dirname(kubeconfig), 'kube-cache'), ...args],
      { timeout: o.timeoutMs ?? 30_000, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, KUBECONFIG: kubeconfig, HOME: tmpdir() } },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1
        const r = { code, stdout, stderr }
        if (code !== 0 && !(o.allowFail ?? false)) {
          reject(new Error(`kubectl ${args.join(' ')} failed (${code}):\n${stderr}\n${stdout}`))
          return
        }
        resolve(r)
      },
    )
    if (o.input !== undefined) {
      p.stdin!.end(o.input)
    }
  })
}
