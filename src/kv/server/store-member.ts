// A whole store member as `raftplane store` runs it: the EtcdServer, the etcd v3 gRPC
// services and HTTP endpoints on each client URL, the watch hub, auto-compaction.
import * as grpc from '@grpc/grpc-js'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { pino, type Logger } from 'pino'
import type { Registry } from 'prom-client'
import { loadEtcdProto } from '../etcd-proto.js'
import { WatchHub } from '../watch/hub.js'
import { watchServiceDefinition, watchServiceHandlers } from '../watch/grpc.js'
import { AutoCompactor } from './auto-compaction.js'
import { ClientListener } from './client-listener.js'
import { H2GrpcServer } from './h2grpc/index.js'
import { parseURL, type StoreConfig } from './config.js'
import { EtcdServer, ETCD_VERSION } from './etcd-server.js'
import { etcdId } from './ids.js'
import { checkedService } from './grpc/checked-service.js'
import { clusterService } from './grpc/cluster-service.js'
import type { HeaderFields } from './grpc/convert.js'
import { kvService, kvServiceDefinition } from './grpc/kv-service.js'
import { LeaderClient } from './grpc/leader-client.js'
import { leaseService } from './grpc/lease-service.js'
import { maintenanceService } from './grpc/maintenance-service.js'
import { createLeaseManager } from './lease-manager.js'
import { storeMetrics } from './metrics.js'

/** etcd accepts requests up to --max-request-bytes plus this much gRPC framing. */
const GRPC_OVERHEAD_BYTES = 512 * 1024
const GRPC_BUFFER_SLACK_BYTES = 8 * 1024 * 1024

export interface StoreMemberOptions {
  logger?: Logger
  /** Collect Node's process metrics too (default true; tests running many members in one process turn it off). */
  defaultMetrics?: boolean
}

export class StoreMember {
  private constructor(
    readonly server: EtcdServer,
    private readonly hub: WatchHub,
    private readonly grpcServer: H2GrpcServer,
    private readonly listeners: ClientListener[],
    private readonly leader: LeaderClient,
    private readonly compactor: AutoCompactor,
    readonly metrics: Registry,
  ) {}

  /** host:port of each client listener, with the port actually bound. */
  get clientURLs(): string[] {
    return this.listeners.map((l, i) => {
      const u = new URL(this.server.cfg.listenClientURLs[i]!)
      return `${u.protocol}//${u.hostname}:${l.port}`
    })
  }

  static async start(cfg: StoreConfig, opts: StoreMemberOptions = {}): Promise<StoreMember> {
    const logger = opts.logger ?? pino({ level: 'silent' })
    const electionTicks = Math.max(2, Math.round(cfg.electionMs / cfg.heartbeatMs))
    let hub: WatchHub | undefined
    const self: { srv?: EtcdServer } = {}
    // Every response carries these; the IDs never change, so they are formatted once.
    let ids: { cluster: string; member: string } | undefined
    const headerFields = (): HeaderFields => {
      const srv = self.srv
      if (srv === undefined) return { cluster_id: '0', member_id: '0', raft_term: 0 }
      ids ??= { cluster: etcdId(srv.clusterId), member: etcdId(srv.id) }
      return { cluster_id: ids.cluster, member_id: ids.member, raft_term: srv.term }
    }
    const server = await EtcdServer.start(cfg, {
      logger,
      leases: (id) => createLeaseManager(id, { electionTicks, heartbeatMs: cfg.heartbeatMs }),
      watchers: (store) => {
        hub = new WatchHub(store, {
          header: () => {
            const h = headerFields()
            return { clusterId: h.cluster_id, memberId: h.member_id, raftTerm: h.raft_term }
          },
          maxResponseBytes: cfg.maxRequestBytes + GRPC_OVERHEAD_BYTES,
          onError: (message, err) => logger.warn({ err }, message),
        })
        return hub
      },
    })
    self.srv = server
    const maxReceive = cfg.maxRequestBytes + GRPC_OVERHEAD_BYTES
    // Our lean gRPC server on node:http2 (h2grpc/): less per-call work than grpc-js's,
    // and a watch stream's responses go out in one write (watch/grpc.ts).
    const grpcServer = new H2GrpcServer({
      // The exact limit (with etcd's wording) is checked as requests are decoded; this
      // one only bounds what a connection may make us buffer.
      maxReceiveMessageLength: maxReceive + GRPC_BUFFER_SLACK_BYTES,
    })
    const def = loadEtcdProto()
    const leader = new LeaderClient(server)
    const h = headerFields
    grpcServer.addService(checkedService(kvServiceDefinition(def['etcdserverpb.KV'] as grpc.ServiceDefinition), maxReceive), kvService(server, h))
    grpcServer.addService(checkedService(def['etcdserverpb.Lease'] as grpc.ServiceDefinition, maxReceive), leaseService(server, h, leader))
    grpcServer.addService(checkedService(def['etcdserverpb.Cluster'] as grpc.ServiceDefinition, maxReceive), clusterService(server, h))
    grpcServer.addService(checkedService(def['etcdserverpb.Maintenance'] as grpc.ServiceDefinition, maxReceive), maintenanceService(server, h))
    grpcServer.addService(watchServiceDefinition(), watchServiceHandlers(hub!))
    const metrics = storeMetrics(server, { defaultMetrics: opts.defaultMetrics, hub: hub! })
    const listeners: ClientListener[] = []
    const compactor = new AutoCompactor(
      cfg.autoCompactionMode,
      cfg.autoCompactionRetention,
      {
        isLeader: () => server.isLeader,
        currentRevision: () => server.store.currentRevision,
        compactedRevision: () => server.store.compactedRevision,
        compact: (rev) => server.compact(rev, false),
      },
      logger,
    )
    const member = new StoreMember(server, hub!, grpcServer, listeners, leader, compactor, metrics)
    try {
      for (const url of cfg.listenClientURLs) {
        const { host, port } = parseURL(url, '--listen-client-urls')
        listeners.push(
          await ClientListener.listen({
            host,
            port,
            grpcServer,
            http: (req, res) => void member.http(req, res),
          }),
        )
      }
    } catch (err) {
      await member.stop()
      const e = err as NodeJS.ErrnoException
      if (e.code === 'EADDRINUSE') throw new Error(`listen tcp ${cfg.listenClientURLs.join(',')}: bind: address already in use`, { cause: err })
      throw err
    }
    compactor.start()
    return member
  }

  /** /health, /metrics and /version, as etcd serves them on the client port. */
  private async http(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]
    try {
      if (path === '/metrics') {
        const body = await this.metrics.metrics()
        res.writeHead(200, { 'Content-Type': this.metrics.contentType }).end(body)
      } else if (path === '/health' || path === '/livez' || path === '/readyz') {
        const reason = await this.unhealthyReason()
        res.writeHead(reason ? 503 : 200, { 'Content-Type': 'application/json' })
        res.end(JSON.stringify({ health: reason ? 'false' : 'true', reason }))
      } else if (path === '/version') {
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ etcdserver: ETCD_VERSION, etcdcluster: '3.5.0' }))
      } else {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('404 page not found\n')
      }
    } catch (err) {
      res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`${(err as Error).message}\n`)
    }
  }

  /** etcd's /health: a leader, no alarm, and a linearizable read that completes. */
  private async unhealthyReason(): Promise<string> {
    if (this.server.raft.leader === 0) return 'RAFT NO LEADER'
    const alarms = this.server.alarms()
    if (alarms.length > 0) return `ALARM ${alarms.map((a) => a.alarm).join(',')}`
    const timeout = new Promise<string>((resolve) => setTimeout(() => resolve('QGET ERROR:etcdserver: request timed out'), 1000).unref())
    const read = this.server.linearizableBarrier().then(
      () => '',
      (err: Error) => `QGET ERROR:${err.message}`,
    )
    return Promise.race([read, timeout])
  }

  async stop(): Promise<void> {
    this.compactor.stop()
    this.leader.close()
    this.hub.close()
    // Calls in progress end with UNAVAILABLE before the sockets go.
    await this.grpcServer.close()
    for (const l of this.listeners) await l.close()
    await this.server.stop()
  }
}
