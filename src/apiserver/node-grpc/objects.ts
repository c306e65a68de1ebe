// The pure object work behind the node API: decoding JSON bodies as the REST handler
// does, the pod-on-node filter, the registration merge and the node Lease.
import { apiVersionOf, type ResourceType } from '../../api/resources.js'
import { type Meta, metaOf } from '../registry/object-meta.js'
import { badRequest, invalid } from '../status.js'
import type { KubeObject } from '../watch-cache/types.js'

type Json = Record<string, unknown>

function isObject(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

function parseJson(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'))
  } catch (err) {
    throw badRequest(`${what}: json parse error: ${(err as Error).message}`)
  }
}

/** A request's object: JSON of the endpoint's kind (apiVersion/kind filled in when absent, as REST). */
export function decodeObject(bytes: Uint8Array, rt: ResourceType): KubeObject {
  if (bytes.byteLength === 0) throw badRequest(`the body of the request is empty: a ${rt.kind} is required`)
  const obj = parseJson(bytes, rt.kind)
  if (!isObject(obj)) throw badRequest(`${rt.kind} in version "${rt.version}" cannot be handled as a ${rt.kind}: the object is not a JSON object`)
  const want = apiVersionOf(rt)
  if (obj.apiVersion !== undefined && obj.apiVersion !== want) {
    throw badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${want})`)
  }
  if (obj.kind !== undefined && obj.kind !== rt.kind) {
    throw badRequest(`${rt.kind} in version "${rt.version}" cannot be handled as a ${rt.kind}: the kind in the data (${String(obj.kind)}) does not match the expected kind (${rt.kind})`)
  }
  if (obj.metadata !== undefined && !isObject(obj.metadata)) {
    throw badRequest(`${rt.kind} in version "${rt.version}" cannot be handled as a ${rt.kind}: metadata must be an object`)
  }
  obj.apiVersion = want
  obj.kind = rt.kind
  return obj as KubeObject
}

/** A status body (NodeStatus, PodStatus): a JSON object. */
export function decodeStatus(bytes: Uint8Array, kind: string): Json {
  return checkStatus(bytes.byteLength === 0 ? {} : parseJson(bytes, `${kind}Status`), kind)
}

export function checkStatus(status: unknown, kind: string): Json {
  if (!isObject(status)) throw badRequest(`${kind}Status must be a JSON object`)
  return status
}

export function requireName(rt: ResourceType, name: string, field = 'metadata.name'): void {
  if (name !== '') return
  throw invalid(rt.kind, rt.group, '', `${rt.kind} "" is invalid: ${field}: Required value: name is required`, [
    { reason: 'FieldValueRequired', field, message: 'Required value: name is required' },
  ])
}

/** The field selector `spec.nodeName=<node>`. */
export function onNode(nodeName: string): (obj: KubeObject) => boolean {
  return (obj) => isObject(obj.spec) && obj.spec.nodeName === nodeName
}

/**
 * A registering kubelet's view of its Node merged into the stored one: labels and
 * annotations it sets win, spec fields the stored Node lacks are filled in, nothing
 * else is overwritten (a cordon, taints added by the cluster, a podCIDR already
 * allocated). Status is written separately, through the status subresource.
 */
export function mergeRegistration(stored: KubeObject, wanted: KubeObject): KubeObject {
  const next: KubeObject = { ...stored }
  const sm = metaOf(stored)
  const wm = metaOf(wanted)
  const meta: Meta = { ...sm }
  if (wm.labels !== undefined) meta.labels = { ...(sm.labels ?? {}), ...wm.labels }
  if (wm.annotations !== undefined) meta.annotations = { ...(sm.annotations ?? {}), ...wm.annotations }
  next.metadata = meta
  const storedSpec = isObject(stored.spec) ? stored.spec : {}
  const wantedSpec = isObject(wanted.spec) ? wanted.spec : {}
  const spec: Json = { ...storedSpec }
  for (const [k, v] of Object.entries(wantedSpec)) if (spec[k] === undefined) spec[k] = v
  next.spec = spec
  return next
}

export const NODE_LEASE_NAMESPACE = 'kube-node-lease'
export const NODE_LEASE_DURATION_SECONDS = 40

/** metav1.MicroTime: RFC 3339 with microseconds. */
export function microTime(now: Date): string {
  return now.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z')
}

/** The node's Lease renewed at `now` (created when `current` is undefined), owned by the Node when its uid is known. */
export function renewedLease(current: KubeObject | undefined, nodeName: string, nodeUid: string | undefined, now: Date): KubeObject {
  const lease: KubeObject =
    current === undefined
      ? { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: nodeName, namespace: NODE_LEASE_NAMESPACE } }
      : { ...current, metadata: { ...metaOf(current) } }
  const meta = metaOf(lease)
  // Not pinned: a concurrent write is retried by the registry instead of failing the heartbeat.
  delete meta.resourceVersion
  if (nodeUid !== undefined && (meta.ownerReferences === undefined || meta.ownerReferences.length === 0)) {
    meta.ownerReferences = [{ apiVersion: 'v1', kind: 'Node', name: nodeName, uid: nodeUid }]
  }
  const spec = isObject(lease.spec) ? { ...lease.spec } : {}
  spec.holderIdentity = nodeName
  spec.leaseDurationSeconds = NODE_LEASE_DURATION_SECONDS
  spec.renewTime = microTime(now)
  lease.spec = spec
  return lease
}

/** A status-subresource write: only the status (and the pinned resourceVersion, when given) matter. */
export function statusWrite(status: Json, resourceVersion: string, current: KubeObject | undefined): KubeObject {
  // A status write replaces annotations (as upstream's status strategies allow); a
  // kubelet only reports status, so the stored annotations go along unchanged.
  const annotations = (current?.metadata as Json | undefined)?.annotations
  const metadata: Json = resourceVersion === '' ? {} : { resourceVersion }
  if (annotations !== undefined) metadata.annotations = annotations
  return { metadata, status }
}
