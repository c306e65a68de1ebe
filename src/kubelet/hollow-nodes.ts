// Many hollow nodes in one process (the kubemark idea), for end-to-end tests of
// controllers and scheduler and for scale benchmarks: N kubelets, each with its own
// hollow runtime, its own Lease, status reports and pod watch, exactly as separate
// `raftplane node` processes would behave, but sharing the process's gRPC
// connections: the kubelets are spread over a few node API clients whose master
// lists are rotated, so the load lands on every master, and grpc-js multiplexes all
// their calls and watches over one connection per master.
//
// Node i is named `<prefix><i>`, has InternalIP 172.16.0.0 + i + 1 (within
// 172.16.0.0/12) and pod CIDR 10.(128 + i/256).(i%256).0/24, so up to 32768 nodes (over
// several processes: give each its own `firstIndex`) never share an address.
//
//   const cluster = await HollowCluster.start({ addresses: ['127.0.0.1:6543'], count: 100 })
//   … cluster.nodes[0].kubelet, cluster.restart('hollow-node-3'), cluster.stopNode('hollow-node-4') …
//   await cluster.stop()
import type * as grpc from '@grpc/grpc-js'
import type { Taint } from '../api/taints.js'
import type { Logger } from '../client/index.js'
import { NodeApiClient } from '../client/node-grpc.js'
import { Kubelet, type KubeletOptions } from './kubelet.js'
import { hollowFacts } from './machine.js'
import { nodeAllocatable, nodeCapacity, type NodeResourceConfig } from './node-resources.js'
import { formatIPv4, indexedPodCidr, parseIPv4 } from './pod-ip.js'
import { HollowRuntime } from './runtime/hollow.js'
import { DEFAULT_USAGE_INTERVAL_MS, HollowUsageSource } from './usage/index.js'

export interface HollowClusterOptions {
  /** `host:port` of every master's node API. */
  addresses: readonly string[]
  credentials?: grpc.ChannelCredentials
  count: number
  /** Default `hollow-node-`. */
  namePrefix?: string
  /** Names the nodes instead of `<namePrefix><index>`. */
  nodeName?: (index: number) => string
  /** Node i's InternalIP instead of 172.16.0.0 + i + 1. */
  nodeIP?: (index: number) => string
  /** Node i's pod CIDR instead of the i-th /24 of 10.128.0.0/9 (a Node with spec.podCIDR uses that). */
  podCIDR?: (index: number) => string
  /** The number of the first node (several harness processes against one cluster). Default 0. */
  firstIndex?: number
  /** Node API clients the kubelets are spread over. Default: one per master. */
  clients?: number
  /** Per-node capacity. Default 4 CPUs, 16Gi memory, 110 pods, 100Gi ephemeral storage. */
  resources?: Partial<NodeResourceConfig>
  /** Extra labels of node i. */
  labels?: (index: number) => Record<string, string>
  taints?: readonly Taint[]
  /** The hollow runtime's defaults (pods may override them with annotations). */
  startDelayMs?: number
  stopDelayMs?: number
  /**
   * How often each node reports its resource usage (kubectl top, the HPA), which its
   * pods' `hollow.raftplane.io/cpu-usage` / `memory-usage` annotations set
   * (./usage/hollow.ts). Default 15 s; 0: no reports (scale runs: one store write per
   * node per interval).
   */
  usageIntervalMs?: number
  /** How many nodes register at once. Default 50. */
  startConcurrency?: number
  /** Kubelet settings shared by all nodes (lease interval, back-off, events, resync, …). */
  kubelet?: Partial<Omit<KubeletOptions, 'client' | 'nodeName' | 'runtime' | 'readiness' | 'nodeIP' | 'capacity' | 'allocatable' | 'machine' | 'podCIDR'>>
  /** The logger of each node's kubelet. Default: silent. */
  logger?: (nodeName: string) => Logger
}

export interface HollowNode {
  name: string
  index: number
  kubelet: Kubelet
  runtime: HollowRuntime
}

const FIRST_NODE_IP = parseIPv4('172.16.0.1')!
const DEFAULT_RESOURCES: NodeResourceConfig = { cpu: '4', memory: '16Gi', pods: 110, ephemeralStorage: '100Gi' }

export class HollowCluster {
  private readonly clients: NodeApiClient[]
  private readonly byName = new Map<string, HollowNode>()
  private readonly resources: NodeResourceConfig

  private constructor(private readonly o: HollowClusterOptions) {
    if (o.addresses.length === 0) throw new Error('HollowCluster: no master addresses')
    const n = Math.max(1, o.clients ?? o.addresses.length)
    this.clients = Array.from({ length: n }, (_, j) => {
      const k = j % o.addresses.length
      const addresses = [...o.addresses.slice(k), ...o.addresses.slice(0, k)]
      return new NodeApiClient({ addresses, ...(o.credentials === undefined ? {} : { credentials: o.credentials }) })
    })
    this.resources = { ...DEFAULT_RESOURCES, ...o.resources }
  }

  /** Starts `count` hollow nodes and resolves once every one is registered. */
  static async start(o: HollowClusterOptions): Promise<HollowCluster> {
    const cluster = new HollowCluster(o)
    const first = o.firstIndex ?? 0
    const indexes = Array.from({ length: o.count }, (_, i) => first + i)
    try {
      await pool(indexes, o.startConcurrency ?? 50, async (index) => {
        const node = cluster.createNode(index)
        cluster.byName.set(node.name, node)
        node.kubelet.start()
        await node.kubelet.registered
      })
    } catch (err) {
      await cluster.stop()
      throw err
    }
    return cluster
  }

  get nodes(): HollowNode[] {
    return [...this.byName.values()]
  }

  node(name: string): HollowNode {
    const n = this.byName.get(name)
    if (n === undefined) throw new Error(`HollowCluster: no node ${name}`)
    return n
  }

  /** Kills a node's kubelet and runtime, as a crashed node process (its Lease stops being renewed). */
  async stopNode(name: string): Promise<void> {
    const n = this.node(name)
    this.byName.delete(name)
    await n.kubelet.stop()
    await n.runtime.close()
  }

  /**
   * Restarts a node: the kubelet and its hollow runtime are replaced by fresh ones, as
   * a restarted node process; the new kubelet adopts the pods the old one ran.
   */
  async restart(name: string): Promise<HollowNode> {
    const old = this.node(name)
    await old.kubelet.stop()
    await old.runtime.close()
    const fresh = this.createNode(old.index)
    this.byName.set(name, fresh)
    fresh.kubelet.start()
    await fresh.kubelet.registered
    return fresh
  }

  async stop(): Promise<void> {
    const nodes = [...this.byName.values()]
    this.byName.clear()
    await Promise.all(nodes.map(async (n) => {
      await n.kubelet.stop()
      await n.runtime.close()
    }))
    for (const c of this.clients) c.close()
  }

  private createNode(index: number): HollowNode {
    const name = this.o.nodeName?.(index) ?? `${this.o.namePrefix ?? 'hollow-node-'}${index}`
    const runtime = new HollowRuntime({
      ...(this.o.startDelayMs === undefined ? {} : { startDelayMs: this.o.startDelayMs }),
      ...(this.o.stopDelayMs === undefined ? {} : { stopDelayMs: this.o.stopDelayMs }),
    })
    const capacity = nodeCapacity(this.resources)
    const logger = this.o.logger?.(name)
    const kubelet = new Kubelet({
      ...this.o.kubelet,
      client: this.clients[index % this.clients.length]!,
      nodeName: name,
      runtime,
      readiness: runtime.readiness,
      nodeIP: this.o.nodeIP?.(index) ?? formatIPv4(FIRST_NODE_IP + index),
      capacity,
      allocatable: nodeAllocatable(capacity, this.resources),
      machine: hollowFacts(name),
      podCIDR: this.o.podCIDR?.(index) ?? indexedPodCidr(index),
      ...(this.o.labels === undefined ? {} : { labels: { ...this.o.kubelet?.labels, ...this.o.labels(index) } }),
      ...(this.o.taints === undefined ? {} : { taints: this.o.taints }),
      ...(logger === undefined ? {} : { logger }),
      usage: { source: new HollowUsageSource(logger === undefined ? {} : { logger }), intervalMs: this.o.usageIntervalMs ?? DEFAULT_USAGE_INTERVAL_MS },
    })
    return { name, index, kubelet, runtime }
  }
}

/** Runs `fn` over `items`, at most `limit` at a time; rejects with the first failure. */
async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++]!
      await fn(item)
    }
  }
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker))
}
