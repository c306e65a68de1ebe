// Starts raft members as separate OS processes on loopback and drives them over IPC.
// Ports are chosen by the OS on first start and reused on restart, since the other
// members know a member by its address.
import { type ChildProcess, fork } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { LoadResult, MemberCommand, MemberReply, MemberStatus } from './protocol.js'

const here = fileURLToPath(import.meta.url)
// Run the member the same way we run: from TypeScript sources under tsx, or compiled.
const memberPath = here.endsWith('.ts') ? join(here, '..', 'member.ts') : join(here, '..', 'member.js')
// RAFT_MEMBER_NODE_ARGS adds node flags to every member, e.g. "--cpu-prof" for profiling.
const execArgv = [...(here.endsWith('.ts') ? ['--import', 'tsx'] : []), ...(process.env.RAFT_MEMBER_NODE_ARGS?.split(' ').filter(Boolean) ?? [])]

type Request = Extract<MemberCommand, { req: number }>
type Distribute<T> = T extends unknown ? Omit<T, 'req'> : never

export class MemberProcess {
  child: ChildProcess | undefined
  address = ''
  private nextReq = 0
  private readonly waiting = new Map<number, { resolve(r: MemberReply): void; reject(e: Error): void }>()
  lead = 0
  term = 0

  constructor(
    readonly id: number,
    readonly dataDir: string,
  ) {}

  /** Fork the process and wait until it listens. */
  async spawn(): Promise<void> {
    const child = fork(memberPath, [], {
      execArgv,
      env: {
        ...process.env,
        RAFT_MEMBER_ID: String(this.id),
        RAFT_DATA_DIR: this.dataDir,
        RAFT_LISTEN: this.address || '127.0.0.1:0',
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    this.child = child
    const listening = new Promise<void>((resolve, reject) => {
      child.once('exit', (code, signal) => reject(new Error(`member ${this.id} exited early (${code ?? signal})`)))
      child.on('message', (r: MemberReply) => {
        if (r.type === 'listening') {
          this.address = r.address
          resolve()
        } else if (r.type === 'leader') {
          this.lead = r.lead
          this.term = r.term
        } else if ('req' in r) {
          this.waiting.get(r.req)?.resolve(r)
          this.waiting.delete(r.req)
        }
      })
    })
    child.on('exit', () => {
      const err = new Error(`member ${this.id} exited`)
      for (const w of this.waiting.values()) w.reject(err)
      this.waiting.clear()
      if (this.child === child) this.child = undefined
    })
    await listening
  }

  get alive(): boolean {
    return this.child !== undefined
  }

  send(cmd: MemberCommand): void {
    this.child?.send(cmd)
  }

  request<T extends MemberReply['type']>(cmd: Distribute<Request>): Promise<Extract<MemberReply, { type: T }>> {
    const req = this.nextReq++
    return new Promise((resolve, reject) => {
      if (!this.child) {
        reject(new Error(`member ${this.id} is not running`))
        return
      }
      this.waiting.set(req, { resolve: resolve as (r: MemberReply) => void, reject })
      this.child.send({ ...cmd, req } as MemberCommand)
    })
  }

  async start(cluster: { id: number; address: string }[], snapshotCount?: number): Promise<void> {
    const child = this.child!
    const started = new Promise<void>((resolve) => {
      const on = (r: MemberReply) => {
        if (r.type !== 'started') return
        child.off('message', on)
        resolve()
      }
      child.on('message', on)
    })
    child.send({ type: 'start', cluster, snapshotCount } satisfies MemberCommand)
    await started
  }

  status(): Promise<MemberStatus> {
    return this.request<'status'>({ type: 'status' })
  }

  async propose(value: string): Promise<number> {
    const r = await this.request<'proposed'>({ type: 'propose', value })
    if (!r.ok) throw new Error(r.error)
    return r.index
  }

  async values(): Promise<string[]> {
    return (await this.request<'values'>({ type: 'values' })).values
  }

  async load(concurrency: number, seconds: number, size: number): Promise<LoadResult> {
    return (await this.request<'load'>({ type: 'load', concurrency, seconds, size })).result
  }

  /** kill -9: no goodbye, no flush. */
  async kill(): Promise<void> {
    const child = this.child
    if (!child) return
    const exited = new Promise((r) => child.once('exit', r))
    child.kill('SIGKILL')
    await exited
  }

  async stop(): Promise<void> {
    const child = this.child
    if (!child) return
    const exited = new Promise((r) => child.once('exit', r))
    child.send({ type: 'stop' } satisfies MemberCommand)
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
    await exited
    clearTimeout(timer)
  }
}

export class MemberCluster {
  readonly members: MemberProcess[]

  constructor(dir: string, size: number) {
    this.members = Array.from({ length: size }, (_, i) => new MemberProcess(i + 1, join(dir, `member-${i + 1}`)))
  }

  get cluster(): { id: number; address: string }[] {
    return this.members.map((m) => ({ id: m.id, address: m.address }))
  }

  async start(snapshotCount?: number): Promise<void> {
    await Promise.all(this.members.map((m) => m.spawn()))
    await Promise.all(this.members.map((m) => m.start(this.cluster, snapshotCount)))
  }

  async restart(m: MemberProcess, snapshotCount?: number): Promise<void> {
    await m.spawn()
    await m.start(this.cluster, snapshotCount)
  }

  /** The member every live member agrees is leader, waiting up to timeoutMs. */
  async waitForLeader(timeoutMs = 15_000, exclude?: number): Promise<MemberProcess> {
    const until = Date.now() + timeoutMs
    while (Date.now() < until) {
      const live = this.members.filter((m) => m.alive)
      const statuses = await Promise.all(live.map((m) => m.status().catch(() => undefined)))
      const leaders = statuses.filter((s) => s && s.state === 'Leader' && s.id !== exclude)
      if (leaders.length === 1) {
        const lead = leaders[0]!.id
        if (statuses.every((s) => s && s.lead === lead)) return this.members.find((m) => m.id === lead)!
      }
      await new Promise((r) => setTimeout(r, 50))
    }
    throw new Error(`no leader within ${timeoutMs} ms`)
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.members.map((m) => m.stop()))
  }

  killAll(): void {
    for (const m of this.members) m.child?.kill('SIGKILL')
  }
}
