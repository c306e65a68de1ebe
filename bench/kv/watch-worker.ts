// A watch client process for the fan-out workload (forked by watch.ts, IPC only).
// It opens its share of the watch streams, creates its watchers on one prefix,
// and for every event checks the order (mod_revision strictly increasing per
// watcher) and records put→event latency from the wall-clock time the putter
// wrote into the value's first 8 bytes. Several of these run at once so that
// decoding events is not the bottleneck. Exits when the parent disconnects.
import * as grpc from '@grpc/grpc-js'
import { CHANNEL_OPTIONS, Http2Channel, METHOD, type CallError, type Transport } from './client.js'
import { Histogram, scanWatchResponse, wallMs, watchCreateRequest, prefixEnd } from './wire.js'

export type WorkerCommand =
  | { type: 'start'; prefix: string; streams: { endpoint: string; watchers: number }[]; createTimeoutMs: number; transport: Transport }
  | { type: 'expect'; count: number; lastRevision: number; timeoutMs: number }

export type WorkerReply =
  | { type: 'ready'; watchers: number }
  | { type: 'error'; message: string }
  | {
      type: 'done'
      watchers: number
      complete: number
      received: number
      missing: number
      outOfOrder: number
      canceled: number
      firstEventWallMs: number
      lastEventWallMs: number
      /** This worker's CPU (user + system) from 'ready' (all watchers created) to 'done', ms. */
      cpuMs: number
      hist: { counts: number[]; n: number }
    }

const identity = (b: Buffer): Buffer => b

function send(r: WorkerReply): void {
  if (process.connected) process.send?.(r)
}

interface Stream {
  write(msg: Buffer): void
  cancel(): void
}

let streams: Stream[] = []
let closers: (() => void)[] = []

/** Open a Watch stream to endpoint over the given transport (one connection per endpoint). */
const channels = new Map<string, Http2Channel | grpc.Client>()
function openStream(transport: Transport, endpoint: string, onMessage: (m: Buffer) => void, onError: (e: CallError) => void): Stream {
  let ch = channels.get(endpoint)
  if (transport === 'http2') {
    if (!ch) {
      const h = new Http2Channel(endpoint)
      channels.set(endpoint, (ch = h))
      closers.push(() => h.close())
    }
    return (ch as Http2Channel).stream(METHOD.watch, onMessage, (e) => e && onError(e))
  }
  if (!ch) {
    const c = new grpc.Client(endpoint, grpc.credentials.createInsecure(), CHANNEL_OPTIONS)
    channels.set(endpoint, (ch = c))
    closers.push(() => c.close())
  }
  const s = (ch as grpc.Client).makeBidiStreamRequest(METHOD.watch, identity, identity)
  s.on('data', onMessage)
  s.on('error', (e: grpc.ServiceError) => onError({ code: e.code, details: e.details }))
  return { write: (m) => void s.write(m), cancel: () => s.cancel() }
}

function start(cmd: Extract<WorkerCommand, { type: 'start' }>): void {
  const total = cmd.streams.reduce((a, s) => a + s.watchers, 0)
  const lastRev = new Float64Array(total)
  const count = new Float64Array(total)
  const hist = new Histogram()
  let outOfOrder = 0
  let canceled = 0
  let created = 0
  let received = 0
  let firstEventWallMs = 0
  let lastEventWallMs = 0
  let expected = -1
  let expectedLast = 0
  let complete = 0
  let reported = false
  let doneTimer: NodeJS.Timeout | undefined
  let cpuAtReady = process.cpuUsage()

  const report = () => {
    if (reported) return
    reported = true
    clearTimeout(doneTimer)
    let missing = 0
    let full = 0
    for (let i = 0; i < total; i++) {
      if (count[i]! >= expected && lastRev[i] === expectedLast) full++
      missing += Math.max(0, expected - count[i]!)
    }
    const cpu = process.cpuUsage(cpuAtReady)
    send({
      type: 'done',
      watchers: total,
      complete: full,
      received,
      missing,
      outOfOrder,
      canceled,
      firstEventWallMs,
      lastEventWallMs,
      cpuMs: (cpu.user + cpu.system) / 1000,
      hist: hist.toJSON(),
    })
  }

  let base = 0
  for (const s of cmd.streams) {
    const first = base
    base += s.watchers
    // watch_id → watcher slot, in the order the server confirms creation.
    const slotOf = new Map<number, number>()
    let nextSlot = first
    let buf: Buffer
    const onEvent = (watchId: number, rev: number, vs: number, ve: number) => {
      const slot = slotOf.get(watchId)
      if (slot === undefined) return
      const now = wallMs()
      received++
      if (firstEventWallMs === 0) firstEventWallMs = now
      lastEventWallMs = now
      if (rev <= lastRev[slot]!) outOfOrder++
      lastRev[slot] = rev
      const c = ++count[slot]!
      if (ve - vs >= 8) hist.record(now - buf.readDoubleLE(vs))
      if (c === expected && rev === expectedLast && ++complete === total) report()
    }
    const onMessage = (msg: Buffer) => {
      buf = msg
      const info = scanWatchResponse(msg, onEvent)
      if (info.created) {
        slotOf.set(info.watchId, nextSlot++)
        if (++created === total) {
          cpuAtReady = process.cpuUsage()
          send({ type: 'ready', watchers: total })
        }
      } else if (info.canceled) canceled++
    }
    const onError = (err: CallError) => {
      if (!reported) send({ type: 'error', message: `watch stream to ${s.endpoint}: ${err.code} ${err.details}` })
    }
    const stream = openStream(cmd.transport, s.endpoint, onMessage, onError)
    streams.push(stream)
    const req = watchCreateRequest(cmd.prefix, prefixEnd(cmd.prefix))
    for (let i = 0; i < s.watchers; i++) stream.write(req)
  }
  setTimeout(() => {
    if (created < total) send({ type: 'error', message: `only ${created} of ${total} watchers created within ${cmd.createTimeoutMs} ms` })
  }, cmd.createTimeoutMs).unref()

  process.on('message', (m: WorkerCommand) => {
    if (m.type !== 'expect') return
    expected = m.count
    expectedLast = m.lastRevision
    complete = 0
    for (let i = 0; i < total; i++) if (count[i] === expected && lastRev[i] === expectedLast) complete++
    if (complete === total) report()
    else doneTimer = setTimeout(report, m.timeoutMs)
  })
}

process.on('disconnect', () => {
  for (const s of streams) s.cancel()
  for (const c of closers) c()
  streams = []
  closers = []
  process.exit(0)
})
process.once('message', (m: WorkerCommand) => {
  if (m.type === 'start') {
    try {
      start(m)
    } catch (err) {
      send({ type: 'error', message: (err as Error).message })
    }
  }
})
