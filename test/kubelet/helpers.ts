// What the kubelet integration tests share: an in-process master serving the node
// gRPC API over memory storage (the node API tests' helper), hollow kubelets talking
// to it with short intervals, pods written straight into the master's stores (no
// scheduler or controllers run: a pod is bound by creating it with spec.nodeName),
// and polling with generous deadlines. Everything started is stopped in teardown.
import type { Test } from 'tap'
import { MemoryStorage } from '../../src/apiserver/storage/memory.js'
import type { KubeObject } from '../../src/client/index.js'
import type { NodeApiClient } from '../../src/client/node-grpc.js'
import { Kubelet, type KubeletOptions } from '../../src/kubelet/kubelet.js'
import { hollowFacts } from '../../src/kubelet/machine.js'
import { nodeAllocatable, nodeCapacity, type NodeResourceConfig } from '../../src/kubelet/node-resources.js'
import { HollowRuntime, type HollowRuntimeOptions } from '../../src/kubelet/runtime/hollow.js'
import { client as nodeClient, EVENTS, LEASES, NODES, PODS, type Master, startMaster, write } from '../apiserver/node-grpc/helpers/masters.js'

export { EVENTS, LEASES, NODES, PODS, write }

export type Json = Record<string, unknown>

export interface Env {
  master: Master
  client: NodeApiClient
}

export async function startEnv(t: Test): Promise<Env> {
  const master = await startMaster(t, new MemoryStorage())
  return { master, client: nodeClient(t, [master.address]) }
}

export interface TestNode {
  kubelet: Kubelet
  runtime: HollowRuntime
  nodeIP: string
  /** Replaces kubelet and runtime by fresh ones, as a restarted node process. */
  restart(): Promise<TestNode>
}

export interface NodeOptions {
  resources?: Partial<NodeResourceConfig>
  runtime?: HollowRuntimeOptions
  kubelet?: Partial<KubeletOptions>
  nodeIP?: string
}

let nextIP = 1

/** A hollow kubelet for node `name`, registered; stopped in teardown. */
export async function startNode(t: Test, env: Env, name: string, o: NodeOptions = {}): Promise<TestNode> {
  const nodeIP = o.nodeIP ?? `192.168.77.${nextIP++}`
  const resources: NodeResourceConfig = { cpu: '2', memory: '4Gi', pods: 110, ephemeralStorage: '20Gi', ...o.resources }
  const capacity = nodeCapacity(resources)
  const make = async (): Promise<TestNode> => {
    const runtime = new HollowRuntime(o.runtime)
    const kubelet = new Kubelet({
      client: env.client,
      nodeName: name,
      runtime,
      readiness: runtime.readiness,
      nodeIP,
      capacity,
      allocatable: nodeAllocatable(capacity, resources),
      machine: hollowFacts(name),
      leaseRenewIntervalMs: 500,
      statusUpdateFrequencyMs: 500,
      backoff: { initialMs: 1000, maxMs: 2000 },
      resyncIntervalMs: 5000,
      ...o.kubelet,
    })
    let stopped = false
    const stop = async (): Promise<void> => {
      if (stopped) return
      stopped = true
      await kubelet.stop()
      await runtime.close()
    }
    t.teardown(stop)
    kubelet.start()
    await kubelet.registered
    await kubelet.synced
    return {
      kubelet,
      runtime,
      nodeIP,
      restart: async () => {
        await stop()
        return make()
      },
    }
  }
  return make()
}

export function podObject(
  name: string,
  nodeName: string,
  o: { containers?: Json[]; initContainers?: Json[]; annotations?: Record<string, string>; finalizers?: string[]; spec?: Json } = {},
): KubeObject {
  const spec: Json = {
    nodeName,
    containers: o.containers ?? [{ name: 'c', image: 'busybox' }],
    ...o.spec,
  }
  if (o.initContainers !== undefined) spec.initContainers = o.initContainers
  const metadata: Json = { name }
  if (o.annotations !== undefined) metadata.annotations = o.annotations
  if (o.finalizers !== undefined) metadata.finalizers = o.finalizers
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec }
}

export async function createPod(env: Env, pod: KubeObject, ns = 'default'): Promise<KubeObject> {
  return env.master.api.store(PODS).create(ns, pod, write)
}

export async function getPod(env: Env, name: string, ns = 'default'): Promise<KubeObject | undefined> {
  try {
    return await env.master.api.store(PODS).get(ns, name)
  } catch (err) {
    // The store throws the API server's own error type; its code is the HTTP one.
    if ((err as { code?: unknown }).code === 404) return undefined
    throw err
  }
}

/** The pod's status (any object type the store or the client hands out). */
export function statusOf(pod: unknown): Json {
  return ((pod as { status?: unknown } | undefined)?.status ?? {}) as Json
}

export function phaseOf(pod: unknown): unknown {
  return statusOf(pod).phase
}

export function specOf(obj: unknown): Json {
  return ((obj as { spec?: unknown } | undefined)?.spec ?? {}) as Json
}

export function condition(pod: unknown, type: string): Json | undefined {
  const conds = statusOf(pod).conditions
  return Array.isArray(conds) ? (conds as Json[]).find((c) => c.type === type) : undefined
}

export function containerStatus(pod: unknown, name: string, init = false): Json | undefined {
  const list = statusOf(pod)[init ? 'initContainerStatuses' : 'containerStatuses']
  return Array.isArray(list) ? (list as Json[]).find((c) => c.name === name) : undefined
}

/** Polls until `probe` returns a value (not undefined); fails after `ms` (generous: the machine is shared). */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms
  let last: unknown
  for (;;) {
    try {
      const v = await probe()
      if (v !== undefined) return v
    } catch (err) {
      last = err
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last === undefined ? '' : `: ${String(last)}`}`)
    await new Promise((r) => setTimeout(r, 40))
  }
}

/** The pod once `check` holds for it. */
export function podWhen(env: Env, name: string, what: string, check: (pod: KubeObject) => boolean, ms?: number): Promise<KubeObject> {
  return eventually(`${name}: ${what}`, async () => {
    const pod = await getPod(env, name)
    return pod !== undefined && check(pod) ? pod : undefined
  }, ms)
}

export async function eventsFor(env: Env, objectName: string, ns = 'default'): Promise<Json[]> {
  const list = await env.master.api.store(EVENTS).list(ns, { resourceVersion: '' })
  return (list.items as Json[]).filter((e) => (e.involvedObject as Json | undefined)?.name === objectName)
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}
