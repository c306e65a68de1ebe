// Assembles one API server: a watch cache per resource over the given Storage, the
// API layer's defaulting/validation/tables/patches, admission, discovery and OpenAPI,
// and the objects every cluster starts with.
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import { findResource, type ResourceType } from '../api/resources.js'
import { Admission } from './admission/index.js'
import { LimitRanger } from './admission/limit-range.js'
import { PriorityAdmission, SYSTEM_PRIORITY_CLASSES } from './admission/priority.js'
import { DefaultStorageClassAdmission } from './admission/default-storage-class.js'
import { NamespaceObjects } from './admission/namespace-objects.js'
import { SYSTEM_NAMESPACES } from './admission/namespace-lifecycle.js'
import { ResourceQuotaAdmission } from './admission/resource-quota.js'
import { DEFAULT_ALLOCATOR_OPTIONS, ServiceAllocator, type AllocatorOptions } from './admission/service-allocation.js'
import { handlerDeps, objectHooks } from './api-hooks.js'
import { discoveryDocuments } from './discovery/documents.js'
import { openapiDocuments } from './openapi/index.js'
import { preloadKubeProtobuf } from './protobuf/index.js'
import { MetricsApi } from './metrics-api/handler.js'
import { ResourceUsageStore } from './metrics-api/usage-store.js'
import { decodeObject } from './registry/codec.js'
import type { ResourceStore } from './registry/resource-store.js'
import { ApiServer, type DocumentSource } from './server.js'
import type { Storage } from './storage/interface.js'
import { WatchCache } from './watch-cache/watch-cache.js'
import type { KubeObject } from './watch-cache/types.js'

export interface CreateApiServerOptions {
  storage: Storage
  metrics: Registry
  logger?: Logger
  name?: string
  /** host:port clients reach this server at (discovery's serverAddressByClientCIDRs). */
  advertiseAddress?: string
  allocator?: AllocatorOptions
  /** Watch cache tuning (tests shrink the bookmark interval). */
  cache?: { capacity?: number; bookmarkIntervalMs?: number }
  checks?: Record<string, () => Promise<boolean>>
}

function core(plural: string): ResourceType {
  return findResource('', 'v1', plural)!
}

/** The system namespaces and the `kubernetes` Service (kube-apiserver's bootstrap controller). */
function bootstrapObjects(allocator: ServiceAllocator): { rt: ResourceType; namespace: string; object: KubeObject }[] {
  const namespaces = SYSTEM_NAMESPACES.map((name) => ({
    rt: core('namespaces'),
    namespace: '',
    object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } } as KubeObject,
  }))
  const kubernetes = {
    rt: core('services'),
    namespace: 'default',
    object: {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kubernetes', labels: { component: 'apiserver', provider: 'kubernetes' } },
      spec: { type: 'ClusterIP', clusterIP: allocator.apiserverIp, ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }], sessionAffinity: 'None' },
    } as KubeObject,
  }
  const priorityClasses = SYSTEM_PRIORITY_CLASSES.map((pc) => ({
    rt: findResource('scheduling.k8s.io', 'v1', 'priorityclasses')!,
    namespace: '',
    object: { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: pc.name }, value: pc.value, description: pc.description, preemptionPolicy: 'PreemptLowerPriority' } as KubeObject,
  }))
  return [...namespaces, kubernetes, ...priorityClasses]
}

export function createApiServer(opts: CreateApiServerOptions): ApiServer {
  // Load the protobuf contracts now rather than on the first protobuf request.
  preloadKubeProtobuf()
  const allocator = new ServiceAllocator(opts.storage, opts.allocator ?? DEFAULT_ALLOCATOR_OPTIONS)
  // The namespace lookup reads the namespaces' cache, and the store when the cache has
  // not seen a namespace yet (created a moment ago through another master).
  const self: { api?: ApiServer } = {}
  const lookupNamespace = async (name: string): Promise<'missing' | 'active' | 'terminating'> => {
    const store = self.api!.store(core('namespaces'))
    let ns = store.cache.get(store.key('', name))?.object
    if (ns === undefined) ns = await store.get('', name).catch(() => undefined)
    if (ns === undefined) return 'missing'
    const meta = (ns.metadata ?? {}) as Record<string, unknown>
    const phase = ((ns.status ?? {}) as Record<string, unknown>).phase
    return meta.deletionTimestamp !== undefined || phase === 'Terminating' ? 'terminating' : 'active'
  }
  const stores = (rt: ResourceType): ResourceStore => self.api!.store(rt)
  const admission = new Admission(lookupNamespace, allocator, {
    priority: new PriorityAdmission(() => stores(findResource('scheduling.k8s.io', 'v1', 'priorityclasses')!)),
    defaultStorageClass: new DefaultStorageClassAdmission(() => stores(findResource('storage.k8s.io', 'v1', 'storageclasses')!)),
    limitRanger: new LimitRanger(new NamespaceObjects(() => stores(core('limitranges')))),
    resourceQuota: new ResourceQuotaAdmission(stores),
  })
  const discovery = discoveryDocuments({ serverAddress: () => opts.advertiseAddress ?? '127.0.0.1:6443' })
  const openapi = openapiDocuments()
  const documents: DocumentSource = (path, query, accept) => discovery(path, query, accept) ?? openapi(path, query, accept)
  const api = new ApiServer({
    storage: opts.storage,
    cacheFor: (_rt, prefix) =>
      new WatchCache(opts.storage, prefix, {
        // The cache sets each object's resourceVersion from its mod revision.
        decode: (bytes) => decodeObject(bytes, 0),
        ...(opts.cache?.capacity === undefined ? {} : { capacity: opts.cache.capacity }),
        ...(opts.cache?.bookmarkIntervalMs === undefined ? {} : { bookmarkIntervalMs: opts.cache.bookmarkIntervalMs }),
        ...(opts.logger === undefined ? {} : { logger: opts.logger }),
      }),
    hooks: objectHooks(admission),
    resourceMetrics: new MetricsApi({
      usage: new ResourceUsageStore(opts.storage, opts.logger === undefined ? {} : { logger: opts.logger }),
      pods: () => stores(core('pods')),
      nodes: () => stores(core('nodes')),
    }),
    deps: handlerDeps(),
    documents,
    metrics: opts.metrics,
    bootstrap: async () => {
      await allocator.claimApiserverIp()
      return bootstrapObjects(allocator)
    },
    ...(opts.logger === undefined ? {} : { logger: opts.logger }),
    ...(opts.checks === undefined ? {} : { checks: opts.checks }),
    ...(opts.name === undefined ? {} : { name: opts.name }),
  })
  self.api = api
  // Build the OpenAPI documents in slices once serving, not on kubectl's first request.
  void api.ready().then(
    () => openapi.warm().catch(() => undefined),
    () => undefined,
  )
  return api
}
