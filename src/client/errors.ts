// Errors a caller can act on: ApiError carries the server's Status (as
// apimachinery's StatusError); ConnectionError is a master that could not be reached
// or answered too late. The is* predicates mirror k8s.io/apimachinery/pkg/api/errors.
import { LEASE_FENCED } from '../api/fencing.js'
import { isStatus, type Status, type StatusDetails } from './types.js'

export class ApiError extends Error {
  readonly code: number
  /** Status.reason, or '' when the server gave none (then predicates fall back on the code). */
  readonly reason: string
  readonly details: StatusDetails | undefined

  constructor(readonly status: Status) {
    super(status.message ?? `the server responded with code ${status.code ?? 0}`)
    this.name = 'ApiError'
    this.code = status.code ?? 0
    this.reason = status.reason ?? ''
    this.details = status.details
  }

  /** The server's Retry-After hint in seconds, from the Status or the header. */
  get retryAfterSeconds(): number | undefined {
    return this.details?.retryAfterSeconds
  }
}

// What client-go says when a response is not a Status (a proxy, a load balancer, …).
const genericByCode: Record<number, [string, string]> = {
  400: ['BadRequest', 'the server rejected our request for an unknown reason'],
  401: ['Unauthorized', 'the server has asked for the client to provide credentials'],
  403: ['Forbidden', 'the server does not allow access to the requested resource'],
  404: ['NotFound', 'the server could not find the requested resource'],
  405: ['MethodNotAllowed', 'the server does not allow this method on the requested resource'],
  406: ['NotAcceptable', 'the server was unable to respond with a content type that the client supports'],
  409: ['Conflict', 'the server reported a conflict'],
  410: ['Gone', 'the server has asked for the client to discard its cached data'],
  413: ['RequestEntityTooLarge', 'the server has rejected the request because the request entity is too large'],
  415: ['UnsupportedMediaType', 'the server was unable to respond with a content type that the client supports'],
  422: ['Invalid', 'the server rejected our request due to an error in our request'],
  429: ['TooManyRequests', 'the server has received too many requests and has asked us to try again later'],
  500: ['InternalError', 'an error on the server has prevented the request from succeeding'],
  503: ['ServiceUnavailable', 'the server is currently unable to handle the request'],
  504: ['Timeout', 'the server was unable to return a response in the time allotted, but may still be processing the request'],
}

/** The ApiError for a non-2xx response: its Status when the body is one, otherwise a generic Status for the code. */
export function errorFromResponse(code: number, body: Buffer | string, retryAfterHeader?: string): ApiError {
  const text = typeof body === 'string' ? body : body.toString('utf8')
  let status: Status | undefined
  try {
    const parsed: unknown = JSON.parse(text)
    if (isStatus(parsed)) status = { ...parsed, code: parsed.code ?? code }
  } catch {
    // not JSON: fall through to a generic Status
  }
  if (status === undefined) {
    const [reason, message] = genericByCode[code] ?? ['', `the server responded with the status code ${code} but did not return more information`]
    const trimmed = text.trim()
    const causes = trimmed === '' ? undefined : [{ reason: 'UnexpectedServerResponse', message: trimmed.slice(0, 1024) }]
    status = { kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message, details: causes === undefined ? {} : { causes } }
  }
  const retry = retryAfterHeader === undefined ? NaN : Number(retryAfterHeader)
  if (Number.isFinite(retry) && status.details?.retryAfterSeconds === undefined) {
    status = { ...status, details: { ...status.details, retryAfterSeconds: retry } }
  }
  return new ApiError(status)
}

/** A master that refused, reset, or did not answer in time. */
export class ConnectionError extends Error {
  constructor(
    message: string,
    /** ECONNREFUSED, ECONNRESET, ETIMEDOUT, … */
    readonly code: string,
    readonly url: string,
    /** The request surely never reached the server, so any verb may be sent again. */
    readonly notSent: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options)
    this.name = 'ConnectionError'
  }
}

export function isConnectionError(err: unknown): err is ConnectionError {
  return err instanceof ConnectionError
}

function is(err: unknown, reason: string, code: number): boolean {
  if (!(err instanceof ApiError)) return false
  return err.reason === reason || (err.reason === '' && err.code === code)
}

export const isNotFound = (err: unknown): boolean => is(err, 'NotFound', 404)
export const isAlreadyExists = (err: unknown): boolean => is(err, 'AlreadyExists', -1)
export const isConflict = (err: unknown): boolean => is(err, 'Conflict', 409)
export const isInvalid = (err: unknown): boolean => is(err, 'Invalid', 422)
export const isBadRequest = (err: unknown): boolean => is(err, 'BadRequest', 400)
export const isUnauthorized = (err: unknown): boolean => is(err, 'Unauthorized', 401)
export const isForbidden = (err: unknown): boolean => is(err, 'Forbidden', 403)
export const isGone = (err: unknown): boolean => is(err, 'Gone', 410)
export const isExpired = (err: unknown): boolean => is(err, 'Expired', -1)
export const isTooManyRequests = (err: unknown): boolean => is(err, 'TooManyRequests', 429)
export const isServiceUnavailable = (err: unknown): boolean => is(err, 'ServiceUnavailable', 503)
export const isInternalError = (err: unknown): boolean => is(err, 'InternalError', 500)
export const isServerTimeout = (err: unknown): boolean => is(err, 'Timeout', 504)
export const isMethodNotAllowed = (err: unknown): boolean => is(err, 'MethodNotAllowed', 405)

/** A create refused because its namespace is being deleted (client-go: HasStatusCause(err, NamespaceTerminatingCause)). */
export function isNamespaceTerminating(err: unknown): boolean {
  return err instanceof ApiError && (err.details?.causes ?? []).some((c) => c.reason === 'NamespaceTerminating')
}

/** A resourceVersion the server no longer has (410 Gone or Expired): list again. */
export function isResourceExpired(err: unknown): boolean {
  return err instanceof ApiError && (err.code === 410 || err.reason === 'Expired' || err.reason === 'Gone')
}

/** 504 "Too large resource version": the server has not caught up to a version we saw elsewhere. */
export function isTooLargeResourceVersion(err: unknown): boolean {
  if (!(err instanceof ApiError) || err.code !== 504) return false
  return (err.details?.causes ?? []).some((c) => c.reason === 'ResourceVersionTooLarge') || /Too large resource version/i.test(err.message)
}

/** A 409 because the write's Lease is (no longer) held by the writer (see src/api/fencing.ts), from the server or refused locally. */
export function isFencedError(err: unknown): boolean {
  return err instanceof ApiError && err.code === 409 && (err.details?.causes ?? []).some((c) => c.reason === LEASE_FENCED)
}
