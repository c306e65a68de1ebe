// A pod's node affinity as the scheduler's filters read it, parsed once per PodInfo
// (Filter asks for hundreds of nodes); the matching rules are in src/api/node-selector.ts.
import { isRecord, rec, recs, type Json } from '../../../api/json.js'
import { parseNodeSelector, parsePreferredTerms, type PreferredSchedulingTerms, RequiredNodeAffinity } from '../../../api/node-selector.js'
import type { PodInfo } from '../../framework/node-info.js'

export interface PodNodeAffinity {
  readonly required: RequiredNodeAffinity
  /** The pod has spec.nodeSelector or required node affinity (NodeAffinity's PreFilter does not skip). */
  readonly hasRequired: boolean
  /** The raw required terms, for the PreFilter's node-name shortcut. */
  readonly requiredTerms: readonly Json[] | undefined
  /** Preferred terms with their weights; empty when there are none. */
  readonly preferred: PreferredSchedulingTerms
}

const cache = new WeakMap<PodInfo, PodNodeAffinity>()

export function podNodeAffinity(pod: PodInfo): PodNodeAffinity {
  let a = cache.get(pod)
  if (a === undefined) {
    const spec = rec(pod.pod.spec)
    const na = rec(rec(spec.affinity).nodeAffinity)
    const requiredRaw = na.requiredDuringSchedulingIgnoredDuringExecution
    const hasAffinity = isRecord(requiredRaw)
    const nodeSelector = isRecord(spec.nodeSelector) ? (spec.nodeSelector as Record<string, string>) : undefined
    a = {
      required: new RequiredNodeAffinity(nodeSelector, hasAffinity ? parseNodeSelector(requiredRaw) : undefined),
      hasRequired: hasAffinity || nodeSelector !== undefined,
      requiredTerms: hasAffinity ? recs(rec(requiredRaw).nodeSelectorTerms) : undefined,
      preferred: parsePreferredTerms(na.preferredDuringSchedulingIgnoredDuringExecution),
    }
    cache.set(pod, a)
  }
  return a
}
