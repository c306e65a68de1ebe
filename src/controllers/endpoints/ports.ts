// Which port a Service's endpoints offer on one pod (upstream FindPort): a numeric
// targetPort is used as it is; a named one is looked up among the pod's container
// ports, then among those of its sidecars (init containers with restartPolicy
// Always), matching name and protocol. Pods of one Service may publish a named port
// on different numbers, so the port is resolved per pod; a pod without the named
// port offers no endpoint for that service port.
import { canonicalJson } from '../util/hash.js'
import type { KubeObject } from '../../client/index.js'

type Json = Record<string, unknown>

export interface ServicePort {
  name?: string
  protocol?: string
  appProtocol?: string
  port?: number
  targetPort?: number | string
}

/** A core/v1 EndpointPort (Endpoints subsets). */
export interface EndpointPort {
  name?: string
  port: number
  protocol: string
  appProtocol?: string
}

/** A discovery/v1 EndpointPort (EndpointSlices): name always present, as upstream sets it. */
export interface SlicePort {
  name: string
  port: number
  protocol: string
  appProtocol?: string
}

function records(v: unknown): Json[] {
  return Array.isArray(v) ? (v.filter((x) => x !== null && typeof x === 'object') as Json[]) : []
}

export function servicePorts(service: KubeObject): ServicePort[] {
  return records((service.spec as Json | undefined)?.ports) as ServicePort[]
}

function protocolOf(p: { protocol?: unknown }): string {
  return typeof p.protocol === 'string' && p.protocol !== '' ? p.protocol : 'TCP'
}

function namedPort(containers: Json[], name: string, protocol: string): number | undefined {
  for (const c of containers) {
    for (const p of records(c.ports)) {
      if (p.name === name && protocolOf(p) === protocol && typeof p.containerPort === 'number') return p.containerPort
    }
  }
  return undefined
}

/** The pod's port for a service port, or undefined when a named targetPort is not on the pod. */
export function findPort(pod: KubeObject, sp: ServicePort): number | undefined {
  const target = sp.targetPort ?? sp.port
  if (typeof target === 'number') return target
  if (typeof target !== 'string') return undefined
  const spec = (pod.spec ?? {}) as Json
  const protocol = protocolOf(sp)
  const sidecars = records(spec.initContainers).filter((c) => c.restartPolicy === 'Always')
  return namedPort(records(spec.containers), target, protocol) ?? namedPort(sidecars, target, protocol)
}

export function endpointPort(sp: ServicePort, port: number): EndpointPort {
  const out: EndpointPort = { port, protocol: protocolOf(sp) }
  if (sp.name !== undefined && sp.name !== '') out.name = sp.name
  if (sp.appProtocol !== undefined) out.appProtocol = sp.appProtocol
  return out
}

/** The ports a pod's endpoint offers in a Service's EndpointSlices (headless without ports: none). */
export function slicePorts(service: KubeObject, pod: KubeObject): SlicePort[] {
  const out: SlicePort[] = []
  for (const sp of servicePorts(service)) {
    const port = findPort(pod, sp)
    if (port === undefined) continue
    const p: SlicePort = { name: sp.name ?? '', port, protocol: protocolOf(sp) }
    if (sp.appProtocol !== undefined) p.appProtocol = sp.appProtocol
    out.push(p)
  }
  return out
}

/**
 * The identity of a set of slice ports, whatever their order (upstream PortMapKey):
 * pods offering the same ports share slices; a pod that resolves a named port
 * differently goes to slices of its own.
 */
export function portMapKey(ports: readonly unknown[] | undefined): string {
  const normal = (ports ?? []).map((p) => {
    const r = (p ?? {}) as Json
    return canonicalJson({ name: r.name ?? '', port: r.port, protocol: r.protocol ?? 'TCP', appProtocol: r.appProtocol })
  })
  return `[${normal.sort().join(',')}]`
}
