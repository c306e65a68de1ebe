// Kubernetes errors as gRPC statuses: the code that matches the Status (the table in
// proto/node.proto) and the Status itself as JSON in the `k8s-status-bin` trailer, so
// a client rebuilds the exact error kubectl or client-go would have seen over REST.
import * as grpc from '@grpc/grpc-js'
import { storageToApiError } from '../registry/resource-store.js'
import type { ApiError } from '../status.js'

export const STATUS_TRAILER = 'k8s-status-bin'

export function grpcCodeOf(err: ApiError): grpc.status {
  switch (err.code) {
    case 400:
    case 406:
    case 415:
    case 422:
      return grpc.status.INVALID_ARGUMENT
    case 401:
      return grpc.status.UNAUTHENTICATED
    case 403:
      return grpc.status.PERMISSION_DENIED
    case 404:
      return grpc.status.NOT_FOUND
    case 405:
      return grpc.status.UNIMPLEMENTED
    case 409:
      return err.reason === 'AlreadyExists' ? grpc.status.ALREADY_EXISTS : grpc.status.ABORTED
    case 410:
      return grpc.status.OUT_OF_RANGE
    case 413:
    case 429:
      return grpc.status.RESOURCE_EXHAUSTED
    case 503:
      return grpc.status.UNAVAILABLE
    case 504:
      return grpc.status.DEADLINE_EXCEEDED
    default:
      return grpc.status.INTERNAL
  }
}

export function toApiError(err: unknown): ApiError {
  return storageToApiError(err)
}

/** What a handler passes to its callback (or a stream emits) for a failure. */
export function toGrpcError(err: unknown): Partial<grpc.StatusObject> {
  const apiErr = toApiError(err)
  const metadata = new grpc.Metadata()
  metadata.set(STATUS_TRAILER, Buffer.from(JSON.stringify(apiErr.toStatus())))
  return { code: grpcCodeOf(apiErr), details: apiErr.message, metadata }
}
