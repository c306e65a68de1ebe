// Kubernetes `Status` objects and the errors that become them (apimachinery's
// api/errors): every failure a client sees is one of these, with the reason and
// code kubectl and client-go key their behaviour on (IsNotFound, IsConflict, …).

export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Gone'
  | 'Expired'
  | 'Invalid'
  | 'Timeout'
  | 'TooManyRequests'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'UnsupportedMediaType'
  | 'RequestEntityTooLarge'
  | 'InternalError'
  | 'ServiceUnavailable'

export interface StatusCause {
  reason?: string
  message?: string
  field?: string
}

export interface StatusDetails {
  name?: string
  group?: string
  kind?: string
  uid?: string
  causes?: StatusCause[]
  retryAfterSeconds?: number
}

export interface Status {
  kind: 'Status'
  apiVersion: 'v1'
  metadata: Record<string, unknown>
  status: 'Success' | 'Failure'
  message?: string
  reason?: StatusReason
  details?: StatusDetails
  code: number
}

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: StatusReason,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message)
    this.name = 'ApiError'
  }

  toStatus(): Status {
    const s: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: this.message, reason: this.reason, code: this.code }
    if (this.details !== undefined) s.details = this.details
    return s
  }
}

/** `deployments.apps`, or `pods` for the core group: how Kubernetes names a resource in messages. */
export function qualifiedResource(plural: string, group: string): string {
  return group === '' ? plural : `${plural}.${group}`
}

export function notFound(plural: string, group: string, name: string): ApiError {
  return new ApiError(404, 'NotFound', `${qualifiedResource(plural, group)} "${name}" not found`, { name, group, kind: plural })
}

export function alreadyExists(plural: string, group: string, name: string): ApiError {
  return new ApiError(409, 'AlreadyExists', `${qualifiedResource(plural, group)} "${name}" already exists`, { name, group, kind: plural })
}

export function conflict(plural: string, group: string, name: string, why: string): ApiError {
  return new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedResource(plural, group)} "${name}": ${why}`, {
    name,
    group,
    kind: plural,
  })
}

/** The optimistic-concurrency failure client-go's RetryOnConflict looks for. */
export function staleConflict(plural: string, group: string, name: string): ApiError {
  return conflict(plural, group, name, 'the object has been modified; please apply your changes to the latest version and try again')
}

export function badRequest(message: string, causes?: StatusCause[]): ApiError {
  return new ApiError(400, 'BadRequest', message, causes === undefined ? undefined : { causes })
}

export function invalid(kind: string, group: string, name: string, message: string, causes: StatusCause[]): ApiError {
  return new ApiError(422, 'Invalid', message, { name, group, kind, causes })
}

export function methodNotAllowed(message = 'the server does not allow this method on the requested resource'): ApiError {
  return new ApiError(405, 'MethodNotAllowed', message, {})
}

/** A resourceVersion older than what the server still has: clients relist. */
export function expired(message: string): ApiError {
  return new ApiError(410, 'Expired', message)
}

export function gone(message: string): ApiError {
  return new ApiError(410, 'Gone', message)
}

export function tooLarge(message = 'Request entity too large: limit is 3145728'): ApiError {
  return new ApiError(413, 'RequestEntityTooLarge', message)
}

export function unsupportedMediaType(contentType: string): ApiError {
  return new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf; got ${contentType}`)
}

export function internalError(err: unknown): ApiError {
  const msg = err instanceof Error ? err.message : String(err)
  return new ApiError(500, 'InternalError', `Internal error occurred: ${msg}`, { causes: [{ message: msg }] })
}

export function serviceUnavailable(message: string): ApiError {
  return new ApiError(503, 'ServiceUnavailable', message)
}

export function timeout(message: string, retryAfterSeconds?: number): ApiError {
  return new ApiError(504, 'Timeout', message, retryAfterSeconds === undefined ? {} : { retryAfterSeconds })
}

export function forbidden(message: string): ApiError {
  return new ApiError(403, 'Forbidden', message)
}

/** A Success Status (DELETE of a collection or of an object that is gone at once, as Kubernetes answers some deletes). */
export function success(details?: StatusDetails): Status {
  const s: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 200 }
  if (details !== undefined) s.details = details
  return s
}
