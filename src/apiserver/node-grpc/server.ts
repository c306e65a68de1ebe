// The node gRPC API of one master (proto/node.proto): kubelets and kube-proxies talk
// to the masters through it instead of REST. Built over the API server's registry
// stores, so validation, admission, optimistic concurrency and the watch caches are
// the very ones REST uses.
import * as grpc from '@grpc/grpc-js'
import { pino, type Logger } from 'pino'
import type { ApiServer } from '../server.js'
import type { ResourceUsageStore } from '../metrics-api/usage-store.js'
import { allowAll, type NodeAuthorizer } from './authorize.js'
import { nodeProto } from './proto.js'
import { defaultWatchTimeoutMs, NodeService, type StoreLookup } from './service.js'

export interface NodeGrpcServerOptions {
  /** The API server whose stores serve the calls, or a lookup of the store per resource. */
  stores: ApiServer | StoreLookup
  /** Checks every call (issue 9's Node authorizer); default: allow all. */
  authorize?: NodeAuthorizer
  /** How often a watch stream gets a bookmark at the cache's revision. Default 10 s. */
  bookmarkIntervalMs?: number
  /** How long one watch stream may last before the client re-watches. Default 30–60 min, as REST. */
  watchTimeoutMs?: () => number
  /** How long stop() lets unary calls finish before cutting connections. Default 2 s. */
  shutdownGraceMs?: number
  /** Where resource usage reports go; default: the API server's (ApiServer.resourceUsage). */
  usage?: ResourceUsageStore
  /** The clock of Lease renewals (tests). */
  now?: () => Date
  logger?: Logger
}

export const DEFAULT_BOOKMARK_INTERVAL_MS = 10_000

// Keepalive finds clients that vanished (a dead kubelet's watch holds nothing then).
// Channelz stays on: with 'grpc.enable_channelz': 0, grpc-js 1.14's server does not
// track its sessions, so tryShutdown and forceShutdown leave connections open.
const SERVER_OPTIONS: grpc.ServerOptions = {
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 10_000,
}

export class NodeGrpcServer {
  private readonly service: NodeService
  private readonly log: Logger
  private server: grpc.Server | undefined
  private readonly graceMs: number

  constructor(opts: NodeGrpcServerOptions) {
    const src = opts.stores
    const stores: StoreLookup = typeof src === 'function' ? src : (rt) => src.store(rt)
    const usage = opts.usage ?? (typeof src === 'function' ? undefined : src.resourceUsage)
    this.log = (opts.logger ?? pino({ level: 'silent' })).child({ component: 'node-grpc' })
    this.graceMs = opts.shutdownGraceMs ?? 2000
    this.service = new NodeService({
      stores,
      authorize: opts.authorize ?? allowAll,
      bookmarkIntervalMs: opts.bookmarkIntervalMs ?? DEFAULT_BOOKMARK_INTERVAL_MS,
      watchTimeoutMs: opts.watchTimeoutMs ?? defaultWatchTimeoutMs,
      now: opts.now ?? (() => new Date()),
      ...(usage === undefined ? {} : { usage }),
      onInternalError: (err, method) => this.log.error({ err, method }, 'node API call failed'),
    })
  }

  /** Watch streams open now. */
  get watchCount(): number {
    return this.service.watchCount
  }

  /** Starts serving; resolves to the bound port (useful with port 0). */
  async listen(host: string, port: number, credentials: grpc.ServerCredentials = grpc.ServerCredentials.createInsecure()): Promise<number> {
    if (this.server !== undefined) throw new Error('node gRPC server is already listening')
    const server = new grpc.Server(SERVER_OPTIONS)
    server.addService(nodeProto().service, this.service.handlers())
    const address = host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`
    const bound = await new Promise<number>((resolve, reject) => {
      server.bindAsync(address, credentials, (err, p) => (err === null ? resolve(p) : reject(err)))
    })
    this.server = server
    this.log.info({ host, port: bound }, 'node API listening')
    return bound
  }

  /**
   * Stops serving: watches end with UNAVAILABLE (their clients move to another
   * master), unary calls get `shutdownGraceMs` to finish, then connections are cut.
   */
  async stop(): Promise<void> {
    const server = this.server
    if (server === undefined) return
    this.server = undefined
    this.service.shutdownWatches()
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        server.forceShutdown()
        resolve()
      }, this.graceMs)
      server.tryShutdown(() => {
        clearTimeout(timer)
        resolve()
      })
    })
  }

  /** Drops every connection at once, as a crashed master would (tests). */
  kill(): void {
    const server = this.server
    if (server === undefined) return
    this.server = undefined
    server.forceShutdown()
  }
}
