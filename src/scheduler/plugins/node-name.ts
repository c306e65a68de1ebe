// NodeName (filter): a pod that names its node (spec.nodeName set before scheduling,
// e.g. by a user who then set schedulerName back) fits only there.
import { rec } from '../../api/json.js'
import type { NodeInfo, PodInfo } from '../framework/node-info.js'
import type { CycleState, FilterPlugin, Status } from '../framework/types.js'
import { NODE_NAME } from './names.js'

export const ERR_REASON_NODE_NAME = "node(s) didn't match the requested node name"

export class NodeName implements FilterPlugin {
  readonly name = NODE_NAME
  private readonly rejected: Status = { code: 'UnschedulableAndUnresolvable', reasons: [ERR_REASON_NODE_NAME], plugin: NODE_NAME }

  preFilter(_state: CycleState, pod: PodInfo): { skip: true } | undefined {
    const want = rec(pod.pod.spec).nodeName
    return typeof want === 'string' && want !== '' ? undefined : { skip: true }
  }

  filter(_state: CycleState, pod: PodInfo, node: NodeInfo): Status | undefined {
    const want = rec(pod.pod.spec).nodeName
    if (typeof want !== 'string' || want === '' || want === node.name) return undefined
    return this.rejected
  }
}
