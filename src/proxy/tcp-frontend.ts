// TCP forwarding for one frontend (upstream's userspace proxysocket): each accepted
// connection is spliced to an endpoint the load balancer picks. A dial that fails
// moves on to another endpoint with a longer timeout, forgetting the client's
// affinity; when none answers the client gets a reset. Upstream's timeouts start at
// 250 ms; ours at 1 s, because the timer runs on this process's event loop: a busy
// loop that notices a finished connect late must not mark a live endpoint dead. Half-closes pass through in both directions, and a reset on one side resets
// the other. The endpoint's view of the client is this proxy (a userspace proxy
// cannot keep the client's source address).
import { connect, createServer, type Server, type Socket } from 'node:net'
import type { Endpoint } from './endpoints.js'
import { endpointKey } from './endpoints.js'
import { type Frontend, type FrontendDeps, type FrontendTarget, sourceAllowed } from './frontend.js'
import { clientAddress } from './ipv4.js'
import { errorMessage } from '../client/index.js'

const DIAL_TIMEOUTS_MS = [1000, 1000, 2000, 4000]

export class TcpFrontend implements Frontend {
  readonly protocol = 'TCP'
  private server: Server | undefined
  /** Client socket → its endpoint socket (undefined while dialing). */
  private readonly conns = new Map<Socket, Socket | undefined>()
  private pending: Promise<unknown> = Promise.resolve()
  private wanted = false

  constructor(
    readonly address: string,
    readonly port: number,
    public target: FrontendTarget,
    private readonly deps: FrontendDeps,
  ) {}

  get listening(): boolean {
    return this.server !== undefined
  }

  get active(): number {
    return this.conns.size
  }

  setListening(want: boolean): Promise<Error | undefined> {
    this.wanted = want
    // One change at a time; a change overtaken by a newer wish is skipped.
    const next = this.pending.then(() => (want !== this.wanted ? undefined : want ? this.open() : this.close()))
    this.pending = next
    return next
  }

  pruneFlows(): void {}

  destroy(): void {
    this.wanted = false
    void this.close()
    for (const [client, upstream] of this.conns) {
      client.destroy()
      upstream?.destroy()
    }
  }

  private async open(): Promise<Error | undefined> {
    if (this.server !== undefined) return undefined
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (sock) => this.accept(sock))
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen({ host: this.address, port: this.port, exclusive: true }, () => {
          server.off('error', reject)
          resolve()
        })
      })
    } catch (err) {
      return err as Error
    }
    server.on('error', (err) => this.deps.logger.warn({ err: errorMessage(err), address: this.address, port: this.port }, 'service listener error'))
    this.server = server
    return undefined
  }

  private async close(): Promise<undefined> {
    const server = this.server
    this.server = undefined
    // close() frees the address now; its callback would wait for the connections, which stay.
    server?.close()
    return undefined
  }

  private accept(client: Socket): void {
    client.on('error', () => {})
    const target = this.target
    const clientIP = clientAddress(client.remoteAddress)
    if (!sourceAllowed(target, clientIP) || target.balancer.size === 0) {
      this.deps.metrics?.connections.inc({ protocol: 'TCP', result: 'refused' })
      client.resetAndDestroy()
      return
    }
    this.conns.set(client, undefined)
    this.deps.metrics?.activeConnections.inc({ protocol: 'TCP' })
    client.once('close', () => {
      const upstream = this.conns.get(client)
      this.conns.delete(client)
      upstream?.destroy()
      this.deps.metrics?.activeConnections.dec({ protocol: 'TCP' })
    })
    void this.dial(client, clientIP, target)
  }

  private async dial(client: Socket, clientIP: string, target: FrontendTarget): Promise<void> {
    const failed = new Set<string>()
    for (let attempt = 0; attempt < DIAL_TIMEOUTS_MS.length; attempt++) {
      if (client.destroyed) return
      const ep = target.balancer.pick(clientIP, { exclude: failed, resetAffinity: attempt > 0 })
      if (ep === undefined) break
      const upstream = await dialEndpoint(ep, DIAL_TIMEOUTS_MS[attempt]!)
      if (upstream === undefined) {
        failed.add(endpointKey(ep))
        this.deps.logger.debug({ servicePort: target.servicePort, endpoint: endpointKey(ep) }, 'endpoint did not accept a connection')
        continue
      }
      if (client.destroyed) {
        upstream.destroy()
        return
      }
      this.splice(client, upstream)
      this.deps.metrics?.connections.inc({ protocol: 'TCP', result: 'forwarded' })
      return
    }
    this.deps.metrics?.connections.inc({ protocol: 'TCP', result: 'failed' })
    if (!client.destroyed) client.resetAndDestroy()
  }

  private splice(client: Socket, upstream: Socket): void {
    this.conns.set(client, upstream)
    client.setNoDelay(true)
    upstream.setNoDelay(true)
    // A reset on one side is passed on as a reset; an orderly end as an end (pipe does that).
    upstream.on('error', () => {
      if (!client.destroyed) client.resetAndDestroy()
    })
    client.on('error', () => {
      if (!upstream.destroyed) upstream.resetAndDestroy()
    })
    upstream.once('close', () => {
      if (!client.destroyed && client.writableFinished && client.readableEnded) client.destroy()
    })
    client.pipe(upstream)
    upstream.pipe(client)
  }
}

function dialEndpoint(ep: Endpoint, timeoutMs: number): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const sock = connect({ host: ep.ip, port: ep.port, allowHalfOpen: true })
    const timer = setTimeout(() => {
      sock.destroy()
      resolve(undefined)
    }, timeoutMs)
    const onError = (): void => {
      clearTimeout(timer)
      sock.destroy()
      resolve(undefined)
    }
    sock.once('error', onError)
    sock.once('connect', () => {
      clearTimeout(timer)
      sock.off('error', onError)
      resolve(sock)
    })
  })
}
