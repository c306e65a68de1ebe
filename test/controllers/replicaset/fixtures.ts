// Objects and kubelet stand-ins for the replica controller tests: ReplicaSets and
// ReplicationControllers, their pods, and the status writes a kubelet would make.
/* eslint-disable @typescript-eslint/no-explicit-any -- objects are read by path in assertions */
import { metaTime } from '../../../src/api/time.js'
import type { KubeObject, RestClient } from '../../../src/client/index.js'
import { EVENTS, eventually, PODS } from '../helpers.js'

export const NS = 'default'

const containers = [{ name: 'main', image: 'nginx' }]

export function replicaSet(name: string, replicas: number, extra: { minReadySeconds?: number; labels?: Record<string, string> } = {}): KubeObject {
  const labels = extra.labels ?? { app: name }
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name },
    spec: {
      replicas,
      ...(extra.minReadySeconds === undefined ? {} : { minReadySeconds: extra.minReadySeconds }),
      selector: { matchLabels: labels },
      template: { metadata: { labels: { ...labels, tier: 'web' } }, spec: { containers } },
    },
  }
}

export function replicationController(name: string, replicas: number, extra: { minReadySeconds?: number } = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ReplicationController',
    metadata: { name },
    spec: {
      replicas,
      ...(extra.minReadySeconds === undefined ? {} : { minReadySeconds: extra.minReadySeconds }),
      selector: { app: name },
      template: { metadata: { labels: { app: name } }, spec: { containers } },
    },
  }
}

/** A pod nobody owns, as a user would create it. */
export function orphanPod(name: string, labels: Record<string, string>): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels }, spec: { containers } }
}

export const isActive = (p: any): boolean => p.metadata.deletionTimestamp === undefined && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed'

/** The active pods labelled `app=<app>`. */
export async function activePods(client: RestClient, app: string): Promise<any[]> {
  return ((await client.resource(PODS, NS).list({ labelSelector: `app=${app}` })).items as any[]).filter(isActive)
}

/** Waits until exactly `n` active pods carry `app=<app>`; returns them. */
export async function waitActive(client: RestClient, app: string, n: number): Promise<any[]> {
  return eventually(`${n} active pods of ${app}`, async () => {
    const pods = await activePods(client, app)
    return pods.length === n ? pods : undefined
  })
}

/** Writes the status a kubelet would: Running, and Ready (since `readySince`) or not. */
export async function setRunning(client: RestClient, name: string, ready: boolean, readySince = new Date()): Promise<void> {
  const pods = client.resource(PODS, NS)
  const fresh = await pods.get(name)
  await pods.updateStatus({
    ...fresh,
    status: { ...(fresh.status as object), phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: metaTime(readySince) }] },
  })
}

/** Waits until the owner's status matches `want` (every field given equal). */
export async function waitStatus(client: RestClient, rt: Parameters<RestClient['resource']>[0], name: string, want: Record<string, unknown>, timeoutMs?: number): Promise<any> {
  return eventually(
    `status ${JSON.stringify(want)} on ${name}`,
    async () => {
      const o: any = await client.resource(rt, NS).get(name)
      const s = o.status ?? {}
      return Object.entries(want).every(([k, v]) => JSON.stringify(s[k]) === JSON.stringify(v)) ? o : undefined
    },
    timeoutMs,
  )
}

export async function eventsFor(client: RestClient, name: string): Promise<any[]> {
  return ((await client.resource(EVENTS, NS).list()).items as any[]).filter((e) => e.involvedObject?.name === name)
}

/**
 * `kubectl scale`: a write of the scale subresource, read again and retried on a
 * conflict (the controller writes the object's status meanwhile).
 */
export async function scale(client: RestClient, rt: Parameters<RestClient['resource']>[0], name: string, replicas: number): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const s = await client.resource(rt, NS).getScale(name)
    try {
      await client.resource(rt, NS).updateScale(name, { ...s, spec: { replicas } })
      return
    } catch (err) {
      if ((err as { code?: number }).code !== 409 || attempt >= 5) throw err
    }
  }
}
