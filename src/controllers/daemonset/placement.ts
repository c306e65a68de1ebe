// Where a DaemonSet's pods belong (upstream NodeShouldRunDaemonPod): on every node its
// template's nodeSelector and required node affinity match and whose NoSchedule and
// NoExecute taints it tolerates, counting the tolerations every daemon pod gets. A
// pod already running stays unless an untolerated NoExecute taint appears. Pods are
// pinned to their node by a node affinity on metadata.name, and the scheduler binds them.
import { podRequiredNodeAffinity } from '../../api/node-selector.js'
import { findUntoleratedTaint, parseTaints, parseTolerations, TAINT_NODE_NOT_READY, TAINT_NODE_UNREACHABLE, TAINT_NODE_UNSCHEDULABLE } from '../../api/taints.js'
import type { KubeObject } from '../../client/index.js'

type Json = Record<string, unknown>

/** The tolerations upstream adds to every daemon pod (network-unavailable only with hostNetwork). */
export function daemonTolerations(hostNetwork: boolean): Json[] {
  const t = [
    { key: TAINT_NODE_NOT_READY, operator: 'Exists', effect: 'NoExecute' },
    { key: TAINT_NODE_UNREACHABLE, operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: TAINT_NODE_UNSCHEDULABLE, operator: 'Exists', effect: 'NoSchedule' },
  ]
  if (hostNetwork) t.push({ key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' })
  return t
}

/** The pod spec with the daemon tolerations added where no toleration of that key and effect exists. */
export function withDaemonTolerations(spec: Json): Json {
  const existing = Array.isArray(spec.tolerations) ? (spec.tolerations as Json[]) : []
  const added = daemonTolerations(spec.hostNetwork === true).filter((d) => !existing.some((e) => e.key === d.key && e.effect === d.effect))
  return added.length === 0 ? spec : { ...spec, tolerations: [...existing, ...added] }
}

export interface Placement {
  shouldRun: boolean
  shouldContinueRunning: boolean
}

/** `podSpec`: the template's spec with the daemon tolerations. */
export function placement(node: KubeObject, podSpec: Json): Placement {
  const name = node.metadata?.name ?? ''
  if (typeof podSpec.nodeName === 'string' && podSpec.nodeName !== '' && podSpec.nodeName !== name) return { shouldRun: false, shouldContinueRunning: false }
  const pod = { spec: podSpec }
  if (!podRequiredNodeAffinity(pod).matches(node.metadata?.labels ?? {}, name)) return { shouldRun: false, shouldContinueRunning: false }
  const taints = parseTaints(node)
  const tolerations = parseTolerations(pod)
  const blocking = findUntoleratedTaint(
    taints.filter((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute'),
    tolerations,
  )
  if (blocking === undefined) return { shouldRun: true, shouldContinueRunning: true }
  const evicting = findUntoleratedTaint(
    taints.filter((t) => t.effect === 'NoExecute'),
    tolerations,
  )
  return { shouldRun: false, shouldContinueRunning: evicting === undefined }
}

/** The spec for the pod on `node`: required node affinity replaced by the node's name. */
export function pinToNode(spec: Json, node: string): Json {
  const affinity = { ...((spec.affinity ?? {}) as Json) }
  affinity.nodeAffinity = {
    ...((affinity.nodeAffinity ?? {}) as Json),
    requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [node] }] }] },
  }
  return { ...spec, affinity }
}

/** The node a daemon pod is for: its nodeName once bound, else the node its affinity pins it to. */
export function targetNode(pod: KubeObject): string | undefined {
  const spec = (pod.spec ?? {}) as Json
  if (typeof spec.nodeName === 'string' && spec.nodeName !== '') return spec.nodeName
  const terms = ((((spec.affinity as Json | undefined)?.nodeAffinity as Json | undefined)?.requiredDuringSchedulingIgnoredDuringExecution as Json | undefined)?.nodeSelectorTerms ?? []) as Json[]
  for (const term of terms) {
    for (const f of (term.matchFields ?? []) as Json[]) {
      const values = f.values as string[] | undefined
      if (f.key === 'metadata.name' && f.operator === 'In' && values?.length === 1) return values[0]
    }
  }
  return undefined
}
