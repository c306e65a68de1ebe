// What a request URL asks for (the role of apiserver's RequestInfoFactory):
// /api/v1/namespaces/default/pods/web/status → verb get, group "", version v1,
// namespace default, resource pods, name web, subresource status.

export type RequestVerb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection' | 'proxy'

export interface ResourceRequestInfo {
  readonly kind: 'resource'
  readonly verb: RequestVerb
  readonly group: string
  readonly version: string
  /** '' for cluster-scoped requests and for lists across all namespaces. */
  readonly namespace: string
  readonly resource: string
  readonly name: string
  readonly subresource: string
}

export interface NonResourceRequestInfo {
  readonly kind: 'nonresource'
  readonly path: string
}

export type RequestInfo = ResourceRequestInfo | NonResourceRequestInfo

const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize'])

function isWatchParam(v: string | null): boolean {
  return v === 'true' || v === '1'
}

/** `path` without query string; `query` the parsed search params. */
export function requestInfo(method: string, path: string, query: URLSearchParams): RequestInfo {
  const parts = path.split('/').filter((p) => p !== '')
  let group: string
  let version: string
  let rest: string[]
  if (parts[0] === 'api' && parts.length >= 3) {
    group = ''
    version = parts[1]!
    rest = parts.slice(2)
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    group = parts[1]!
    version = parts[2]!
    rest = parts.slice(3)
  } else {
    return { kind: 'nonresource', path }
  }

  // The deprecated /watch/ prefix (client-go no longer sends it, older tools do).
  let watchPath = false
  if (rest[0] === 'watch') {
    watchPath = true
    rest = rest.slice(1)
  }

  let namespace = ''
  // namespaces/<ns>/<resource>/… is a namespaced request; namespaces[/<name>[/<sub>]] is the Namespace resource itself.
  // (namespaces/<name>/status and /finalize are subresources of the Namespace itself).
  if (rest[0] === 'namespaces' && rest.length >= 3 && !NAMESPACE_SUBRESOURCES.has(rest[2]!)) {
    namespace = rest[1]!
    rest = rest.slice(2)
  }
  const resource = rest[0] ?? ''
  const name = rest[1] ?? ''
  const subresource = rest.slice(2).join('/')

  let verb: RequestVerb
  switch (method) {
    case 'GET':
    case 'HEAD':
      if (watchPath || isWatchParam(query.get('watch'))) verb = 'watch'
      else verb = name === '' ? 'list' : 'get'
      break
    case 'POST':
      verb = 'create'
      break
    case 'PUT':
      verb = 'update'
      break
    case 'PATCH':
      verb = 'patch'
      break
    case 'DELETE':
      verb = name === '' ? 'deletecollection' : 'delete'
      break
    default:
      verb = 'proxy'
  }
  return { kind: 'resource', verb, group, version, namespace, resource, name, subresource }
}
