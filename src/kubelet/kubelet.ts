// The kubelet of one node: it registers the Node and keeps it alive (./node-sync.ts),
// watches the pods bound to it through the node API — which resumes across masters
// without missing or repeating a change — and gives every pod a worker
// (./pod-worker.ts) that runs it through a container runtime (./runtime/types.ts).
// New pods are admitted in the order they were created, against the pods already
// admitted (./admission.ts). A pod seen for the first time by this kubelet is handed
// to the runtime's recover() first, so a restarted kubelet adopts the pods it ran
// instead of starting them again; hollow pods keep their restartCount and startedAt
// (see ./runtime/hollow.ts).
//
// Wiring (raftplane node, the hollow node harness):
//   const kubelet = new Kubelet({ client, nodeName, runtime, readiness, nodeIP, capacity, allocatable, machine, logger })
//   kubelet.start()            // registration, heartbeats and the pod watch begin
//   await kubelet.registered   // the Node exists
//   await kubelet.synced       // the pods bound to it were listed once
//   await kubelet.stop()       // loops and watch end; what runs keeps running (the runtime is the caller's)
import { parseTaints } from '../api/taints.js'
import type { ResourceList } from '../api/resource-list.js'
import type { Taint } from '../api/taints.js'
import { errorMessage, type KubeObject, type Logger, silentLogger } from '../client/index.js'
import type { NodeApiClient, NodeWatch, NodeWatchEvent } from '../client/node-grpc.js'
import { admitPod, type AdmissionNode, type AdmitResult } from './admission.js'
import { kubeletLogSource } from './container-logs.js'
import { CrashBackoff, type CrashBackoffOptions } from './crash-backoff.js'
import { KubeletEvents } from './events.js'
import type { MachineFacts } from './machine.js'
import { conditionEvents, type NodeDescription, nodeStatus, registrationNode } from './node-status.js'
import { NodeSync } from './node-sync.js'
import { defaultPodCidr, PodIpAllocator } from './pod-ip.js'
import { isTerminalPhase } from './pod-phase.js'
import { PodWorker, type PodWorkerContext } from './pod-worker.js'
import type { LogSource } from './server.js'
import { type ContainerReadiness, type ContainerRuntime, type Json, readyWhenRunning } from './runtime/types.js'
import { DEFAULT_USAGE_INTERVAL_MS, type PodContainers, UsageReporter, type UsageSource } from './usage/index.js'

export interface KubeletOptions {
  /** The node API client (the caller's: stop() does not close it; many kubelets may share one). */
  client: NodeApiClient
  nodeName: string
  runtime: ContainerRuntime
  /** Readiness of running containers; default: ready once running. */
  readiness?: ContainerReadiness
  /** The kubernetes.io/hostname label and Hostname address; default the node name. */
  hostname?: string
  /** The node's InternalIP (pods' hostIP). */
  nodeIP: string
  capacity: ResourceList
  allocatable: ResourceList
  /** The port of the kubelet's server (./server.ts), as the Node reports it. Default 10250. */
  kubeletPort?: number
  /** --node-labels. */
  labels?: Readonly<Record<string, string>>
  /** --register-with-taints. */
  taints?: readonly Taint[]
  machine: MachineFacts
  /** Pod IPs when the Node has no spec.podCIDR; default: a /24 from the node's name (./pod-ip.ts). */
  podCIDR?: string
  /** Default 10 s. */
  leaseRenewIntervalMs?: number
  /** How often the node status is computed (--node-status-update-frequency). Default 10 s. */
  statusUpdateFrequencyMs?: number
  /** The longest time between two node status reports (nodeStatusReportFrequency). Default 5 min. */
  statusReportFrequencyMs?: number
  /** The crash-loop back-off; default 10 s doubling to 5 min. */
  backoff?: CrashBackoffOptions
  /** Every pod is synced at least this often, whatever happens (syncFrequency). Default 60 s. */
  resyncIntervalMs?: number
  /** Resource usage reports (kubectl top, the HPA; ./usage/): what measures it, and how often (default 15 s, 0: off). Absent: none. */
  usage?: { source: UsageSource; intervalMs?: number }
  /** false: record no Events (scale runs). Default true. */
  events?: boolean
  logger?: Logger
  /** Wall clock of status timestamps (tests). */
  now?: () => Date
}

function rec(v: unknown): Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {}
}

function creationOrder(a: KubeObject, b: KubeObject): number {
  const ta = String(a.metadata?.creationTimestamp ?? '')
  const tb = String(b.metadata?.creationTimestamp ?? '')
  return ta < tb ? -1 : ta > tb ? 1 : 0
}

export class Kubelet {
  private readonly log: Logger
  private readonly events: KubeletEvents
  private readonly backoff: CrashBackoff
  private readonly nodeSync: NodeSync
  private readonly workers = new Map<string, PodWorker>()
  private readonly description: NodeDescription
  private readonly readiness: ContainerReadiness
  private readonly now: () => Date
  private node: KubeObject | undefined
  private ipam: PodIpAllocator | undefined
  private watch: NodeWatch | undefined
  private resync: NodeJS.Timeout | undefined
  private readonly usage: UsageReporter | undefined
  private unsubscribe: (() => void) | undefined
  private started = false
  private stopped = false
  private syncedResolve!: () => void
  /** Resolves once the pods bound to the node were listed and handed to workers. */
  readonly synced: Promise<void>

  constructor(private readonly o: KubeletOptions) {
    this.log = o.logger ?? silentLogger
    this.now = o.now ?? (() => new Date())
    this.readiness = o.readiness ?? readyWhenRunning
    this.events = new KubeletEvents({ client: o.client, nodeName: o.nodeName, enabled: o.events ?? true, logger: this.log })
    this.backoff = new CrashBackoff(o.backoff)
    this.description = {
      name: o.nodeName,
      hostname: o.hostname ?? o.nodeName,
      internalIP: o.nodeIP,
      capacity: o.capacity,
      allocatable: o.allocatable,
      machine: o.machine,
      containerRuntimeVersion: o.runtime.version,
      ...(o.labels === undefined ? {} : { labels: o.labels }),
      ...(o.taints === undefined ? {} : { taints: o.taints }),
      ...(o.kubeletPort === undefined ? {} : { kubeletPort: o.kubeletPort }),
    }
    this.synced = new Promise((resolve) => (this.syncedResolve = resolve))
    const usageIntervalMs = o.usage?.intervalMs ?? DEFAULT_USAGE_INTERVAL_MS
    if (o.usage !== undefined && usageIntervalMs > 0) {
      this.usage = new UsageReporter({ client: o.client, nodeName: o.nodeName, source: o.usage.source, pods: () => this.podContainers(), intervalMs: usageIntervalMs, logger: this.log })
    }
    this.nodeSync = new NodeSync({
      client: o.client,
      nodeName: o.nodeName,
      registration: () => registrationNode(this.description, nodeStatus(this.description, [], o.runtime.health(), this.now())),
      status: (previous) => nodeStatus(this.description, previous, o.runtime.health(), this.now()),
      onNode: (node) => (this.node = node),
      onReported: (before, after) => {
        const prev = Array.isArray(before?.conditions) ? (before.conditions as Json[]) : []
        const next = Array.isArray(after.conditions) ? (after.conditions as Json[]) : []
        for (const e of conditionEvents(prev, next)) this.events.node(e.type, e.reason, `Node ${o.nodeName} status is now: ${e.reason}`)
      },
      logger: this.log,
      ...(o.leaseRenewIntervalMs === undefined ? {} : { leaseRenewIntervalMs: o.leaseRenewIntervalMs }),
      ...(o.statusUpdateFrequencyMs === undefined ? {} : { statusUpdateFrequencyMs: o.statusUpdateFrequencyMs }),
      ...(o.statusReportFrequencyMs === undefined ? {} : { statusReportFrequencyMs: o.statusReportFrequencyMs }),
    })
  }

  get nodeName(): string {
    return this.o.nodeName
  }

  /** Resolves once the Node is registered. */
  get registered(): Promise<void> {
    return this.nodeSync.registered
  }

  /** The Node as last stored (after registration and each status report). */
  get nodeObject(): KubeObject | undefined {
    return this.node
  }

  /** The range pod IPs come from (known once registered). */
  get podCIDR(): string | undefined {
    return this.ipam?.cidr
  }

  /** What the kubelet's server answers /containerLogs from: the pods this kubelet runs. */
  logSource(): LogSource {
    return kubeletLogSource((namespace, name) => this.podByName(namespace, name), this.o.runtime)
  }

  private podByName(namespace: string, name: string): KubeObject | undefined {
    let found: KubeObject | undefined
    for (const w of this.workers.values()) {
      const p = w.current
      if (p.metadata?.namespace !== namespace || p.metadata?.name !== name) continue
      // A pod recreated under the same name: the one still running wins over one on its way out.
      if (found === undefined || w.active) found = p
    }
    return found
  }

  /** Pods with a worker now. */
  get podCount(): number {
    return this.workers.size
  }

  start(): void {
    if (this.started) throw new Error('Kubelet: started twice')
    this.started = true
    this.events.node('Normal', 'Starting', 'Starting kubelet.')
    this.unsubscribe = this.o.runtime.subscribe((uid) => this.workers.get(uid)?.kick())
    this.nodeSync.start()
    void this.nodeSync.registered.then(() => {
      this.startPods()
      if (!this.stopped) this.usage?.start()
    })
  }

  /** Stops heartbeats, the watch and the workers; pods are left as they are. */
  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    const heartbeats = this.nodeSync.stop()
    this.watch?.stop()
    if (this.resync !== undefined) clearInterval(this.resync)
    this.unsubscribe?.()
    const usage = this.usage?.stop()
    for (const w of this.workers.values()) w.close()
    this.workers.clear()
    await heartbeats
    await usage
    await this.events.flush()
  }

  /** Reports the node status now if it changed. */
  syncNodeStatus(): Promise<void> {
    return this.nodeSync.syncStatus()
  }

  /** The usage reporter, when usage is reported (tests send a report at once with reportNow()). */
  get usageReporter(): UsageReporter | undefined {
    return this.usage
  }

  // ---- pods ----

  /** Every pod with a worker and what the runtime holds of its containers (the usage source filters the running ones). */
  private podContainers(): PodContainers[] {
    return [...this.workers.values()].map((w) => ({ pod: w.current, containers: this.o.runtime.containers(String(w.current.metadata?.uid ?? '')) }))
  }

  private startPods(): void {
    if (this.stopped) return
    const specCidr = rec(this.node?.spec).podCIDR
    const cidr = typeof specCidr === 'string' && specCidr !== '' ? specCidr : (this.o.podCIDR ?? defaultPodCidr(this.o.nodeName))
    this.ipam = new PodIpAllocator(cidr)
    this.watch = this.o.client.watchPods(this.o.nodeName, {
      onEvent: (ev) => this.onPodEvent(ev),
      onError: (err) => this.log.warn({ err: errorMessage(err) }, 'pod watch failed; resuming'),
    })
    this.resync = setInterval(() => {
      for (const w of this.workers.values()) w.kick()
    }, this.o.resyncIntervalMs ?? 60_000)
  }

  private onPodEvent(ev: NodeWatchEvent): void {
    if (this.stopped) return
    switch (ev.type) {
      case 'RESYNC': {
        const seen = new Set<string>()
        for (const pod of [...ev.items].sort(creationOrder)) {
          seen.add(String(pod.metadata?.uid))
          this.upsert(pod)
        }
        for (const [uid, w] of this.workers) if (!seen.has(uid)) w.remove()
        this.syncedResolve()
        return
      }
      case 'ADDED':
      case 'MODIFIED':
        this.upsert(ev.object)
        return
      case 'DELETED':
        this.workers.get(String(ev.object.metadata?.uid))?.remove()
        return
      case 'BOOKMARK':
        return
    }
  }

  private upsert(pod: KubeObject): void {
    const uid = String(pod.metadata?.uid ?? '')
    if (uid === '') return
    const existing = this.workers.get(uid)
    if (existing !== undefined) {
      existing.update(pod)
      return
    }
    // First sight: whatever still runs of it (a restarted kubelet) is taken back before anything else.
    this.o.runtime.recover(pod)
    const admission = this.admit(pod)
    if (admission !== undefined && !admission.admit) {
      this.log.info({ pod: `${String(pod.metadata?.namespace)}/${String(pod.metadata?.name)}`, reason: admission.reason }, 'pod rejected')
      this.events.pod(pod, 'Warning', admission.reason, admission.message)
    }
    const worker = new PodWorker(this.workerContext(), pod, admission)
    this.workers.set(uid, worker)
    worker.kick()
  }

  /** The admission verdict; undefined for a pod that ended or is being deleted (nothing will be started for it). */
  private admit(pod: KubeObject): AdmitResult | undefined {
    if (typeof pod.metadata?.deletionTimestamp === 'string' || isTerminalPhase(rec(pod.status).phase)) return undefined
    const others = [...this.workers.values()].filter((w) => w.active).map((w) => w.current)
    return admitPod(pod, this.admissionNode(), others)
  }

  private admissionNode(): AdmissionNode {
    const labels = this.node?.metadata?.labels ?? registrationNode(this.description, {}).metadata!.labels!
    return { name: this.o.nodeName, labels, taints: parseTaints(this.node), allocatable: this.o.allocatable }
  }

  private context: PodWorkerContext | undefined

  private workerContext(): PodWorkerContext {
    if (this.context !== undefined) return this.context
    this.context = {
      client: this.o.client,
      runtime: this.o.runtime,
      readiness: this.readiness,
      backoff: this.backoff,
      ipam: this.ipam!,
      hostIP: this.o.nodeIP,
      events: this.events,
      log: this.log,
      now: this.now,
      done: (uid) => this.workers.delete(uid),
    }
    return this.context
  }
}
