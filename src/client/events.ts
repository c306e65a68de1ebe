// Events as client-go's record package writes them: a component reports `reason` and
// `message` about an object; the recorder writes a core/v1 Event without making the
// caller wait, and folds repeats of the same event (same object, type, reason and
// message within 10 minutes) into one Event whose `count` and `lastTimestamp` grow —
// what `kubectl describe` shows as "x5 over 2m". Writing is best-effort: an event
// that cannot be written (rate limit, lost master, fenced leader) is dropped and
// logged, never thrown at the control loop that reported it.
import { metaTime } from '../api/time.js'
import { randomBytes } from 'node:crypto'
import { findResource } from '../api/resources.js'
import { type Clock, realClock } from './clock.js'
import { errorMessage, type Logger, silentLogger } from './logger.js'
import type { RestClient } from './rest.js'
import { TokenBucket } from './token-bucket.js'
import type { KubeObject } from './types.js'

export type EventType = 'Normal' | 'Warning'

export interface EventRecorderOptions {
  client: RestClient
  /** source.component / reportingComponent: `default-scheduler`, `deployment-controller`. */
  component: string
  /** source.host / reportingInstance. */
  host?: string
  /** Events written per second beyond the burst (client-go's spam filter allows 1/5 min per object after 25). */
  qps?: number
  burst?: number
  clock?: Clock
  logger?: Logger
}

/** Repeats within this window update the same Event (client-go's maxLruCacheEntries / 10 min window). */
const DEDUP_WINDOW_MS = 10 * 60_000
const MAX_TRACKED = 4096

interface Tracked {
  name: string
  namespace: string
  count: number
  firstTimestamp: string
  lastSeen: number
  /** The write in flight for this event, so repeats are applied in order. */
  chain: Promise<void>
}

const EVENTS = findResource('', 'v1', 'events')!

export class EventRecorder {
  private readonly tracked = new Map<string, Tracked>()
  private readonly limiter: TokenBucket
  private readonly clock: Clock
  private readonly logger: Logger
  private readonly pending = new Set<Promise<void>>()

  constructor(private readonly opts: EventRecorderOptions) {
    this.clock = opts.clock ?? realClock
    this.logger = opts.logger ?? silentLogger
    this.limiter = new TokenBucket(opts.qps ?? 50, opts.burst ?? 100, this.clock)
  }

  /** Records an event about `obj`; returns at once. */
  event(obj: KubeObject, type: EventType, reason: string, message: string): void {
    const meta = obj.metadata ?? {}
    const namespace = meta.namespace !== undefined && meta.namespace !== '' ? meta.namespace : 'default'
    const key = [meta.uid ?? '', namespace, meta.name ?? '', type, reason, message].join('\u0000')
    const now = this.clock.now()
    let t = this.tracked.get(key)
    if (t !== undefined && now - t.lastSeen > DEDUP_WINDOW_MS) t = undefined
    const wall = new Date()
    if (t === undefined) {
      if (this.limiter.reserve() > 0) {
        this.logger.debug({ reason, object: `${namespace}/${String(meta.name)}` }, 'event dropped by the rate limit')
        return
      }
      const ts = metaTime(wall)
      t = { name: `${String(meta.name)}.${eventSuffix(wall)}`, namespace, count: 1, firstTimestamp: ts, lastSeen: now, chain: Promise.resolve() }
      this.track(key, t)
      const first = t
      this.enqueue(t, () => this.create(obj, first, type, reason, message, ts))
      return
    }
    t.count++
    t.lastSeen = now
    this.tracked.delete(key)
    this.tracked.set(key, t)
    const count = t.count
    const tracked = t
    this.enqueue(t, () => this.bump(tracked, count, metaTime(wall)))
  }

  /** Resolves when every event reported so far was written or dropped (tests, shutdown). */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending])
  }

  private track(key: string, t: Tracked): void {
    if (this.tracked.size >= MAX_TRACKED) this.tracked.delete(this.tracked.keys().next().value!)
    this.tracked.set(key, t)
  }

  private enqueue(t: Tracked, write: () => Promise<void>): void {
    const p = t.chain.then(write).catch((err: unknown) => {
      this.logger.warn({ err: errorMessage(err), event: `${t.namespace}/${t.name}` }, 'event not written')
    })
    t.chain = p
    this.pending.add(p)
    void p.finally(() => this.pending.delete(p))
  }

  private async create(obj: KubeObject, t: Tracked, type: EventType, reason: string, message: string, ts: string): Promise<void> {
    const meta = obj.metadata ?? {}
    const involved: Record<string, unknown> = { kind: obj.kind, name: meta.name, uid: meta.uid, apiVersion: obj.apiVersion, resourceVersion: meta.resourceVersion }
    if (meta.namespace !== undefined && meta.namespace !== '') involved.namespace = meta.namespace
    const host = this.opts.host
    const event: KubeObject = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: t.name, namespace: t.namespace },
      involvedObject: involved,
      reason,
      message,
      source: host === undefined ? { component: this.opts.component } : { component: this.opts.component, host },
      firstTimestamp: t.firstTimestamp,
      lastTimestamp: ts,
      count: 1,
      type,
      eventTime: null,
      reportingComponent: this.opts.component,
      reportingInstance: host ?? '',
    }
    await this.opts.client.resource(EVENTS, t.namespace).create(event)
  }

  private async bump(t: Tracked, count: number, ts: string): Promise<void> {
    await this.opts.client.resource(EVENTS, t.namespace).patch(t.name, 'merge', { count, lastTimestamp: ts })
  }
}

/** client-go names events `<object>.<unix nanos in hex>`; a random tail keeps two in one ms apart. */
function eventSuffix(d: Date): string {
  const nanos = BigInt(d.getTime()) * 1_000_000n + BigInt(randomBytes(3).readUIntBE(0, 3) % 1_000_000)
  return nanos.toString(16)
}
