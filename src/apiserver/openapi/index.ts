// The OpenAPI documents of this server (/openapi/v2, /openapi/v3, /openapi/v3/<gv>),
// and the schema helpers other parts of the server use (unknown-field checks).
import { KUBE_VERSION } from '../server.js'
import { openapiDocuments as documentsFor, type OpenApiDocumentSource, type OpenApiOptions } from './documents.js'

export { OpenApiDocuments, type OpenApiDocumentSource, type OpenApiOptions } from './documents.js'
export { definitions, type Schema } from './definitions.js'
export { definitionOfKind, strictDecodingMessage, unknownFields, unknownFieldWarnings } from './unknown-fields.js'

/**
 * A DocumentSource for the OpenAPI paths; info.version defaults to the server's
 * gitVersion. Call its warm() once the server listens to build the documents in the
 * background instead of on the first request.
 */
export function openapiDocuments(opts: OpenApiOptions = { version: KUBE_VERSION.gitVersion }): OpenApiDocumentSource {
  return documentsFor(opts)
}
