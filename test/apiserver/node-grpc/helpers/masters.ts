// Masters for the node API tests: an API server (createApiServer: registry, watch
// caches, defaulting, validation, admission, the system namespaces) over a shared
// MemoryStorage, each with a NodeGrpcServer on 127.0.0.1:<free port>, all stopped in
// teardown.
import { Registry } from 'prom-client'
import type { Test } from 'tap'
import type { ResourceType } from '../../../../src/api/resources.js'
import { findResource } from '../../../../src/api/resources.js'
import { createApiServer } from '../../../../src/apiserver/index.js'
import { NodeGrpcServer, type NodeGrpcServerOptions } from '../../../../src/apiserver/node-grpc/index.js'
import type { ApiServer } from '../../../../src/apiserver/server.js'
import type { MemoryStorage } from '../../../../src/apiserver/storage/memory.js'
import type { KubeObject } from '../../../../src/apiserver/watch-cache/types.js'
import { NodeApiClient, type NodeApiClientOptions } from '../../../../src/client/node-grpc.js'

export const rt = (group: string, plural: string): ResourceType => findResource(group, 'v1', plural)!
export const PODS = rt('', 'pods')
export const NODES = rt('', 'nodes')
export const LEASES = rt('coordination.k8s.io', 'leases')
export const SERVICES = rt('', 'services')
export const CONFIGMAPS = rt('', 'configmaps')
export const EVENTS = rt('', 'events')
export const ENDPOINTSLICES = rt('discovery.k8s.io', 'endpointslices')

export interface MasterOptions {
  /** Events each watch cache keeps (small: a watch from an old revision is OUT_OF_RANGE). */
  cacheCapacity?: number
  cacheBookmarkIntervalMs?: number
  grpc?: Omit<NodeGrpcServerOptions, 'stores'>
}

export interface Master {
  api: ApiServer
  node: NodeGrpcServer
  address: string
}

export async function startMaster(t: Test, storage: MemoryStorage, opts: MasterOptions = {}): Promise<Master> {
  const cache: { capacity?: number; bookmarkIntervalMs?: number } = {}
  if (opts.cacheCapacity !== undefined) cache.capacity = opts.cacheCapacity
  if (opts.cacheBookmarkIntervalMs !== undefined) cache.bookmarkIntervalMs = opts.cacheBookmarkIntervalMs
  const api = createApiServer({ storage, metrics: new Registry(), cache })
  await api.ready()
  const node = new NodeGrpcServer({ stores: api, ...opts.grpc })
  const port = await node.listen('127.0.0.1', 0)
  t.teardown(async () => {
    await node.stop()
    await api.stop()
  })
  return { api, node, address: `127.0.0.1:${port}` }
}

export function client(t: Test, addresses: string[], opts: Partial<NodeApiClientOptions> = {}): NodeApiClient {
  const c = new NodeApiClient({ addresses, callTimeoutMs: 5000, retryDelayMs: { min: 20, max: 200 }, ...opts })
  t.teardown(() => c.close())
  return c
}

export function pod(ns: string, name: string, nodeName?: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { namespace: ns, name },
    spec: { containers: [{ name: 'c', image: 'busybox' }], ...(nodeName === undefined ? {} : { nodeName }) },
  }
}

export const write = { dryRun: false, fieldManager: 'test' }

/** Binds a pod to a node as the scheduler's pods/binding does (spec.nodeName through the store). */
export async function bind(api: ApiServer, ns: string, name: string, nodeName: string): Promise<KubeObject> {
  const { object } = await api.store(PODS).update(
    ns,
    name,
    (cur) => ({ ...cur!, spec: { ...(cur!.spec as Record<string, unknown>), nodeName } }),
    write,
    { subresource: 'binding' },
  )
  return object
}

/** Polls until `check` returns a value (not undefined), or fails after `ms`. */
export async function waitFor<T>(what: string, check: () => T | undefined, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const v = check()
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

export const rvOf = (obj: KubeObject): string => String((obj.metadata as Record<string, unknown>).resourceVersion)
export const nameOf = (obj: KubeObject): string => String((obj.metadata as Record<string, unknown>).name)
