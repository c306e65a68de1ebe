// NodeUnschedulable (filter): a cordoned node (spec.unschedulable) takes no new pods,
// unless the pod tolerates the node.kubernetes.io/unschedulable:NoSchedule taint
// (DaemonSet pods do). The node controller also adds that taint to a cordoned node;
// this plugin answers from the spec alone, as upstream.
import type { NodeInfo, PodInfo } from '../framework/node-info.js'
import type { CycleState, FilterPlugin, Status } from '../framework/types.js'
import { TAINT_NODE_UNSCHEDULABLE, type Taint, tolerationsTolerateTaint } from '../../api/taints.js'
import { podTolerations } from './helpers/taints.js'
import { NODE_UNSCHEDULABLE } from './names.js'

export const ERR_REASON_UNSCHEDULABLE = 'node(s) were unschedulable'

const UNSCHEDULABLE_TAINT: Taint = { key: TAINT_NODE_UNSCHEDULABLE, value: '', effect: 'NoSchedule' }

export class NodeUnschedulable implements FilterPlugin {
  readonly name = NODE_UNSCHEDULABLE
  private readonly rejected: Status = { code: 'UnschedulableAndUnresolvable', reasons: [ERR_REASON_UNSCHEDULABLE], plugin: NODE_UNSCHEDULABLE }

  filter(_state: CycleState, pod: PodInfo, node: NodeInfo): Status | undefined {
    // Read straight from the spec: this runs for every node and is almost always false.
    if ((node.node.spec as { unschedulable?: unknown } | undefined)?.unschedulable !== true) return undefined
    if (tolerationsTolerateTaint(podTolerations(pod), UNSCHEDULABLE_TAINT)) return undefined
    return this.rejected
  }
}
