// The shape every Kubernetes object shares on the wire: ObjectMeta and owner
// references. It lives in the api layer so pure API code (volume matching, …) can
// name it; the client re-exports it.

export interface OwnerReference {
  apiVersion: string
  kind: string
  name: string
  uid: string
  controller?: boolean
  blockOwnerDeletion?: boolean
}

export interface ObjectMeta {
  name?: string
  generateName?: string
  namespace?: string
  uid?: string
  resourceVersion?: string
  generation?: number
  creationTimestamp?: string | null
  deletionTimestamp?: string
  deletionGracePeriodSeconds?: number
  labels?: Record<string, string>
  annotations?: Record<string, string>
  ownerReferences?: OwnerReference[]
  finalizers?: string[]
  managedFields?: unknown[]
  /** Fields this type does not name; also lets ObjectMeta pass where a plain JSON record is expected. */
  [field: string]: unknown
}

/** Any Kubernetes object as JSON. Objects handed out by informers are shared: never mutate them. */
export interface KubeObject {
  apiVersion?: string
  kind?: string
  metadata?: ObjectMeta
  [field: string]: unknown
}
