// Which endpoints serve traffic arriving at this node (upstream CategorizeEndpoints):
// - Cluster policy: the ready endpoints, narrowed by topology hints when every ready
//   endpoint carries them and some are meant for this node (forNodes) or its zone
//   (forZones); with no ready endpoint anywhere, the serving-and-terminating ones, so
//   a rolling update that leaves only terminating pods still answers.
// - Local policy (internalTrafficPolicy / externalTrafficPolicy Local): this node's
//   ready endpoints, else its serving-and-terminating ones.
// Cluster-IP traffic follows the internal policy; node-port, external-IP and
// load-balancer traffic the external one.
import type { Endpoint } from './endpoints.js'
import type { ServicePort } from './service-ports.js'

export interface NodeTopology {
  nodeName: string
  /** The node's topology.kubernetes.io/zone label ("" when unknown). */
  zone: string
}

export interface CategorizedEndpoints {
  /** Endpoints for cluster-IP traffic. */
  internal: Endpoint[]
  /** Endpoints for node-port, external-IP and load-balancer traffic. */
  external: Endpoint[]
  /** Some endpoint anywhere could serve (true even when this node's Local policy has none). */
  hasAny: boolean
}

type TopologyMode = '' | 'PreferSameNode' | 'PreferSameZone'

function topologyMode(endpoints: readonly Endpoint[], topo: NodeTopology): TopologyMode {
  let anyReady = false
  let allNodeHints = true
  let forNode = false
  let allZoneHints = true
  let forZone = false
  for (const ep of endpoints) {
    if (!ep.ready) continue
    anyReady = true
    if (ep.nodeHints.size === 0) allNodeHints = false
    else if (ep.nodeHints.has(topo.nodeName)) forNode = true
    if (ep.zoneHints.size === 0) allZoneHints = false
    else if (topo.zone !== '' && ep.zoneHints.has(topo.zone)) forZone = true
  }
  if (!anyReady) return ''
  if (allNodeHints && forNode) return 'PreferSameNode'
  if (allZoneHints && forZone) return 'PreferSameZone'
  return ''
}

function availableForTopology(ep: Endpoint, mode: TopologyMode, topo: NodeTopology): boolean {
  if (mode === 'PreferSameNode') return ep.nodeHints.has(topo.nodeName)
  if (mode === 'PreferSameZone') return ep.zoneHints.has(topo.zone)
  return true
}

function clusterEndpoints(endpoints: readonly Endpoint[], topo: NodeTopology): Endpoint[] {
  const mode = topologyMode(endpoints, topo)
  const ready = endpoints.filter((ep) => ep.ready && availableForTopology(ep, mode, topo))
  if (ready.length > 0) return ready
  return endpoints.filter((ep) => ep.serving && ep.terminating)
}

function localEndpoints(endpoints: readonly Endpoint[]): Endpoint[] {
  const ready = endpoints.filter((ep) => ep.isLocal && ep.ready)
  if (ready.length > 0) return ready
  return endpoints.filter((ep) => ep.isLocal && ep.serving && ep.terminating)
}

export function categorizeEndpoints(endpoints: readonly Endpoint[], sp: Pick<ServicePort, 'internalLocal' | 'externalLocal' | 'externallyAccessible'>, topo: NodeTopology): CategorizedEndpoints {
  const usesCluster = !sp.internalLocal || (sp.externallyAccessible && !sp.externalLocal)
  const usesLocal = sp.internalLocal || (sp.externallyAccessible && sp.externalLocal)
  const cluster = usesCluster ? clusterEndpoints(endpoints, topo) : []
  const local = usesLocal ? localEndpoints(endpoints) : []
  const hasAny = cluster.length > 0 || endpoints.some((ep) => ep.ready || (ep.serving && ep.terminating))
  return {
    internal: sp.internalLocal ? local : cluster,
    external: !sp.externallyAccessible ? [] : sp.externalLocal ? local : cluster,
    hasAny,
  }
}
