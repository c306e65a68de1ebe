// NodePorts (filter): a pod asking for a host port fits only where no pod holds the
// same protocol and port on the same host IP. 0.0.0.0 stands for every IP, so it
// conflicts with any use of that protocol/port, and any IP conflicts with 0.0.0.0.
import type { HostPort, NodeInfo, PodInfo } from '../framework/node-info.js'
import type { CycleState, FilterPlugin, Status } from '../framework/types.js'
import { NODE_PORTS } from './names.js'

export const ERR_REASON_PORTS = "node(s) didn't have free ports for the requested pod ports"

export const BIND_ALL_HOST_IP = '0.0.0.0'

interface WantedPort {
  /** The NodeInfo.usedPorts key: `protocol/port`. */
  key: string
  ip: string
}

const stateKey = `${NODE_PORTS}/preFilter`

/** Whether `ports` (a node's usedPorts) conflict with a pod's host port (upstream's HostPortInfo.CheckConflict). */
export function portConflicts(usedPorts: ReadonlyMap<string, ReadonlySet<string>>, key: string, ip: string): boolean {
  const ips = usedPorts.get(key)
  if (ips === undefined || ips.size === 0) return false
  if (ip === BIND_ALL_HOST_IP) return true
  return ips.has(BIND_ALL_HOST_IP) || ips.has(ip)
}

export function hostPortKey(p: HostPort): string {
  return `${p.protocol}/${p.port}`
}

export class NodePorts implements FilterPlugin {
  readonly name = NODE_PORTS
  private readonly rejected: Status = { code: 'Unschedulable', reasons: [ERR_REASON_PORTS], plugin: NODE_PORTS }

  preFilter(state: CycleState, pod: PodInfo): { skip: true } | undefined {
    if (pod.hostPorts.length === 0) return { skip: true }
    const wanted: WantedPort[] = pod.hostPorts.map((p) => ({ key: hostPortKey(p), ip: p.ip }))
    state.set(stateKey, wanted)
    return undefined
  }

  filter(state: CycleState, pod: PodInfo, node: NodeInfo): Status | undefined {
    if (node.usedPorts.size === 0) return undefined
    let wanted = state.get(stateKey) as WantedPort[] | undefined
    if (wanted === undefined) wanted = pod.hostPorts.map((p) => ({ key: hostPortKey(p), ip: p.ip }))
    for (const w of wanted) if (portConflicts(node.usedPorts, w.key, w.ip)) return this.rejected
    return undefined
  }
}
