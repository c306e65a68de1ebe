// The read-only metrics.k8s.io/v1beta1 API every apiserver serves itself (upstream:
// metrics-server behind an APIService): `nodes` (NodeMetrics, cluster-scoped) and
// `pods` (PodMetrics, namespaced), get and list only, from the kubelets' usage reports
// (./usage-store.ts).
//
// As metrics-server: a list selects Nodes or Pods first (labelSelector on their
// labels, fieldSelector on metadata.name / metadata.namespace) and shows those that
// have usage, sorted by namespace and name; the items carry the objects' labels. A get
// of a missing object is that object's NotFound (`pods "x" not found`, `node "x" not
// found`), of one without usage `podmetrics.metrics.k8s.io "<ns>/<name>" not found` /
// `nodemetrics.metrics.k8s.io "<name>" not found`. A pod's usage counts only when the
// report names the Pod's uid (a pod re-created under the same name starts afresh).
import type { IncomingMessage, ServerResponse } from 'node:http'
import { FieldSelectorError, parseFieldSelector } from '../../api/fields.js'
import { LabelSelectorError, parseSelector } from '../../api/labels.js'
import { negotiate } from '../http/negotiate.js'
import { sendJson } from '../http/respond.js'
import type { ResourceStore } from '../registry/resource-store.js'
import type { ResourceRequestInfo } from '../request-info.js'
import { ApiError, badRequest, methodNotAllowed, notFound } from '../status.js'
import type { KubeObject } from '../watch-cache/types.js'
import { METRICS_GROUP, METRICS_VERSION, metricsList, metricsTable, nodeMetrics, podMetrics } from './objects.js'
import type { PodUsageRecord, UsageRecord } from './record.js'
import type { ResourceUsageStore } from './usage-store.js'

export interface MetricsApiOptions {
  usage: ResourceUsageStore
  /** The registry stores of Pods and Nodes (their labels, and whether they exist). */
  pods: () => ResourceStore
  nodes: () => ResourceStore
  now?: () => Date
}

type Json = Record<string, unknown>

function meta(obj: KubeObject): Json {
  return (obj.metadata ?? {}) as Json
}

function resourceNotFound(): ApiError {
  return new ApiError(404, 'NotFound', 'the server could not find the requested resource', {})
}

/** labelSelector and fieldSelector of a list, as metrics-server applies them to Nodes and Pods. */
function selectorMatch(query: URLSearchParams, namespaced: boolean): ((obj: KubeObject) => boolean) | undefined {
  const labelText = query.get('labelSelector') ?? ''
  const fieldText = query.get('fieldSelector') ?? ''
  if (labelText === '' && fieldText === '') return undefined
  let labels: ReturnType<typeof parseSelector> | undefined
  let fields: ReturnType<typeof parseFieldSelector> | undefined
  try {
    if (labelText !== '') labels = parseSelector(labelText)
    if (fieldText !== '') fields = parseFieldSelector(fieldText)
  } catch (err) {
    if (err instanceof LabelSelectorError || err instanceof FieldSelectorError) throw badRequest(err.message)
    throw err
  }
  return (obj) => {
    const m = meta(obj)
    if (labels !== undefined && !labels.matches((m.labels ?? {}) as Record<string, string>)) return false
    if (fields === undefined) return true
    // generic.AddObjectMetaFieldsSet: metadata.name, and metadata.namespace for namespaced objects.
    const set: Record<string, string> = { 'metadata.name': String(m.name ?? '') }
    if (namespaced) set['metadata.namespace'] = String(m.namespace ?? '')
    return fields.matches(set)
  }
}

/** The usage entry of a pod (the one naming its uid) in the fresh reports. */
function podIndex(records: Map<string, UsageRecord>): Map<string, { pod: PodUsageRecord; record: UsageRecord }[]> {
  const out = new Map<string, { pod: PodUsageRecord; record: UsageRecord }[]>()
  for (const record of records.values()) {
    for (const pod of record.pods) {
      const k = `${pod.namespace}/${pod.name}`
      const list = out.get(k)
      if (list === undefined) out.set(k, [{ pod, record }])
      else list.push({ pod, record })
    }
  }
  return out
}

function entryFor(index: Map<string, { pod: PodUsageRecord; record: UsageRecord }[]>, pod: KubeObject): { pod: PodUsageRecord; record: UsageRecord } | undefined {
  const m = meta(pod)
  const candidates = index.get(`${String(m.namespace)}/${String(m.name)}`)
  if (candidates === undefined) return undefined
  const uid = String(m.uid ?? '')
  // Newest report first, when (oddly) two nodes report the same pod.
  return candidates.filter((c) => c.pod.uid === '' || c.pod.uid === uid).sort((a, b) => b.record.timestampMs - a.record.timestampMs)[0]
}

function byNamespaceAndName(a: KubeObject, b: KubeObject): number {
  const ka = `${String(meta(a).namespace ?? '')}/${String(meta(a).name)}`
  const kb = `${String(meta(b).namespace ?? '')}/${String(meta(b).name)}`
  return ka < kb ? -1 : ka > kb ? 1 : 0
}

export class MetricsApi {
  private readonly now: () => Date

  constructor(private readonly o: MetricsApiOptions) {
    this.now = o.now ?? (() => new Date())
  }

  /** Whether a request is this API's (its group). */
  static handles(info: ResourceRequestInfo): boolean {
    return info.group === METRICS_GROUP
  }

  get usage(): ResourceUsageStore {
    return this.o.usage
  }

  async handle(req: IncomingMessage, res: ServerResponse, info: ResourceRequestInfo, query: URLSearchParams): Promise<void> {
    if (info.version !== METRICS_VERSION || (info.resource !== 'nodes' && info.resource !== 'pods')) throw resourceNotFound()
    const namespaced = info.resource === 'pods'
    if (info.subresource !== '') throw notFound(`${info.resource}/${info.subresource}`, METRICS_GROUP, info.name)
    if (!namespaced && info.namespace !== '') throw resourceNotFound()
    if (info.verb !== 'get' && info.verb !== 'list') throw methodNotAllowed()
    const shape = negotiate(req.headers.accept)
    const pretty = query.get('pretty') === 'true' || query.get('pretty') === '1'
    const includeObject = includeObjectParam(query)
    if (info.verb === 'get') {
      const item = namespaced ? await this.pod(info.namespace, info.name) : await this.node(info.name)
      if (shape === 'table') return sendJson(res, 200, metricsTable([item], includeObject), pretty)
      if (shape === 'metadata') return sendJson(res, 200, { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: item.metadata }, pretty)
      return sendJson(res, 200, item, pretty)
    }
    const match = selectorMatch(query, namespaced)
    const items = namespaced ? await this.podList(info.namespace, match) : await this.nodeList(match)
    if (shape === 'table') return sendJson(res, 200, metricsTable(items, includeObject), pretty)
    if (shape === 'metadata') {
      const partial = items.map((i) => ({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: i.metadata }))
      return sendJson(res, 200, { kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata: {}, items: partial }, pretty)
    }
    sendJson(res, 200, metricsList(namespaced ? 'PodMetrics' : 'NodeMetrics', items), pretty)
  }

  // ---- nodes ----

  async nodeList(match?: (obj: KubeObject) => boolean): Promise<Json[]> {
    const [nodes, records] = await Promise.all([this.o.nodes().list('', { resourceVersion: '0', ...(match === undefined ? {} : { match, filtered: true }) }), this.o.usage.records()])
    const now = this.now()
    const out: Json[] = []
    for (const node of [...nodes.items].sort(byNamespaceAndName)) {
      const r = records.get(String(meta(node).name))
      if (r !== undefined) out.push(nodeMetrics(node, r, now))
    }
    return out
  }

  async node(name: string): Promise<Json> {
    const node = await this.o.nodes().get('', name, '0').catch((err: unknown) => {
      // The node lister's NotFound: the singular resource name, as client-go's listers word it.
      if (err instanceof ApiError && err.code === 404) throw notFound('node', '', name)
      throw err
    })
    const r = await this.o.usage.record(name)
    if (r === undefined) throw notFound('nodemetrics', METRICS_GROUP, name)
    return nodeMetrics(node, r, this.now())
  }

  // ---- pods ----

  async podList(namespace: string, match?: (obj: KubeObject) => boolean): Promise<Json[]> {
    const [pods, records] = await Promise.all([this.o.pods().list(namespace, { resourceVersion: '0', ...(match === undefined ? {} : { match, filtered: true }) }), this.o.usage.records()])
    const index = podIndex(records)
    const now = this.now()
    const out: Json[] = []
    for (const pod of [...pods.items].sort(byNamespaceAndName)) {
      const e = entryFor(index, pod)
      if (e !== undefined) out.push(podMetrics(pod, e.pod, e.record, now))
    }
    return out
  }

  async pod(namespace: string, name: string): Promise<Json> {
    const pod = await this.o.pods().get(namespace, name, '0')
    const e = entryFor(podIndex(await this.o.usage.records()), pod)
    if (e === undefined) throw notFound('podmetrics', METRICS_GROUP, `${namespace}/${name}`)
    return podMetrics(pod, e.pod, e.record, this.now())
  }
}

function includeObjectParam(q: URLSearchParams): 'None' | 'Metadata' | 'Object' {
  const v = q.get('includeObject')
  if (v === null || v === '') return 'Metadata'
  if (v === 'None' || v === 'Metadata' || v === 'Object') return v
  throw badRequest(`includeObject: Unsupported value: "${v}"`)
}
