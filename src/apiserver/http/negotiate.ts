// Response content negotiation: kubectl asks for a Table (`as=Table;v=v1;g=meta.k8s.io`),
// the garbage collector and `kubectl get -o name` for PartialObjectMetadata, everyone
// else for the object itself. JSON is the only encoding we serve.
import { acceptsJson, type MediaRange, parseAccept } from '../discovery/negotiate.js'
import { ApiError } from '../status.js'

export type ResponseShape = 'object' | 'table' | 'metadata'

function jsonLike(r: MediaRange): boolean {
  // YAML is accepted and answered with JSON, which is valid YAML.
  return acceptsJson(r) || r.type === 'application/yaml'
}

/**
 * The most preferred acceptable offer wins (q, then the client's order). Throws 406
 * when nothing acceptable is offered.
 */
export function negotiate(accept: string | undefined): ResponseShape {
  if (accept === undefined || accept.trim() === '') return 'object'
  const offers = parseAccept(accept)
  for (const o of offers) {
    if (!jsonLike(o)) continue
    const as = o.params.get('as')
    if (as === undefined) return 'object'
    const g = o.params.get('g')
    const v = o.params.get('v')
    if (g !== 'meta.k8s.io' || (v !== 'v1' && v !== 'v1beta1')) continue
    if (as === 'Table') return 'table'
    if (as === 'PartialObjectMetadata' || as === 'PartialObjectMetadataList') return 'metadata'
  }
  throw new ApiError(406, 'NotAcceptable', 'only the following media types are accepted: application/json, application/yaml')
}
