// UDP forwarding for one frontend: datagrams from each client address:port form a
// flow, pinned to one endpoint (the load balancer's pick, with ClientIP affinity),
// carried by a socket of its own so replies find their way back; the replies leave
// from the frontend address, as the client expects. A flow ends after
// `idleTimeoutMs` without traffic either way (the role of conntrack's UDP timeout,
// 30 s by default), or when its endpoint stops being usable.
import { createSocket, type Socket as UdpSocket } from 'node:dgram'
import { errorMessage } from '../client/index.js'
import type { Endpoint } from './endpoints.js'
import { endpointKey } from './endpoints.js'
import { type Frontend, type FrontendDeps, type FrontendTarget, sourceAllowed } from './frontend.js'

export const DEFAULT_UDP_IDLE_TIMEOUT_MS = 30_000

interface Flow {
  socket: UdpSocket
  endpoint: Endpoint
  timer: NodeJS.Timeout
}

export class UdpFrontend implements Frontend {
  readonly protocol = 'UDP'
  private socket: UdpSocket | undefined
  private readonly flows = new Map<string, Flow>()
  private pending: Promise<unknown> = Promise.resolve()
  private wanted = false

  constructor(
    readonly address: string,
    readonly port: number,
    public target: FrontendTarget,
    private readonly deps: FrontendDeps,
    private readonly idleTimeoutMs = DEFAULT_UDP_IDLE_TIMEOUT_MS,
  ) {}

  get listening(): boolean {
    return this.socket !== undefined
  }

  get active(): number {
    return this.flows.size
  }

  setListening(want: boolean): Promise<Error | undefined> {
    this.wanted = want
    const next = this.pending.then(() => (want !== this.wanted ? undefined : want ? this.open() : this.close()))
    this.pending = next
    return next
  }

  pruneFlows(): void {
    for (const [key, flow] of this.flows) if (!this.target.balancer.has(endpointKey(flow.endpoint))) this.endFlow(key)
  }

  destroy(): void {
    this.wanted = false
    void this.close()
  }

  private async open(): Promise<Error | undefined> {
    if (this.socket !== undefined) return undefined
    const socket = createSocket({ type: 'udp4' })
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject)
        socket.bind({ address: this.address, port: this.port, exclusive: true }, () => {
          socket.off('error', reject)
          resolve()
        })
      })
    } catch (err) {
      socket.close()
      return err as Error
    }
    socket.on('error', (err) => this.deps.logger.warn({ err: errorMessage(err), address: this.address, port: this.port }, 'service UDP socket error'))
    socket.on('message', (msg, rinfo) => this.fromClient(msg, rinfo.address, rinfo.port))
    this.socket = socket
    return undefined
  }

  private async close(): Promise<undefined> {
    const socket = this.socket
    this.socket = undefined
    socket?.close()
    // Replies leave from the frontend socket: without it the flows cannot answer.
    for (const key of [...this.flows.keys()]) this.endFlow(key)
    return undefined
  }

  private fromClient(msg: Buffer, address: string, port: number): void {
    const key = `${address}:${port}`
    let flow = this.flows.get(key)
    if (flow === undefined) {
      const target = this.target
      const ep = sourceAllowed(target, address) ? target.balancer.pick(address) : undefined
      if (ep === undefined) {
        this.deps.metrics?.connections.inc({ protocol: 'UDP', result: 'refused' })
        return
      }
      flow = this.startFlow(key, address, port, ep)
      this.deps.metrics?.connections.inc({ protocol: 'UDP', result: 'forwarded' })
    }
    this.touch(key, flow)
    flow.socket.send(msg, flow.endpoint.port, flow.endpoint.ip)
  }

  private startFlow(key: string, address: string, port: number, endpoint: Endpoint): Flow {
    const socket = createSocket({ type: 'udp4' })
    const flow: Flow = { socket, endpoint, timer: setTimeout(() => this.endFlow(key), this.idleTimeoutMs) }
    socket.on('error', () => this.endFlow(key))
    socket.on('message', (reply, rinfo) => {
      if (rinfo.address !== endpoint.ip || rinfo.port !== endpoint.port || this.flows.get(key) !== flow) return
      this.touch(key, flow)
      this.socket?.send(reply, port, address)
    })
    this.flows.set(key, flow)
    this.deps.metrics?.activeConnections.inc({ protocol: 'UDP' })
    return flow
  }

  private touch(key: string, flow: Flow): void {
    clearTimeout(flow.timer)
    flow.timer = setTimeout(() => this.endFlow(key), this.idleTimeoutMs)
  }

  private endFlow(key: string): void {
    const flow = this.flows.get(key)
    if (flow === undefined) return
    this.flows.delete(key)
    clearTimeout(flow.timer)
    flow.socket.close()
    this.deps.metrics?.activeConnections.dec({ protocol: 'UDP' })
  }
}
