// DefaultTolerationSeconds admission (kube-apiserver's plugin of that name): a pod
// created without tolerations for the not-ready and unreachable NoExecute taints gets
// them with 300 s, so when its node is lost the node lifecycle controller evicts it
// after five minutes rather than at once, and its controller replaces it elsewhere.
import { defaultTolerationSeconds } from '../../api/defaults.js'
import type { ResourceType } from '../../api/resources.js'
import type { KubeObject } from '../watch-cache/types.js'

export function addDefaultTolerations(op: 'CREATE' | 'UPDATE' | 'DELETE', rt: ResourceType, obj: KubeObject): void {
  if (op !== 'CREATE' || rt.group !== '' || rt.kind !== 'Pod') return
  defaultTolerationSeconds(obj)
}
