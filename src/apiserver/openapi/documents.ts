// Serving /openapi/v2, /openapi/v3 and /openapi/v3/<group-version>. The documents are
// large (v2 is 1.7 MB, v3 api/v1 0.9 MB) and never change, so each is built and encoded
// once and then served from memory: on its first request, or ahead of time by warm(),
// which builds them a piece per event-loop turn (all at once takes a few hundred ms of
// CPU, a stall the raft heartbeats sharing this loop should not see).
//
// Encodings: v3 in JSON (what kubectl asks); v2 in JSON or in protobuf (gnostic's
// openapi.v2.Document, the only form client-go asks v2 in).
import { ApiError } from '../status.js'
import { acceptsJson, parseAccept } from '../discovery/negotiate.js'
import { documentHash, type ServedDocument } from '../discovery/documents.js'
import { buildOpenApiV2 } from './v2.js'
import { encodeOpenApiV2 } from './v2-protobuf.js'
import { openApiV3Builders } from './v3.js'

export interface OpenApiOptions {
  /** The server's gitVersion, written as info.version (kube-apiserver: v1.32.0…). */
  version: string
}

interface Encoded {
  body: Buffer
  hash: string
}

function withHash(body: Buffer): Encoded {
  return { body, hash: documentHash(body) }
}

function encode(doc: unknown): Encoded {
  return withHash(Buffer.from(JSON.stringify(doc)))
}

/** JSON is acceptable: no Accept header, or a range JSON satisfies. */
function jsonAccepted(accept: string | undefined): boolean {
  if (accept === undefined || accept.trim() === '') return true
  return parseAccept(accept).some((r) => acceptsJson(r) && !r.params.has('as'))
}

// client-go asks for the `@` spelling but parses the response's Content-Type as a MIME
// type, where `@` is not allowed: the answer is labelled with the dotted spelling, as
// kube-apiserver labels it.
const V2_PROTOBUF_ACCEPTED = ['application/com.github.proto-openapi.spec.v2@v1.0+protobuf', 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf']
export const V2_PROTOBUF_CONTENT_TYPE = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf'

/** For /openapi/v2: whether the client prefers protobuf to JSON. */
function v2ProtobufWanted(accept: string | undefined): boolean {
  for (const r of parseAccept(accept)) {
    if (V2_PROTOBUF_ACCEPTED.includes(r.type)) return true
    if (acceptsJson(r) && !r.params.has('as')) return false
  }
  return false
}

const V3_PREFIX = '/openapi/v3/'
const NOT_ACCEPTABLE = `only the following media types are accepted: application/json, ${V2_PROTOBUF_CONTENT_TYPE} (/openapi/v2)`

export class OpenApiDocuments {
  private v2: Encoded | undefined
  private v2Protobuf: Encoded | undefined
  private v3: Map<string, Encoded> | undefined
  private v3Index: Encoded | undefined

  constructor(private readonly opts: OpenApiOptions) {}

  /** The Swagger 2.0 document's hash (its ETag). */
  v2Hash(): string {
    return this.v2Document().hash
  }

  /** The hash of each v3 document by index key (`api/v1`, `apis/apps/v1`, …): its ETag and `?hash=`. */
  v3Hashes(): Map<string, string> {
    return new Map([...this.v3Documents()].map(([k, v]) => [k, v.hash]))
  }

  /**
   * The document for a GET of `path`, or undefined when the path is not an OpenAPI one
   * (or names a group version that is not served). Throws 406 when no encoding we have
   * is acceptable. The `hash` query parameter of v3 URLs only busts caches; any value
   * gets the current document.
   */
  serve(path: string, accept: string | undefined): ServedDocument | undefined {
    if (path === '/openapi/v2' && v2ProtobufWanted(accept)) {
      const doc = this.v2ProtobufDocument()
      return { body: doc.body, contentType: V2_PROTOBUF_CONTENT_TYPE, etag: doc.hash }
    }
    let doc: Encoded | undefined
    if (path === '/openapi/v2') doc = this.v2Document()
    else if (path === '/openapi/v3' || path === '/openapi/v3/') doc = this.v3IndexDocument()
    else if (path.startsWith(V3_PREFIX)) doc = this.v3Documents().get(path.slice(V3_PREFIX.length).replace(/\/$/, ''))
    if (doc === undefined) return undefined
    if (!jsonAccepted(accept)) throw new ApiError(406, 'NotAcceptable', NOT_ACCEPTABLE)
    return { body: doc.body, contentType: 'application/json', etag: doc.hash }
  }

  /** Builds every document now, yielding to the event loop between them. */
  async warm(): Promise<void> {
    const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))
    if (this.v3 === undefined) {
      const docs = new Map<string, Encoded>()
      for (const [key, build] of openApiV3Builders(this.opts.version)) {
        docs.set(key, encode(build()))
        await turn()
      }
      this.v3 ??= docs
    }
    this.v3IndexDocument()
    await turn()
    const v2 = buildOpenApiV2(this.opts.version)
    await turn()
    this.v2 ??= encode(v2)
    await turn()
    this.v2Protobuf ??= withHash(encodeOpenApiV2(v2))
  }

  private v2Document(): Encoded {
    this.v2 ??= encode(buildOpenApiV2(this.opts.version))
    return this.v2
  }

  private v2ProtobufDocument(): Encoded {
    this.v2Protobuf ??= withHash(encodeOpenApiV2(buildOpenApiV2(this.opts.version)))
    return this.v2Protobuf
  }

  private v3Documents(): Map<string, Encoded> {
    if (this.v3 === undefined) {
      this.v3 = new Map()
      for (const [key, build] of openApiV3Builders(this.opts.version)) this.v3.set(key, encode(build()))
    }
    return this.v3
  }

  private v3IndexDocument(): Encoded {
    if (this.v3Index === undefined) {
      const paths: Record<string, { serverRelativeURL: string }> = {}
      for (const [key, doc] of [...this.v3Documents()].sort(([a], [b]) => (a < b ? -1 : 1))) {
        paths[key] = { serverRelativeURL: `${V3_PREFIX}${key}?hash=${doc.hash}` }
      }
      this.v3Index = encode({ paths })
    }
    return this.v3Index
  }
}

export type OpenApiDocumentSource = ((path: string, query: URLSearchParams, accept: string | undefined) => ServedDocument | undefined) & {
  /** OpenApiDocuments.warm(): build everything ahead of the first request. */
  warm(): Promise<void>
}

/** A DocumentSource (see server.ts) for the OpenAPI paths. */
export function openapiDocuments(opts: OpenApiOptions): OpenApiDocumentSource {
  const docs = new OpenApiDocuments(opts)
  return Object.assign((path: string, _query: URLSearchParams, accept: string | undefined) => docs.serve(path, accept), { warm: () => docs.warm() })
}
