// The TCP load balancer `raftplane up` puts in front of the apiservers, so the
// kubeconfig it writes keeps working when a master dies. TLS passes through
// untouched (every apiserver's certificate names 127.0.0.1). Each backend's /readyz is
// checked every `checkIntervalMs`; a backend that fails a check, or refuses a
// connection, is out at once and back after its next good check, so a dead master
// is dropped within a second. New connections go round-robin over the healthy
// backends; one whose backend refuses, or does not answer the connect within
// `connectTimeoutMs` (a machine whose link is down drops packets, it does not
// refuse), is tried on the next.
import { createConnection, createServer, type Server, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'

export interface Backend {
  name: string
  host: string
  port: number
}

export interface LoadBalancerOptions {
  backends: readonly Backend[]
  /** Whether a backend serves now (the apiserver's /readyz). */
  check(b: Backend): Promise<boolean>
  checkIntervalMs?: number
  /** How long a connect to a backend may take before the next one is tried. Default 1 s. */
  connectTimeoutMs?: number
  /** Told when a backend goes in or out of the pool (logs). */
  onChange?(b: Backend, healthy: boolean): void
}

export class LoadBalancer {
  private server: Server | undefined
  private readonly healthy = new Set<string>()
  private readonly sockets = new Set<Socket>()
  private timer: NodeJS.Timeout | undefined
  private next = 0

  constructor(private readonly o: LoadBalancerOptions) {
    // Until the first checks, every backend is given a chance.
    for (const b of o.backends) this.healthy.add(b.name)
  }

  async listen(host: string, port: number): Promise<number> {
    const server = createServer((client) => this.accept(client))
    this.server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, host, () => {
        server.off('error', reject)
        resolve()
      })
    })
    const tick = async (): Promise<void> => {
      await Promise.all(
        this.o.backends.map(async (b) => this.mark(b, await this.o.check(b).catch(() => false))),
      )
      if (this.server !== undefined) this.timer = setTimeout(() => void tick(), this.o.checkIntervalMs ?? 250)
    }
    void tick()
    return (server.address() as AddressInfo).port
  }

  /** Backend names that passed their last check. */
  get up(): string[] {
    return this.o.backends.filter((b) => this.healthy.has(b.name)).map((b) => b.name)
  }

  async close(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer)
    const server = this.server
    this.server = undefined
    if (server === undefined) return
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    for (const s of this.sockets) s.destroy()
    await closed
  }

  private mark(b: Backend, healthy: boolean): void {
    if (this.healthy.has(b.name) === healthy) return
    if (healthy) this.healthy.add(b.name)
    else this.healthy.delete(b.name)
    this.o.onChange?.(b, healthy)
  }

  private track(s: Socket): void {
    this.sockets.add(s)
    s.once('close', () => this.sockets.delete(s))
  }

  private accept(client: Socket): void {
    this.track(client)
    client.on('error', () => client.destroy())
    client.pause()
    this.connect(client, new Set())
  }

  private connect(client: Socket, tried: Set<string>): void {
    const candidates = this.o.backends.filter((b) => this.healthy.has(b.name) && !tried.has(b.name))
    // Nothing healthy left: try any backend not tried yet rather than refuse outright.
    const pool = candidates.length > 0 ? candidates : this.o.backends.filter((b) => !tried.has(b.name))
    if (pool.length === 0 || client.destroyed) {
      client.destroy()
      return
    }
    const b = pool[this.next++ % pool.length]!
    tried.add(b.name)
    const upstream = createConnection({ host: b.host, port: b.port })
    this.track(upstream)
    let connected = false
    upstream.setTimeout(this.o.connectTimeoutMs ?? 1000, () => upstream.destroy(new Error('connect timeout')))
    upstream.once('connect', () => {
      connected = true
      upstream.setTimeout(0)
      client.pipe(upstream)
      upstream.pipe(client)
      client.resume()
    })
    upstream.on('error', () => {
      if (connected) {
        client.destroy()
        return
      }
      // Refused (or silent) before any byte went through: out of the pool, and the client tries the next one.
      this.mark(b, false)
      this.connect(client, tried)
    })
    upstream.on('close', () => {
      if (connected) client.destroy()
    })
    client.on('close', () => upstream.destroy())
  }
}
