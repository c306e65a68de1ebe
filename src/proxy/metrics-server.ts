// kube-proxy's metrics endpoint (upstream's --metrics-bind-address, 127.0.0.1:10249):
// plain HTTP, GET /metrics for Prometheus and /healthz.
import { createServer, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import type { Registry } from 'prom-client'

export const DEFAULT_METRICS_BIND_ADDRESS = '127.0.0.1:10249'

/** `host:port` or `[v6]:port` as the flag takes it; throws on anything else. */
export function parseBindAddress(v: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d+)$/.exec(v.trim())
  const port = m === null ? NaN : Number(m[3])
  if (m === null || !Number.isInteger(port) || port > 65535) throw new Error(`not an address with a port (host:port): ${JSON.stringify(v)}`)
  return { host: m[1] ?? m[2]!, port }
}

export class MetricsServer {
  private readonly sockets = new Set<Socket>()

  private constructor(
    private readonly server: Server,
    /** The bound port (a free one when asked for 0). */
    readonly port: number,
  ) {
    server.on('connection', (s: Socket) => {
      this.sockets.add(s)
      s.once('close', () => this.sockets.delete(s))
    })
  }

  static async listen(registry: Registry, host: string, port: number): Promise<MetricsServer> {
    const server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname
      if (req.method !== 'GET') return void res.writeHead(405, { 'Content-Type': 'text/plain' }).end('method not allowed')
      if (path === '/healthz') return void res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok')
      if (path !== '/metrics') return void res.writeHead(404, { 'Content-Type': 'text/plain' }).end('404 page not found')
      registry.metrics().then(
        (body) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(body),
        (err: unknown) => res.writeHead(500, { 'Content-Type': 'text/plain' }).end(err instanceof Error ? err.message : String(err)),
      )
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, host, () => {
        server.off('error', reject)
        resolve()
      })
    })
    return new MetricsServer(server, (server.address() as AddressInfo).port)
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()))
    for (const s of this.sockets) s.destroy()
    await closed
  }
}
