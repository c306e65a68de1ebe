// Typed access to one resource: the REST verbs, the paths and query parameters
// kube-apiserver understands, and the subresources (status, scale, binding,
// eviction, log). One instance per resource and namespace; cheap to make.
import type { Readable } from 'node:stream'
import type { ResourceType } from '../api/resources.js'
import { ApiError, isResourceExpired } from './errors.js'
import type { QueryValue, RestClient } from './rest.js'
import type { KubeList, KubeObject, Preconditions, PropagationPolicy, Scale, Status } from './types.js'
import { WatchStream } from './watch.js'

export interface ListOptions {
  labelSelector?: string
  fieldSelector?: string
  limit?: number
  continue?: string
  resourceVersion?: string
  resourceVersionMatch?: 'Exact' | 'NotOlderThan'
  timeoutSeconds?: number
  signal?: AbortSignal
}

export interface WatchOptions {
  resourceVersion?: string
  resourceVersionMatch?: 'NotOlderThan'
  allowWatchBookmarks?: boolean
  sendInitialEvents?: boolean
  labelSelector?: string
  fieldSelector?: string
  /** The server ends the watch after this long. */
  timeoutSeconds?: number
  signal?: AbortSignal
}

export interface WriteOptions {
  dryRun?: boolean
  fieldManager?: string
  fieldValidation?: 'Ignore' | 'Warn' | 'Strict'
  signal?: AbortSignal
}

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply'

export interface PatchOptions extends WriteOptions {
  /** Server-side apply: take ownership of conflicting fields. */
  force?: boolean
  /** `status`, `scale`, … */
  subresource?: string
}

export interface DeleteOptions {
  gracePeriodSeconds?: number
  propagationPolicy?: PropagationPolicy
  preconditions?: Preconditions
  dryRun?: boolean
  signal?: AbortSignal
}

export interface LogOptions {
  container?: string
  follow?: boolean
  previous?: boolean
  sinceSeconds?: number
  sinceTime?: string
  tailLines?: number
  limitBytes?: number
  timestamps?: boolean
  signal?: AbortSignal
}

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
}

const DEFAULT_PAGE_SIZE = 500

/** How long past its timeoutSeconds a watch may stay open before the client gives up on the server. */
const WATCH_DEADLINE_GRACE_MS = 30_000

export class ResourceClient<T extends KubeObject = KubeObject> {
  private readonly base: string

  constructor(
    private readonly rest: RestClient,
    readonly type: ResourceType,
    readonly namespace?: string,
  ) {
    this.base = type.group === '' ? `/api/${type.version}` : `/apis/${type.group}/${type.version}`
  }

  /** The same resource in another namespace. */
  inNamespace(namespace: string | undefined): ResourceClient<T> {
    return new ResourceClient<T>(this.rest, this.type, namespace)
  }

  async get(name: string, opts: { resourceVersion?: string; signal?: AbortSignal } = {}): Promise<T> {
    return this.rest.requestJson<T>({
      method: 'GET',
      path: this.objectPath(name, this.namespace),
      query: { resourceVersion: opts.resourceVersion },
      signal: opts.signal,
    })
  }

  async list(opts: ListOptions = {}): Promise<KubeList<T>> {
    return this.rest.requestJson<KubeList<T>>({ method: 'GET', path: this.collectionPath(), query: listQuery(opts), signal: opts.signal })
  }

  /**
   * Every page of a list, following `continue` (pages of `limit`, default 500). All
   * pages come from one snapshot; if the continue token expires, the whole list is
   * read again without paging, as client-go's pager does.
   */
  async listAll(opts: ListOptions = {}): Promise<KubeList<T>> {
    const first = await this.list({ ...opts, limit: opts.limit ?? DEFAULT_PAGE_SIZE })
    const items = [...first.items]
    let token = first.metadata.continue
    while (token !== undefined && token !== '') {
      let page: KubeList<T>
      try {
        // A continue token carries its own resourceVersion; the server refuses both.
        page = await this.list({ ...opts, resourceVersion: undefined, resourceVersionMatch: undefined, limit: opts.limit ?? DEFAULT_PAGE_SIZE, continue: token })
      } catch (err) {
        if (!isResourceExpired(err)) throw err
        return this.list({ ...opts, limit: undefined, continue: undefined })
      }
      items.push(...page.items)
      token = page.metadata.continue
    }
    return { ...first, metadata: { resourceVersion: first.metadata.resourceVersion }, items }
  }

  async create(obj: T, opts: WriteOptions = {}): Promise<T> {
    const ns = this.namespaceFor(obj, 'create')
    return this.rest.requestJson<T>({ method: 'POST', path: this.collectionPath(ns), query: writeQuery(opts), body: obj, signal: opts.signal })
  }

  /** PUT of the whole object; fails with 409 Conflict when its resourceVersion is stale. */
  async update(obj: T, opts: WriteOptions = {}): Promise<T> {
    return this.rest.requestJson<T>({ method: 'PUT', path: this.objectPathOf(obj, 'update'), query: writeQuery(opts), body: obj, signal: opts.signal })
  }

  async updateStatus(obj: T, opts: WriteOptions = {}): Promise<T> {
    return this.rest.requestJson<T>({
      method: 'PUT',
      path: `${this.objectPathOf(obj, 'update')}/status`,
      query: writeQuery(opts),
      body: obj,
      signal: opts.signal,
    })
  }

  /** JSON patch takes an array of operations; the others an object (apply: the whole intended object). */
  async patch<R extends KubeObject = T>(name: string, type: PatchType, body: unknown, opts: PatchOptions = {}): Promise<R> {
    const path = this.objectPath(name, this.namespace) + (opts.subresource !== undefined ? `/${opts.subresource}` : '')
    const query: Record<string, QueryValue> = writeQuery(opts)
    if (opts.force !== undefined) query.force = opts.force
    return this.rest.requestJson<R>({ method: 'PATCH', path, query, body, contentType: PATCH_CONTENT_TYPES[type], signal: opts.signal })
  }

  /** The object as it is after the delete (finalizers or a grace period keep it), or a Success Status. */
  async delete(name: string, opts: DeleteOptions = {}): Promise<T | Status> {
    return this.rest.requestJson<T | Status>({
      method: 'DELETE',
      path: this.objectPath(name, this.namespace),
      body: deleteBody(opts),
      signal: opts.signal,
    })
  }

  async deleteCollection(opts: DeleteOptions & Omit<ListOptions, 'signal'> = {}): Promise<KubeList<T> | Status> {
    return this.rest.requestJson<KubeList<T> | Status>({
      method: 'DELETE',
      path: this.collectionPath(),
      query: listQuery(opts),
      body: deleteBody(opts),
      signal: opts.signal,
    })
  }

  /** Starts a watch; iterate the stream for events and stop() it when done. */
  async watch(opts: WatchOptions = {}): Promise<WatchStream<T>> {
    const query: Record<string, QueryValue> = {
      watch: true,
      resourceVersion: opts.resourceVersion,
      resourceVersionMatch: opts.resourceVersionMatch,
      allowWatchBookmarks: opts.allowWatchBookmarks,
      sendInitialEvents: opts.sendInitialEvents,
      labelSelector: opts.labelSelector,
      fieldSelector: opts.fieldSelector,
      timeoutSeconds: opts.timeoutSeconds,
    }
    const res = await this.rest.stream({ method: 'GET', path: this.collectionPath(), query, signal: opts.signal })
    const deadlineMs = opts.timeoutSeconds === undefined ? undefined : opts.timeoutSeconds * 1000 + WATCH_DEADLINE_GRACE_MS
    return new WatchStream<T>(res.request, res.stream, res.url, deadlineMs)
  }

  async getScale(name: string, opts: { signal?: AbortSignal } = {}): Promise<Scale> {
    return this.rest.requestJson<Scale>({ method: 'GET', path: `${this.objectPath(name, this.namespace)}/scale`, signal: opts.signal })
  }

  async updateScale(name: string, scale: Scale, opts: WriteOptions = {}): Promise<Scale> {
    const body: Scale = { apiVersion: 'autoscaling/v1', kind: 'Scale', ...scale, metadata: { ...scale.metadata, name, namespace: this.namespace } }
    return this.rest.requestJson<Scale>({
      method: 'PUT',
      path: `${this.objectPath(name, this.namespace)}/scale`,
      query: writeQuery(opts),
      body,
      signal: opts.signal,
    })
  }

  /** pods/binding: assigns a pod to a node, as the scheduler does. */
  async bind(name: string, nodeName: string, opts: WriteOptions & { uid?: string } = {}): Promise<Status> {
    const metadata: Record<string, string> = { name }
    if (this.namespace !== undefined) metadata.namespace = this.namespace
    if (opts.uid !== undefined) metadata.uid = opts.uid
    const body = { apiVersion: 'v1', kind: 'Binding', metadata, target: { apiVersion: 'v1', kind: 'Node', name: nodeName } }
    return this.rest.requestJson<Status>({
      method: 'POST',
      path: `${this.objectPath(name, this.namespace)}/binding`,
      query: writeQuery(opts),
      body,
      signal: opts.signal,
    })
  }

  /**
   * pods/eviction: a delete that respects PodDisruptionBudgets. A 429 here means a
   * budget forbids it now, so it is returned to the caller rather than retried.
   */
  async evict(name: string, opts: DeleteOptions = {}): Promise<Status> {
    const { signal, ...rest } = opts
    const body = {
      apiVersion: 'policy/v1',
      kind: 'Eviction',
      metadata: { name, namespace: this.namespace },
      deleteOptions: Object.keys(rest).length > 0 ? deleteBody(rest) : undefined,
    }
    return this.rest.requestJson<Status>({
      method: 'POST',
      path: `${this.objectPath(name, this.namespace)}/eviction`,
      body,
      signal,
      maxRetries: 0,
    })
  }

  /** pods/log as text. */
  async logs(name: string, opts: Omit<LogOptions, 'follow'> = {}): Promise<string> {
    const res = await this.rest.request({
      method: 'GET',
      path: `${this.objectPath(name, this.namespace)}/log`,
      query: logQuery(opts),
      accept: 'text/plain, */*',
      signal: opts.signal,
    })
    return res.body.toString('utf8')
  }

  /** pods/log as a stream (with `follow`, until the container ends or the stream is destroyed). */
  async logStream(name: string, opts: LogOptions = {}): Promise<Readable> {
    const res = await this.rest.stream({
      method: 'GET',
      path: `${this.objectPath(name, this.namespace)}/log`,
      query: logQuery(opts),
      accept: 'text/plain, */*',
      signal: opts.signal,
    })
    return res.stream
  }

  /** `/api/v1/namespaces/<ns>/pods`, or `/api/v1/pods` across namespaces. */
  collectionPath(namespace = this.namespace): string {
    if (this.type.namespaced && namespace !== undefined && namespace !== '') {
      return `${this.base}/namespaces/${encodeURIComponent(namespace)}/${this.type.plural}`
    }
    return `${this.base}/${this.type.plural}`
  }

  objectPath(name: string, namespace: string | undefined): string {
    if (name === '') throw new Error(`a name is required to address ${this.type.plural}`)
    if (this.type.namespaced && (namespace === undefined || namespace === '')) {
      throw new Error(`a namespace is required to address ${this.type.plural} "${name}": use client.resource(type, namespace)`)
    }
    return `${this.collectionPath(namespace)}/${encodeURIComponent(name)}`
  }

  private namespaceFor(obj: T, verb: string): string | undefined {
    if (!this.type.namespaced) return undefined
    const ns = this.namespace ?? obj.metadata?.namespace
    if (ns === undefined || ns === '') throw new Error(`a namespace is required to ${verb} ${this.type.plural}`)
    const own = obj.metadata?.namespace
    if (own !== undefined && own !== '' && own !== ns) {
      throw new ApiError({
        kind: 'Status',
        apiVersion: 'v1',
        status: 'Failure',
        code: 400,
        reason: 'BadRequest',
        message: 'the namespace of the provided object does not match the namespace sent on the request',
      })
    }
    return ns
  }

  private objectPathOf(obj: T, verb: string): string {
    const name = obj.metadata?.name
    if (name === undefined || name === '') throw new Error(`a name is required to ${verb} ${this.type.plural}`)
    return this.objectPath(name, this.namespaceFor(obj, verb))
  }
}

function listQuery(o: Omit<ListOptions, 'signal'>): Record<string, QueryValue> {
  return {
    labelSelector: o.labelSelector,
    fieldSelector: o.fieldSelector,
    limit: o.limit,
    continue: o.continue,
    resourceVersion: o.resourceVersion,
    resourceVersionMatch: o.resourceVersionMatch,
    timeoutSeconds: o.timeoutSeconds,
  }
}

function writeQuery(o: WriteOptions): Record<string, QueryValue> {
  return { dryRun: o.dryRun === true ? 'All' : undefined, fieldManager: o.fieldManager, fieldValidation: o.fieldValidation }
}

function logQuery(o: LogOptions): Record<string, QueryValue> {
  return {
    container: o.container,
    follow: o.follow,
    previous: o.previous,
    sinceSeconds: o.sinceSeconds,
    sinceTime: o.sinceTime,
    tailLines: o.tailLines,
    limitBytes: o.limitBytes,
    timestamps: o.timestamps,
  }
}

function deleteBody(o: DeleteOptions): Record<string, unknown> {
  const body: Record<string, unknown> = { kind: 'DeleteOptions', apiVersion: 'v1' }
  if (o.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = o.gracePeriodSeconds
  if (o.propagationPolicy !== undefined) body.propagationPolicy = o.propagationPolicy
  if (o.preconditions !== undefined) body.preconditions = o.preconditions
  if (o.dryRun === true) body.dryRun = ['All']
  return body
}
