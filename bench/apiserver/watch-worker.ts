// A watch client process of the fan-out rows (forked by fanout.ts, IPC only). It
// opens its share of the watchers — HTTP watches on raw sockets, or node-API
// WatchPods streams on node:http2, many per connection — and for every event checks
// the order (resourceVersion strictly increasing per watcher) and records
// update→event latency from the wall-clock stamp the writer put in the pod.
// Exits when the parent disconnects.
import * as http2 from 'node:http2'
import { connect, type Socket } from 'node:net'
import { Histogram, wallMs } from '../kv/wire.js'
import { ChunkedLines, scanJsonLine, scanWatchEvent, type SeenEvent, WATCH_PODS_METHOD, watchPodsFrame } from './watch-wire.js'

export type WatchTransport = 'http' | 'grpc'

export type WorkerCommand =
  | {
      type: 'start'
      transport: WatchTransport
      host: string
      /** apiserver port (http) or node API port (grpc). */
      port: number
      /** http: the watch path with its query. */
      path: string
      /** grpc: WatchPods(node_name, resource_version). */
      nodeName: string
      resourceVersion: string
      watchers: number
      /** grpc: streams per HTTP/2 connection. */
      streamsPerConnection: number
      /** http: connections being opened at once. */
      connectConcurrency: number
      createTimeoutMs: number
    }
  /** Zero the counters: what follows is the measured phase. */
  | { type: 'reset' }
  /** Report once every watcher has `count` events since the reset (or after timeoutMs). */
  | { type: 'expect'; count: number; timeoutMs: number }

export type WorkerReply =
  | { type: 'ready'; watchers: number }
  | { type: 'error'; message: string }
  | {
      type: 'done'
      watchers: number
      /** Watchers that got exactly the expected events. */
      complete: number
      received: number
      missing: number
      extra: number
      outOfOrder: number
      /** Streams that ended or failed. */
      closed: number
      firstError?: string
      firstEventWallMs: number
      lastEventWallMs: number
      /** CPU (user + system) since the reset, ms. */
      cpuMs: number
      hist: { counts: number[]; n: number }
    }

function send(r: WorkerReply): void {
  if (process.connected) process.send?.(r)
}

let counts = new Float64Array(0)
let lastRev = new Float64Array(0)
let hist = new Histogram()
let received = 0
let outOfOrder = 0
let closed = 0
let firstError: string | undefined
let firstEventWallMs = 0
let lastEventWallMs = 0
let cpuAtReset = process.cpuUsage()
let expecting: { count: number; timer: NodeJS.Timeout } | undefined
let completeWatchers = 0
const closers: (() => void)[] = []

function fail(message: string): void {
  firstError ??= message
}

function onEvent(slot: number, ev: SeenEvent): void {
  if (ev.kind === 'BOOKMARK') return
  if (ev.kind === 'ERROR') {
    fail(`watcher ${slot}: an ERROR event`)
    return
  }
  const now = wallMs()
  received++
  if (firstEventWallMs === 0) firstEventWallMs = now
  lastEventWallMs = now
  if (ev.revision <= lastRev[slot]!) outOfOrder++
  lastRev[slot] = ev.revision
  if (ev.stampMs === ev.stampMs) hist.record(now - ev.stampMs)
  const c = ++counts[slot]!
  if (expecting !== undefined && c === expecting.count && ++completeWatchers === counts.length) report()
}

function report(): void {
  if (expecting === undefined) return
  clearTimeout(expecting.timer)
  const want = expecting.count
  expecting = undefined
  let missing = 0
  let extra = 0
  let complete = 0
  for (const c of counts) {
    if (c === want) complete++
    else if (c < want) missing += want - c
    else extra += c - want
  }
  const cpu = process.cpuUsage(cpuAtReset)
  send({
    type: 'done',
    watchers: counts.length,
    complete,
    received,
    missing,
    extra,
    outOfOrder,
    closed,
    ...(firstError === undefined ? {} : { firstError }),
    firstEventWallMs,
    lastEventWallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    hist: hist.toJSON(),
  })
}

/** One HTTP watch on its own socket: request, status line, then chunked lines. */
function httpWatcher(cmd: Extract<WorkerCommand, { type: 'start' }>, slot: number, onReady: () => void): void {
  const sock: Socket = connect(cmd.port, cmd.host)
  sock.setNoDelay(true)
  closers.push(() => sock.destroy())
  let head: Buffer | undefined = Buffer.alloc(0)
  const body = new ChunkedLines((line) => onEvent(slot, scanJsonLine(line)))
  sock.on('connect', () => sock.write(`GET ${cmd.path} HTTP/1.1\r\nHost: ${cmd.host}:${cmd.port}\r\nAccept: application/json\r\nUser-Agent: raftplane-bench\r\n\r\n`))
  sock.on('data', (buf: Buffer) => {
    if (head === undefined) return body.push(buf)
    head = Buffer.concat([head, buf])
    const end = head.indexOf('\r\n\r\n')
    if (end < 0) return
    const status = head.toString('latin1', 0, head.indexOf('\r\n'))
    const rest = head.subarray(end + 4)
    head = undefined
    if (!/^HTTP\/1\.1 200 /.test(status)) {
      fail(`watcher ${slot}: ${status} ${rest.toString('utf8', 0, 200)}`)
      sock.destroy()
      return
    }
    onReady()
    if (rest.length > 0) body.push(rest)
  })
  sock.on('error', (err) => fail(`watcher ${slot}: ${err.message}`))
  sock.on('close', () => {
    closed++
    if (head !== undefined) onReady() // counted as set up, so 'ready' is not held back; the error is reported
  })
}

/** WatchPods streams over one HTTP/2 connection. */
function grpcConnection(cmd: Extract<WorkerCommand, { type: 'start' }>, slots: number[], onReady: () => void): void {
  const session = http2.connect(`http://${cmd.host}:${cmd.port}`, { settings: { enablePush: false, initialWindowSize: 1 << 20 } })
  session.on('error', (err) => fail(`node API connection: ${err.message}`))
  session.once('connect', () => session.setLocalWindowSize(64 << 20))
  closers.push(() => session.destroy())
  const frame = watchPodsFrame(cmd.nodeName, cmd.resourceVersion)
  for (const slot of slots) {
    const stream = session.request(
      { ':method': 'POST', ':path': WATCH_PODS_METHOD, 'content-type': 'application/grpc', te: 'trailers' },
      { endStream: false },
    )
    stream.end(frame)
    let pending: Buffer | undefined
    stream.on('data', (chunk: Buffer) => {
      const buf = pending ? Buffer.concat([pending, chunk]) : chunk
      let at = 0
      while (buf.length - at >= 5) {
        const len = buf.readUInt32BE(at + 1)
        if (buf.length - at - 5 < len) break
        onEvent(slot, scanWatchEvent(buf.subarray(at + 5, at + 5 + len)))
        at += 5 + len
      }
      pending = at < buf.length ? Buffer.from(buf.subarray(at)) : undefined
    })
    const grab = (h: http2.IncomingHttpHeaders) => {
      const st = h['grpc-status']
      if (st !== undefined && st !== '0') fail(`watcher ${slot}: grpc-status ${String(st)} ${decodeURIComponent(String(h['grpc-message'] ?? ''))}`)
    }
    stream.on('response', grab)
    stream.on('trailers', grab)
    stream.on('error', (err) => fail(`watcher ${slot}: ${err.message}`))
    stream.on('close', () => closed++)
    // The server sends nothing until the first event: a stream counts as set up once sent.
    onReady()
  }
}

function start(cmd: Extract<WorkerCommand, { type: 'start' }>): void {
  counts = new Float64Array(cmd.watchers)
  lastRev = new Float64Array(cmd.watchers)
  let ready = 0
  const onReady = () => {
    if (++ready === cmd.watchers) send({ type: 'ready', watchers: cmd.watchers })
  }
  setTimeout(() => {
    if (ready < cmd.watchers) send({ type: 'error', message: `only ${ready} of ${cmd.watchers} watchers set up within ${cmd.createTimeoutMs} ms${firstError ? ` (${firstError})` : ''}` })
  }, cmd.createTimeoutMs).unref()
  if (cmd.transport === 'grpc') {
    for (let first = 0; first < cmd.watchers; first += cmd.streamsPerConnection) {
      const slots = Array.from({ length: Math.min(cmd.streamsPerConnection, cmd.watchers - first) }, (_, k) => first + k)
      grpcConnection(cmd, slots, onReady)
    }
    return
  }
  // HTTP: one socket per watch (HTTP/1.1), opened a bounded number at a time.
  let next = 0
  const openNext = () => {
    if (next >= cmd.watchers) return
    httpWatcher(cmd, next++, () => {
      onReady()
      openNext()
    })
  }
  for (let k = 0; k < Math.min(cmd.connectConcurrency, cmd.watchers); k++) openNext()
}

process.on('disconnect', () => {
  for (const c of closers) c()
  process.exit(0)
})
process.on('message', (m: WorkerCommand) => {
  try {
    if (m.type === 'start') start(m)
    else if (m.type === 'reset') {
      counts.fill(0)
      hist = new Histogram()
      received = 0
      outOfOrder = 0
      firstEventWallMs = 0
      lastEventWallMs = 0
      cpuAtReset = process.cpuUsage()
    } else if (m.type === 'expect') {
      completeWatchers = 0
      for (const c of counts) if (c >= m.count) completeWatchers++
      expecting = { count: m.count, timer: setTimeout(report, m.timeoutMs) }
      if (completeWatchers === counts.length) report()
    }
  } catch (err) {
    send({ type: 'error', message: (err as Error).message })
  }
})
