// Response content negotiation: kubectl asks for a Table (`as=Table;v=v1;g=meta.k8s.io`),
// the garbage collector and `kubectl get -o name` for PartialObjectMetadata, everyone
// else for the object itself. JSON is the only encoding we serve.
import { ApiError } from '../status.js'

export type ResponseShape = 'object' | 'table' | 'metadata'

interface Offer {
  type: string
  params: Map<string, string>
  q: number
}

function parseAccept(accept: string): Offer[] {
  return accept
    .split(',')
    .map((part) => {
      const [type, ...rest] = part.split(';').map((s) => s.trim())
      const params = new Map<string, string>()
      for (const p of rest) {
        const eq = p.indexOf('=')
        if (eq > 0) params.set(p.slice(0, eq).trim().toLowerCase(), p.slice(eq + 1).trim())
      }
      const q = params.has('q') ? Number(params.get('q')) : 1
      return { type: (type ?? '').toLowerCase(), params, q: Number.isFinite(q) ? q : 0 }
    })
    .filter((o) => o.type !== '' && o.q > 0)
}

function jsonLike(type: string): boolean {
  return type === 'application/json' || type === 'application/*' || type === '*/*' || type === 'application/yaml'
}

/**
 * The first acceptable offer wins (clients list preferences in order). Throws 406 when
 * nothing acceptable is offered.
 */
export function negotiate(accept: string | undefined): ResponseShape {
  if (accept === undefined || accept.trim() === '') return 'object'
  const offers = parseAccept(accept)
  for (const o of offers) {
    if (!jsonLike(o.type)) continue
    const as = o.params.get('as')
    if (as === undefined) return 'object'
    const g = o.params.get('g')
    const v = o.params.get('v')
    if (g !== 'meta.k8s.io' || (v !== 'v1' && v !== 'v1beta1')) continue
    if (as === 'Table') return 'table'
    if (as === 'PartialObjectMetadata' || as === 'PartialObjectMetadataList') return 'metadata'
  }
  if (offers.some((o) => o.type === 'application/vnd.kubernetes.protobuf')) {
    throw new ApiError(406, 'NotAcceptable', 'only the following media types are accepted: application/json, application/yaml')
  }
  throw new ApiError(406, 'NotAcceptable', 'only the following media types are accepted: application/json, application/yaml')
}
