// The one place every node API call is checked before it touches a store. Today all
// calls are allowed; the Node authorizer (a kubelet may only touch its own Node and
// Lease, the pods bound to it, and the ConfigMaps and Secrets those pods use) plugs
// in here, reading who is asking from the call (peer certificate, bearer token in the
// metadata).
import type * as grpc from '@grpc/grpc-js'
import type { ResourceType } from '../../api/resources.js'

export interface NodeRequestAttributes {
  verb: 'get' | 'list' | 'watch' | 'create' | 'update' | 'delete'
  resource: ResourceType
  /** 'status' for status writes, else ''. */
  subresource: string
  /** '' for cluster-scoped resources and for lists and watches across namespaces. */
  namespace: string
  /** '' for lists and watches. */
  name: string
  /** For pod lists and watches: the node whose pods are asked for. */
  nodeName?: string
  /** Who is asking: metadata, peer, TLS auth context. */
  call: CallIdentity
}

/** What a call tells about its caller. */
export type CallIdentity = Pick<grpc.ServerUnaryCall<unknown, unknown>, 'metadata' | 'getPeer' | 'getAuthContext'>

/** Resolves to allow; throws an ApiError (401 Unauthorized, 403 Forbidden) to refuse. */
export type NodeAuthorizer = (attrs: NodeRequestAttributes) => void | Promise<void>

export const allowAll: NodeAuthorizer = () => {}
