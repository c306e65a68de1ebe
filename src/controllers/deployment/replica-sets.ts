// A Deployment's ReplicaSets: which one is "new" (runs the Deployment's current pod
// template, whatever its pod-template-hash), which are old, how they are ordered for
// scaling, their summed counts, and the ReplicaSet a template gets: named
// `<deployment>-<hash>`, with the hash in its name, labels, selector and pod template
// so the pods of different templates never overlap.
import { semanticEqual, type Json } from '../../api/json.js'
import type { KubeObject, OwnerReference } from '../../client/index.js'
import { computeHash } from '../util/hash.js'
import { desiredReplicasAnnotation } from './annotations.js'
import { availableReplicas, creationTime, nameOf, readyReplicas, replicas, specOf, statusReplicas, templateOf, uidOf } from './fields.js'

/** apps/v1 DefaultDeploymentUniqueLabelKey. */
export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash'

/** Oldest first, by name when created in the same second (controller.ReplicaSetsByCreationTimestamp). */
export function byCreation(a: KubeObject, b: KubeObject): number {
  const d = creationTime(a) - creationTime(b)
  if (d !== 0) return d
  const an = nameOf(a)
  const bn = nameOf(b)
  return an < bn ? -1 : an > bn ? 1 : 0
}

/** Largest first; equal sizes newest first (ReplicaSetsBySizeNewer: who grows first when scaling up). */
export function bySizeNewer(a: KubeObject, b: KubeObject): number {
  return replicas(b) - replicas(a) || byCreation(b, a)
}

/** Largest first; equal sizes oldest first (ReplicaSetsBySizeOlder: who shrinks first when scaling down). */
export function bySizeOlder(a: KubeObject, b: KubeObject): number {
  return replicas(b) - replicas(a) || byCreation(a, b)
}

/** ReplicaSets asked to run pods (spec.replicas > 0). */
export function filterActive(rss: readonly (KubeObject | undefined)[]): KubeObject[] {
  return rss.filter((rs): rs is KubeObject => rs !== undefined && replicas(rs) > 0)
}

const sum = (rss: readonly (KubeObject | undefined)[], f: (rs: KubeObject) => number): number => rss.reduce((n, rs) => n + (rs === undefined ? 0 : f(rs)), 0)

/** Sum of spec.replicas. */
export const specReplicaCount = (rss: readonly (KubeObject | undefined)[]): number => sum(rss, replicas)
/** Sum of status.replicas: pods that exist. */
export const actualReplicaCount = (rss: readonly (KubeObject | undefined)[]): number => sum(rss, statusReplicas)
export const readyReplicaCount = (rss: readonly (KubeObject | undefined)[]): number => sum(rss, readyReplicas)
export const availableReplicaCount = (rss: readonly (KubeObject | undefined)[]): number => sum(rss, availableReplicas)

function withoutHashLabel(template: Json): Json {
  const meta = { ...((template.metadata as Json | undefined) ?? {}) }
  if (meta.labels !== undefined && meta.labels !== null) {
    const { [POD_TEMPLATE_HASH_LABEL]: _hash, ...labels } = meta.labels as Record<string, string>
    meta.labels = labels
  }
  return { ...template, metadata: meta }
}

/**
 * Two pod templates are the same once pod-template-hash is set aside: the hash of a
 * template can change when the API gains fields, and the Deployment's own template has none.
 */
export function equalIgnoreHash(a: Json, b: Json): boolean {
  return semanticEqual(withoutHashLabel(a), withoutHashLabel(b))
}

/** The ReplicaSet running the Deployment's template; the oldest if several do. */
export function findNewReplicaSet(d: KubeObject, rsList: readonly KubeObject[]): KubeObject | undefined {
  const template = templateOf(d)
  return [...rsList].sort(byCreation).find((rs) => equalIgnoreHash(templateOf(rs), template))
}

/** Every ReplicaSet but the new one. */
export function findOldReplicaSets(d: KubeObject, rsList: readonly KubeObject[]): KubeObject[] {
  const newRS = findNewReplicaSet(d, rsList)
  return rsList.filter((rs) => newRS === undefined || uidOf(rs) !== uidOf(newRS))
}

/**
 * The only active ReplicaSet, or the newest when none is active; undefined when
 * several are active and a resize must be shared among them (upstream FindActiveOrLatest).
 */
export function findActiveOrLatest(newRS: KubeObject | undefined, oldRSs: readonly KubeObject[]): KubeObject | undefined {
  if (newRS === undefined && oldRSs.length === 0) return undefined
  const newestFirst = [...oldRSs].sort((a, b) => byCreation(b, a))
  const active = filterActive([...newestFirst, newRS])
  if (active.length === 0) return newRS ?? newestFirst[0]
  return active.length === 1 ? active[0] : undefined
}

/** The new ReplicaSet runs every desired pod, all available, and was sized for this Deployment size. */
export function isSaturated(d: KubeObject, rs: KubeObject | undefined): boolean {
  if (rs === undefined) return false
  const desired = desiredReplicasAnnotation(rs)
  if (desired === undefined) return false
  return replicas(rs) === replicas(d) && desired === replicas(d) && availableReplicas(rs) === replicas(d)
}

/**
 * The ReplicaSet for the Deployment's current template, before its replicas and
 * annotations are decided: `<deployment>-<hash>`, the hash taken over the template
 * and status.collisionCount, owned by the Deployment.
 */
export function newReplicaSetFor(d: KubeObject, collisionCount: number | undefined, ownerRef: OwnerReference): KubeObject {
  const template = structuredClone(templateOf(d))
  const hash = computeHash(template, collisionCount)
  const meta = (template.metadata ??= {}) as Json
  const labels = { ...((meta.labels as Record<string, string> | undefined) ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash }
  meta.labels = labels
  const selector = structuredClone((specOf(d).selector as Json | undefined) ?? {})
  selector.matchLabels = { ...((selector.matchLabels as Record<string, string> | undefined) ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash }
  const spec: Json = { replicas: 0, selector, template }
  const minReady = specOf(d).minReadySeconds
  if (typeof minReady === 'number' && minReady !== 0) spec.minReadySeconds = minReady
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: `${nameOf(d)}-${hash}`, namespace: d.metadata?.namespace, ownerReferences: [ownerRef], labels: { ...labels } },
    spec,
  }
}
