// A service port's endpoints as kube-proxy sees them (upstream endpointslicecache):
// merged from every IPv4 EndpointSlice of the Service, matched by port name and
// protocol, one endpoint per address:port (a ready copy wins over another). Missing
// conditions read as upstream reads them: ready and serving unless said otherwise,
// terminating only when said.
import type { KubeObject } from '../client/index.js'
import { isIPv4 } from './ipv4.js'
import type { Protocol } from './service-ports.js'

type Json = Record<string, unknown>

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name'

export interface Endpoint {
  ip: string
  port: number
  ready: boolean
  serving: boolean
  terminating: boolean
  /** On the node this proxy runs on (traffic policy Local). */
  isLocal: boolean
  zoneHints: ReadonlySet<string>
  nodeHints: ReadonlySet<string>
}

export function endpointKey(ep: Pick<Endpoint, 'ip' | 'port'>): string {
  return `${ep.ip}:${ep.port}`
}

function obj(v: unknown): Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {}
}

function hintNames(v: unknown): Set<string> {
  const out = new Set<string>()
  for (const h of Array.isArray(v) ? v : []) {
    const name = obj(h).name
    if (typeof name === 'string' && name !== '') out.add(name)
  }
  return out
}

/** The Service ("namespace/name") an EndpointSlice belongs to, from its kubernetes.io/service-name label. */
export function sliceServiceKey(slice: KubeObject): string | undefined {
  const name = slice.metadata?.labels?.[SERVICE_NAME_LABEL]
  if (name === undefined || name === '') return undefined
  return `${slice.metadata?.namespace ?? ''}/${name}`
}

/** The slice's port for a service port: same name ("" matches "") and protocol (default TCP). */
function slicePort(slice: KubeObject, portName: string, protocol: Protocol): number | undefined {
  for (const raw of Array.isArray(slice.ports) ? slice.ports : []) {
    const p = obj(raw)
    const name = typeof p.name === 'string' ? p.name : ''
    const proto = typeof p.protocol === 'string' ? p.protocol : 'TCP'
    if (name === portName && proto === protocol && typeof p.port === 'number' && p.port > 0) return p.port
  }
  return undefined
}

export function endpointsForPort(slices: Iterable<KubeObject>, portName: string, protocol: Protocol, nodeName: string): Endpoint[] {
  const byKey = new Map<string, Endpoint>()
  for (const slice of slices) {
    if (slice.addressType !== 'IPv4') continue
    const port = slicePort(slice, portName, protocol)
    if (port === undefined) continue
    for (const raw of Array.isArray(slice.endpoints) ? slice.endpoints : []) {
      const e = obj(raw)
      // As upstream: only the first address of an endpoint is used.
      const ip = Array.isArray(e.addresses) ? e.addresses[0] : undefined
      if (typeof ip !== 'string' || !isIPv4(ip)) continue
      const c = obj(e.conditions)
      const ready = c.ready !== false
      const ep: Endpoint = {
        ip,
        port,
        ready,
        serving: c.serving !== false,
        terminating: c.terminating === true,
        isLocal: nodeName !== '' && e.nodeName === nodeName,
        zoneHints: hintNames(obj(e.hints).forZones),
        nodeHints: hintNames(obj(e.hints).forNodes),
      }
      const key = endpointKey(ep)
      const seen = byKey.get(key)
      if (seen === undefined || (!seen.ready && ep.ready)) byKey.set(key, ep)
    }
  }
  return [...byKey.values()].sort((a, b) => compareEndpoints(a, b))
}

function compareEndpoints(a: Endpoint, b: Endpoint): number {
  const ka = endpointKey(a)
  const kb = endpointKey(b)
  return ka < kb ? -1 : ka > kb ? 1 : 0
}
