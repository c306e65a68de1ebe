// A StatefulSet pod's identity: its name `<set>-<ordinal>`, the ordinal and pod-name
// labels, hostname and subdomain from the governing service, and its claims
// `<template>-<set>-<ordinal>` mounted in place of the template's volumes of that name.
// Ordinals give the pods their order and the names give them uniqueness: the API
// server refuses a second pod of the same name, so two pods can never share an
// ordinal, whichever master's controller creates them.
import type { KubeObject, OwnerReference } from '../../client/index.js'
import { podFromTemplate } from '../util/pod-control.js'
import { CONTROLLER_REVISION_HASH_LABEL } from '../util/history.js'

type Json = Record<string, unknown>

export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name'
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index'

export function startOrdinal(set: KubeObject): number {
  const start = ((set.spec as Json | undefined)?.ordinals as Json | undefined)?.start
  return typeof start === 'number' ? start : 0
}

/** The pod's ordinal when it is named as a pod of `setName`, else undefined. */
export function ordinalOf(setName: string, pod: KubeObject): number | undefined {
  const name = pod.metadata?.name ?? ''
  if (!name.startsWith(`${setName}-`)) return undefined
  const rest = name.slice(setName.length + 1)
  return /^(0|[1-9][0-9]*)$/.test(rest) ? Number(rest) : undefined
}

export function podName(setName: string, ordinal: number): string {
  return `${setName}-${ordinal}`
}

export function claimTemplates(set: KubeObject): Json[] {
  const t = (set.spec as Json | undefined)?.volumeClaimTemplates
  return Array.isArray(t) ? (t as Json[]) : []
}

export function claimName(template: Json, setName: string, ordinal: number): string {
  return `${String((template.metadata as Json | undefined)?.name ?? '')}-${podName(setName, ordinal)}`
}

function serviceName(set: KubeObject): string | undefined {
  const s = (set.spec as Json | undefined)?.serviceName
  return typeof s === 'string' && s !== '' ? s : undefined
}

/** The new pod for `ordinal` from a revision's template. */
export function newPod(set: KubeObject, template: Json, revisionName: string, ordinal: number, ref: OwnerReference): KubeObject {
  const setName = set.metadata?.name ?? ''
  const pod = podFromTemplate(template, setName, ref)
  const name = podName(setName, ordinal)
  delete pod.metadata!.generateName
  pod.metadata!.name = name
  pod.metadata!.labels = { ...pod.metadata!.labels, [CONTROLLER_REVISION_HASH_LABEL]: revisionName }
  applyIdentity(set, pod, ordinal)
  const spec = pod.spec as Json
  const volumes = Array.isArray(spec.volumes) ? (spec.volumes as Json[]) : []
  const claims = claimTemplates(set)
  const claimVolumes = claims.map((c) => ({ name: String((c.metadata as Json | undefined)?.name ?? ''), persistentVolumeClaim: { claimName: claimName(c, setName, ordinal) } }))
  const names = new Set(claimVolumes.map((v) => v.name))
  spec.volumes = [...volumes.filter((v) => !names.has(String(v.name))), ...claimVolumes]
  if ((spec.volumes as Json[]).length === 0) delete spec.volumes
  return pod
}

/** Sets the identity labels, hostname and subdomain; true when the pod changed. */
export function applyIdentity(set: KubeObject, pod: KubeObject, ordinal: number): boolean {
  const name = podName(set.metadata?.name ?? '', ordinal)
  const meta = pod.metadata!
  const spec = (pod.spec ?? {}) as Json
  let changed = false
  const labels = { ...meta.labels }
  if (labels[POD_NAME_LABEL] !== name) {
    labels[POD_NAME_LABEL] = name
    changed = true
  }
  if (labels[POD_INDEX_LABEL] !== String(ordinal)) {
    labels[POD_INDEX_LABEL] = String(ordinal)
    changed = true
  }
  meta.labels = labels
  if (spec.hostname !== name) {
    spec.hostname = name
    changed = true
  }
  const subdomain = serviceName(set)
  if (subdomain !== undefined && spec.subdomain !== subdomain) {
    spec.subdomain = subdomain
    changed = true
  }
  pod.spec = spec
  return changed
}

/** True when the pod has the identity applyIdentity would give it. */
export function identityMatches(set: KubeObject, pod: KubeObject, ordinal: number): boolean {
  const copy: KubeObject = { metadata: { ...pod.metadata }, spec: { ...(pod.spec as Json) } }
  return !applyIdentity(set, copy, ordinal)
}

/** The claim for `ordinal` from its template: the set's selector labels join the template's. */
export function newClaim(set: KubeObject, template: Json, ordinal: number): KubeObject {
  const setName = set.metadata?.name ?? ''
  const meta = (template.metadata ?? {}) as Json
  const selectorLabels = (((set.spec as Json | undefined)?.selector as Json | undefined)?.matchLabels ?? {}) as Record<string, string>
  const labels = { ...((meta.labels ?? {}) as Record<string, string>), ...selectorLabels }
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name: claimName(template, setName, ordinal),
      namespace: set.metadata?.namespace,
      labels,
      ...(meta.annotations === undefined ? {} : { annotations: structuredClone(meta.annotations) as Record<string, string> }),
    },
    spec: structuredClone(template.spec ?? {}),
  }
}
