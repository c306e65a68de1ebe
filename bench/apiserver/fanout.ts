// Watch fan-out through the apiserver: `watchers` watchers on the bench pods, held by
// worker processes (watch-worker.ts), while a writer updates the pods at a fixed rate.
//  - http: GET /api/v1/namespaces/bench/pods?watch=true&resourceVersion=<now>
//    &allowWatchBookmarks=true — an informer's watch, one HTTP/1.1 connection each.
//  - grpc: NodeService.WatchPods(node "bench-node", resourceVersion <now>) — the
//    kubelet's watch, 100 streams per HTTP/2 connection. Every pod is on that node,
//    so both reach every watcher with every update through the same watch cache.
// Phases: connect every watcher; one update that every watcher must receive (so all
// are registered); then the measured phase: `rate` merge-patches a second for
// `seconds`, each stamped with its send time. Every watcher must receive every update,
// in resourceVersion order. events/s = events delivered ÷ (last delivery − first
// update); latency = update sent → event received (the writer's stamp).
import { type ChildProcess, fork } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Histogram, wallMs } from '../kv/wire.js'
import type { LoopResult, RestClient } from './rest.js'
import { pacedLoop } from './rest.js'
import type { WatchTransport, WorkerCommand, WorkerReply } from './watch-worker.js'
import { NAMESPACE, NODE_NAME, stampPod } from './workloads.js'

const here = fileURLToPath(import.meta.url)
const workerPath = join(here, '..', here.endsWith('.ts') ? 'watch-worker.ts' : 'watch-worker.js')
const workerExecArgv = here.endsWith('.ts') ? ['--import', 'tsx'] : []

export const GRPC_STREAMS_PER_CONNECTION = 100

type Done = Extract<WorkerReply, { type: 'done' }>

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

export interface FanoutResult {
  /** Events delivered in the measured phase, over all watchers. */
  events: number
  eventsPerSecond: number
  /** update → event latency. */
  hist: Histogram
  /** The updates of the measured phase (their latency is mutating latency under this load). */
  updates: LoopResult
  /** Wall-clock span of the measured phase (first update → last delivery). */
  fromMs: number
  toMs: number
  setupSeconds: number
  errors: number
  firstError?: string
  workerCpuMs: number
  detail: { watchers: number; workers: number; connections: number; updates: number; updateRate: number; complete: number; missing: number; extra: number; outOfOrder: number; closed: number }
}

export async function fanout(
  rest: RestClient,
  o: {
    transport: WatchTransport
    apiPort: number
    nodeApiPort: number
    resourceVersion: string
    watchers: number
    workers: number
    pods: number
    rate: number
    seconds: number
    /** Called when the measured phase starts (updates begin) and ends (every event delivered). */
    onStart?: () => void
    onEnd?: () => void
  },
): Promise<FanoutResult> {
  const workers = Math.max(1, Math.min(o.workers, o.watchers))
  const share = (w: number) => Math.floor(o.watchers / workers) + (w < o.watchers % workers ? 1 : 0)
  const children = Array.from({ length: workers }, () => fork(workerPath, [], { execArgv: workerExecArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }))
  const kill = () => children.forEach((c) => c.kill('SIGKILL'))
  process.once('exit', kill)
  const setupStart = performance.now()
  const query = `watch=true&resourceVersion=${o.resourceVersion}&allowWatchBookmarks=true&timeoutSeconds=3600`
  try {
    const createTimeoutMs = 30_000 + o.watchers * 10
    const ready = children.map((c) => waitFor(c, 'ready', createTimeoutMs + 5000, 'setting up watchers'))
    ready.forEach((p) => p.catch(() => {}))
    children.forEach((c, w) =>
      c.send({
        type: 'start',
        transport: o.transport,
        host: '127.0.0.1',
        port: o.transport === 'http' ? o.apiPort : o.nodeApiPort,
        path: `/api/v1/namespaces/${NAMESPACE}/pods?${query}`,
        nodeName: NODE_NAME,
        resourceVersion: o.resourceVersion,
        watchers: share(w),
        streamsPerConnection: GRPC_STREAMS_PER_CONNECTION,
        connectConcurrency: 64,
        createTimeoutMs,
      } satisfies WorkerCommand),
    )
    await Promise.all(ready)

    // Barrier: one update every watcher must see, so every watch is registered in the cache.
    const expectAll = async (count: number, timeoutMs: number) => {
      const done = children.map((c) => waitFor(c, 'done', timeoutMs + 30_000, `receiving ${count} events per watcher`))
      done.forEach((p) => p.catch(() => {}))
      children.forEach((c) => c.send({ type: 'expect', count, timeoutMs } satisfies WorkerCommand))
      return Promise.all(done)
    }
    const barrier = expectAll(1, 60_000 + o.watchers * 5)
    await stampPod(rest, 0)
    const synced = await barrier
    const notSynced = synced.reduce((a, r) => a + r.watchers - r.complete, 0)
    if (notSynced > 0) throw new Error(`${notSynced} of ${o.watchers} watchers did not receive the first update (${synced.find((r) => r.firstError)?.firstError ?? 'no error reported'})`)
    const setupSeconds = (performance.now() - setupStart) / 1000

    children.forEach((c) => c.send({ type: 'reset' } satisfies WorkerCommand))
    o.onStart?.()
    const fromMs = wallMs()
    const updates = await pacedLoop({
      rate: o.rate,
      seconds: o.seconds,
      op: async (seq) => {
        await stampPod(rest, (seq * 7919 + 1) % o.pods)
        return undefined
      },
    })
    const replies: Done[] = await expectAll(updates.ops, 30_000 + o.seconds * 3000)
    o.onEnd?.()
    const hist = new Histogram()
    let events = 0
    let lastEvent = fromMs
    let workerCpuMs = 0
    const sum = (k: 'complete' | 'missing' | 'extra' | 'outOfOrder' | 'closed') => replies.reduce((a, r) => a + r[k], 0)
    for (const r of replies) {
      hist.merge(r.hist)
      events += r.received
      workerCpuMs += r.cpuMs
      lastEvent = Math.max(lastEvent, r.lastEventWallMs)
    }
    const detail = {
      watchers: o.watchers,
      workers,
      connections: o.transport === 'http' ? o.watchers : children.reduce((a, _, w) => a + Math.ceil(share(w) / GRPC_STREAMS_PER_CONNECTION), 0),
      updates: updates.ops,
      updateRate: updates.ops / updates.seconds,
      complete: sum('complete'),
      missing: sum('missing'),
      extra: sum('extra'),
      outOfOrder: sum('outOfOrder'),
      closed: sum('closed'),
    }
    const errors = updates.errors + detail.missing + detail.extra + detail.outOfOrder + detail.closed
    const firstError =
      updates.firstError ??
      replies.find((r) => r.firstError)?.firstError ??
      (errors > 0 ? `${detail.missing} events missing, ${detail.extra} extra, ${detail.outOfOrder} out of order, ${detail.closed} streams closed` : undefined)
    const seconds = (lastEvent - fromMs) / 1000
    return {
      events,
      eventsPerSecond: seconds > 0 ? events / seconds : 0,
      hist,
      updates,
      fromMs,
      toMs: lastEvent,
      setupSeconds,
      errors,
      ...(firstError === undefined ? {} : { firstError }),
      workerCpuMs,
      detail,
    }
  } finally {
    process.off('exit', kill)
    await Promise.all(children.map(stopWorker))
  }
}
