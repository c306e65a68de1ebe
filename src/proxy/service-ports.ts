// What kube-proxy reads from a Service (upstream pkg/proxy serviceport and
// service.go): one entry per spec.ports item, with the addresses traffic arrives on
// (cluster IP, node port, external IPs, load-balancer ingress IPs) and the policies
// that pick endpoints for it. Services kube-proxy leaves alone yield nothing:
// headless (clusterIP None), ExternalName, those claimed by another proxy
// (service.kubernetes.io/service-proxy-name), and those without an IPv4 cluster IP
// (this proxy is IPv4 only).
import type { KubeObject } from '../client/index.js'
import { isIPv4 } from './ipv4.js'

type Json = Record<string, unknown>

export const SERVICE_PROXY_NAME_LABEL = 'service.kubernetes.io/service-proxy-name'
/** upstream's default for sessionAffinityConfig.clientIP.timeoutSeconds (3 hours). */
export const DEFAULT_AFFINITY_TIMEOUT_SECONDS = 10800

export type Protocol = 'TCP' | 'UDP' | 'SCTP'

export interface ServicePort {
  /** "namespace/name:portName" (upstream ServicePortName; portName may be ""). */
  key: string
  namespace: string
  name: string
  portName: string
  protocol: Protocol
  port: number
  clusterIP: string
  /** 0 when the service has none. */
  nodePort: number
  /** spec.externalIPs: served like load-balancer IPs. */
  externalIPs: string[]
  /** status.loadBalancer.ingress[].ip, except those of ipMode Proxy (the balancer itself forwards to node ports). */
  loadBalancerIPs: string[]
  /** spec.loadBalancerSourceRanges: who may use the load-balancer IPs (empty: everyone). */
  loadBalancerSourceRanges: string[]
  /** ClientIP affinity timeout in seconds; 0 without affinity. */
  affinitySeconds: number
  /** internalTrafficPolicy Local: cluster-IP traffic only to this node's endpoints. */
  internalLocal: boolean
  /** externalTrafficPolicy Local: node-port, external-IP and LB traffic only to this node's endpoints. */
  externalLocal: boolean
  /** NodePort or LoadBalancer, or with external IPs: traffic from outside the cluster. */
  externallyAccessible: boolean
}

function obj(v: unknown): Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {}
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string' && s !== '') : []
}

export function serviceKey(namespace: string, name: string): string {
  return `${namespace}/${name}`
}

export function servicePortKey(namespace: string, name: string, portName: string): string {
  return `${namespace}/${name}:${portName}`
}

/** The cluster IP kube-proxy serves, or undefined for services it leaves alone. */
export function proxiedClusterIP(service: KubeObject): string | undefined {
  const spec = obj(service.spec)
  if (spec.type === 'ExternalName') return undefined
  const proxyName = service.metadata?.labels?.[SERVICE_PROXY_NAME_LABEL]
  if (proxyName !== undefined && proxyName !== '') return undefined
  const ip = spec.clusterIP
  if (typeof ip !== 'string' || !isIPv4(ip)) return undefined
  return ip
}

export function servicePorts(service: KubeObject): ServicePort[] {
  const clusterIP = proxiedClusterIP(service)
  if (clusterIP === undefined) return []
  const namespace = service.metadata?.namespace ?? ''
  const name = service.metadata?.name ?? ''
  const spec = obj(service.spec)
  const type = typeof spec.type === 'string' ? spec.type : 'ClusterIP'
  const hasNodePorts = type === 'NodePort' || type === 'LoadBalancer'
  const externalIPs = strings(spec.externalIPs).filter(isIPv4)
  const loadBalancerIPs =
    type === 'LoadBalancer'
      ? (Array.isArray(obj(obj(service.status).loadBalancer).ingress) ? (obj(obj(service.status).loadBalancer).ingress as unknown[]) : [])
          .map(obj)
          .filter((ing) => ing.ipMode !== 'Proxy')
          .map((ing) => ing.ip)
          .filter((ip): ip is string => typeof ip === 'string' && isIPv4(ip))
      : []
  const externallyAccessible = hasNodePorts || externalIPs.length > 0
  let affinitySeconds = 0
  if (spec.sessionAffinity === 'ClientIP') {
    const t = obj(obj(spec.sessionAffinityConfig).clientIP).timeoutSeconds
    affinitySeconds = typeof t === 'number' && t > 0 ? t : DEFAULT_AFFINITY_TIMEOUT_SECONDS
  }
  const out: ServicePort[] = []
  for (const raw of Array.isArray(spec.ports) ? spec.ports : []) {
    const p = obj(raw)
    const port = p.port
    if (typeof port !== 'number' || !(port > 0 && port < 65536)) continue
    const portName = typeof p.name === 'string' ? p.name : ''
    const protocol: Protocol = p.protocol === 'UDP' ? 'UDP' : p.protocol === 'SCTP' ? 'SCTP' : 'TCP'
    out.push({
      key: servicePortKey(namespace, name, portName),
      namespace,
      name,
      portName,
      protocol,
      port,
      clusterIP,
      nodePort: hasNodePorts && typeof p.nodePort === 'number' ? p.nodePort : 0,
      externalIPs,
      loadBalancerIPs,
      loadBalancerSourceRanges: type === 'LoadBalancer' ? strings(spec.loadBalancerSourceRanges).map((r) => r.trim()) : [],
      affinitySeconds,
      internalLocal: spec.internalTrafficPolicy === 'Local',
      externalLocal: externallyAccessible && spec.externalTrafficPolicy === 'Local',
      externallyAccessible,
    })
  }
  return out
}
