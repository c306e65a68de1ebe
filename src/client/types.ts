// The wire shapes the client reads and writes: objects with ObjectMeta, lists, watch
// events, Status and the option bodies of meta.k8s.io/v1. Typed kinds (Pod, Node, …)
// narrow `KubeObject`; the client itself only relies on metadata.

import type { KubeObject } from '../api/object.js'

export type { KubeObject, ObjectMeta, OwnerReference } from '../api/object.js'

export interface ListMeta {
  resourceVersion?: string
  continue?: string
  remainingItemCount?: number
}

export interface KubeList<T extends KubeObject = KubeObject> {
  apiVersion?: string
  kind?: string
  metadata: ListMeta
  items: T[]
}

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

/** meta.k8s.io/v1 Status: what every failed request (and some deletes) answers with. */
export interface Status {
  kind: 'Status'
  apiVersion: string
  metadata?: ListMeta
  status?: 'Success' | 'Failure'
  message?: string
  reason?: string
  details?: StatusDetails
  code?: number
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR'

/** One line of a watch stream. ERROR events carry a Status instead of an object. */
export type WatchEvent<T extends KubeObject = KubeObject> =
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK'; object: T }
  | { type: 'ERROR'; object: Status }

export type PropagationPolicy = 'Foreground' | 'Background' | 'Orphan'

export interface Preconditions {
  uid?: string
  resourceVersion?: string
}

/** autoscaling/v1 Scale, the body of the `scale` subresource. */
export interface Scale extends KubeObject {
  spec?: { replicas?: number }
  status?: { replicas: number; selector?: string }
}

export function isStatus(v: unknown): v is Status {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'Status'
}
