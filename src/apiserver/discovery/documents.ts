// Every discovery document, encoded once: the catalog does not change while a server
// runs, so a request only picks bytes by path and Accept header. Aggregated documents
// carry an ETag (kube-apiserver's: the SHA-512 of the body, upper-case hex) so clients
// revalidate with If-None-Match instead of downloading them again.
import { createHash } from 'node:crypto'
import { discoveryGroups } from '../../api/resources.js'
import { ApiError } from '../status.js'
import { aggregatedDiscovery, type AggregatedVersion } from './aggregated.js'
import { apiGroup, apiGroupList, apiResourceList, apiVersions } from './legacy.js'
import { negotiateDiscovery } from './negotiate.js'

/** What the HTTP layer writes: body, Content-Type and, if any, the unquoted ETag. */
export interface ServedDocument {
  body: Buffer
  contentType: string
  etag?: string
}

export interface DiscoveryOptions {
  /**
   * host:port clients should use, reported in /api's serverAddressByClientCIDRs. A
   * function when it is known only once the server listens; it is read once.
   */
  serverAddress: string | (() => string)
}

/** SHA-512 of a document, upper-case hex: the ETag kube-apiserver gives aggregated discovery. */
export function documentHash(body: Buffer): string {
  return createHash('sha512').update(body).digest('hex').toUpperCase()
}

function encode(doc: unknown): Buffer {
  return Buffer.from(JSON.stringify(doc))
}

const NOT_ACCEPTABLE =
  'only the following media types are accepted: application/json, application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList, application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList'

interface Aggregated {
  body: Buffer
  etag: string
}

export class DiscoveryDocuments {
  /** Unaggregated documents by path (without trailing slash), /api excepted. */
  private readonly plain = new Map<string, Buffer>()
  private readonly aggregated = new Map<string, Aggregated>()
  private apiBody: Buffer | undefined

  constructor(private readonly opts: DiscoveryOptions) {
    this.plain.set('/apis', encode(apiGroupList()))
    for (const { group, versions } of discoveryGroups()) {
      const base = group === '' ? '/api' : `/apis/${group}`
      if (group !== '') this.plain.set(base, encode(apiGroup(group)))
      for (const version of versions) this.plain.set(`${base}/${version}`, encode(apiResourceList(group, version)))
    }
    for (const scope of ['core', 'named'] as const) {
      for (const v of ['v2', 'v2beta1'] as const) {
        const body = encode(aggregatedDiscovery(scope, v))
        this.aggregated.set(`${scope}/${v}`, { body, etag: documentHash(body) })
      }
    }
  }

  /** The ETag of the aggregated document of /api (`core`) or /apis (`named`). */
  etag(scope: 'core' | 'named', version: AggregatedVersion = 'v2'): string {
    return this.aggregated.get(`${scope}/${version}`)!.etag
  }

  /**
   * The document for a GET of `path`, or undefined when the path is not a discovery
   * path (or names a group that is not served). Throws a 406 ApiError when the Accept
   * header allows nothing we serve.
   */
  serve(path: string, accept: string | undefined): ServedDocument | undefined {
    const p = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path
    const scope = p === '/api' ? 'core' : p === '/apis' ? 'named' : undefined
    if (scope === undefined && !this.plain.has(p)) return undefined
    const choice = negotiateDiscovery(accept, scope !== undefined)
    if (choice === undefined) throw new ApiError(406, 'NotAcceptable', NOT_ACCEPTABLE)
    if (choice.format !== 'unaggregated') {
      const doc = this.aggregated.get(`${scope}/${choice.format.slice('aggregated-'.length)}`)!
      return { body: doc.body, contentType: choice.contentType, etag: doc.etag }
    }
    return { body: p === '/api' ? this.api() : this.plain.get(p)!, contentType: choice.contentType }
  }

  private api(): Buffer {
    if (this.apiBody === undefined) {
      const addr = typeof this.opts.serverAddress === 'function' ? this.opts.serverAddress() : this.opts.serverAddress
      this.apiBody = encode(apiVersions(addr))
    }
    return this.apiBody
  }
}

/** A DocumentSource (see server.ts) for discovery paths. */
export function discoveryDocuments(opts: DiscoveryOptions): (path: string, query: URLSearchParams, accept: string | undefined) => ServedDocument | undefined {
  const docs = new DiscoveryDocuments(opts)
  return (path, _query, accept) => docs.serve(path, accept)
}
