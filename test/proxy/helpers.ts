// What the kube-proxy integration tests share: an in-process master serving the node
// gRPC API over memory storage, a KubeProxy in loopback mode talking to it, Services
// and EndpointSlices written straight into the master's stores (no controllers run:
// the test is the EndpointSlice controller), small TCP/UDP echo servers that name
// themselves, and client helpers. Everything started is torn down with the test.
import { createSocket } from 'node:dgram'
import { connect, createServer, type Socket } from 'node:net'
import { Registry } from 'prom-client'
import type { Test } from 'tap'
import { MemoryStorage } from '../../src/apiserver/storage/memory.js'
import type { KubeObject } from '../../src/client/index.js'
import { KubeProxy, type KubeProxyOptions } from '../../src/proxy/index.js'
import { client as nodeClient, ENDPOINTSLICES, type Master, SERVICES, startMaster, write } from '../apiserver/node-grpc/helpers/masters.js'

export { ENDPOINTSLICES, SERVICES, write }

export interface ProxyCluster {
  master: Master
  proxy: KubeProxy
  registry: Registry
}

export async function startProxyCluster(t: Test, opts: Partial<KubeProxyOptions> = {}): Promise<ProxyCluster> {
  const master = await startMaster(t, new MemoryStorage())
  const client = nodeClient(t, [master.address])
  const registry = new Registry()
  const proxy = new KubeProxy({ client, nodeName: 'n1', metrics: registry, dns: false, udpIdleTimeoutMs: 5000, ...opts })
  await proxy.start()
  t.teardown(() => proxy.stop())
  await proxy.synced()
  return { master, proxy, registry }
}

/** A random port in 20000–29999 for a Service (a ClusterIP's port is fixed by the Service). */
export function servicePort(): number {
  return 20000 + Math.floor(Math.random() * 10000)
}

/** A random loopback address in 127.<a>.x.y, for servers a test starts. */
export function loopbackAddress(a = 201): string {
  return `127.${a}.${1 + Math.floor(Math.random() * 254)}.${1 + Math.floor(Math.random() * 254)}`
}

export async function createService(c: ProxyCluster, name: string, spec: Record<string, unknown>, ns = 'default'): Promise<KubeObject> {
  return c.master.api.store(SERVICES).create(ns, { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec }, write)
}

export interface SliceEndpoint {
  ip: string
  ready?: boolean
  serving?: boolean
  terminating?: boolean
  hostname?: string
  nodeName?: string
}

export function sliceObject(service: string, name: string, ports: { name?: string; port: number; protocol?: string }[], endpoints: SliceEndpoint[]): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    ports,
    endpoints: endpoints.map((e) => ({
      addresses: [e.ip],
      conditions: { ready: e.ready ?? true, serving: e.serving ?? e.ready ?? true, terminating: e.terminating ?? false },
      ...(e.hostname === undefined ? {} : { hostname: e.hostname }),
      ...(e.nodeName === undefined ? {} : { nodeName: e.nodeName }),
    })),
  }
}

export async function createSlice(c: ProxyCluster, slice: KubeObject, ns = 'default'): Promise<KubeObject> {
  return c.master.api.store(ENDPOINTSLICES).create(ns, slice, write)
}

export async function replaceSlice(c: ProxyCluster, slice: KubeObject, ns = 'default'): Promise<KubeObject> {
  const name = slice.metadata!.name!
  const { object } = await c.master.api.store(ENDPOINTSLICES).update(ns, name, (cur) => ({ ...slice, metadata: { ...cur!.metadata, labels: slice.metadata!.labels } }), write)
  return object
}

export async function updateService(c: ProxyCluster, name: string, mutate: (svc: KubeObject) => KubeObject, opts: { status?: boolean } = {}, ns = 'default'): Promise<KubeObject> {
  const { object } = await c.master.api.store(SERVICES).update(ns, name, (cur) => mutate(structuredClone(cur!)), write, opts.status === true ? { subresource: 'status' } : {})
  return object
}

export async function deleteObject(c: ProxyCluster, kind: 'service' | 'slice', name: string, ns = 'default'): Promise<void> {
  await c.master.api.store(kind === 'service' ? SERVICES : ENDPOINTSLICES).delete(ns, name, { dryRun: false })
}

export function clusterIP(svc: KubeObject): string {
  return String((svc.spec as Record<string, unknown>).clusterIP)
}

export interface EchoServer {
  name: string
  host: string
  port: number
  /** Connections accepted so far. */
  accepted: number
}

/** A TCP server that greets each connection with "<name>\n" and then echoes. */
export async function tcpEcho(t: Test, name: string, host: string): Promise<EchoServer> {
  const socks = new Set<Socket>()
  const echo: EchoServer = { name, host, port: 0, accepted: 0 }
  const server = createServer((s) => {
    echo.accepted++
    socks.add(s)
    s.on('close', () => socks.delete(s))
    s.on('error', () => {})
    s.write(`${name}\n`)
    s.pipe(s)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, host, () => resolve())
  })
  echo.port = (server.address() as { port: number }).port
  t.teardown(async () => {
    for (const s of socks) s.destroy()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })
  return echo
}

/** A UDP server that answers each datagram with "<name>:<datagram>". */
export async function udpEcho(t: Test, name: string, host: string): Promise<EchoServer> {
  const sock = createSocket('udp4')
  const echo: EchoServer = { name, host, port: 0, accepted: 0 }
  sock.on('message', (msg, rinfo) => {
    echo.accepted++
    sock.send(`${name}:${msg.toString()}`, rinfo.port, rinfo.address)
  })
  await new Promise<void>((resolve) => sock.bind(0, host, () => resolve()))
  echo.port = sock.address().port
  t.teardown(() => new Promise<void>((resolve) => sock.close(() => resolve())))
  return echo
}

export interface OpenConnection {
  /** The greeting: which endpoint answered. */
  endpoint: string
  socket: Socket
  /** Sends a line and resolves the echo. */
  echo(line: string): Promise<string>
}

/** Connects and reads the endpoint's greeting; rejects with the socket error (ECONNREFUSED, ECONNRESET). */
export function open(host: string, port: number, timeoutMs = 10_000): Promise<OpenConnection> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port })
    let buf = ''
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`no greeting from ${host}:${port}`))
    }, timeoutMs)
    const onError = (err: Error): void => {
      clearTimeout(timer)
      reject(err)
    }
    socket.once('error', onError)
    socket.once('close', () => onError(Object.assign(new Error('closed before the greeting'), { code: 'ECLOSED' })))
    const onData = (d: Buffer): void => {
      buf += d.toString()
      const nl = buf.indexOf('\n')
      if (nl < 0) return
      clearTimeout(timer)
      socket.off('data', onData)
      socket.removeAllListeners('close')
      socket.off('error', onError)
      socket.on('error', () => {})
      const endpoint = buf.slice(0, nl)
      resolve({
        endpoint,
        socket,
        echo: (line) =>
          new Promise((res, rej) => {
            let got = ''
            const onEcho = (e: Buffer): void => {
              got += e.toString()
              if (got.includes('\n')) {
                socket.off('data', onEcho)
                res(got.trim())
              }
            }
            socket.on('data', onEcho)
            socket.once('error', rej)
            socket.write(line + '\n')
          }),
      })
    }
    socket.on('data', onData)
  })
}

/** The endpoint a fresh connection reaches (the connection is closed again). */
export async function hit(host: string, port: number): Promise<string> {
  const c = await open(host, port)
  c.socket.destroy()
  return c.endpoint
}

/** The error code a connection attempt ends with, or "connected". */
export async function connectResult(host: string, port: number): Promise<string> {
  try {
    const c = await open(host, port, 5000)
    c.socket.destroy()
    return 'connected'
  } catch (err) {
    return String((err as NodeJS.ErrnoException).code ?? (err as Error).message)
  }
}

/** Polls until `probe` returns a value (not undefined), or fails after `ms`. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms
  let last: unknown
  for (;;) {
    try {
      const v = await probe()
      if (v !== undefined) return v
    } catch (err) {
      last = err
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last === undefined ? '' : `: ${String(last)}`}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

/** A UDP client bound to one source port and connected to the service address. */
export interface UdpClient {
  /** Sends a datagram; resolves the reply, or the error code (ECONNREFUSED), or "timeout". */
  ask(msg: string, timeoutMs?: number): Promise<string>
  close(): void
}

export async function udpClient(t: Test, host: string, port: number): Promise<UdpClient> {
  const sock = createSocket('udp4')
  let waiter: ((s: string) => void) | undefined
  let closed = false
  sock.on('message', (m) => waiter?.(m.toString()))
  sock.on('error', (err: NodeJS.ErrnoException) => waiter?.(err.code ?? err.message))
  await new Promise<void>((resolve) => sock.connect(port, host, () => resolve()))
  const close = (): void => {
    if (closed) return
    closed = true
    sock.close()
  }
  t.teardown(close)
  return {
    ask: (msg, timeoutMs = 2000) =>
      new Promise((resolve) => {
        const timer = setTimeout(() => done('timeout'), timeoutMs)
        const done = (s: string): void => {
          clearTimeout(timer)
          waiter = undefined
          resolve(s)
        }
        waiter = done
        sock.send(msg)
      }),
    close,
  }
}
