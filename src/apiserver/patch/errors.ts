// Errors the patch functions raise, shaped as the Kubernetes `Status` kube-apiserver
// answers with: code, reason (absent where Kubernetes reports none, i.e. errors it did
// not classify, which reach clients as a bare 500), message and details. The registry
// turns one into its Status response as is.

export interface PatchStatusCause {
  readonly reason?: string
  readonly message?: string
  readonly field?: string
}

export interface PatchStatusDetails {
  readonly causes?: readonly PatchStatusCause[]
}

export class PatchError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string | undefined,
    message: string,
    readonly details?: PatchStatusDetails,
  ) {
    super(message)
    this.name = 'PatchError'
  }
}

/** 400 BadRequest (apimachinery's NewBadRequest). */
export function badRequest(message: string): PatchError {
  return new PatchError(400, 'BadRequest', message)
}

/**
 * 422 as NewGenericServerResponse builds it: kube-apiserver drops the underlying
 * message, so clients read only this fixed text (e.g. for a failed JSON patch `test`).
 */
export function unprocessable(): PatchError {
  return new PatchError(422, 'Invalid', 'the server rejected our request due to an error in our request', {})
}

/** 422 Invalid with one `patch` field cause, as the patch handler reports undecodable results. */
export function invalidPatch(value: string, detail: string): PatchError {
  const message = `patch: Invalid value: ${JSON.stringify(value)}: ${detail}`
  return new PatchError(422, 'Invalid', ` "" is invalid: ${message}`, {
    causes: [{ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(value)}: ${detail}`, field: 'patch' }],
  })
}

/** An error Kubernetes does not classify: 500 with no reason, its message as is. */
export function unclassified(message: string): PatchError {
  return new PatchError(500, undefined, message)
}

/** 413, e.g. a JSON patch with more than 10,000 operations. */
export function tooLarge(message: string): PatchError {
  return new PatchError(413, 'RequestEntityTooLarge', message)
}
