// The NodeService handlers: each call is authorized, then mapped onto the resource's
// registry store with the same semantics as its REST counterpart (resource-handler.ts).
import type * as grpc from '@grpc/grpc-js'
import { findResource, type ResourceType } from '../../api/resources.js'
import type { ListOptions, ResourceStore, WriteContext } from '../registry/resource-store.js'
import { metaOf } from '../registry/object-meta.js'
import type { ResourceUsageStore } from '../metrics-api/usage-store.js'
import { ApiError, badRequest, conflict, methodNotAllowed } from '../status.js'
import type { KubeObject } from '../watch-cache/types.js'
import type { CallIdentity, NodeAuthorizer, NodeRequestAttributes } from './authorize.js'
import { objectJson } from './encode.js'
import { toGrpcError } from './errors.js'
import {
  checkStatus,
  decodeObject,
  decodeStatus,
  mergeRegistration,
  NODE_LEASE_NAMESPACE,
  onNode,
  renewedLease,
  requireName,
  statusWrite,
} from './objects.js'
import type * as m from './proto.js'
import { usageRecordOf } from './usage.js'
import { WatchStream, type WatchCall } from './watch-stream.js'

/** The registry store of a resource (ApiServer.store). */
export type StoreLookup = (rt: ResourceType) => ResourceStore

function resource(group: string, version: string, plural: string): ResourceType {
  const rt = findResource(group, version, plural)
  if (rt === undefined) throw new Error(`node gRPC API: ${group}/${version} ${plural} is not served`)
  return rt
}

const RT = {
  nodes: resource('', 'v1', 'nodes'),
  pods: resource('', 'v1', 'pods'),
  services: resource('', 'v1', 'services'),
  configmaps: resource('', 'v1', 'configmaps'),
  secrets: resource('', 'v1', 'secrets'),
  events: resource('', 'v1', 'events'),
  leases: resource('coordination.k8s.io', 'v1', 'leases'),
  endpointslices: resource('discovery.k8s.io', 'v1', 'endpointslices'),
}

// kube-apiserver's --min-request-timeout: a watch ends after between it and twice it.
const MIN_WATCH_TIMEOUT_MS = 1_800_000

export interface NodeServiceOptions {
  stores: StoreLookup
  authorize: NodeAuthorizer
  bookmarkIntervalMs: number
  /** How long one watch stream may last (the client then re-watches). */
  watchTimeoutMs: () => number
  now: () => Date
  /** Where ReportResourceUsage stores reports; absent: the call is refused (UNIMPLEMENTED). */
  usage?: ResourceUsageStore
  /** A handler failed with something that is not a Kubernetes error (a bug or the store). */
  onInternalError: (err: unknown, method: string) => void
}

type Unary<Req, Res> = (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>) => void

const WRITE: WriteContext = { dryRun: false, fieldManager: 'kubelet' }

export class NodeService {
  private readonly watches = new Set<WatchStream>()

  constructor(private readonly o: NodeServiceOptions) {}

  /** Watch streams open now. */
  get watchCount(): number {
    return this.watches.size
  }

  /** Ends every watch with UNAVAILABLE (the master is stopping). */
  shutdownWatches(): void {
    for (const w of [...this.watches]) w.shutdown()
  }

  /** The handler map for grpc.Server.addService. */
  handlers(): grpc.UntypedServiceImplementation {
    return {
      RegisterNode: this.unary('RegisterNode', (req: m.RegisterNodeRequest, call) => this.registerNode(req, call)),
      UpdateNodeStatus: this.unary('UpdateNodeStatus', (req: m.UpdateNodeStatusRequest, call) => this.updateNodeStatus(req, call)),
      RenewNodeLease: this.unary('RenewNodeLease', (req: m.RenewNodeLeaseRequest, call) => this.renewNodeLease(req, call)),
      ListPods: this.unary('ListPods', (req: m.ListPodsRequest, call) => this.listPods(req, call)),
      WatchPods: (call: grpc.ServerWritableStream<m.WatchPodsRequest, Buffer>) => this.watchPods(call),
      UpdatePodStatus: this.unary('UpdatePodStatus', (req: m.UpdatePodStatusRequest, call) => this.updatePodStatus(req, call)),
      DeletePod: this.unary('DeletePod', (req: m.DeletePodRequest, call) => this.deletePod(req, call)),
      ListServices: this.unary('ListServices', (req: m.ListRequest, call) => this.listAll(RT.services, req, call)),
      WatchServices: (call: grpc.ServerWritableStream<m.WatchRequest, Buffer>) => this.watchAll(RT.services, call),
      ListEndpointSlices: this.unary('ListEndpointSlices', (req: m.ListRequest, call) => this.listAll(RT.endpointslices, req, call)),
      WatchEndpointSlices: (call: grpc.ServerWritableStream<m.WatchRequest, Buffer>) => this.watchAll(RT.endpointslices, call),
      GetConfigMap: this.unary('GetConfigMap', (req: m.GetRequest, call) => this.getOne(RT.configmaps, req, call)),
      GetSecret: this.unary('GetSecret', (req: m.GetRequest, call) => this.getOne(RT.secrets, req, call)),
      CreateEvent: this.unary('CreateEvent', (req: m.CreateEventRequest, call) => this.createEvent(req, call)),
      ReportResourceUsage: this.unary('ReportResourceUsage', (req: m.ReportResourceUsageRequest, call) => this.reportResourceUsage(req, call)),
    }
  }

  private unary<Req, Res>(method: string, fn: (req: Req, call: CallIdentity) => Promise<Res>): Unary<Req, Res> {
    return (call, callback) => {
      fn(call.request, call).then(
        (res) => callback(null, res),
        (err: unknown) => {
          this.reportInternal(err, method)
          callback(toGrpcError(err))
        },
      )
    }
  }

  private reportInternal(err: unknown, method: string): void {
    if (!(err instanceof ApiError) || err.code === 500) this.o.onInternalError(err, method)
  }

  /** Every call passes here before it touches a store. */
  private async authorize(call: CallIdentity, attrs: Omit<NodeRequestAttributes, 'call'>): Promise<void> {
    await this.o.authorize({ ...attrs, call })
  }

  private store(rt: ResourceType): ResourceStore {
    return this.o.stores(rt)
  }

  // ---- Node and Lease ----

  private async registerNode(req: m.RegisterNodeRequest, call: CallIdentity): Promise<m.RegisterNodeResponse> {
    // A Node read back earlier may carry a resourceVersion; a create must not.
    const node = withoutResourceVersion(decodeObject(req.node_json, RT.nodes))
    const name = String(metaOf(node).name ?? '')
    requireName(RT.nodes, name)
    await this.authorize(call, { verb: 'create', resource: RT.nodes, subresource: '', namespace: '', name })
    const nodes = this.store(RT.nodes)
    try {
      const created = await nodes.create('', node, WRITE)
      return { node_json: objectJson(created), created: true }
    } catch (err) {
      if (!(err instanceof ApiError && err.reason === 'AlreadyExists')) throw err
    }
    await this.authorize(call, { verb: 'update', resource: RT.nodes, subresource: '', namespace: '', name })
    let { object } = await nodes.update('', name, (current) => withoutResourceVersion(mergeRegistration(current!, node)), WRITE)
    if (node.status !== undefined) {
      await this.authorize(call, { verb: 'update', resource: RT.nodes, subresource: 'status', namespace: '', name })
      const status = checkStatus(node.status, 'Node')
      object = (await nodes.update('', name, (current) => statusWrite(status, '', current), WRITE, { subresource: 'status' })).object
    }
    return { node_json: objectJson(object), created: false }
  }

  private async updateNodeStatus(req: m.UpdateNodeStatusRequest, call: CallIdentity): Promise<m.ObjectResponse> {
    const name = req.node_name
    requireName(RT.nodes, name, 'node_name')
    const status = decodeStatus(req.status_json, 'Node')
    await this.authorize(call, { verb: 'update', resource: RT.nodes, subresource: 'status', namespace: '', name })
    const { object } = await this.store(RT.nodes).update('', name, (current) => statusWrite(status, req.resource_version, current), WRITE, { subresource: 'status' })
    return { object_json: objectJson(object) }
  }

  private async renewNodeLease(req: m.RenewNodeLeaseRequest, call: CallIdentity): Promise<m.ObjectResponse> {
    const name = req.node_name
    requireName(RT.leases, name, 'node_name')
    await this.authorize(call, { verb: 'update', resource: RT.leases, subresource: '', namespace: NODE_LEASE_NAMESPACE, name })
    const { object } = await this.store(RT.leases).update(
      NODE_LEASE_NAMESPACE,
      name,
      async (current) => {
        const owned = current !== undefined && (metaOf(current).ownerReferences ?? []).length > 0
        const nodeUid = owned ? undefined : await this.nodeUid(name)
        return renewedLease(current, name, nodeUid, this.o.now())
      },
      WRITE,
      { createIfMissing: true },
    )
    return { object_json: objectJson(object) }
  }

  /** The Node's uid from the cache, for the Lease's owner reference; undefined while unknown. */
  private async nodeUid(name: string): Promise<string | undefined> {
    const nodes = this.store(RT.nodes)
    const hit = nodes.cache.get(nodes.key('', name))
    const uid = hit === undefined ? undefined : metaOf(hit.object).uid
    return typeof uid === 'string' ? uid : undefined
  }

  // ---- Pods ----

  private podListOptions(nodeName: string, resourceVersion: string): ListOptions {
    requireName(RT.nodes, nodeName, 'node_name')
    return { match: onNode(nodeName), filtered: true, resourceVersion }
  }

  private async listPods(req: m.ListPodsRequest, call: CallIdentity): Promise<m.ListResponse> {
    const opts = this.podListOptions(req.node_name, req.resource_version)
    await this.authorize(call, { verb: 'list', resource: RT.pods, subresource: '', namespace: '', name: '', nodeName: req.node_name })
    return this.list(RT.pods, opts)
  }

  private watchPods(call: grpc.ServerWritableStream<m.WatchPodsRequest, Buffer>): void {
    const req = call.request
    this.watch(call, RT.pods, req.resource_version, async () => {
      const opts = this.podListOptions(req.node_name, req.resource_version)
      await this.authorize(call, { verb: 'watch', resource: RT.pods, subresource: '', namespace: '', name: '', nodeName: req.node_name })
      return opts
    })
  }

  private async updatePodStatus(req: m.UpdatePodStatusRequest, call: CallIdentity): Promise<m.ObjectResponse> {
    requireName(RT.pods, req.name, 'name')
    const status = decodeStatus(req.status_json, 'Pod')
    await this.authorize(call, { verb: 'update', resource: RT.pods, subresource: 'status', namespace: req.namespace, name: req.name })
    const { object } = await this.store(RT.pods).update(
      req.namespace,
      req.name,
      (current) => {
        checkUid(RT.pods, req.name, req.uid, current!)
        return statusWrite(status, req.resource_version, current)
      },
      WRITE,
      { subresource: 'status' },
    )
    return { object_json: objectJson(object) }
  }

  private async deletePod(req: m.DeletePodRequest, call: CallIdentity): Promise<m.DeletePodResponse> {
    requireName(RT.pods, req.name, 'name')
    await this.authorize(call, { verb: 'delete', resource: RT.pods, subresource: '', namespace: req.namespace, name: req.name })
    const { object, deleted } = await this.store(RT.pods).delete(req.namespace, req.name, {
      gracePeriodSeconds: 0,
      dryRun: false,
      ...(req.uid === '' ? {} : { preconditions: { uid: req.uid } }),
    })
    return { object_json: objectJson(object), deleted }
  }

  // ---- Services, EndpointSlices, ConfigMaps, Secrets, Events ----

  private async listAll(rt: ResourceType, req: m.ListRequest, call: CallIdentity): Promise<m.ListResponse> {
    await this.authorize(call, { verb: 'list', resource: rt, subresource: '', namespace: '', name: '' })
    return this.list(rt, { resourceVersion: req.resource_version })
  }

  private watchAll(rt: ResourceType, call: grpc.ServerWritableStream<m.WatchRequest, Buffer>): void {
    this.watch(call, rt, call.request.resource_version, async () => {
      await this.authorize(call, { verb: 'watch', resource: rt, subresource: '', namespace: '', name: '' })
      return {}
    })
  }

  private async getOne(rt: ResourceType, req: m.GetRequest, call: CallIdentity): Promise<m.ObjectResponse> {
    requireName(rt, req.name, 'name')
    await this.authorize(call, { verb: 'get', resource: rt, subresource: '', namespace: req.namespace, name: req.name })
    return { object_json: objectJson(await this.store(rt).get(req.namespace, req.name)) }
  }

  private async createEvent(req: m.CreateEventRequest, call: CallIdentity): Promise<m.ObjectResponse> {
    const event = decodeObject(req.event_json, RT.events)
    const meta = metaOf(event)
    const namespace = typeof meta.namespace === 'string' && meta.namespace !== '' ? meta.namespace : 'default'
    await this.authorize(call, { verb: 'create', resource: RT.events, subresource: '', namespace, name: String(meta.name ?? '') })
    return { object_json: objectJson(await this.store(RT.events).create(namespace, event, WRITE)) }
  }

  // ---- resource usage ----

  private async reportResourceUsage(req: m.ReportResourceUsageRequest, call: CallIdentity): Promise<Record<string, never>> {
    const usage = this.o.usage
    if (usage === undefined) throw methodNotAllowed('this master does not store resource usage reports')
    const record = usageRecordOf(req)
    const name = record.metadata.name
    // The kubelet reports about its own Node, as it writes the Node's status.
    await this.authorize(call, { verb: 'update', resource: RT.nodes, subresource: 'status', namespace: '', name })
    const nodes = this.store(RT.nodes)
    // Usually in the cache; a Node registered a moment ago through another master is read from the store (NotFound when missing).
    if (nodes.cache.get(nodes.key('', name)) === undefined) await nodes.get('', name)
    await usage.write(record)
    return {}
  }

  // ---- shared list and watch ----

  private async list(rt: ResourceType, opts: ListOptions): Promise<m.ListResponse> {
    const res = await this.store(rt).list('', opts)
    return { items_json: res.items.map(objectJson), resource_version: res.resourceVersion }
  }

  /**
   * Serves a watch: `prepare` checks the request and gives the filter; "" and "0"
   * start with the current state, any other resourceVersion with the changes after it.
   */
  private watch(call: WatchCall, rt: ResourceType, rv: string, prepare: () => Promise<Pick<ListOptions, 'match'>>): void {
    let cancelled = false
    call.on('cancelled', () => (cancelled = true))
    const start = async (): Promise<void> => {
      const { match } = await prepare()
      const store = this.store(rt)
      const keyPrefix = store.scopePrefix('')
      const filter = match === undefined ? { keyPrefix } : { keyPrefix, matches: match }
      let initial: readonly KubeObject[] | undefined
      let after: number
      if (rv === '' || rv === '0') {
        const listed = await store.list('', { ...(match === undefined ? {} : { match, filtered: true }), resourceVersion: rv })
        initial = listed.items
        after = Number(listed.resourceVersion)
      } else {
        if (!/^\d+$/.test(rv)) throw badRequest(`invalid resource version: "${rv}"`)
        after = Number(rv)
        // A client coming from a master further ahead: give this one's cache a moment to catch up.
        await store.cache.waitUntilFresh(after).catch(() => undefined)
      }
      if (cancelled) return
      const w = new WatchStream(
        call,
        { cache: store.cache, filter, afterRevision: after, initial, bookmarkIntervalMs: this.o.bookmarkIntervalMs, timeoutMs: this.o.watchTimeoutMs() },
        (done) => this.watches.delete(done),
      )
      this.watches.add(w)
      w.start()
    }
    start().catch((err: unknown) => {
      this.reportInternal(err, `Watch ${rt.plural}`)
      if (!cancelled) call.emit('error', toGrpcError(err))
    })
  }
}

export function defaultWatchTimeoutMs(): number {
  return Math.round(MIN_WATCH_TIMEOUT_MS * (1 + Math.random()))
}

function withoutResourceVersion(obj: KubeObject): KubeObject {
  delete metaOf(obj).resourceVersion
  return obj
}

function checkUid(rt: ResourceType, name: string, uid: string, current: KubeObject): void {
  const actual = metaOf(current).uid
  if (uid === '' || uid === actual) return
  throw conflict(rt.plural, rt.group, name, `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${String(actual)}`)
}
