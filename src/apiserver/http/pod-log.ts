// GET pods/{name}/log: kube-apiserver's log subresource. The apiserver keeps no logs;
// it checks the request against the Pod (which container, is it on a node), finds
// the node's kubelet (an address from the Node's status, the port from
// status.daemonEndpoints.kubeletEndpoint) and streams the kubelet's
// /containerLogs/{ns}/{pod}/{container} answer through, so `kubectl logs -f` follows
// for as long as the kubelet keeps writing.
//
// The kubelet serves a self-signed certificate unless given one, as upstream's does;
// like kube-apiserver without --kubelet-certificate-authority, we do not verify it.
import { request as httpsRequest } from 'node:https'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { ResourceStore } from '../registry/resource-store.js'
import { ApiError, badRequest, internalError } from '../status.js'
import type { KubeObject } from '../watch-cache/types.js'

type Json = Record<string, unknown>

/**
 * The --kubelet-preferred-address-types kubeadm gives kube-apiserver: a node's
 * Hostname address is its name, which seldom resolves from a master.
 */
const ADDRESS_PREFERENCE = ['InternalIP', 'ExternalIP', 'Hostname']
/** Only these reach the kubelet; anything else in the query is dropped (as PodLogOptions' conversion does). */
const PASSED_PARAMS = ['follow', 'previous', 'timestamps', 'tailLines', 'sinceSeconds', 'sinceTime', 'limitBytes']
const KUBELET_CONNECT_TIMEOUT_MS = 10_000
/** How much of a kubelet's error body becomes the Status message (upstream's maxReadLength). */
const MAX_ERROR_BODY = 50_000

export interface PodLogRequest {
  req: IncomingMessage
  res: ServerResponse
  namespace: string
  name: string
  query: URLSearchParams
  pods: ResourceStore
  nodes: ResourceStore
  /** Address types to try in order. Default InternalIP, ExternalIP, Hostname. */
  addressPreference?: readonly string[]
}

function containerNames(pod: KubeObject, field: 'containers' | 'initContainers' | 'ephemeralContainers'): string[] {
  const list = ((pod.spec as Json | undefined)?.[field] ?? []) as { name?: string }[]
  return list.map((c) => c.name ?? '')
}

/** The container a log request means, with upstream's errors for none or a wrong one. */
export function logContainer(pod: KubeObject, requested: string | null): string {
  const name = String((pod.metadata as Json).name)
  const containers = containerNames(pod, 'containers')
  const init = containerNames(pod, 'initContainers')
  const ephemeral = containerNames(pod, 'ephemeralContainers')
  if (requested === null || requested === '') {
    const annotated = ((pod.metadata as Json).annotations as Record<string, string> | undefined)?.['kubectl.kubernetes.io/default-container']
    if (annotated !== undefined && [...containers, ...init, ...ephemeral].includes(annotated)) return annotated
    if (containers.length === 1) return containers[0]!
    let message = `a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]`
    if (init.length > 0) message += ` or one of the init containers: [${init.join(' ')}]`
    if (ephemeral.length > 0) message += ` or one of the ephemeral containers: [${ephemeral.join(' ')}]`
    throw badRequest(message)
  }
  if (![...containers, ...init, ...ephemeral].includes(requested)) throw badRequest(`container ${requested} is not valid for pod ${name}`)
  return requested
}

function checkParams(q: URLSearchParams): void {
  for (const p of ['tailLines', 'sinceSeconds', 'limitBytes']) {
    const v = q.get(p)
    if (v === null) continue
    const n = Number(v)
    if (v.trim() === '' || !Number.isInteger(n)) throw badRequest(`${p}: Invalid value: "${v}": must be an integer`)
    if (p === 'tailLines' ? n < 0 : n < 1) throw badRequest(`${p}: Invalid value: ${n}: must be ${p === 'tailLines' ? 'greater than or equal to 0' : 'greater than 0'}`)
  }
  if (q.get('sinceSeconds') !== null && q.get('sinceTime') !== null) throw badRequest('at most one of `sinceTime` or `sinceSeconds` may be specified')
  const since = q.get('sinceTime')
  if (since !== null && Number.isNaN(Date.parse(since))) throw badRequest(`sinceTime: Invalid value: "${since}": must be an RFC3339 time`)
}

/** host:port of the kubelet on `node`, or a 400/503 Status when it cannot be reached. */
export function kubeletAddress(node: KubeObject, preference: readonly string[] = ADDRESS_PREFERENCE): { host: string; port: number } {
  const status = (node.status ?? {}) as Json
  const addresses = (status.addresses ?? []) as { type?: string; address?: string }[]
  const port = Number(((status.daemonEndpoints as Json | undefined)?.kubeletEndpoint as Json | undefined)?.Port ?? 0)
  const name = String((node.metadata as Json).name)
  for (const type of preference) {
    const a = addresses.find((x) => x.type === type && x.address)
    if (a !== undefined && port > 0) return { host: a.address!, port }
  }
  throw new ApiError(503, 'ServiceUnavailable', `no preferred addresses found; known addresses: [${addresses.map((a) => `{${a.type} ${a.address}}`).join(' ')}] on node "${name}" (kubelet port ${port})`)
}

function kubeletError(code: number, body: string, name: string): ApiError {
  if (code === 400) return badRequest(body)
  if (code === 500) return internalError(new Error(body))
  if (code === 404) return new ApiError(404, 'NotFound', body || 'the server could not find the requested resource', { name, kind: 'pods/log' })
  const reason = code === 401 ? 'Unauthorized' : code === 403 ? 'Forbidden' : code === 503 ? 'ServiceUnavailable' : code === 504 ? 'Timeout' : 'InternalError'
  return new ApiError(code, reason, body || `the server responded with the status code ${code} but did not return more information`, { name, kind: 'pods/log' })
}

export async function servePodLog(r: PodLogRequest): Promise<void> {
  checkParams(r.query)
  const pod = await r.pods.get(r.namespace, r.name)
  const container = logContainer(pod, r.query.get('container'))
  const nodeName = (pod.spec as Json | undefined)?.nodeName
  if (typeof nodeName !== 'string' || nodeName === '') throw badRequest(`pod ${r.name} does not have a host assigned`)
  const node = await r.nodes.get('', nodeName)
  const { host, port } = kubeletAddress(node, r.addressPreference)
  const params = new URLSearchParams()
  for (const p of PASSED_PARAMS) {
    const v = r.query.get(p)
    if (v !== null) params.set(p, v)
  }
  const path = `/containerLogs/${encodeURIComponent(r.namespace)}/${encodeURIComponent(r.name)}/${encodeURIComponent(container)}${params.size > 0 ? `?${params}` : ''}`
  await new Promise<void>((resolve, reject) => {
    const upstream = httpsRequest({ host, port, path, method: 'GET', rejectUnauthorized: false, timeout: KUBELET_CONNECT_TIMEOUT_MS }, (kres) => {
      // A followed log may idle for hours between lines.
      kres.socket.setTimeout(0)
      const code = kres.statusCode ?? 502
      if (code < 200 || code > 206) {
        // The kubelet's refusal ("container … is waiting to start") becomes a Status, as upstream's response checker makes it.
        let body = ''
        kres.setEncoding('utf8')
        kres.on('data', (d: string) => {
          if (body.length < MAX_ERROR_BODY) body += d
        })
        kres.on('end', () => reject(kubeletError(code, body.slice(0, MAX_ERROR_BODY).trim(), r.name)))
        kres.on('error', (err) => reject(internalError(err)))
        return
      }
      r.res.writeHead(code, { 'Content-Type': kres.headers['content-type'] ?? 'text/plain', 'Cache-Control': 'no-cache, private' })
      kres.pipe(r.res)
      kres.on('end', () => resolve())
      kres.on('error', () => resolve())
    })
    upstream.on('timeout', () => upstream.destroy(new Error(`dial tcp ${host}:${port}: i/o timeout`)))
    upstream.on('error', (err) => {
      if (r.res.headersSent) {
        r.res.destroy()
        resolve()
        return
      }
      reject(new ApiError(500, 'InternalError', `Get "https://${host}:${port}${path}": ${err.message}`))
    })
    // The client went away (Ctrl-C on kubectl logs -f): stop reading from the kubelet.
    r.res.on('close', () => upstream.destroy())
    upstream.end()
  })
}
