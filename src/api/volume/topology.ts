// Where a volume can be used and where a class can provision one: a PersistentVolume's
// required node affinity (upstream's CheckNodeAffinity), the nodes a local volume is
// pinned to by hostname (GetLocalPersistentVolumeNodeNames, which lets VolumeBinding's
// PreFilter name the only candidate nodes) and a StorageClass's allowedTopologies
// (MatchTopologySelectorTerms). Parsed node selectors are kept per volume object, since
// Filter asks the same question of every node.
import { rec, recs, str, strs } from '../json.js'
import { type Labels, type NodeSelector, parseNodeSelector } from '../node-selector.js'
import type { KubeObject } from '../object.js'

export const LABEL_HOSTNAME = 'kubernetes.io/hostname'

/** null: the volume has no required node affinity (every node will do). */
const parsed = new WeakMap<KubeObject, NodeSelector | null>()

function requiredAffinity(volume: KubeObject): NodeSelector | null {
  let sel = parsed.get(volume)
  if (sel === undefined) {
    const required = rec(rec(volume.spec).nodeAffinity).required
    sel = required == null ? null : parseNodeSelector(required)
    parsed.set(volume, sel)
  }
  return sel
}

/**
 * Whether a node with these labels satisfies the volume's required node affinity.
 * Upstream matches against a node that has labels only, so `matchFields` terms are
 * not checked; we do the same.
 */
export function volumeNodeAffinityMatches(volume: KubeObject, nodeLabels: Labels): boolean {
  const sel = requiredAffinity(volume)
  return sel === null || sel.matches(nodeLabels, '')
}

/**
 * The nodes a volume is pinned to by `kubernetes.io/hostname In […]` (assuming, as
 * upstream does, that a node's hostname label is its name); undefined when some term
 * does not pin it that way.
 */
export function localVolumeNodeNames(volume: KubeObject): ReadonlySet<string> | undefined {
  const required = rec(rec(volume.spec).nodeAffinity).required
  if (required == null) return undefined
  const terms = recs(rec(required).nodeSelectorTerms)
  if (terms.length === 0) return undefined
  const names = new Set<string>()
  for (const term of terms) {
    let termNames: Set<string> | undefined
    for (const e of recs(term.matchExpressions)) {
      if (str(e.key) !== LABEL_HOSTNAME || str(e.operator) !== 'In') continue
      const values = new Set(strs(e.values))
      termNames = termNames === undefined ? values : new Set([...termNames].filter((n) => values.has(n)))
    }
    // A term without a hostname requirement allows nodes we cannot name.
    if (termNames === undefined) return undefined
    for (const n of termNames) names.add(n)
  }
  return names
}

/** Whether a node with these labels is in one of the class's allowedTopologies (none: everywhere). */
export function allowedTopologiesMatch(storageClass: KubeObject, nodeLabels: Labels): boolean {
  const terms = recs(storageClass.allowedTopologies)
  if (terms.length === 0) return true
  for (const term of terms) {
    const exprs = recs(term.matchLabelExpressions)
    // An empty term selects nothing.
    if (exprs.length === 0) continue
    const matches = exprs.every((e) => {
      const v = nodeLabels[str(e.key)]
      return v !== undefined && strs(e.values).includes(v)
    })
    if (matches) return true
  }
  return false
}
