// TaintToleration: the filter keeps pods off nodes with a NoSchedule or NoExecute
// taint they do not tolerate (reported with the first such taint, as upstream); the
// score counts the PreferNoSchedule taints a pod does not tolerate, and normalizes in
// reverse so the node with the fewest gets 100.
import type { NodeInfo, PodInfo } from '../framework/node-info.js'
import type { CycleState, FilterPlugin, ScorePlugin, Status } from '../framework/types.js'
import { defaultNormalizeScore } from './helpers/normalize.js'
import { findUntoleratedTaint, type Taint, type Toleration, tolerationsTolerateTaint } from '../../api/taints.js'
import { nodeTaints, podTolerations } from './helpers/taints.js'
import { TAINT_TOLERATION } from './names.js'

export function untoleratedTaintReason(taint: Taint): string {
  return `node(s) had untolerated taint {${taint.key}: ${taint.value}}`
}

export class TaintToleration implements FilterPlugin, ScorePlugin {
  readonly name = TAINT_TOLERATION
  /** One status per distinct reason text, shared by every node with that taint. */
  private readonly statuses = new Map<string, Status>()
  private readonly scoreKey = `${TAINT_TOLERATION}/preScore`

  filter(_state: CycleState, pod: PodInfo, node: NodeInfo): Status | undefined {
    const taints = nodeTaints(node).doNotSchedule
    if (taints.length === 0) return undefined
    const taint = findUntoleratedTaint(taints, podTolerations(pod))
    if (taint === undefined) return undefined
    const reason = untoleratedTaintReason(taint)
    let st = this.statuses.get(reason)
    if (st === undefined) {
      st = { code: 'UnschedulableAndUnresolvable', reasons: [reason], plugin: TAINT_TOLERATION }
      // Bounded: taints are few distinct key/value pairs in any real cluster.
      if (this.statuses.size < 1024) this.statuses.set(reason, st)
    }
    return st
  }

  preScore(state: CycleState, pod: PodInfo): undefined {
    // Tolerations with no effect tolerate every effect, PreferNoSchedule included.
    state.set(
      this.scoreKey,
      podTolerations(pod).filter((t) => t.effect === '' || t.effect === 'PreferNoSchedule'),
    )
    return undefined
  }

  score(state: CycleState, pod: PodInfo, node: NodeInfo): number {
    const taints = nodeTaints(node).preferNoSchedule
    if (taints.length === 0) return 0
    let tolerations = state.get(this.scoreKey) as Toleration[] | undefined
    if (tolerations === undefined) {
      this.preScore(state, pod)
      tolerations = state.get(this.scoreKey) as Toleration[]
    }
    let n = 0
    for (const t of taints) if (!tolerationsTolerateTaint(tolerations, t)) n++
    return n
  }

  normalize(_state: CycleState, _pod: PodInfo, scores: number[]): void {
    defaultNormalizeScore(scores, true)
  }
}
