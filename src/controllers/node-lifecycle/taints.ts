// The taints the node lifecycle controller owns, as pure set work over spec.taints:
// the NoSchedule taints a node's conditions call for (upstream TaintNodesByCondition),
// the NoExecute not-ready/unreachable pair that drives evictions, and the add/remove
// arithmetic (taints are the same when key and effect match, as core/v1's MatchTaint).
// Matching taints against tolerations is core/v1's, in src/api/taints.ts.
import { parseTaints, type Taint, TAINT_NODE_NOT_READY, TAINT_NODE_UNREACHABLE, TAINT_NODE_UNSCHEDULABLE } from '../../api/taints.js'
import { metaTime } from '../../api/time.js'
import type { KubeObject } from '../../client/index.js'
import { nodeConditions } from './conditions.js'

export const TAINT_NODE_MEMORY_PRESSURE = 'node.kubernetes.io/memory-pressure'
export const TAINT_NODE_DISK_PRESSURE = 'node.kubernetes.io/disk-pressure'
export const TAINT_NODE_PID_PRESSURE = 'node.kubernetes.io/pid-pressure'
export const TAINT_NODE_NETWORK_UNAVAILABLE = 'node.kubernetes.io/network-unavailable'

export const UNREACHABLE_NO_EXECUTE: Taint = { key: TAINT_NODE_UNREACHABLE, value: '', effect: 'NoExecute' }
export const NOT_READY_NO_EXECUTE: Taint = { key: TAINT_NODE_NOT_READY, value: '', effect: 'NoExecute' }

/** Which condition status calls for which taint key. */
const CONDITION_TAINTS: Record<string, Record<string, string>> = {
  Ready: { False: TAINT_NODE_NOT_READY, Unknown: TAINT_NODE_UNREACHABLE },
  MemoryPressure: { True: TAINT_NODE_MEMORY_PRESSURE },
  DiskPressure: { True: TAINT_NODE_DISK_PRESSURE },
  NetworkUnavailable: { True: TAINT_NODE_NETWORK_UNAVAILABLE },
  PIDPressure: { True: TAINT_NODE_PID_PRESSURE },
}

const CONDITION_TAINT_KEYS = new Set(Object.values(CONDITION_TAINTS).flatMap((m) => Object.values(m)))

export function matchTaint(a: Taint, b: Taint): boolean {
  return a.key === b.key && a.effect === b.effect
}

export function taintExists(taints: readonly Taint[], t: Taint): boolean {
  return taints.some((x) => matchTaint(x, t))
}

/** The NoSchedule taints the node's conditions and spec.unschedulable call for, in condition order. */
export function wantedNoScheduleTaints(node: KubeObject): Taint[] {
  const out: Taint[] = []
  for (const c of nodeConditions(node)) {
    const key = CONDITION_TAINTS[c.type]?.[c.status]
    if (key !== undefined) out.push({ key, value: '', effect: 'NoSchedule' })
  }
  if ((node.spec as { unschedulable?: unknown } | undefined)?.unschedulable === true) {
    out.push({ key: TAINT_NODE_UNSCHEDULABLE, value: '', effect: 'NoSchedule' })
  }
  return out
}

/** The node's NoSchedule taints this controller manages (the others belong to users). */
export function managedNoScheduleTaints(taints: readonly Taint[]): Taint[] {
  return taints.filter((t) => t.effect === 'NoSchedule' && (t.key === TAINT_NODE_UNSCHEDULABLE || CONDITION_TAINT_KEYS.has(t.key)))
}

/** What to add to `have` and remove from it so it equals `want` (by key and effect). */
export function taintSetDiff(want: readonly Taint[], have: readonly Taint[]): { add: Taint[]; remove: Taint[] } {
  return {
    add: want.filter((t) => !taintExists(have, t)),
    remove: have.filter((t) => !taintExists(want, t)),
  }
}

/**
 * `current` with `add` added (a taint matching one there replaces it, unless it has
 * the same value: then the one there stays, keeping its timeAdded) and `remove`
 * removed; undefined when nothing changes. One write swaps not-ready for unreachable,
 * so the node never shows both or neither.
 */
export function applyTaintChanges(current: readonly Taint[], add: readonly Taint[], remove: readonly Taint[]): Taint[] | undefined {
  let changed = false
  const next = [...current]
  for (const t of add) {
    const i = next.findIndex((x) => matchTaint(x, t))
    if (i < 0) {
      next.push(t)
      changed = true
    } else if (next[i]!.value !== t.value) {
      next[i] = t
      changed = true
    }
  }
  const kept = next.filter((x) => !remove.some((r) => matchTaint(r, x)) || add.some((a) => matchTaint(a, x)))
  if (kept.length !== next.length) changed = true
  return changed ? kept : undefined
}

/** A taint the way the API writes it (value omitted when empty, timeAdded only when set). */
export function taintJson(t: Taint): Record<string, string> {
  const out: Record<string, string> = { key: t.key }
  if (t.value !== '') out.value = t.value
  out.effect = t.effect
  if (t.timeAdded !== undefined) out.timeAdded = t.timeAdded
  return out
}

/** A NoExecute taint stamped with the moment it is added, as upstream's SwapNodeControllerTaint. */
export function stamped(t: Taint, nowMs: number): Taint {
  return { ...t, timeAdded: metaTime(new Date(nowMs)) }
}

export function nodeTaints(node: KubeObject): Taint[] {
  return parseTaints(node)
}

/** NoExecute taints only: the ones that evict. */
export function noExecuteTaints(taints: readonly Taint[]): Taint[] {
  return taints.filter((t) => t.effect === 'NoExecute')
}
