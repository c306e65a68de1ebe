// The kv benchmark's workloads, each the same bytes for every target: put, range
// (linearizable, serializable), txn (compare mod_revision + put), watch fan-out, and
// the bulk load used for the RSS figure.
import { type ChildProcess, fork } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { closedLoop, type KvClient, type LoopResult, METHOD } from './client.js'
import type { WorkerCommand, WorkerReply } from './watch-worker.js'
import {
  casPutTxn,
  decodeRangeResponse,
  decodeTxnResponse,
  headerRevision,
  Histogram,
  multiPutTxn,
  putRequest,
  rangeRequest,
  stampedValue,
  wallMs,
} from './wire.js'

export interface WorkloadResult {
  ops: number
  errors: number
  seconds: number
  hist: Histogram
  firstError?: string
  detail?: Record<string, number>
  /** CPU of helper processes (watch workers), ms. */
  workerCpuMs?: number
}

function keyBuffers(prefix: string, n: number): Buffer[] {
  return Array.from({ length: n }, (_, i) => Buffer.from(`${prefix}${String(i).padStart(6, '0')}`))
}

/** Closed-loop puts of valueBytes values over a keyspace of `keyspace` keys. */
export async function putWorkload(
  client: KvClient,
  o: { prefix: string; concurrency: number; seconds: number; keyspace: number; valueBytes: number },
): Promise<WorkloadResult> {
  const keys = keyBuffers(o.prefix, o.keyspace)
  const value = stampedValue(o.valueBytes)
  return closedLoop(client, {
    concurrency: o.concurrency,
    seconds: o.seconds,
    method: METHOD.put,
    request: (slot, seq) => {
      value.writeDoubleLE(wallMs(), 0)
      return putRequest(keys[(slot * 7919 + seq) % keys.length]!, value)
    },
  })
}

/** Closed-loop single-key ranges over the keyspace (which loadKeys filled). */
export async function rangeWorkload(
  client: KvClient,
  o: { prefix: string; concurrency: number; seconds: number; keyspace: number; serializable: boolean },
): Promise<WorkloadResult> {
  const reqs = keyBuffers(o.prefix, o.keyspace).map((k) => rangeRequest(k, { serializable: o.serializable }))
  let empty = 0
  const r = await closedLoop(client, {
    concurrency: o.concurrency,
    seconds: o.seconds,
    method: METHOD.range,
    request: (slot, seq) => reqs[(slot * 7919 + seq) % reqs.length]!,
    check: (_slot, res) => {
      if (decodeRangeResponse(res).kvs !== 1) empty++
      return true
    },
  })
  // A key the load put there and a range did not return is an error.
  return { ...r, errors: r.errors + empty, detail: { empty } }
}

/**
 * Closed-loop txns, one key per slot: if mod_revision(key) == last seen then put,
 * else get (a failed compare counts as an error and refreshes the revision).
 */
export async function txnWorkload(
  client: KvClient,
  o: { prefix: string; concurrency: number; seconds: number; valueBytes: number },
): Promise<WorkloadResult> {
  const keys = keyBuffers(o.prefix, o.concurrency)
  const modRev = new Array<number>(o.concurrency).fill(0)
  const value = stampedValue(o.valueBytes)
  let failedCompares = 0
  const r = await closedLoop(client, {
    concurrency: o.concurrency,
    seconds: o.seconds,
    method: METHOD.txn,
    request: (slot) => casPutTxn(keys[slot]!, modRev[slot]!, value),
    check: (slot, res) => {
      const t = decodeTxnResponse(res)
      if (t.succeeded) {
        modRev[slot] = t.revision
        return true
      }
      modRev[slot] = t.rangeModRevision
      failedCompares++
      return false
    },
  })
  return { ...r, detail: { failedCompares } }
}

/** Put n keys of valueBytes under prefix in txns of `batch` puts, `concurrency` at a time. */
export async function loadKeys(
  client: KvClient,
  o: { prefix: string; keys: number; valueBytes: number; batch?: number; concurrency?: number; timeoutSeconds?: number },
): Promise<LoopResult> {
  const batch = o.batch ?? 100
  const value = stampedValue(o.valueBytes)
  const txns = Math.ceil(o.keys / batch)
  return closedLoop(client, {
    concurrency: Math.min(o.concurrency ?? 16, txns),
    seconds: o.timeoutSeconds ?? 600,
    maxOps: txns,
    method: METHOD.txn,
    request: (_slot, seq) => {
      const puts: [Buffer, Buffer][] = []
      for (let i = seq * batch; i < Math.min(o.keys, (seq + 1) * batch); i++) puts.push([Buffer.from(`${o.prefix}${String(i).padStart(7, '0')}`), value])
      return multiPutTxn(puts)
    },
    check: (_slot, res) => decodeTxnResponse(res).succeeded,
  })
}

const here = fileURLToPath(import.meta.url)
const workerPath = join(here, '..', here.endsWith('.ts') ? 'watch-worker.ts' : 'watch-worker.js')
const workerExecArgv = here.endsWith('.ts') ? ['--import', 'tsx'] : []

function waitFor<T extends WorkerReply['type']>(child: ChildProcess, type: T, timeoutMs: number, what: string): Promise<Extract<WorkerReply, { type: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`watch worker ${child.pid}: no '${type}' within ${timeoutMs} ms (${what})`)), timeoutMs)
    const onMessage = (m: WorkerReply) => {
      if (m.type === type) done(undefined, m as Extract<WorkerReply, { type: T }>)
      else if (m.type === 'error') done(new Error(`watch worker ${child.pid}: ${m.message}`))
    }
    const onExit = (code: number | null, signal: string | null) => done(new Error(`watch worker ${child.pid} exited (${code ?? signal})`))
    const done = (err?: Error, v?: Extract<WorkerReply, { type: T }>) => {
      clearTimeout(timer)
      child.off('message', onMessage)
      child.off('exit', onExit)
      if (err) reject(err)
      else resolve(v!)
    }
    child.on('message', onMessage)
    child.once('exit', onExit)
  })
}

async function stopWorker(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((r) => child.once('exit', r))
  if (child.connected) child.disconnect()
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
  await exited
  clearTimeout(timer)
}

/**
 * Watch fan-out: `watchers` watchers on one prefix over `streams` Watch streams
 * (stream j on the member client.endpointOf(j)), held by `workers` child processes.
 * Then `puts` puts (putConcurrency in flight) under the prefix, each value stamped
 * with its send time; every watcher must receive every put, in revision order.
 * events/s = events delivered ÷ (last delivery − first put); latency = put → event.
 * The puts are not paced: at 1,000+ watchers they outrun delivery, so the figure is
 * the store's fan-out capacity and the latency includes the backlog it builds.
 * The number of puts is chosen by the caller (run.ts: ~250k events per second of row).
 */
export async function watchWorkload(
  client: KvClient,
  o: {
    prefix: string
    watchers: number
    streams: number
    workers: number
    puts: number
    putConcurrency: number
    valueBytes: number
    deliveryTimeoutMs: number
    /** Called when every watcher exists, just before the first put (the measured phase). */
    onStart?: () => void
  },
): Promise<WorkloadResult> {
  const streams = Math.min(o.streams, o.watchers)
  const workers = Math.max(1, Math.min(o.workers, streams))
  const plan: { endpoint: string; watchers: number }[][] = Array.from({ length: workers }, () => [])
  for (let j = 0; j < streams; j++) {
    const n = Math.floor(o.watchers / streams) + (j < o.watchers % streams ? 1 : 0)
    plan[j % workers]!.push({ endpoint: client.endpointOf(j), watchers: n })
  }
  const children = plan.map(() => fork(workerPath, [], { execArgv: workerExecArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }))
  const kill = () => children.forEach((c) => c.kill('SIGKILL'))
  process.once('exit', kill)
  try {
    const createTimeoutMs = 20_000 + o.watchers * 5
    const ready = children.map((c) => waitFor(c, 'ready', createTimeoutMs + 5000, 'creating watchers'))
    children.forEach((c, i) =>
      c.send({ type: 'start', prefix: o.prefix, streams: plan[i]!, createTimeoutMs, transport: client.transport } satisfies WorkerCommand),
    )
    await Promise.all(ready)

    const done = children.map((c) => waitFor(c, 'done', o.deliveryTimeoutMs + 120_000, 'delivering events'))
    done.forEach((p) => p.catch(() => {}))
    const keys = keyBuffers(o.prefix, 100)
    const value = stampedValue(o.valueBytes)
    let lastRevision = 0
    o.onStart?.()
    const putStart = wallMs()
    const put = await closedLoop(client, {
      concurrency: Math.min(o.putConcurrency, o.puts),
      seconds: o.deliveryTimeoutMs / 1000,
      maxOps: o.puts,
      method: METHOD.put,
      request: (_slot, seq) => {
        value.writeDoubleLE(wallMs(), 0)
        return putRequest(keys[seq % keys.length]!, value)
      },
      check: (_slot, res) => {
        lastRevision = Math.max(lastRevision, headerRevision(res))
        return true
      },
    })
    children.forEach((c) => c.send({ type: 'expect', count: put.ops, lastRevision, timeoutMs: o.deliveryTimeoutMs } satisfies WorkerCommand))
    const replies = await Promise.all(done)
    const hist = new Histogram()
    let received = 0
    let missing = 0
    let outOfOrder = 0
    let canceled = 0
    let complete = 0
    let lastEvent = putStart
    let workerCpuMs = 0
    for (const r of replies) {
      workerCpuMs += r.cpuMs
      hist.merge(r.hist)
      received += r.received
      missing += r.missing
      outOfOrder += r.outOfOrder
      canceled += r.canceled
      complete += r.complete
      lastEvent = Math.max(lastEvent, r.lastEventWallMs)
    }
    const seconds = (lastEvent - putStart) / 1000
    return {
      ops: received,
      errors: put.errors + missing + outOfOrder + canceled,
      seconds,
      hist,
      workerCpuMs,
      firstError: put.firstError ?? (missing || outOfOrder || canceled ? `${missing} events missing, ${outOfOrder} out of order, ${canceled} watchers canceled` : undefined),
      detail: { watchers: o.watchers, streams, workers, puts: put.ops, putsPerSecond: put.ops / put.seconds, complete, missing, outOfOrder, canceled },
    }
  } finally {
    process.off('exit', kill)
    await Promise.all(children.map(stopWorker))
  }
}
