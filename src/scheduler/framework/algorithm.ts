// One scheduling attempt for one pod (kube-scheduler's schedulePod): PreFilter once,
// Filter node by node from where the last attempt stopped until enough feasible nodes
// are found (percentageOfNodesToScore), then PreScore, Score, NormalizeScore, weights,
// and the highest total wins, ties broken at random (reservoir sampling, so every tied
// node is equally likely). Pure: the snapshot and the pod are read, never changed; the
// only state kept between attempts is the rotating start index.
//
// Hot path: this runs for every pod against up to thousands of nodes, so Filter and
// Score are plain loops; plugins parse the pod once (PreFilter/PreScore, or caches
// keyed by PodInfo) and success allocates nothing per node.
import { FitError, newDiagnosis, NoNodesAvailableError, preemptionMessage, SchedulingError, type Diagnosis } from './fit-error.js'
import type { NodeInfo, PodInfo } from './node-info.js'
import { type CycleState, type FilterPlugin, MAX_NODE_SCORE, type Profile, type Snapshot, type Status, statusMessage, type WeightedScorePlugin } from './types.js'

/** At least this many nodes are examined for feasibility, whatever the percentage (upstream's minFeasibleNodesToFind). */
export const MIN_FEASIBLE_NODES_TO_FIND = 100
/** The adaptive percentage never goes below this (upstream's minFeasibleNodesPercentageToFind). */
export const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5

/**
 * How many feasible nodes to find before scoring (upstream's numFeasibleNodesToFind):
 * every node below 100 nodes; otherwise `percentage` of them (0: adaptive,
 * 50 − nodes/125, at least 5), never fewer than 100.
 */
export function numFeasibleNodesToFind(percentageOfNodesToScore: number, numAllNodes: number): number {
  if (numAllNodes < MIN_FEASIBLE_NODES_TO_FIND) return numAllNodes
  let pct = percentageOfNodesToScore
  if (pct === 0) {
    pct = 50 - Math.trunc(numAllNodes / 125)
    if (pct < MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND) pct = MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND
  }
  const n = Math.trunc((numAllNodes * pct) / 100)
  return n < MIN_FEASIBLE_NODES_TO_FIND ? MIN_FEASIBLE_NODES_TO_FIND : n
}

/** Where the next attempt starts examining nodes, so every node gets its turn (upstream's nextStartNodeIndex). */
export interface NodeCursor {
  nextStartNodeIndex: number
}

export interface ScheduleOptions {
  /** Uniform in [0, 1): breaks ties between equally scored nodes. Default Math.random. */
  rng?: () => number
  /** Default: one cursor per Profile object, kept across calls. */
  cursor?: NodeCursor
}

export interface ScheduleSuccess {
  ok: true
  nodeName: string
  /** Nodes filtered in this attempt (feasible + rejected). */
  evaluatedNodes: number
  feasibleNodes: number
  /** The cycle's state: Reserve and PreBind read what PreFilter and Filter left in it for the chosen node. */
  state: CycleState
}

export interface ScheduleFailure {
  ok: false
  error: FitError | NoNodesAvailableError
  /** The PodScheduled condition's message (error.message). */
  message: string
  /** Plugins that rejected the pod, sorted (the queue's hints key on them); empty for "no nodes". */
  failedPlugins: string[]
  diagnosis: Diagnosis
}

export type ScheduleResult = ScheduleSuccess | ScheduleFailure

const cursors = new WeakMap<Profile, NodeCursor>()

function cursorFor(profile: Profile): NodeCursor {
  let c = cursors.get(profile)
  if (c === undefined) cursors.set(profile, (c = { nextStartNodeIndex: 0 }))
  return c
}

function isSkip(r: object): r is { skip: true } {
  return (r as { skip?: unknown }).skip === true
}

function isPreFilterResult(r: object): r is { nodeNames: ReadonlySet<string> } {
  return (r as { nodeNames?: unknown }).nodeNames instanceof Set
}

function failure(pod: PodInfo, numAllNodes: number, diagnosis: Diagnosis): ScheduleFailure {
  diagnosis.postFilterMsg = preemptionMessage(pod, numAllNodes)
  const error = new FitError(pod, numAllNodes, diagnosis)
  return { ok: false, error, message: error.message, failedPlugins: [...diagnosis.unschedulablePlugins].sort(), diagnosis }
}

/**
 * Picks a node for `pod`, or says why none fits. Throws SchedulingError when a plugin
 * answers Error (the attempt failed; retry with back-off).
 */
export function schedulePod(profile: Profile, snapshot: Snapshot, pod: PodInfo, opts: ScheduleOptions = {}): ScheduleResult {
  const allNodes = snapshot.nodes
  const diagnosis = newDiagnosis()
  if (allNodes.length === 0) {
    const error = new NoNodesAvailableError()
    return { ok: false, error, message: error.message, failedPlugins: [], diagnosis }
  }
  const state: CycleState = new Map()

  // PreFilter: an unresolvable answer ends it at once; an unschedulable one is kept
  // while the others still run (upstream does so for preemption's sake).
  const filters: FilterPlugin[] = []
  let rejection: Status | undefined
  let nodeNames: Set<string> | undefined
  const pluginsWithNodes: string[] = []
  for (const pl of profile.filters) {
    const r = pl.preFilter?.(state, pod, snapshot)
    if (r === undefined) {
      filters.push(pl)
      continue
    }
    if (isSkip(r)) continue
    if (isPreFilterResult(r)) {
      filters.push(pl)
      pluginsWithNodes.push(pl.name)
      nodeNames = nodeNames === undefined ? new Set(r.nodeNames) : new Set([...nodeNames].filter((n) => r.nodeNames.has(n)))
      if (nodeNames.size === 0) {
        const msg = pluginsWithNodes.length === 1 ? `node(s) didn't satisfy plugin ${pluginsWithNodes[0]}` : `node(s) didn't satisfy plugin(s) [${pluginsWithNodes.join(' ')}] simultaneously`
        rejection = { code: 'UnschedulableAndUnresolvable', reasons: [msg] }
        break
      }
      continue
    }
    const st = r as Status
    if (st.code === 'Success') {
      filters.push(pl)
      continue
    }
    const status: Status = { ...st, plugin: st.plugin ?? pl.name }
    if (status.code === 'Error') throw new SchedulingError(`running PreFilter plugin "${pl.name}": ${statusMessage(status)}`, pl.name)
    rejection = status
    if (status.code === 'UnschedulableAndUnresolvable') break
  }
  for (const p of pluginsWithNodes) diagnosis.unschedulablePlugins.add(p)
  if (rejection !== undefined) {
    diagnosis.absentNodesStatus = rejection
    diagnosis.preFilterMsg = statusMessage(rejection)
    if (rejection.plugin !== undefined) diagnosis.unschedulablePlugins.add(rejection.plugin)
    return failure(pod, allNodes.length, diagnosis)
  }

  let nodes: readonly NodeInfo[] = allNodes
  if (nodeNames !== undefined) {
    const narrowed: NodeInfo[] = []
    for (const name of nodeNames) {
      const n = snapshot.get(name)
      if (n !== undefined) narrowed.push(n)
    }
    nodes = narrowed
    diagnosis.absentNodesStatus = { code: 'UnschedulableAndUnresolvable', reasons: [`node(s) didn't satisfy plugin(s) [${[...pluginsWithNodes].sort().join(' ')}]`] }
  }

  const feasible = findNodesThatPassFilters(profile, filters, state, pod, nodes, allNodes.length, diagnosis, opts.cursor ?? cursorFor(profile))
  if (feasible.length === 0) return failure(pod, allNodes.length, diagnosis)
  const evaluatedNodes = feasible.length + diagnosis.nodeToStatus.size
  if (feasible.length === 1) return { ok: true, nodeName: feasible[0].name, evaluatedNodes, feasibleNodes: 1, state }

  const totals = prioritizeNodes(profile.scores, state, pod, feasible, snapshot)
  const best = selectHost(totals, opts.rng ?? Math.random)
  return { ok: true, nodeName: feasible[best].name, evaluatedNodes, feasibleNodes: feasible.length, state }
}

function findNodesThatPassFilters(
  profile: Profile,
  filters: readonly FilterPlugin[],
  state: CycleState,
  pod: PodInfo,
  nodes: readonly NodeInfo[],
  numAllNodes: number,
  diagnosis: Diagnosis,
  cursor: NodeCursor,
): NodeInfo[] {
  const n = nodes.length
  const feasible: NodeInfo[] = []
  if (n === 0) return feasible
  // Without scoring, any feasible node will do.
  const toFind = profile.scores.length === 0 ? 1 : numFeasibleNodesToFind(profile.percentageOfNodesToScore, n)
  const start = cursor.nextStartNodeIndex % n
  const statuses = diagnosis.nodeToStatus
  const failed = diagnosis.unschedulablePlugins
  const numFilters = filters.length
  let processed = 0
  for (let i = 0; i < n && feasible.length < toFind; i++) {
    let idx = start + i
    if (idx >= n) idx -= n
    const node = nodes[idx]
    processed++
    let rejected: Status | undefined
    for (let f = 0; f < numFilters; f++) {
      const pl = filters[f]
      const st = pl.filter(state, pod, node)
      if (st !== undefined && st.code !== 'Success') {
        if (st.code === 'Error') throw new SchedulingError(`running "${pl.name}" filter plugin: ${statusMessage(st)}`, pl.name)
        if (st.plugin === undefined) st.plugin = pl.name
        rejected = st
        break
      }
    }
    if (rejected === undefined) feasible.push(node)
    else {
      statuses.set(node.name, rejected)
      failed.add(rejected.plugin!)
    }
  }
  cursor.nextStartNodeIndex = (cursor.nextStartNodeIndex + processed) % numAllNodes
  return feasible
}

/** Each node's weighted sum of normalized plugin scores. */
export function prioritizeNodes(scorePlugins: readonly WeightedScorePlugin[], state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[], snapshot: Snapshot): number[] {
  const n = nodes.length
  const totals = new Array<number>(n).fill(0)
  for (const { plugin, weight } of scorePlugins) {
    if (plugin.preScore !== undefined) {
      const r = plugin.preScore(state, pod, nodes, snapshot)
      if (r !== undefined && r.skip) continue
    }
    const scores = new Array<number>(n)
    for (let i = 0; i < n; i++) scores[i] = plugin.score(state, pod, nodes[i])
    plugin.normalize?.(state, pod, scores)
    for (let i = 0; i < n; i++) {
      const s = scores[i]
      if (!(s >= 0 && s <= MAX_NODE_SCORE)) {
        throw new SchedulingError(`plugin "${plugin.name}" returns an invalid score ${s}, it should in the range of [0, ${MAX_NODE_SCORE}] after normalizing`, plugin.name)
      }
      totals[i] += s * weight
    }
  }
  return totals
}

/** The index of the highest total; among equal totals each is chosen with equal probability. */
export function selectHost(totals: readonly number[], rng: () => number): number {
  let best = 0
  let max = totals[0]
  let ties = 1
  for (let i = 1; i < totals.length; i++) {
    const s = totals[i]
    if (s > max) {
      max = s
      best = i
      ties = 1
    } else if (s === max) {
      ties++
      if (Math.floor(rng() * ties) === 0) best = i
    }
  }
  return best
}
