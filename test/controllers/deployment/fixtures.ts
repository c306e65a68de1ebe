// What the Deployment tests share: Deployment objects, reading a Deployment's
// ReplicaSets, and playing the ReplicaSet controller by writing a ReplicaSet's status
// (how many pods exist, are ready, are available, for which generation) so each
// rollout step happens exactly when a test says so.
/* eslint-disable @typescript-eslint/no-explicit-any -- objects are read by path in assertions */
import type { KubeObject, RestClient } from '../../../src/client/index.js'
import { DEPLOYMENTS, EVENTS, eventually, REPLICASETS } from '../helpers.js'

export const NS = 'default'
export const labels = { app: 'web' }

export function deployment(name: string, spec: Record<string, unknown> = {}, image = 'nginx:1'): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas: 3,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name: 'web', image }] } },
      ...spec,
    },
  }
}

export async function getDeployment(client: RestClient, name: string): Promise<any> {
  return client.resource(DEPLOYMENTS, NS).get(name)
}

/** The ReplicaSets controlled by the Deployment (not being deleted), oldest revision first. */
export async function replicaSetsOf(client: RestClient, name: string): Promise<any[]> {
  const d = await getDeployment(client, name)
  const all = (await client.resource(REPLICASETS, NS).list()).items as any[]
  return all
    .filter((rs) => rs.metadata.deletionTimestamp === undefined && (rs.metadata.ownerReferences ?? []).some((r: any) => r.controller === true && r.uid === d.metadata.uid))
    .sort((a, b) => Number(a.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? 0) - Number(b.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? 0))
}

/** spec.replicas of each ReplicaSet, by revision: "1:3 2:1". */
export async function sizes(client: RestClient, name: string): Promise<string> {
  return (await replicaSetsOf(client, name)).map((rs) => `${rs.metadata.annotations?.['deployment.kubernetes.io/revision']}:${rs.spec.replicas}`).join(' ')
}

/** Waits until the ReplicaSets have these sizes (see `sizes`). */
export async function waitSizes(client: RestClient, name: string, want: string): Promise<void> {
  let last = ''
  await eventually(`replica sets of ${name} at "${want}" (last "${last}")`, async () => {
    last = await sizes(client, name)
    return last === want ? true : undefined
  })
}

/**
 * Writes a ReplicaSet's status as its controller would: `replicas` pods exist
 * (default spec.replicas), `ready` and `available` of them (default all).
 */
export async function report(client: RestClient, rsName: string, counts: { replicas?: number; ready?: number; available?: number } = {}): Promise<void> {
  const rs = (await client.resource(REPLICASETS, NS).get(rsName)) as any
  const replicas = counts.replicas ?? rs.spec.replicas
  const ready = counts.ready ?? counts.available ?? replicas
  const available = counts.available ?? ready
  await client.resource(REPLICASETS, NS).updateStatus({
    ...rs,
    status: { replicas, fullyLabeledReplicas: replicas, readyReplicas: ready, availableReplicas: available, observedGeneration: rs.metadata.generation },
  })
}

/** Every ReplicaSet of the Deployment reports all its pods available. */
export async function reportAll(client: RestClient, name: string): Promise<void> {
  for (const rs of await replicaSetsOf(client, name)) await report(client, rs.metadata.name)
}

export async function condition(client: RestClient, name: string, type: string): Promise<any> {
  return ((await getDeployment(client, name)).status?.conditions ?? []).find((c: any) => c.type === type)
}

/** Waits for the Deployment's condition of `type` to have this reason. */
export async function waitCondition(client: RestClient, name: string, type: string, reason: string): Promise<any> {
  return eventually(`${name} ${type}=${reason}`, async () => {
    const c = await condition(client, name, type)
    return c?.reason === reason ? c : undefined
  })
}

/** Waits for a fully rolled-out Deployment (what `kubectl rollout status` waits for). */
export async function waitComplete(client: RestClient, name: string): Promise<any> {
  return eventually(`${name} rolled out`, async () => {
    const d = await getDeployment(client, name)
    const s = d.status ?? {}
    const want = d.spec.replicas
    const progressing = (s.conditions ?? []).find((c: any) => c.type === 'Progressing')
    return s.observedGeneration >= d.metadata.generation &&
      (s.updatedReplicas ?? 0) === want &&
      (s.replicas ?? 0) === want &&
      (s.availableReplicas ?? 0) === want &&
      progressing?.reason === 'NewReplicaSetAvailable'
      ? d
      : undefined
  })
}

/** The messages of the Deployment's events with this reason, oldest first. */
export async function eventMessages(client: RestClient, name: string, reason: string): Promise<string[]> {
  const items = (await client.resource(EVENTS, NS).list()).items as any[]
  return items
    .filter((e) => e.involvedObject?.kind === 'Deployment' && e.involvedObject?.name === name && e.reason === reason)
    .sort((a, b) => String(a.firstTimestamp).localeCompare(String(b.firstTimestamp)) || String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)))
    .map((e) => e.message as string)
}

export async function waitEvent(client: RestClient, name: string, reason: string, message: string): Promise<void> {
  await eventually(`event ${reason} "${message}"`, async () => ((await eventMessages(client, name, reason)).includes(message) ? true : undefined))
}

/** Sets the container image, as `kubectl set image` does. */
export async function setImage(client: RestClient, name: string, image: string): Promise<void> {
  await client.resource(DEPLOYMENTS, NS).patch(name, 'strategic', { spec: { template: { spec: { containers: [{ name: 'web', image }] } } } })
}
