// The informers the node lifecycle and taint eviction controllers read: Nodes, the
// node Leases in kube-node-lease, and Pods indexed by the node they are bound to
// (both controllers ask "which pods run on this node?" on every pass).
import { fieldIndexFunc, type KubeObject, type SharedIndexInformer } from '../../client/index.js'
import type { ControllerContext } from '../types.js'
import { LEASES, NODES, PODS } from '../util/resources.js'

export const NODE_LEASE_NAMESPACE = 'kube-node-lease'
export const NODE_NAME_INDEX = 'spec.nodeName'

export function nodeInformer(ctx: ControllerContext): SharedIndexInformer {
  return ctx.informers.forResource(NODES)
}

export function nodeLeaseInformer(ctx: ControllerContext): SharedIndexInformer {
  return ctx.informers.forResource(LEASES, { namespace: NODE_LEASE_NAMESPACE })
}

export function podInformer(ctx: ControllerContext): SharedIndexInformer {
  return ctx.informers.forResource(PODS, { indexers: { [NODE_NAME_INDEX]: fieldIndexFunc('spec.nodeName') } })
}

export function podsOnNode(pods: SharedIndexInformer, nodeName: string): KubeObject[] {
  return pods.indexer.byIndex(NODE_NAME_INDEX, nodeName)
}

export function nodeLease(leases: SharedIndexInformer, nodeName: string): KubeObject | undefined {
  return leases.indexer.getByKey(`${NODE_LEASE_NAMESPACE}/${nodeName}`)
}
