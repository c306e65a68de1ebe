// The node lifecycle controller's writes: a node's taints (one merge patch pinned to
// the resourceVersion it was computed from, recomputed from a fresh read on
// conflict, as upstream's AddOrUpdateTaintOnNode/RemoveTaintOffNode), a silent
// node's conditions through the status subresource, and pods marked not ready.
// Every write goes through the fenced writer.
import type { Taint } from '../../api/taints.js'
import { type EventRecorder, isConflict, isNotFound, type KubeObject, type RestClient } from '../../client/index.js'
import { NODES, PODS } from '../util/resources.js'
import { podNodeName } from '../util/pods.js'
import { type NodeCondition, podStatusNotReady } from './conditions.js'
import { applyTaintChanges, nodeTaints, taintJson } from './taints.js'

/** Attempts per write before giving up until the next pass (upstream retries 5 times). */
const ATTEMPTS = 5

export interface Clients {
  /** Reads that must be fresh (after a conflict). */
  client: RestClient
  /** Every write. */
  writer: RestClient
}

/**
 * Adds `add` to the node's taints and removes `remove`, starting from `node` (the
 * cached copy) and from a fresh read after a conflict. False when the node is gone.
 */
export async function swapNodeTaints(c: Clients, node: KubeObject, add: readonly Taint[], remove: readonly Taint[]): Promise<boolean> {
  const name = node.metadata?.name ?? ''
  let current = node
  for (let attempt = 1; ; attempt++) {
    const next = applyTaintChanges(nodeTaints(current), add, remove)
    if (next === undefined) return true
    try {
      await c.writer.resource(NODES).patch(name, 'merge', {
        metadata: { resourceVersion: current.metadata?.resourceVersion },
        spec: { taints: next.map(taintJson) },
      })
      return true
    } catch (err) {
      if (isNotFound(err)) return false
      if (!isConflict(err) || attempt >= ATTEMPTS) throw err
    }
    try {
      current = await c.client.resource(NODES).get(name)
    } catch (err) {
      if (isNotFound(err)) return false
      throw err
    }
  }
}

/** Writes `conditions` as the node's status conditions; the caller rereads and recomputes on conflict. */
export async function writeNodeConditions(c: Clients, node: KubeObject, conditions: NodeCondition[]): Promise<KubeObject> {
  const status = { ...((node.status ?? {}) as Record<string, unknown>), conditions }
  return c.writer.resource(NODES).updateStatus({ ...node, status })
}

/**
 * Sets the Ready condition of each of the node's pods False (upstream
 * MarkPodsNotReady), with a NodeNotReady warning on each pod changed. Pods deleted
 * meanwhile are skipped; the first other failure is thrown after trying them all.
 */
export async function markPodsNotReady(c: Clients, recorder: EventRecorder, pods: readonly KubeObject[], nodeName: string, nowMs: number): Promise<void> {
  let failure: unknown
  for (const pod of pods) {
    if (podNodeName(pod) !== nodeName) continue
    const status = podStatusNotReady(pod, nowMs)
    if (status === undefined) continue
    try {
      await c.writer.resource(PODS, pod.metadata?.namespace).updateStatus({ ...pod, status })
    } catch (err) {
      if (isNotFound(err)) continue
      failure ??= err
      continue
    }
    recorder.event(podRef(pod), 'Warning', 'NodeNotReady', 'Node is not ready')
  }
  if (failure !== undefined) throw failure
}

/** The object an event about a pod names. */
export function podRef(pod: KubeObject): KubeObject {
  const m = pod.metadata ?? {}
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion } }
}

/** The object an event about a node names. */
export function nodeRef(node: KubeObject): KubeObject {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name: node.metadata?.name, uid: node.metadata?.uid } }
}
