// A kubelet stand-in for the node lifecycle tests: it registers a Node, posts its
// Ready condition, and renews its Lease in kube-node-lease until told to fall silent;
// plus pods bound straight to a node (no scheduler) and readers for what the
// controllers wrote.
/* eslint-disable @typescript-eslint/no-explicit-any -- objects are read by path in assertions */
import { metaTime } from '../../../src/api/time.js'
import { isConflict, type KubeObject, type RestClient } from '../../../src/client/index.js'
import { nodeLifecycleControllerFactory } from '../../../src/controllers/node-lifecycle/controller.js'
import { taintEvictionController } from '../../../src/controllers/node-lifecycle/taint-eviction.js'
import { EVENTS, eventually, LEASES, NODES, PODS } from '../helpers.js'

export const NS = 'default'

/** Durations shrunk so a node goes silent in seconds, not a minute; one taint a second per zone instead of one per 10 s. */
export const fastControllers = {
  nodelifecycle: nodeLifecycleControllerFactory({ nodeMonitorPeriodMs: 200, nodeMonitorGracePeriodMs: 3_000, nodeStartupGracePeriodMs: 3_000, nodeEvictionRate: 1 }),
  'taint-eviction-controller': taintEvictionController,
}

function microTime(d = new Date()): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z')
}

/** What a kubelet does for its node: status and Lease heartbeats. */
export class FakeKubelet {
  private timer: NodeJS.Timeout | undefined

  constructor(
    private readonly client: RestClient,
    readonly name: string,
    private readonly labels: Record<string, string> = {},
  ) {}

  async register(): Promise<void> {
    await this.client.resource(NODES).create({ apiVersion: 'v1', kind: 'Node', metadata: { name: this.name, labels: { 'kubernetes.io/hostname': this.name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', ...this.labels } }, spec: {} })
    await this.postStatus('True')
    await this.client.resource(LEASES, 'kube-node-lease').create({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.name },
      spec: { holderIdentity: this.name, leaseDurationSeconds: 40, renewTime: microTime() },
    })
  }

  /** Posts the kubelet's conditions: Ready as given, no pressure (or the pressures named). */
  async postStatus(ready: 'True' | 'False', pressure: string[] = []): Promise<void> {
    // The controllers patch the node's taints meanwhile: a conflict means read again.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.tryPostStatus(ready, pressure)
      } catch (err) {
        if (!isConflict(err) || attempt >= 10) throw err
      }
    }
  }

  private async tryPostStatus(ready: 'True' | 'False', pressure: string[]): Promise<void> {
    const now = metaTime()
    const node = await this.client.resource(NODES).get(this.name)
    const old = ((node.status as any)?.conditions ?? []) as any[]
    const cond = (type: string, status: string, reason: string): Record<string, string> => {
      const prev = old.find((c) => c.type === type)
      return { type, status, reason, message: reason, lastHeartbeatTime: now, lastTransitionTime: prev?.status === status ? prev.lastTransitionTime : now }
    }
    const conditions = [
      cond('MemoryPressure', pressure.includes('MemoryPressure') ? 'True' : 'False', 'KubeletHasSufficientMemory'),
      cond('DiskPressure', pressure.includes('DiskPressure') ? 'True' : 'False', 'KubeletHasNoDiskPressure'),
      cond('PIDPressure', pressure.includes('PIDPressure') ? 'True' : 'False', 'KubeletHasSufficientPID'),
      cond('Ready', ready, ready === 'True' ? 'KubeletReady' : 'KubeletNotReady'),
    ]
    await this.client.resource(NODES).updateStatus({ ...node, status: { ...(node.status as object), conditions } })
  }

  async renew(): Promise<void> {
    const leases = this.client.resource(LEASES, 'kube-node-lease')
    const lease = await leases.get(this.name)
    await leases.update({ ...lease, spec: { ...(lease.spec as object), renewTime: microTime() } })
  }

  /** Renews the Lease every `everyMs` until stopped. */
  heartbeat(everyMs = 250): void {
    this.stop()
    this.timer = setInterval(() => void this.renew().catch(() => undefined), everyMs)
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
  }
}

/** A pod already bound to `node`, Running and Ready as its kubelet would report. */
export async function runningPod(client: RestClient, name: string, node: string, tolerations: unknown[] = []): Promise<KubeObject> {
  const pods = client.resource(PODS, NS)
  const created = await pods.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { nodeName: node, tolerations, containers: [{ name: 'main', image: 'nginx' }] } })
  const now = metaTime()
  return pods.updateStatus({
    ...created,
    status: {
      phase: 'Running',
      conditions: [
        { type: 'Initialized', status: 'True', lastTransitionTime: now },
        { type: 'Ready', status: 'True', lastTransitionTime: now },
        { type: 'ContainersReady', status: 'True', lastTransitionTime: now },
      ],
    },
  })
}

export async function getNode(client: RestClient, name: string): Promise<any> {
  return client.resource(NODES).get(name)
}

export async function getPod(client: RestClient, name: string): Promise<any> {
  return client.resource(PODS, NS).get(name)
}

export function condition(obj: any, type: string): any {
  return ((obj.status?.conditions ?? []) as any[]).find((c) => c.type === type)
}

/** The node's taints as `key:effect` strings, sorted. */
export function taintNames(node: any): string[] {
  return ((node.spec?.taints ?? []) as any[]).map((t) => `${t.key}:${t.effect}`).sort()
}

export function taint(node: any, key: string, effect: string): any {
  return ((node.spec?.taints ?? []) as any[]).find((t) => t.key === key && t.effect === effect)
}

/** Waits until the node's taints are exactly `want` (as `key:effect`). */
export async function waitTaints(client: RestClient, node: string, want: string[]): Promise<any> {
  const sorted = [...want].sort()
  return eventually(`${node} tainted ${sorted.join(', ') || '(nothing)'}`, async () => {
    const n = await getNode(client, node)
    return taintNames(n).join(',') === sorted.join(',') ? n : undefined
  })
}

/** Waits until the pod is marked for deletion. */
export async function waitDeleting(client: RestClient, name: string): Promise<any> {
  return eventually(`pod ${name} marked for deletion`, async () => {
    const p = await getPod(client, name)
    return p.metadata.deletionTimestamp !== undefined ? p : undefined
  })
}

/** Events about one object, by reason. */
export async function eventsFor(client: RestClient, name: string, reason: string): Promise<any[]> {
  const list = await client.resource(EVENTS, NS).list()
  return (list.items as any[]).filter((e) => e.involvedObject?.name === name && e.reason === reason)
}
