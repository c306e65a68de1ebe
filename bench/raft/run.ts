// `raftplane bench raft`: three members as separate processes on loopback with real
// fsync; closed-loop proposers of 256-byte entries at 1, 16 and 256 concurrency on the
// leader. Prints a table, optionally writes JSON. The disk's raw fsync rate and the
// loopback round trip are measured in the same run: they are the physical bound.
import { rmSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, connect, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { measureFsyncRate } from '../wal/fsync.js'
import { MemberCluster } from './processes.js'
import type { LoadResult } from './protocol.js'

export interface RaftBenchOptions {
  quick?: boolean
  entryBytes?: number
  concurrency?: number[]
  seconds?: number
}

export interface RaftBenchReport {
  date: string
  machine: { cpus: number; node: string }
  entryBytes: number
  fsyncPerSecond: number
  fsyncMs: number
  loopbackRttMs: number
  leaderChanges: number
  rows: (LoadResult & { boundEntriesPerSecond: number; p50VsFsyncPlusRtt: number })[]
}

/** Mean round trip of a 1-byte ping-pong over loopback TCP. */
async function measureLoopbackRtt(count = 2000): Promise<number> {
  const server = createServer((s) => s.on('data', (d) => s.write(d)))
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as AddressInfo
  const sock = connect(port, '127.0.0.1')
  sock.setNoDelay(true)
  await new Promise((r) => sock.once('connect', r))
  const start = performance.now()
  for (let i = 0; i < count; i++) {
    await new Promise<void>((resolve) => {
      sock.once('data', () => resolve())
      sock.write('x')
    })
  }
  const rtt = (performance.now() - start) / count
  sock.destroy()
  await new Promise((r) => server.close(r))
  return rtt
}

export async function runRaftBench(opts: RaftBenchOptions = {}): Promise<RaftBenchReport> {
  const entryBytes = opts.entryBytes ?? 256
  const concurrency = opts.concurrency ?? [1, 16, 256]
  const seconds = opts.seconds ?? (opts.quick ? 2 : 5)
  const dir = await mkdtemp(join(tmpdir(), 'raftplane-bench-raft-'))
  process.env.RAFT_SM = 'count'
  const cluster = new MemberCluster(dir, 3)
  // Ctrl-C must not leave member processes or the temp dir behind.
  const onSignal = (signal: NodeJS.Signals) => {
    cluster.killAll()
    rmSync(dir, { recursive: true, force: true })
    process.kill(process.pid, signal)
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    const fsyncPerSecond = await measureFsyncRate(dir, opts.quick ? 1 : 2)
    const loopbackRttMs = await measureLoopbackRtt()
    await cluster.start()
    const leader = await cluster.waitForLeader()
    const termBefore = (await leader.status()).term
    // Warm up the JIT and the connections.
    await leader.load(16, 0.5, entryBytes)
    const rows: RaftBenchReport['rows'] = []
    const fsyncMs = 1000 / fsyncPerSecond
    for (const c of concurrency) {
      const r = await leader.load(c, seconds, entryBytes)
      rows.push({
        ...r,
        boundEntriesPerSecond: fsyncPerSecond * r.leaderEntriesPerFsync,
        p50VsFsyncPlusRtt: r.p50Ms / (fsyncMs + loopbackRttMs),
      })
    }
    const statuses = await Promise.all(cluster.members.map((m) => m.status()))
    const leaderChanges = statuses.some((s) => s.term !== termBefore) ? 1 : 0
    return {
      date: new Date().toISOString(),
      machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
      entryBytes,
      fsyncPerSecond,
      fsyncMs,
      loopbackRttMs,
      leaderChanges,
      rows,
    }
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    await cluster.stopAll().catch(() => cluster.killAll())
    await rm(dir, { recursive: true, force: true })
  }
}

export function formatRaftBench(r: RaftBenchReport): string {
  const lines = [
    `raft benchmark — 3 members (separate processes, loopback gRPC, fdatasync), ${r.entryBytes}-byte entries`,
    `disk: ${r.fsyncPerSecond.toFixed(0)} fdatasync/s (${r.fsyncMs.toFixed(2)} ms each); loopback RTT ${(r.loopbackRttMs * 1000).toFixed(0)} µs; leader changes during run: ${r.leaderChanges}`,
    '',
    '| proposers | committed/s | p50 ms | p99 ms | entries/fsync (leader) | fsync bound/s | p50 ÷ (fsync+RTT) | errors |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|',
  ]
  for (const row of r.rows) {
    lines.push(
      `| ${row.concurrency} | ${row.perSecond.toFixed(0)} | ${row.p50Ms.toFixed(2)} | ${row.p99Ms.toFixed(2)} | ${row.leaderEntriesPerFsync.toFixed(1)} | ${row.boundEntriesPerSecond.toFixed(0)} | ${row.p50VsFsyncPlusRtt.toFixed(2)} | ${row.errors} |`,
    )
  }
  return lines.join('\n')
}
