// The two objects one replica controller serves. Upstream runs the ReplicationController
// through the ReplicaSet controller by converting it; here the controller reads both
// through this description instead. They differ only in where they live (apps/v1 vs
// v1), their event source, and their selector: a LabelSelector for a ReplicaSet, a
// plain label map for a ReplicationController (which the apiserver defaults from the
// template's labels).
import { type Selector, selectorFromLabelSelector, selectorFromSet } from '../../api/labels.js'
import type { ResourceType } from '../../api/resources.js'
import type { KubeObject } from '../../client/index.js'
import { REPLICASETS, REPLICATION_CONTROLLERS } from '../util/resources.js'

type Json = Record<string, unknown>

export interface ReplicaKind {
  /** kube-controller-manager's name for the controller. */
  controllerName: string
  /** The Event source component upstream uses. */
  component: string
  resource: ResourceType
  apiVersion: string
  kind: string
  /** The owner's pod selector; throws LabelSelectorError when it is invalid. */
  selector(owner: KubeObject): Selector
}

function spec(owner: KubeObject): Json {
  const s = owner.spec
  return s !== null && typeof s === 'object' ? (s as Json) : {}
}

export const REPLICA_SET: ReplicaKind = {
  controllerName: 'replicaset',
  component: 'replicaset-controller',
  resource: REPLICASETS,
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  selector: (owner) => selectorFromLabelSelector(spec(owner).selector),
}

export const REPLICATION_CONTROLLER: ReplicaKind = {
  controllerName: 'replicationcontroller',
  component: 'replication-controller',
  resource: REPLICATION_CONTROLLERS,
  apiVersion: 'v1',
  kind: 'ReplicationController',
  selector: (owner) => {
    const sel = spec(owner).selector
    return selectorFromSet(sel !== null && typeof sel === 'object' ? (sel as Record<string, string>) : {})
  },
}

/** spec.replicas (the apiserver defaults it to 1). */
export function desiredReplicas(owner: KubeObject): number {
  const r = spec(owner).replicas
  return typeof r === 'number' ? r : 1
}

export function podTemplate(owner: KubeObject): Json {
  const t = spec(owner).template
  return t !== null && typeof t === 'object' ? (t as Json) : {}
}

export function templateLabels(owner: KubeObject): Record<string, string> {
  const meta = podTemplate(owner).metadata
  const labels = meta !== null && typeof meta === 'object' ? (meta as Json).labels : undefined
  return labels !== null && typeof labels === 'object' ? (labels as Record<string, string>) : {}
}

export function minReadySeconds(owner: KubeObject): number {
  const m = spec(owner).minReadySeconds
  return typeof m === 'number' ? m : 0
}
