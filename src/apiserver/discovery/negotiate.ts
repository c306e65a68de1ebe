// Which discovery document an Accept header asks for. kubectl 1.32 sends
//   application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,
//   application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,
//   application/json
// to /api and /apis and reads the response's Content-Type to know which one it got:
// the aggregated profile must be echoed back, plain `application/json` means the
// unaggregated document. Only JSON is served (no protobuf, no YAML).
import type { AggregatedVersion } from './aggregated.js'

export interface MediaRange {
  /** `application/json`, `*\/*`, … lower-cased. */
  type: string
  params: Map<string, string>
  q: number
}

/** Media ranges of an Accept header, most preferred first (q, then the client's order). */
export function parseAccept(header: string | undefined): MediaRange[] {
  if (header === undefined) return []
  const ranges: MediaRange[] = []
  for (const part of header.split(',')) {
    const [type = '', ...rest] = part.split(';').map((s) => s.trim())
    if (type === '') continue
    const params = new Map<string, string>()
    for (const p of rest) {
      const eq = p.indexOf('=')
      if (eq > 0) params.set(p.slice(0, eq).trim().toLowerCase(), p.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1'))
    }
    const q = params.has('q') ? Number(params.get('q')) : 1
    params.delete('q')
    if (Number.isFinite(q) && q > 0) ranges.push({ type: type.toLowerCase(), params, q })
  }
  // Array.prototype.sort is stable: equal q keeps the client's order.
  return ranges.sort((a, b) => b.q - a.q)
}

/** A range that plain JSON satisfies (`application/json`, `application/*`, `*\/*`). */
export function acceptsJson(r: MediaRange): boolean {
  return r.type === 'application/json' || r.type === 'application/*' || r.type === '*/*'
}

export type DiscoveryFormat = 'unaggregated' | `aggregated-${AggregatedVersion}`

export interface DiscoveryChoice {
  format: DiscoveryFormat
  /** The Content-Type to answer with. */
  contentType: string
}

export const DISCOVERY_GROUP = 'apidiscovery.k8s.io'

export function aggregatedContentType(version: AggregatedVersion): string {
  return `application/json;g=${DISCOVERY_GROUP};v=${version};as=APIGroupDiscoveryList`
}

/**
 * Decides what to serve for a discovery request. `aggregatedAvailable` is true for /api
 * and /apis only. Undefined: nothing acceptable (answer 406 NotAcceptable). No Accept
 * header at all means the unaggregated JSON, as for any Kubernetes client of old.
 */
export function negotiateDiscovery(accept: string | undefined, aggregatedAvailable: boolean): DiscoveryChoice | undefined {
  const ranges = parseAccept(accept)
  if (accept === undefined || accept.trim() === '') return { format: 'unaggregated', contentType: 'application/json' }
  for (const r of ranges) {
    if (!acceptsJson(r)) continue
    const as = r.params.get('as')
    if (as === undefined) return { format: 'unaggregated', contentType: 'application/json' }
    if (r.type !== 'application/json' || as !== 'APIGroupDiscoveryList' || r.params.get('g') !== DISCOVERY_GROUP) continue
    const v = r.params.get('v')
    if (aggregatedAvailable && (v === 'v2' || v === 'v2beta1')) return { format: `aggregated-${v}`, contentType: aggregatedContentType(v) }
  }
  return undefined
}
