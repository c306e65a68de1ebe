// The kubelet's Events (source.component "kubelet", source.host the node), written
// through the node API's CreateEvent without making the caller wait, and dropped
// (logged) when they cannot be written: an Event is never worth stalling a pod for.
// Pod events carry the container's fieldPath (`spec.containers{web}`), node events
// the node as involvedObject with its name as uid, as upstream's nodeRef does.
//
// The node API can create Events but not update them, so client-go's folding of a
// repeated event into one Event with a growing `count` is out of reach: a repeat of
// the same event (object, type, reason, message) within 10 minutes is not written
// again. Writes are rate-limited as the kubelet's --event-qps/--event-burst (50/100).
import { randomBytes } from 'node:crypto'
import { metaTime } from '../api/time.js'
import { errorMessage, type KubeObject, type Logger, silentLogger, TokenBucket } from '../client/index.js'
import type { NodeApiClient } from '../client/node-grpc.js'

export type EventType = 'Normal' | 'Warning'

export interface KubeletEventsOptions {
  client: NodeApiClient
  nodeName: string
  /** false: record nothing (scale runs). Default true. */
  enabled?: boolean
  qps?: number
  burst?: number
  logger?: Logger
}

const REPEAT_WINDOW_MS = 10 * 60_000
const MAX_TRACKED = 2048

export class KubeletEvents {
  private readonly limiter: TokenBucket
  private readonly seen = new Map<string, number>()
  private readonly pending = new Set<Promise<void>>()
  private readonly log: Logger
  private readonly enabled: boolean

  constructor(private readonly o: KubeletEventsOptions) {
    this.limiter = new TokenBucket(o.qps ?? 50, o.burst ?? 100)
    this.log = o.logger ?? silentLogger
    this.enabled = o.enabled ?? true
  }

  /** An event about a pod, or about one of its containers when `container` is given. */
  pod(pod: KubeObject, type: EventType, reason: string, message: string, container?: { name: string; init: boolean }): void {
    const meta = pod.metadata ?? {}
    const involved: Record<string, unknown> = {
      kind: 'Pod',
      namespace: meta.namespace,
      name: meta.name,
      uid: meta.uid,
      apiVersion: 'v1',
      resourceVersion: meta.resourceVersion,
    }
    if (container !== undefined) involved.fieldPath = `spec.${container.init ? 'initContainers' : 'containers'}{${container.name}}`
    this.record(String(meta.namespace ?? 'default'), String(meta.name ?? ''), involved, type, reason, message)
  }

  /** An event about this node. */
  node(type: EventType, reason: string, message: string): void {
    const name = this.o.nodeName
    this.record('default', name, { kind: 'Node', name, uid: name }, type, reason, message)
  }

  /** Resolves once every event recorded so far was written or dropped. */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending])
  }

  private record(namespace: string, objectName: string, involved: Record<string, unknown>, type: EventType, reason: string, message: string): void {
    if (!this.enabled) return
    const now = Date.now()
    const key = [involved.uid, involved.fieldPath ?? '', type, reason, message].join('\u0000')
    const last = this.seen.get(key)
    if (last !== undefined && now - last < REPEAT_WINDOW_MS) return
    if (this.limiter.reserve() > 0) {
      this.log.debug({ reason, object: `${namespace}/${objectName}` }, 'event dropped by the rate limit')
      return
    }
    this.seen.delete(key)
    this.seen.set(key, now)
    if (this.seen.size > MAX_TRACKED) this.seen.delete(this.seen.keys().next().value!)
    const wall = new Date(now)
    const ts = metaTime(wall)
    const event: KubeObject = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${objectName}.${eventSuffix(wall)}`, namespace },
      involvedObject: involved,
      reason,
      message,
      source: { component: 'kubelet', host: this.o.nodeName },
      firstTimestamp: ts,
      lastTimestamp: ts,
      count: 1,
      type,
      eventTime: null,
      reportingComponent: 'kubelet',
      reportingInstance: this.o.nodeName,
    }
    const p = this.o.client.createEvent(event).then(
      () => undefined,
      (err: unknown) => this.log.warn({ err: errorMessage(err), reason, object: `${namespace}/${objectName}` }, 'event not written'),
    )
    this.pending.add(p)
    void p.finally(() => this.pending.delete(p))
  }
}

/** client-go names events `<object>.<unix nanos in hex>`; a random tail keeps two in one ms apart. */
function eventSuffix(d: Date): string {
  const nanos = BigInt(d.getTime()) * 1_000_000n + BigInt(randomBytes(3).readUIntBE(0, 3) % 1_000_000)
  return nanos.toString(16)
}
