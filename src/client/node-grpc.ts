// The node API client (proto/node.proto) that kubelets and kube-proxies use to talk to
// the masters over gRPC, with failover across all of them.
//
// Calls stick to the master that last answered. A master that cannot be reached,
// breaks the connection, does not answer within `callTimeoutMs`, or answers
// UNAVAILABLE (503, shutting down) hands the call to the next one; after every master
// failed in a row, the client waits (doubling from retryDelayMs.min to .max) and goes
// round again, `rounds` times in all. Kubernetes errors (NotFound, Conflict, Invalid,
// …) are answers, not failures: they come back at once as the ApiError of
// ./errors.ts, rebuilt from the Status the server sends in the `k8s-status-bin`
// trailer, so isNotFound/isConflict/… work as for REST. Every method of the API is
// safe to send twice: the writes are idempotent, except that a DeletePod repeated
// after a lost answer reports NotFound and a repeated CreateEvent records the event
// twice.
//
// Watches (watchPods, watchServices, watchEndpointSlices) never end on their own:
// - Started without a resourceVersion ("" or "0"), the watch lists first and hands
//   the list over as one RESYNC event, then watches from the list's resourceVersion.
//   Started from a resourceVersion, it watches from there.
// - Events arrive in order: ADDED / MODIFIED / DELETED (an object leaving the filter,
//   e.g. a pod moved off the node, is DELETED) and BOOKMARK (only a resourceVersion:
//   every change up to it was delivered). `watch.resourceVersion` is that of the last
//   event or bookmark handed to onEvent.
// - When the stream breaks (a master died, was stopped, or ended the watch), the
//   watch opens again from that resourceVersion, on the next master if this one
//   failed: no change is missed and none is delivered twice.
// - When the server no longer has that resourceVersion (OUT_OF_RANGE, "too old
//   resource version": the 410 Gone of REST), the watch lists again (the newest
//   state) and emits RESYNC with the complete current set: the consumer replaces
//   what it holds with `items` (objects it holds that are not in `items` are gone;
//   no DELETED events are sent for them), then events continue after
//   RESYNC.resourceVersion.
// - onError hears every failure the watch recovers from (for logs and metrics);
//   failures are retried forever, immediately on each other master once, then with
//   the back-off. stop() ends it; no callback runs after stop() returns.
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'
import { ApiError, ConnectionError } from './errors.js'
import { isStatus, type KubeObject, type Status } from './types.js'

export const NODE_SERVICE = 'raftplane.node.v1.NodeService'
/** The trailing metadata entry holding the Kubernetes Status of a failed call. */
export const STATUS_TRAILER = 'k8s-status-bin'

// ---- the wire ----

const PROTO = join('proto', 'node.proto')

function findProto(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const candidate = join(dir, PROTO)
    if (existsSync(join(dir, 'package.json')) && existsSync(candidate)) return candidate
    const parent = dirname(dir)
    if (parent === dir) throw new Error(`node gRPC API: ${PROTO} not found above ${fileURLToPath(import.meta.url)}`)
    dir = parent
  }
}

type MethodName =
  | 'RegisterNode'
  | 'UpdateNodeStatus'
  | 'RenewNodeLease'
  | 'ListPods'
  | 'WatchPods'
  | 'UpdatePodStatus'
  | 'DeletePod'
  | 'ListServices'
  | 'WatchServices'
  | 'ListEndpointSlices'
  | 'WatchEndpointSlices'
  | 'GetConfigMap'
  | 'GetSecret'
  | 'CreateEvent'
  | 'ReportResourceUsage'

type Method = protoLoader.MethodDefinition<object, object>

let methods: Record<MethodName, Method> | undefined

/** NodeService's method definitions (path, serializers), loaded once from proto/node.proto. */
export function nodeServiceMethods(): Record<MethodName, Method> {
  if (methods !== undefined) return methods
  const def = protoLoader.loadSync(findProto(), { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true })
  methods = def[NODE_SERVICE] as unknown as Record<MethodName, Method>
  return methods
}

interface ObjectResponse {
  object_json: Buffer
}
interface ListResponse {
  items_json: Buffer[]
  resource_version: string
}
interface WireWatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK'
  object_json: Buffer
  resource_version: string
  initial_events_end: boolean
}

function parseObject(bytes: Buffer): KubeObject {
  return JSON.parse(bytes.toString('utf8')) as KubeObject
}

function json(obj: unknown): Buffer {
  return Buffer.from(JSON.stringify(obj))
}

// ---- errors ----

const HTTP_CODE: Partial<Record<grpc.status, [number, string]>> = {
  [grpc.status.INVALID_ARGUMENT]: [400, 'BadRequest'],
  [grpc.status.UNAUTHENTICATED]: [401, 'Unauthorized'],
  [grpc.status.PERMISSION_DENIED]: [403, 'Forbidden'],
  [grpc.status.NOT_FOUND]: [404, 'NotFound'],
  [grpc.status.UNIMPLEMENTED]: [405, 'MethodNotAllowed'],
  [grpc.status.ALREADY_EXISTS]: [409, 'AlreadyExists'],
  [grpc.status.ABORTED]: [409, 'Conflict'],
  [grpc.status.OUT_OF_RANGE]: [410, 'Expired'],
  [grpc.status.RESOURCE_EXHAUSTED]: [429, 'TooManyRequests'],
  [grpc.status.UNAVAILABLE]: [503, 'ServiceUnavailable'],
  [grpc.status.DEADLINE_EXCEEDED]: [504, 'Timeout'],
}

function trailerStatus(metadata: grpc.Metadata | undefined): Status | undefined {
  const raw = metadata?.get(STATUS_TRAILER)[0]
  if (raw === undefined) return undefined
  try {
    const parsed: unknown = JSON.parse(Buffer.isBuffer(raw) ? raw.toString('utf8') : raw)
    return isStatus(parsed) ? parsed : undefined
  } catch {
    return undefined
  }
}

/** A failed call as the caller sees it: an ApiError (the server's answer) or a ConnectionError. */
function callError(err: grpc.ServiceError, address: string): ApiError | ConnectionError {
  const status = trailerStatus(err.metadata)
  if (status !== undefined) return new ApiError(status)
  if (isTransportFailure(err)) {
    // grpc-js's words for a call that failed before any connection carried it.
    const notSent = err.code === grpc.status.UNAVAILABLE && /^No connection established/.test(err.details)
    return new ConnectionError(`node API at ${address}: ${err.details || grpc.status[err.code]}`, grpc.status[err.code] ?? String(err.code), address, notSent, { cause: err })
  }
  const [code, reason] = HTTP_CODE[err.code] ?? [500, 'InternalError']
  return new ApiError({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message: err.details, details: {} })
}

/** No Kubernetes Status came back: the call never got a real answer from that master. */
function isTransportFailure(err: grpc.ServiceError): boolean {
  if (trailerStatus(err.metadata) !== undefined) return false
  const c = err.code
  return c === grpc.status.UNAVAILABLE || c === grpc.status.DEADLINE_EXCEEDED || c === grpc.status.CANCELLED || c === grpc.status.INTERNAL || c === grpc.status.UNKNOWN
}

/** Another master may do better: this one is unreachable, too slow, or said 503. */
function shouldFailOver(err: grpc.ServiceError): boolean {
  return isTransportFailure(err) || err.code === grpc.status.UNAVAILABLE
}

// ---- the client ----

export interface NodeApiClientOptions {
  /** `host:port` of every master's node API. */
  addresses: readonly string[]
  /** Default: plaintext. */
  credentials?: grpc.ChannelCredentials
  /** Deadline of each attempt of a unary call. Default 10 s. */
  callTimeoutMs?: number
  /** How many times every master is tried before a unary call fails. Default 2. */
  rounds?: number
  /** Pause after every master failed in a row: doubles from min to max. Default 100 ms … 5 s. */
  retryDelayMs?: { min?: number; max?: number }
  /** Extra grpc-js channel options. */
  channelOptions?: grpc.ChannelOptions
}

export interface NodeList {
  items: KubeObject[]
  resourceVersion: string
}

export type NodeWatchEvent =
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: KubeObject; resourceVersion: string }
  | { type: 'BOOKMARK'; resourceVersion: string }
  | { type: 'RESYNC'; items: KubeObject[]; resourceVersion: string }

export interface NodeWatchOptions {
  /** Where to start: "" (default) or "0" lists first (RESYNC); any other value watches the changes after it. */
  resourceVersion?: string
  onEvent(ev: NodeWatchEvent): void
  /** A failure the watch recovers from by itself. */
  onError?(err: Error): void
}

/** CPU as a rate (nanocores, averaged over a window), memory as the working set in bytes. */
export interface ResourceUsage {
  cpuNanoCores: number
  memoryWorkingSetBytes: number
}

/** One ReportResourceUsage call (proto/node.proto): the node's usage and that of its running pods. */
export interface ResourceUsageReport {
  nodeName: string
  /** When it was sampled, ms since the epoch: the end of every window. */
  timestampMs: number
  /** How often the kubelet reports (the master keeps a report twice that long). */
  intervalMs: number
  /** The window the node's CPU was averaged over. */
  windowMs: number
  node: ResourceUsage
  pods: { namespace: string; name: string; uid: string; windowMs: number; containers: { name: string; usage: ResourceUsage }[] }[]
}

export interface NodeWatch {
  /** The resourceVersion of the last event or bookmark delivered. */
  readonly resourceVersion: string
  stop(): void
}

// Keepalive notices a master that went silent (a partition, a stopped process) within
// ~15 s even when a watch has nothing to say; reconnect attempts to a master that came
// back are capped at 2 s instead of grpc-js's 120 s.
const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.keepalive_time_ms': 10_000,
  'grpc.keepalive_timeout_ms': 5_000,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 2_000,
  'grpc.max_receive_message_length': -1,
  'grpc.enable_channelz': 0,
}

export class NodeApiClient {
  private readonly addresses: readonly string[]
  private readonly clients: (grpc.Client | undefined)[]
  private readonly methods = nodeServiceMethods()
  private readonly callTimeoutMs: number
  private readonly rounds: number
  private readonly minDelayMs: number
  private readonly maxDelayMs: number
  private current = 0
  private closed = false
  private readonly watches = new Set<ResumableWatch>()

  constructor(private readonly opts: NodeApiClientOptions) {
    if (opts.addresses.length === 0) throw new Error('NodeApiClient: no master addresses')
    this.addresses = [...opts.addresses]
    this.clients = this.addresses.map(() => undefined)
    this.callTimeoutMs = opts.callTimeoutMs ?? 10_000
    this.rounds = Math.max(1, opts.rounds ?? 2)
    this.minDelayMs = opts.retryDelayMs?.min ?? 100
    this.maxDelayMs = opts.retryDelayMs?.max ?? 5_000
  }

  /** The master calls go to now. */
  get currentAddress(): string {
    return this.addresses[this.current]!
  }

  // ---- Node and Lease ----

  /** Creates the Node, or merges labels/annotations/missing spec fields into it and replaces its status. */
  async registerNode(node: KubeObject): Promise<{ node: KubeObject; created: boolean }> {
    const res = await this.unary<{ node_json: Buffer; created: boolean }>('RegisterNode', { node_json: json(node) })
    return { node: parseObject(res.node_json), created: res.created }
  }

  async updateNodeStatus(nodeName: string, status: unknown, opts: { resourceVersion?: string } = {}): Promise<KubeObject> {
    return this.object('UpdateNodeStatus', { node_name: nodeName, status_json: json(status), resource_version: opts.resourceVersion ?? '' })
  }

  /** The heartbeat: renews (or creates) the Lease kube-node-lease/<nodeName>. */
  async renewNodeLease(nodeName: string): Promise<KubeObject> {
    return this.object('RenewNodeLease', { node_name: nodeName })
  }

  // ---- Pods ----

  async listPods(nodeName: string, opts: { resourceVersion?: string } = {}): Promise<NodeList> {
    return this.list('ListPods', { node_name: nodeName, resource_version: opts.resourceVersion ?? '' })
  }

  /** The pods bound to `nodeName`: see the watch semantics at the top of this file. */
  watchPods(nodeName: string, opts: NodeWatchOptions): NodeWatch {
    return this.startWatch(
      (rv) => this.listPods(nodeName, { resourceVersion: rv }),
      'WatchPods',
      (rv) => ({ node_name: nodeName, resource_version: rv }),
      opts,
    )
  }

  /** Replaces the pod's status; `resourceVersion` and `uid`, when given, are preconditions (409 Conflict). */
  async updatePodStatus(namespace: string, name: string, status: unknown, opts: { resourceVersion?: string; uid?: string } = {}): Promise<KubeObject> {
    return this.object('UpdatePodStatus', { namespace, name, status_json: json(status), resource_version: opts.resourceVersion ?? '', uid: opts.uid ?? '' })
  }

  /** The final delete (grace period 0) once the pod's containers are gone; `uid` guards against a re-created pod. */
  async deletePod(namespace: string, name: string, uid?: string): Promise<{ object: KubeObject; deleted: boolean }> {
    const res = await this.unary<{ object_json: Buffer; deleted: boolean }>('DeletePod', { namespace, name, uid: uid ?? '' })
    return { object: parseObject(res.object_json), deleted: res.deleted }
  }

  // ---- Services, EndpointSlices, ConfigMaps, Secrets, Events ----

  async listServices(opts: { resourceVersion?: string } = {}): Promise<NodeList> {
    return this.list('ListServices', { resource_version: opts.resourceVersion ?? '' })
  }

  watchServices(opts: NodeWatchOptions): NodeWatch {
    return this.startWatch((rv) => this.listServices({ resourceVersion: rv }), 'WatchServices', (rv) => ({ resource_version: rv }), opts)
  }

  async listEndpointSlices(opts: { resourceVersion?: string } = {}): Promise<NodeList> {
    return this.list('ListEndpointSlices', { resource_version: opts.resourceVersion ?? '' })
  }

  watchEndpointSlices(opts: NodeWatchOptions): NodeWatch {
    return this.startWatch((rv) => this.listEndpointSlices({ resourceVersion: rv }), 'WatchEndpointSlices', (rv) => ({ resource_version: rv }), opts)
  }

  async getConfigMap(namespace: string, name: string): Promise<KubeObject> {
    return this.object('GetConfigMap', { namespace, name })
  }

  async getSecret(namespace: string, name: string): Promise<KubeObject> {
    return this.object('GetSecret', { namespace, name })
  }

  /** Records an Event (core v1) in its metadata.namespace. */
  async createEvent(event: KubeObject): Promise<KubeObject> {
    return this.object('CreateEvent', { event_json: json(event) })
  }

  // ---- resource usage ----

  /** Stores the node's usage report where every master's metrics.k8s.io API reads it. */
  async reportResourceUsage(r: ResourceUsageReport): Promise<void> {
    const usage = (u: ResourceUsage) => ({ cpu_nano_cores: u.cpuNanoCores, memory_working_set_bytes: u.memoryWorkingSetBytes })
    await this.unary('ReportResourceUsage', {
      node_name: r.nodeName,
      timestamp_ms: r.timestampMs,
      window_ms: r.windowMs,
      interval_ms: r.intervalMs,
      node: usage(r.node),
      pods: r.pods.map((p) => ({ namespace: p.namespace, name: p.name, uid: p.uid, window_ms: p.windowMs, containers: p.containers.map((c) => ({ name: c.name, usage: usage(c.usage) })) })),
    })
  }

  /** Stops every watch and closes the connections. */
  close(): void {
    if (this.closed) return
    this.closed = true
    for (const w of [...this.watches]) w.stop()
    for (const c of this.clients) c?.close()
  }

  // ---- plumbing ----

  private client(i: number): grpc.Client {
    let c = this.clients[i]
    if (c === undefined) {
      c = new grpc.Client(this.addresses[i]!, this.opts.credentials ?? grpc.credentials.createInsecure(), { ...CHANNEL_OPTIONS, ...this.opts.channelOptions })
      this.clients[i] = c
    }
    return c
  }

  /** Master `i` failed: calls move on to the next one (unless another failure moved them already). */
  private failed(i: number): void {
    if (this.current === i) this.current = (i + 1) % this.addresses.length
  }

  private retryDelay(failures: number): number {
    const rounds = Math.floor(failures / this.addresses.length)
    return Math.min(this.maxDelayMs, this.minDelayMs * 2 ** Math.max(0, rounds - 1))
  }

  private async object(method: MethodName, req: object): Promise<KubeObject> {
    return parseObject((await this.unary<ObjectResponse>(method, req)).object_json)
  }

  private async list(method: MethodName, req: object): Promise<NodeList> {
    const res = await this.unary<ListResponse>(method, req)
    return { items: res.items_json.map(parseObject), resourceVersion: res.resource_version }
  }

  private async unary<Res>(method: MethodName, req: object): Promise<Res> {
    const attempts = this.rounds * this.addresses.length
    let last: ApiError | ConnectionError | undefined
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (this.closed) throw new ConnectionError('the node API client is closed', 'CLOSED', '', true)
      if (attempt > 0 && attempt % this.addresses.length === 0) await sleep(this.retryDelay(attempt))
      const i = this.current
      try {
        return await this.call<Res>(i, method, req)
      } catch (e) {
        const err = e as grpc.ServiceError
        last = callError(err, this.addresses[i]!)
        if (!shouldFailOver(err)) throw last
        this.failed(i)
      }
    }
    throw last!
  }

  private call<Res>(i: number, method: MethodName, req: object): Promise<Res> {
    const m = this.methods[method]
    return new Promise<Res>((resolve, reject) => {
      this.client(i).makeUnaryRequest<object, object>(
        m.path,
        m.requestSerialize,
        m.responseDeserialize,
        req,
        { deadline: Date.now() + this.callTimeoutMs },
        (err, res) => (err !== null ? reject(err) : resolve(res as Res)),
      )
    })
  }

  private startWatch(list: (rv: string) => Promise<NodeList>, method: MethodName, request: (rv: string) => object, opts: NodeWatchOptions): NodeWatch {
    if (this.closed) throw new ConnectionError('the node API client is closed', 'CLOSED', '', true)
    const w = new ResumableWatch(
      {
        list,
        open: (rv) => {
          const i = this.current
          const m = this.methods[method]
          const stream = this.client(i).makeServerStreamRequest<object, WireWatchEvent>(m.path, m.requestSerialize, m.responseDeserialize as (b: Buffer) => WireWatchEvent, request(rv))
          return { stream, index: i, address: this.addresses[i]! }
        },
        failed: (i) => this.failed(i),
        retryDelay: (failures) => (failures < this.addresses.length ? 0 : this.retryDelay(failures)),
        done: (watch) => this.watches.delete(watch),
      },
      opts,
    )
    this.watches.add(w)
    w.start()
    return w
  }
}

// ---- resumable watches ----

interface OpenedStream {
  stream: grpc.ClientReadableStream<WireWatchEvent>
  index: number
  address: string
}

interface WatchDeps {
  list(rv: string): Promise<NodeList>
  open(rv: string): OpenedStream
  failed(index: number): void
  retryDelay(failures: number): number
  done(w: ResumableWatch): void
}

/** A stream that ends this soon having delivered nothing counts as a failure (no hot loop against a broken master). */
const SHORT_STREAM_MS = 1000

class ResumableWatch implements NodeWatch {
  private rv: string
  private stopped = false
  private failures = 0
  private timer: NodeJS.Timeout | undefined
  private current: OpenedStream | undefined

  constructor(
    private readonly deps: WatchDeps,
    private readonly o: NodeWatchOptions,
  ) {
    this.rv = o.resourceVersion ?? ''
  }

  get resourceVersion(): string {
    return this.rv
  }

  start(): void {
    if (this.rv === '' || this.rv === '0') void this.relist(this.rv)
    else this.open()
  }

  stop(): void {
    if (this.stopped) return
    this.stopped = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    const s = this.current
    this.current = undefined
    s?.stream.cancel()
    this.deps.done(this)
  }

  private emit(ev: NodeWatchEvent): void {
    if (this.stopped) return
    this.o.onEvent(ev)
  }

  private report(err: Error): void {
    if (this.stopped) return
    try {
      this.o.onError?.(err)
    } catch {
      // a consumer's logging failure must not stop the watch
    }
  }

  private later(fn: () => void): void {
    const delay = this.deps.retryDelay(this.failures)
    this.failures++
    if (delay === 0) {
      queueMicrotask(() => !this.stopped && fn())
      return
    }
    this.timer = setTimeout(() => {
      this.timer = undefined
      if (!this.stopped) fn()
    }, delay)
  }

  /** Lists (with the client's failover), hands the state over as RESYNC, then watches from it. */
  private async relist(rv: string): Promise<void> {
    let list: NodeList
    try {
      list = await this.deps.list(rv)
    } catch (err) {
      this.report(err as Error)
      this.later(() => void this.relist(rv))
      return
    }
    if (this.stopped) return
    this.rv = list.resourceVersion
    this.emit({ type: 'RESYNC', items: list.items, resourceVersion: list.resourceVersion })
    this.open()
  }

  private open(): void {
    if (this.stopped) return
    const opened = this.deps.open(this.rv)
    this.current = opened
    const startedAt = Date.now()
    let delivered = false
    let status: grpc.StatusObject | undefined
    let ended = false
    const finish = (): void => {
      if (this.current !== opened || status === undefined || !ended) return
      this.current = undefined
      this.streamEnded(opened, status, delivered || Date.now() - startedAt >= SHORT_STREAM_MS)
    }
    opened.stream.on('data', (ev: WireWatchEvent) => {
      if (this.current !== opened) return
      delivered = true
      this.failures = 0
      this.deliver(ev)
    })
    // The status comes with the error (if any); 'end' follows the last message.
    opened.stream.on('error', () => {})
    opened.stream.on('status', (s: grpc.StatusObject) => {
      status = s
      finish()
    })
    opened.stream.on('end', () => {
      ended = true
      finish()
    })
  }

  private deliver(ev: WireWatchEvent): void {
    if (ev.resource_version !== '') this.rv = ev.resource_version
    if (ev.type === 'BOOKMARK') {
      // The end-of-initial-state marker belongs to raw "" / "0" watches, which this client never opens.
      this.emit({ type: 'BOOKMARK', resourceVersion: ev.resource_version })
      return
    }
    this.emit({ type: ev.type, object: parseObject(ev.object_json), resourceVersion: ev.resource_version })
  }

  private streamEnded(opened: OpenedStream, s: grpc.StatusObject, healthy: boolean): void {
    if (this.stopped) return
    if (healthy) this.failures = 0
    if (s.code === grpc.status.OK) {
      // The server ended the watch (its time limit, a slow reader): go on where we were.
      if (healthy) return this.open()
      this.report(new ConnectionError(`node API at ${opened.address}: the watch ended at once`, 'WATCH_ENDED', opened.address, false))
    } else {
      this.report(callError(Object.assign(new Error(s.details), s), opened.address))
      // Paced like a failure, so that a master answering every watch this way cannot spin us.
      if (s.code === grpc.status.OUT_OF_RANGE) return this.later(() => void this.relist(''))
    }
    this.deps.failed(opened.index)
    this.later(() => this.open())
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
