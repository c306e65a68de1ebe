// A frontend is one address:port/protocol this node's proxy listens on (a cluster
// IP, a node port on one node address, an external or load-balancer IP) and the
// service port it forwards to. The proxier decides what should exist and whether it
// listens; ./tcp-frontend.ts and ./udp-frontend.ts carry the traffic.
//
// A frontend without a usable endpoint does not listen at all, so a client gets
// ECONNREFUSED (TCP) or an ICMP port-unreachable (UDP) at once, as iptables'
// REJECT gives with upstream kube-proxy. Closing the listener leaves established
// TCP connections alone.
import type { Logger } from '../client/index.js'
import { type Cidr, cidrContains } from './ipv4.js'
import type { LoadBalancer } from './load-balancer.js'
import type { ProxyMetrics } from './metrics.js'

export interface FrontendTarget {
  /** "namespace/name:port" of the service port, for logs. */
  servicePort: string
  balancer: LoadBalancer
  /** loadBalancerSourceRanges for load-balancer IPs: only these clients (empty: all). */
  sourceRanges: readonly Cidr[]
}

export interface FrontendDeps {
  metrics: ProxyMetrics | undefined
  logger: Logger
}

export interface Frontend {
  readonly protocol: 'TCP' | 'UDP'
  readonly address: string
  readonly port: number
  target: FrontendTarget
  readonly listening: boolean
  /** Connections (TCP) or flows (UDP) being forwarded. */
  readonly active: number
  /** Opens or closes the listener; resolves to the bind error when it could not listen. */
  setListening(want: boolean): Promise<Error | undefined>
  /** After an endpoint change: UDP flows to endpoints no longer usable end (as upstream clears their conntrack entries); TCP connections stay. */
  pruneFlows(): void
  /** Closes the listener and every connection. */
  destroy(): void
}

export function frontendKey(protocol: string, address: string, port: number): string {
  return `${protocol}/${address}:${port}`
}

export function sourceAllowed(target: FrontendTarget, clientIP: string): boolean {
  return target.sourceRanges.length === 0 || target.sourceRanges.some((r) => cidrContains(r, clientIP))
}
