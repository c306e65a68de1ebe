// The wire contract of fenced writes (our addition to the Kubernetes API), shared by
// the apiserver that checks them and the clients that send them: a write names the
// Lease its writer's leadership rests on and the writer's identity, and lands only
// while that Lease is held by that identity; otherwise it is a 409 Conflict whose
// Status carries a cause with reason LeaseFenced.

/** `<namespace>/<name>` of the Lease a write is conditioned on. */
export const FENCE_HEADER = 'x-raftplane-fence'
/** The holderIdentity the Lease must have for the write to land. */
export const FENCE_HOLDER_HEADER = 'x-raftplane-fence-holder'
/** The StatusCause reason of a fenced write. */
export const LEASE_FENCED = 'LeaseFenced'
