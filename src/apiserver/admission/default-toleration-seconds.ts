// DefaultTolerationSeconds admission (kube-apiserver's plugin of that name): a pod
// created without tolerations for the not-ready and unreachable NoExecute taints gets
// them with 300 s, so when its node is lost the node lifecycle controller evicts it
// after five minutes rather than at once, and its controller replaces it elsewhere.
import type { ResourceType } from '../../api/resources.js'
import { TAINT_NODE_NOT_READY, TAINT_NODE_UNREACHABLE } from '../../api/taints.js'
import type { KubeObject } from '../watch-cache/types.js'

type Json = Record<string, unknown>

/** kube-apiserver's --default-not-ready-toleration-seconds and --default-unreachable-toleration-seconds. */
export const DEFAULT_TOLERATION_SECONDS = 300

export function addDefaultTolerations(op: 'CREATE' | 'UPDATE' | 'DELETE', rt: ResourceType, obj: KubeObject, seconds = DEFAULT_TOLERATION_SECONDS): void {
  if (op !== 'CREATE' || rt.group !== '' || rt.kind !== 'Pod') return
  const spec = (obj.spec ?? {}) as Json
  const tolerations = Array.isArray(spec.tolerations) ? (spec.tolerations as Json[]) : []
  // As upstream: any toleration with that key (or no key) and that effect (or none) counts, whatever its operator.
  const covers = (key: string): boolean =>
    tolerations.some((t) => (t.key === key || t.key === undefined || t.key === '') && (t.effect === 'NoExecute' || t.effect === undefined || t.effect === ''))
  const added: Json[] = []
  for (const key of [TAINT_NODE_NOT_READY, TAINT_NODE_UNREACHABLE]) {
    if (!covers(key)) added.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds })
  }
  if (added.length === 0) return
  spec.tolerations = [...tolerations, ...added]
  obj.spec = spec
}
