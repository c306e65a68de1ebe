// One raft member as its own OS process, for the process-level test and the raft
// benchmark. The parent drives it over the IPC channel (child_process.fork); the
// state machine is the list of applied values, rebuilt from the WAL on restart.
import * as grpc from '@grpc/grpc-js'
import { pino } from 'pino'
import { RaftNode, type AppliedEntry, type Member } from '../../src/raft/node.js'
import { GrpcTransport } from '../../src/raft/transport/grpc-transport.js'
import type { MemberCommand, MemberReply, LoadResult } from './protocol.js'

const id = Number(process.env.RAFT_MEMBER_ID)
const dataDir = process.env.RAFT_DATA_DIR!
const listen = process.env.RAFT_LISTEN ?? '127.0.0.1:0'
const logger = pino({ level: process.env.RAFT_LOG_LEVEL ?? 'warn' }, pino.destination(2))

// 'values' keeps every applied value (for tests that compare logs); 'count' keeps a
// count and a running checksum, so a long benchmark's snapshots stay tiny.
const keepValues = (process.env.RAFT_SM ?? 'values') === 'values'
const values: string[] = []
let applied = 0
let checksum = 0
let node: RaftNode<number> | undefined

function reply(r: MemberReply): void {
  process.send!(r)
}

const stateMachine = {
  apply(entries: AppliedEntry[]): number[] {
    const out: number[] = []
    for (const e of entries) {
      if (keepValues) values.push(Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength).toString('latin1'))
      applied++
      checksum = (checksum * 31 + e.index) >>> 0
      out.push(e.index)
    }
    return out
  },
  snapshot(): Uint8Array {
    return Buffer.from(JSON.stringify({ values, applied, checksum }))
  },
  restore(data: Uint8Array): void {
    const s = JSON.parse(Buffer.from(data).toString()) as { values: string[]; applied: number; checksum: number }
    values.length = 0
    for (const v of s.values) values.push(v)
    applied = s.applied
    checksum = s.checksum
  },
}

async function bind(): Promise<{ server: grpc.Server; address: string }> {
  const server = new grpc.Server()
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(listen, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  )
  return { server, address: `127.0.0.1:${port}` }
}

async function runLoad(concurrency: number, seconds: number, size: number): Promise<LoadResult> {
  const n = node!
  const payload = Buffer.alloc(size, 0x61)
  const latencies: number[] = []
  let errors = 0
  const until = performance.now() + seconds * 1000
  const fsyncsBefore = n.walStats().fsyncs
  const entriesBefore = n.walStats().entriesSynced
  const t0 = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        const start = performance.now()
        try {
          await n.propose(payload)
          latencies.push(performance.now() - start)
        } catch {
          errors++
        }
      }
    }),
  )
  const elapsed = (performance.now() - t0) / 1000
  const stats = n.walStats()
  latencies.sort((a, b) => a - b)
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0
  return {
    concurrency,
    committed: latencies.length,
    errors,
    seconds: elapsed,
    perSecond: latencies.length / elapsed,
    p50Ms: q(0.5),
    p99Ms: q(0.99),
    leaderFsyncs: stats.fsyncs - fsyncsBefore,
    leaderEntriesPerFsync: (stats.entriesSynced - entriesBefore) / Math.max(1, stats.fsyncs - fsyncsBefore),
  }
}

async function handle(cmd: MemberCommand): Promise<void> {
  switch (cmd.type) {
    case 'start': {
      const { server } = bound
      node = await RaftNode.start<number>({
        id,
        dataDir,
        initialCluster: cmd.cluster as Member[],
        stateMachine,
        transport: (handler) => new GrpcTransport({ id, clusterId: 'raftplane-test', server, handler, logger }),
        snapshotCount: cmd.snapshotCount,
        logger,
      })
      node.on('leader', (lead: number, term: number) => reply({ type: 'leader', lead, term }))
      reply({ type: 'started' })
      return
    }
    case 'propose':
      try {
        const index = await node!.propose(Buffer.from(cmd.value, 'latin1'))
        reply({ type: 'proposed', req: cmd.req, ok: true, index })
      } catch (err) {
        reply({ type: 'proposed', req: cmd.req, ok: false, error: (err as Error).message })
      }
      return
    case 'status': {
      const s = node!.status()
      reply({ type: 'status', req: cmd.req, id, lead: s.lead, term: s.term, state: s.state, commit: s.commit, applied: s.appliedIndex })
      return
    }
    case 'values':
      reply({ type: 'values', req: cmd.req, values: [...values] })
      return
    case 'load':
      reply({ type: 'load', req: cmd.req, result: await runLoad(cmd.concurrency, cmd.seconds, cmd.size) })
      return
    case 'stop':
      await node?.stop()
      bound.server.forceShutdown()
      process.exit(0)
  }
}

const bound = await bind()
process.on('message', (cmd: MemberCommand) => {
  handle(cmd).catch((err: Error) => {
    logger.error({ err }, 'member command failed')
    process.exit(1)
  })
})
// The parent going away (even by kill -9) must not leave us running.
process.on('disconnect', () => process.exit(0))
reply({ type: 'listening', address: bound.address })
