// Fenced clients: the writes of a leader-only loop name the Lease its leadership rests
// on, and the apiserver lets them land only while that Lease is held by that identity
// (checked in the same store transaction as the write, see src/apiserver's fence
// headers). The client also refuses on its own, before sending, whenever its elector
// says it does not lead, so a loop that missed its stop signal cannot even try.
import { FENCE_HEADER, FENCE_HOLDER_HEADER, LEASE_FENCED } from '../api/fencing.js'
import { ApiError, isFencedError } from '../client/errors.js'
import { RestClient, type RestClientOptions } from '../client/rest.js'

export { FENCE_HEADER, FENCE_HOLDER_HEADER, isFencedError, LEASE_FENCED }

export interface Fence {
  /** `<namespace>/<name>` */
  lease: string
  holder: string
}

/** Where a fenced client learns, at each request, whether it may write and as whom. */
export interface FenceSource {
  /** The fence to send now, or undefined when not leading (the request is refused). */
  fence(): Fence | undefined
  /** `<namespace>/<name>`, for the refusal's message. */
  readonly lease: string
  readonly identity: string
}

export function fenceHeaders(f: Fence): Record<string, string> {
  return { [FENCE_HEADER]: f.lease, [FENCE_HOLDER_HEADER]: f.holder }
}

/** The 409 a fenced client throws without asking the server: shaped as the server's own. */
export function leaseFencedError(lease: string, identity: string): ApiError {
  const why = `the write is fenced by lease ${lease}, which "${identity}" does not hold`
  return new ApiError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    code: 409,
    reason: 'Conflict',
    message: `Operation cannot be fulfilled: ${why}`,
    details: { causes: [{ reason: LEASE_FENCED, message: why, field: 'metadata' }] },
  })
}

/**
 * A RestClient whose every request carries the fence current at that moment (each
 * retry asks again) and that refuses with leaseFencedError while there is none. The
 * base's own headers are kept. It is a new client: close() it when the loop ends.
 */
export function fencedClient(base: RestClient | RestClientOptions, source: FenceSource): RestClient {
  const opts = base instanceof RestClient ? base.options : base
  const own = opts.headers
  return new RestClient({
    ...opts,
    headers: () => {
      const f = source.fence()
      if (f === undefined) throw leaseFencedError(source.lease, source.identity)
      const baseHeaders = typeof own === 'function' ? own() : own
      return { ...baseHeaders, ...fenceHeaders(f) }
    },
  })
}
