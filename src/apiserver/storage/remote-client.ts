// The etcd v3 gRPC client RemoteStorage speaks through: one grpc-js channel per
// endpoint (KV, Lease and Watch share it), one endpoint in use at a time, and
// failover to the next when the one in use is unreachable. Every unary call has a
// deadline that covers its retries.
//
// A read is retried on any UNAVAILABLE. A write is retried only when it surely never
// reached a store (no connection, or the store said it has no leader): a conditional
// write that did land and is sent again would come back as a conflict with our own
// change, so an ambiguous failure is reported instead, as etcd's clientv3 does.
import * as grpc from '@grpc/grpc-js'
import { loadEtcdProto } from '../../kv/etcd-proto.js'

export type Service = 'KV' | 'Lease' | 'Watch'

/** Any proto-loader message (keepCase, longs as strings, enums as names). */
export type Message = Record<string, unknown>

type UnaryMethod = (req: Message, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Message) => void) => grpc.ClientUnaryCall
type WatchMethod = (metadata: grpc.Metadata, opts?: grpc.CallOptions) => grpc.ClientDuplexStream<Message, Message>
type ClientCtor = new (address: string, creds: grpc.ChannelCredentials, opts?: grpc.ClientOptions) => grpc.Client

export interface EtcdClientOptions {
  /** Total time a unary call may take, retries included (ms). */
  requestTimeoutMs: number
  credentials?: grpc.ChannelCredentials
}

const CHANNEL_OPTIONS: grpc.ClientOptions = {
  // A watch response holds a whole revision, however large (etcd sends it unsplit).
  'grpc.max_receive_message_length': -1,
  'grpc.max_send_message_length': 64 * 2 ** 20,
  // As kube-apiserver's etcd client: a dead peer behind a live TCP connection is
  // noticed within 40 s even on an idle watch.
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 10_000,
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 2000,
}

/** Errors showing the request never reached a store that could have applied it. */
const UNSENT = /No connection established|ECONNREFUSED|etcdserver: no leader|etcdserver: not capable/

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

let ctors: Record<Service, ClientCtor> | undefined
function clientCtors(): Record<Service, ClientCtor> {
  if (ctors === undefined) {
    const pkg = grpc.loadPackageDefinition(loadEtcdProto()) as unknown as { etcdserverpb: Record<Service, ClientCtor> }
    ctors = { KV: pkg.etcdserverpb.KV, Lease: pkg.etcdserverpb.Lease, Watch: pkg.etcdserverpb.Watch }
  }
  return ctors
}

/** `http://host:port` (or a bare `host:port`) as a gRPC target, with TLS for https. */
function target(endpoint: string): { address: string; tls: boolean } {
  if (!/^[a-z]+:\/\//i.test(endpoint)) return { address: endpoint, tls: false }
  const u = new URL(endpoint)
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`etcd endpoint ${endpoint}: only http and https are supported`)
  return { address: u.host, tls: u.protocol === 'https:' }
}

class Endpoint {
  private clients: Partial<Record<Service, grpc.Client>> = {}

  constructor(
    readonly url: string,
    private readonly creds: grpc.ChannelCredentials,
  ) {}

  client(service: Service): grpc.Client {
    let c = this.clients[service]
    if (c === undefined) {
      const first = this.clients.KV ?? this.clients.Lease ?? this.clients.Watch
      const opts: grpc.ClientOptions = first === undefined ? CHANNEL_OPTIONS : { ...CHANNEL_OPTIONS, channelOverride: first.getChannel() }
      c = new (clientCtors()[service])(target(this.url).address, this.creds, opts)
      this.clients[service] = c
    }
    return c
  }

  close(): void {
    // The channel is shared: closing one client closes it for all.
    for (const c of Object.values(this.clients)) c.close()
    this.clients = {}
  }
}

export class EtcdClient {
  private readonly endpoints: Endpoint[]
  private current = 0
  private readonly requestTimeoutMs: number
  private closed = false

  constructor(urls: string[], opts: EtcdClientOptions) {
    if (urls.length === 0) throw new Error('etcd client: no endpoints given')
    this.requestTimeoutMs = opts.requestTimeoutMs
    this.endpoints = urls.map((u) => {
      const creds = opts.credentials ?? (target(u).tls ? grpc.credentials.createSsl() : grpc.credentials.createInsecure())
      return new Endpoint(u, creds)
    })
  }

  /** The endpoint requests go to now. */
  get endpoint(): string {
    return this.endpoints[this.current]!.url
  }

  /**
   * One unary call, failing over across endpoints: `retry` 'always' for reads,
   * 'unsent' for writes (see the top of this file). `timeoutMs` overrides the
   * client's request timeout.
   */
  async unary(service: Service, method: string, req: Message, retry: 'always' | 'unsent', timeoutMs = this.requestTimeoutMs): Promise<Message> {
    const deadline = Date.now() + timeoutMs
    const n = this.endpoints.length
    for (let attempt = 1; ; attempt++) {
      if (this.closed) throw Object.assign(new Error('etcd client is closed'), { code: grpc.status.UNAVAILABLE, details: 'etcd client is closed' })
      const at = this.current
      try {
        return await this.callOnce(at, service, method, req, deadline)
      } catch (err) {
        const e = err as grpc.ServiceError
        if (e.code !== grpc.status.UNAVAILABLE) throw err
        this.failed(at)
        if (retry === 'unsent' && !UNSENT.test(e.details ?? '')) throw err
        // Every endpoint tried once: give the cluster a moment (an election) before the next round.
        const pause = attempt % n === 0 ? Math.min(100 * (attempt / n), 1000) : 0
        if (Date.now() + pause >= deadline) throw err
        if (pause > 0) await sleep(pause)
      }
    }
  }

  /** A Watch stream on the endpoint in use; `at` identifies it for failed(). */
  openWatch(): { call: grpc.ClientDuplexStream<Message, Message>; at: number } {
    const at = this.current
    const client = this.endpoints[at]!.client('Watch') as unknown as Record<string, WatchMethod>
    // As kube-apiserver's watches (clientv3.WithRequireLeader): a member cut off from
    // the leader ends the stream instead of keeping it silently stale.
    const md = new grpc.Metadata()
    md.set('hasleader', 'true')
    const call = client.Watch!.call(client, md)
    return { call, at }
  }

  /** Endpoint `at` failed: move on to the next one (unless someone already did). */
  failed(at: number): void {
    if (this.current === at) this.current = (at + 1) % this.endpoints.length
  }

  close(): void {
    this.closed = true
    for (const e of this.endpoints) e.close()
  }

  private callOnce(at: number, service: Service, method: string, req: Message, deadline: number): Promise<Message> {
    const client = this.endpoints[at]!.client(service)
    const fn = (client as unknown as Record<string, UnaryMethod>)[method]
    if (fn === undefined) throw new Error(`etcd client: no method ${service}.${method}`)
    return new Promise((resolve, reject) => {
      fn.call(client, req, { deadline }, (err, res) => (err !== null ? reject(err) : resolve(res ?? {})))
    })
  }
}
