// Usage of hollow containers (../runtime/hollow.ts), which run nothing: each running
// container uses what its pod's annotations say, constantly, from the moment it runs.
//
//   hollow.raftplane.io/cpu-usage: 250m      CPU of each running container of the pod
//                                            (a quantity: 250m, 0.5, 1); default 1m
//   hollow.raftplane.io/memory-usage: 64Mi   memory working set of each running container
//                                            (a quantity: 64Mi, 100M, 1Gi); default 4Mi
//
// As the other hollow annotations, `<annotation>.<container>` (e.g.
// `hollow.raftplane.io/cpu-usage.sidecar: 10m`) sets one container's value and wins
// over the pod-wide one. A value that does not parse, or is negative, is ignored (the
// default applies) and logged once. Changing the annotation changes the usage from the
// next report on. The node uses the sum of its containers plus a fixed base for the
// system (default 50m CPU, 256Mi memory), counted from the source's creation.
//
// CPU is integrated at each snapshot (core-nanoseconds += rate × time since the last
// one), so the reporter's rate math sees counters just as a real source gives them.
import { QuantityError, tryParseQuantity } from '../../api/quantity.js'
import { type Logger, silentLogger } from '../../client/index.js'
import type { PodContainers, PodUsagePoints, UsageSnapshot, UsageSource } from './types.js'

export const HOLLOW_USAGE_ANNOTATIONS = {
  cpu: 'hollow.raftplane.io/cpu-usage',
  memory: 'hollow.raftplane.io/memory-usage',
} as const

/** Per running container when the pod says nothing. */
export const DEFAULT_HOLLOW_CONTAINER_USAGE = { cpu: '1m', memory: '4Mi' } as const
/** The node's own use on top of its containers. */
export const DEFAULT_HOLLOW_NODE_BASE_USAGE = { cpu: '50m', memory: '256Mi' } as const

export interface HollowUsage {
  cpuNanoCores: number
  memoryBytes: number
}

export interface HollowUsageSourceOptions {
  /** Per running container without annotations. Default DEFAULT_HOLLOW_CONTAINER_USAGE. */
  containerDefault?: { cpu: string; memory: string }
  /** The node's base. Default DEFAULT_HOLLOW_NODE_BASE_USAGE. */
  nodeBase?: { cpu: string; memory: string }
  /** Wall clock, ms (tests). */
  now?: () => number
  logger?: Logger
}

type Json = Record<string, unknown>

function annotationsOf(pod: PodContainers['pod']): Json {
  const a = (pod.metadata as Json | undefined)?.annotations
  return a !== null && typeof a === 'object' ? (a as Json) : {}
}

function fixed(text: string, what: string): HollowUsageQuantity {
  const q = tryParseQuantity(text)
  if (q === undefined || q.sign() < 0) throw new QuantityError(`${what}: not a non-negative quantity: ${JSON.stringify(text)}`)
  return { nanos: q.nanos }
}

interface HollowUsageQuantity {
  /** The quantity in units of 1e-9: nanocores for CPU; for memory, bytes × 1e9. */
  nanos: bigint
}

/** An annotation problem, reported once per pod and key. */
export interface UsageAnnotationProblem {
  pod: string
  annotation: string
  value: string
}

/**
 * The usage of container `name` of `pod` by the rules above; `problems` hears of
 * values that were ignored.
 */
export function hollowContainerUsage(pod: PodContainers['pod'], name: string, defaults: { cpu: string; memory: string } = DEFAULT_HOLLOW_CONTAINER_USAGE, problems?: (p: UsageAnnotationProblem) => void): HollowUsage {
  const all = annotationsOf(pod)
  const read = (base: string, fallback: string): bigint => {
    for (const key of [`${base}.${name}`, base]) {
      const v = all[key]
      if (typeof v !== 'string') continue
      const q = tryParseQuantity(v.trim())
      if (q !== undefined && q.sign() >= 0) return q.nanos
      problems?.({ pod: `${String(pod.metadata?.namespace)}/${String(pod.metadata?.name)}`, annotation: key, value: v })
    }
    return fixed(fallback, base).nanos
  }
  return {
    cpuNanoCores: Number(read(HOLLOW_USAGE_ANNOTATIONS.cpu, defaults.cpu)),
    // Memory in bytes: whole units of the quantity.
    memoryBytes: Math.ceil(Number(read(HOLLOW_USAGE_ANNOTATIONS.memory, defaults.memory)) / 1e9),
  }
}

interface Integrated {
  containerID: string
  startTimeMs: number
  cpu: number
  lastMs: number
}

export class HollowUsageSource implements UsageSource {
  private readonly now: () => number
  private readonly log: Logger
  private readonly defaults: { cpu: string; memory: string }
  private readonly base: HollowUsage
  private readonly startMs: number
  private nodeCpu = 0
  private nodeLastMs: number
  private readonly containers = new Map<string, Integrated>()
  private readonly warned = new Set<string>()

  constructor(o: HollowUsageSourceOptions = {}) {
    this.now = o.now ?? Date.now
    this.log = o.logger ?? silentLogger
    this.defaults = o.containerDefault ?? DEFAULT_HOLLOW_CONTAINER_USAGE
    // Bad defaults are the caller's bug: fail at construction, not at every report.
    fixed(this.defaults.cpu, 'containerDefault.cpu')
    fixed(this.defaults.memory, 'containerDefault.memory')
    const base = o.nodeBase ?? DEFAULT_HOLLOW_NODE_BASE_USAGE
    this.base = { cpuNanoCores: Number(fixed(base.cpu, 'nodeBase.cpu').nanos), memoryBytes: Math.ceil(Number(fixed(base.memory, 'nodeBase.memory').nanos) / 1e9) }
    this.startMs = this.now()
    this.nodeLastMs = this.startMs
  }

  snapshot(pods: readonly PodContainers[]): UsageSnapshot {
    const now = this.now()
    const seen = new Set<string>()
    const out: PodUsagePoints[] = []
    let podCpuAdded = 0
    let podMemory = 0
    for (const { pod, containers } of pods) {
      const uid = String(pod.metadata?.uid ?? '')
      const points: PodUsagePoints['containers'] = []
      for (const record of containers) {
        if (record.state !== 'running' || record.startedAt === undefined) continue
        const usage = hollowContainerUsage(pod, record.name, this.defaults, (p) => this.warn(p))
        const key = `${uid}/${record.name}`
        seen.add(key)
        let st = this.containers.get(key)
        if (st === undefined || st.containerID !== record.containerID) {
          const startTimeMs = Math.min(record.startedAt.getTime(), now)
          st = { containerID: record.containerID, startTimeMs, cpu: 0, lastMs: startTimeMs }
          this.containers.set(key, st)
        }
        st.cpu += (usage.cpuNanoCores * Math.max(0, now - st.lastMs)) / 1000
        // The node counts only time since its own last snapshot (an adopted container's past is not new use).
        podCpuAdded += (usage.cpuNanoCores * Math.max(0, now - Math.max(st.lastMs, this.nodeLastMs))) / 1000
        st.lastMs = now
        podMemory += usage.memoryBytes
        points.push({ name: record.name, startTimeMs: st.startTimeMs, usageCoreNanoSeconds: st.cpu, workingSetBytes: usage.memoryBytes })
      }
      if (points.length > 0) out.push({ namespace: String(pod.metadata?.namespace ?? ''), name: String(pod.metadata?.name ?? ''), uid, containers: points })
    }
    for (const key of [...this.containers.keys()]) if (!seen.has(key)) this.containers.delete(key)
    this.nodeCpu += (this.base.cpuNanoCores * Math.max(0, now - this.nodeLastMs)) / 1000 + podCpuAdded
    this.nodeLastMs = now
    return {
      timestampMs: now,
      node: { startTimeMs: this.startMs, usageCoreNanoSeconds: this.nodeCpu, workingSetBytes: this.base.memoryBytes + podMemory },
      pods: out,
    }
  }

  private warn(p: UsageAnnotationProblem): void {
    const k = `${p.pod}/${p.annotation}`
    if (this.warned.has(k)) return
    this.warned.add(k)
    this.log.warn({ pod: p.pod, annotation: p.annotation, value: p.value }, 'hollow usage annotation ignored: not a non-negative quantity')
  }
}
