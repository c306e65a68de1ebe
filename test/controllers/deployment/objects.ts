// Deployments and ReplicaSets as plain objects for the unit tests of the pure parts
// of the Deployment controller (no API server).
import type { KubeObject } from '../../../src/client/index.js'

export interface DeploymentOpts {
  replicas?: number
  maxSurge?: number | string
  maxUnavailable?: number | string
  strategy?: 'RollingUpdate' | 'Recreate'
  image?: string
  generation?: number
  status?: Record<string, unknown>
  progressDeadlineSeconds?: number
  revisionHistoryLimit?: number
  annotations?: Record<string, string>
}

export function dep(o: DeploymentOpts = {}): KubeObject {
  const strategy = o.strategy ?? 'RollingUpdate'
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', uid: 'd-uid', generation: o.generation ?? 1, ...(o.annotations === undefined ? {} : { annotations: o.annotations }) },
    spec: {
      replicas: o.replicas ?? 10,
      selector: { matchLabels: { app: 'web' } },
      strategy: strategy === 'Recreate' ? { type: 'Recreate' } : { type: 'RollingUpdate', rollingUpdate: { maxSurge: o.maxSurge ?? '25%', maxUnavailable: o.maxUnavailable ?? '25%' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: o.image ?? 'nginx:1' }] } },
      ...(o.progressDeadlineSeconds === undefined ? {} : { progressDeadlineSeconds: o.progressDeadlineSeconds }),
      ...(o.revisionHistoryLimit === undefined ? {} : { revisionHistoryLimit: o.revisionHistoryLimit }),
    },
    status: o.status ?? {},
  }
}

export interface ReplicaSetOpts {
  replicas?: number
  /** status.replicas; default spec.replicas. */
  pods?: number
  ready?: number
  available?: number
  /** Seconds after the epoch. */
  created?: number
  revision?: number
  annotations?: Record<string, string>
  image?: string
  generation?: number
  observedGeneration?: number
}

export function rs(name: string, o: ReplicaSetOpts = {}): KubeObject {
  const replicas = o.replicas ?? 0
  const pods = o.pods ?? replicas
  const annotations: Record<string, string> = { ...(o.annotations ?? {}) }
  if (o.revision !== undefined) annotations['deployment.kubernetes.io/revision'] = String(o.revision)
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name,
      namespace: 'default',
      uid: `${name}-uid`,
      generation: o.generation ?? 1,
      creationTimestamp: new Date((o.created ?? 0) * 1000).toISOString(),
      annotations,
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'd-uid', controller: true }],
    },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web', 'pod-template-hash': name } },
      template: { metadata: { labels: { app: 'web', 'pod-template-hash': name } }, spec: { containers: [{ name: 'web', image: o.image ?? name }] } },
    },
    status: { replicas: pods, readyReplicas: o.ready ?? o.available ?? pods, availableReplicas: o.available ?? o.ready ?? pods, observedGeneration: o.observedGeneration ?? o.generation ?? 1 },
  }
}
