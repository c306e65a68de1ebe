// Why a pod fits nowhere, in upstream's words: the Diagnosis (each rejected node's
// Status, the plugins that rejected, a PreFilter rejection) and FitError, whose
// message is what users read in the PodScheduled condition and FailedScheduling
// events: "0/5 nodes are available: 3 Insufficient cpu, 2 node(s) had untolerated
// taint {dedicated: gpu}. preemption: 0/5 nodes are available: 5 Preemption is not
// helpful for scheduling." Each reason is counted once per node that gave it and the
// "N reason" strings are sorted as strings, exactly as kube-scheduler does.
import type { PodInfo } from './node-info.js'
import type { Status } from './types.js'

export interface Diagnosis {
  /** The Status of every node a Filter rejected, by node name (statuses may be shared between nodes: do not mutate). */
  readonly nodeToStatus: Map<string, Status>
  /** The status of nodes not in nodeToStatus (after a PreFilter rejection or a PreFilterResult); undefined: none. */
  absentNodesStatus: Status | undefined
  /** Plugins that rejected the pod somewhere: the queue wakes it only for events that may help one of them. */
  readonly unschedulablePlugins: Set<string>
  /** The PreFilter rejection's message; when set, the per-node reasons are not listed. */
  preFilterMsg: string
  /** What the PostFilter (preemption) said, "preemption: …". */
  postFilterMsg: string
}

export function newDiagnosis(): Diagnosis {
  return { nodeToStatus: new Map(), absentNodesStatus: undefined, unschedulablePlugins: new Set(), preFilterMsg: '', postFilterMsg: '' }
}

/** "N reason" for every reason, sorted as strings (so "10 …" sorts before "2 …", as upstream). */
export function reasonHistogram(numAllNodes: number, d: Diagnosis): string[] {
  const counts = new Map<string, number>()
  for (const st of d.nodeToStatus.values()) for (const r of st.reasons) counts.set(r, (counts.get(r) ?? 0) + 1)
  const absent = numAllNodes - d.nodeToStatus.size
  if (absent > 0 && d.absentNodesStatus !== undefined) for (const r of d.absentNodesStatus.reasons) counts.set(r, (counts.get(r) ?? 0) + absent)
  const out: string[] = []
  for (const [r, n] of counts) out.push(`${n} ${r}`)
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
}

export function fitErrorMessage(numAllNodes: number, d: Diagnosis): string {
  let msg = `0/${numAllNodes} nodes are available:`
  if (d.preFilterMsg !== '') msg += ` ${d.preFilterMsg}.`
  else {
    const reasons = reasonHistogram(numAllNodes, d)
    if (reasons.length > 0) msg += ` ${reasons.join(', ')}.`
  }
  if (d.postFilterMsg !== '') msg += ` ${d.postFilterMsg}`
  return msg
}

/**
 * What the PostFilter says when it cannot help. We do not preempt: every node is
 * reported as "Preemption is not helpful for scheduling", and a pod with
 * preemptionPolicy Never as not eligible, as upstream's DefaultPreemption words it.
 */
export function preemptionMessage(pod: PodInfo, numAllNodes: number): string {
  const policy = (pod.pod.spec as Record<string, unknown> | undefined)?.preemptionPolicy
  if (policy === 'Never') return 'preemption: not eligible due to preemptionPolicy=Never.'
  return `preemption: 0/${numAllNodes} nodes are available: ${numAllNodes} Preemption is not helpful for scheduling.`
}

export class FitError extends Error {
  constructor(
    readonly pod: PodInfo,
    readonly numAllNodes: number,
    readonly diagnosis: Diagnosis,
  ) {
    super(fitErrorMessage(numAllNodes, diagnosis))
    this.name = 'FitError'
  }
}

/** The snapshot has no node at all (upstream's ErrNoNodesAvailable). */
export class NoNodesAvailableError extends Error {
  constructor() {
    super('no nodes available to schedule pods')
    this.name = 'NoNodesAvailableError'
  }
}

/** A plugin answered Error: the attempt failed and the pod is retried with back-off. */
export class SchedulingError extends Error {
  constructor(
    message: string,
    readonly plugin: string,
  ) {
    super(message)
    this.name = 'SchedulingError'
  }
}
