// What a hollow container does, read from its pod's annotations (documented in
// ./hollow.ts). Pure: the hollow runtime and its readiness stand-in ask this module,
// and tests read the rules here.
import { parseGoDuration } from '../../api/go-duration.js'
import type { Json } from './types.js'

export const HOLLOW_ANNOTATION_PREFIX = 'hollow.raftplane.io/'

export const HOLLOW_ANNOTATIONS = {
  startAfter: 'hollow.raftplane.io/start-after',
  exitAfter: 'hollow.raftplane.io/exit-after',
  exitCode: 'hollow.raftplane.io/exit-code',
  readyAfter: 'hollow.raftplane.io/ready-after',
  stopAfter: 'hollow.raftplane.io/stop-after',
} as const

type Key = keyof typeof HOLLOW_ANNOTATIONS

export interface HollowBehaviour {
  /** From the start request until the container runs. */
  startAfterMs: number
  /** How long each instance runs before it exits by itself; undefined: until stopped. */
  exitAfterMs?: number
  exitCode: number
  /** From running until ready. */
  readyAfterMs: number
  /** How long the container takes to stop once asked (the grace period cuts it short). */
  stopAfterMs: number
}

export interface HollowDefaults {
  startDelayMs: number
  stopDelayMs: number
}

/** An annotation that does not parse: the default is used, and the user hears why. */
export interface BehaviourProblem {
  annotation: string
  value: string
  message: string
}

function annotations(pod: Json): Record<string, unknown> {
  const meta = pod.metadata
  const a = meta !== null && typeof meta === 'object' ? (meta as Json).annotations : undefined
  return a !== null && typeof a === 'object' ? (a as Record<string, unknown>) : {}
}

/**
 * The value for one container: `<annotation>.<container>` wins over `<annotation>`;
 * init containers only read the per-container form (a pod-wide exit code must not
 * fail the pod's initialization).
 */
function lookup(all: Record<string, unknown>, key: Key, container: string, init: boolean): [string, string] | undefined {
  const base = HOLLOW_ANNOTATIONS[key]
  const own = all[`${base}.${container}`]
  if (typeof own === 'string') return [`${base}.${container}`, own]
  if (init) return undefined
  const shared = all[base]
  return typeof shared === 'string' ? [base, shared] : undefined
}

function duration(all: Record<string, unknown>, key: Key, container: string, init: boolean, problems: BehaviourProblem[]): number | undefined {
  const hit = lookup(all, key, container, init)
  if (hit === undefined) return undefined
  try {
    const ms = parseGoDuration(hit[1])
    if (ms < 0) throw new Error('must not be negative')
    return ms
  } catch (err) {
    problems.push({ annotation: hit[0], value: hit[1], message: (err as Error).message })
    return undefined
  }
}

function exitCode(all: Record<string, unknown>, container: string, init: boolean, problems: BehaviourProblem[]): number | undefined {
  const hit = lookup(all, 'exitCode', container, init)
  if (hit === undefined) return undefined
  const n = Number(hit[1])
  if (hit[1].trim() === '' || !Number.isInteger(n) || n < 0 || n > 255) {
    problems.push({ annotation: hit[0], value: hit[1], message: 'not an exit code (0–255)' })
    return undefined
  }
  return n
}

/** The behaviour of container `name` of `pod` (init containers exit 0 at once unless told otherwise). */
export function hollowBehaviour(pod: Json, name: string, init: boolean, defaults: HollowDefaults): { behaviour: HollowBehaviour; problems: BehaviourProblem[] } {
  const all = annotations(pod)
  const problems: BehaviourProblem[] = []
  const behaviour: HollowBehaviour = {
    startAfterMs: duration(all, 'startAfter', name, init, problems) ?? defaults.startDelayMs,
    exitCode: exitCode(all, name, init, problems) ?? 0,
    readyAfterMs: duration(all, 'readyAfter', name, init, problems) ?? 0,
    stopAfterMs: duration(all, 'stopAfter', name, init, problems) ?? defaults.stopDelayMs,
  }
  const exitAfter = duration(all, 'exitAfter', name, init, problems) ?? (init ? 0 : undefined)
  if (exitAfter !== undefined) behaviour.exitAfterMs = exitAfter
  return { behaviour, problems }
}

/** The ready-after delay of a regular container (0 when not annotated or unreadable). */
export function hollowReadyAfterMs(pod: Json, name: string): number {
  return duration(annotations(pod), 'readyAfter', name, false, []) ?? 0
}

/** How a stopped container ends: in time (exit 0), or killed when the grace period ran out (137). */
export function stopOutcome(stopAfterMs: number, gracePeriodMs: number): { delayMs: number; exitCode: number; reason: string } {
  if (stopAfterMs <= gracePeriodMs) return { delayMs: stopAfterMs, exitCode: 0, reason: 'Completed' }
  return { delayMs: gracePeriodMs, exitCode: 137, reason: 'Error' }
}

/** containerd's view of an image reference: `busybox` → `docker.io/library/busybox:latest`. */
export function normalizeImage(image: string): string {
  let ref = image.trim()
  if (ref === '') return ref
  const slash = ref.indexOf('/')
  const first = slash < 0 ? '' : ref.slice(0, slash)
  // Docker's rule: the part before the first slash is a registry when it looks like a host.
  const hasRegistry = first.includes('.') || first.includes(':') || first === 'localhost'
  if (!hasRegistry) ref = `docker.io/${ref}`
  if (ref.startsWith('docker.io/') && !ref.slice('docker.io/'.length).includes('/')) ref = `docker.io/library/${ref.slice('docker.io/'.length)}`
  const lastSlash = ref.lastIndexOf('/')
  const name = ref.slice(lastSlash + 1)
  if (!name.includes(':') && !name.includes('@')) ref = `${ref}:latest`
  return ref
}
