// Shared set-up for the client tests: a backend, N fake apiservers over it, and a
// RestClient pointed at all of them; everything stopped at teardown.
import type { Test } from 'tap'
import { RESOURCES, type ResourceType } from '../../src/api/resources.js'
import { RestClient, type RestClientOptions } from '../../src/client/rest.js'
import type { KubeObject } from '../../src/client/types.js'
import { FakeApiServer, FakeBackend } from './fake-apiserver.js'

export function resourceType(plural: string): ResourceType {
  const rt = RESOURCES.find((r) => r.plural === plural)
  if (rt === undefined) throw new Error(`no resource ${plural}`)
  return rt
}

export const PODS = resourceType('pods')
export const NODES = resourceType('nodes')
export const DEPLOYMENTS = resourceType('deployments')

export interface Cluster {
  backend: FakeBackend
  servers: FakeApiServer[]
  client: RestClient
}

export async function startCluster(t: Test, masters = 1, opts: Partial<RestClientOptions> = {}): Promise<Cluster> {
  const backend = new FakeBackend()
  const servers: FakeApiServer[] = []
  for (let i = 0; i < masters; i++) {
    const s = new FakeApiServer(backend)
    await s.start()
    servers.push(s)
  }
  const client = new RestClient({ urls: servers.map((s) => s.url), backoff: { initialMs: 10, maxMs: 50 }, ...opts })
  t.teardown(async () => {
    client.close()
    for (const s of servers) await s.dispose()
  })
  return { backend, servers, client }
}

export function pod(name: string, opts: { ns?: string; node?: string; labels?: Record<string, string> } = {}): KubeObject {
  const spec: Record<string, unknown> = { containers: [{ name: 'c', image: 'busybox' }] }
  if (opts.node !== undefined) spec.nodeName = opts.node
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: opts.ns ?? 'default', labels: opts.labels }, spec }
}

/** Polls until `cond` holds (or fails the wait after `ms`). */
export async function waitFor(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

export const sleepMs = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
