// Nodes and pods for the scheduler cache tests, with the fields NodeInfo sums up:
// requests, host ports, (anti-)affinity terms, zones.
import type { KubeObject } from '../../../src/client/types.js'

export function node(name: string, o: { cpu?: string; zone?: string; labels?: Record<string, string> } = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { ...(o.zone === undefined ? {} : { 'topology.kubernetes.io/zone': o.zone }), ...o.labels } },
    spec: {},
    status: { allocatable: { cpu: o.cpu ?? '4', memory: '8Gi', pods: '110' } },
  }
}

export interface PodOpts {
  nodeName?: string
  cpu?: string
  memory?: string
  hostPort?: number
  affinity?: 'preferred' | 'required-anti'
  labels?: Record<string, string>
  phase?: string
}

const term = { labelSelector: { matchLabels: { app: 'x' } }, topologyKey: 'kubernetes.io/hostname' }

export function pod(name: string, o: PodOpts = {}): KubeObject {
  const affinity =
    o.affinity === 'preferred'
      ? { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, podAffinityTerm: term }] } }
      : o.affinity === 'required-anti'
        ? { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term] } }
        : undefined
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', uid: `uid-${name}`, labels: o.labels ?? {} },
    spec: {
      ...(o.nodeName === undefined ? {} : { nodeName: o.nodeName }),
      containers: [
        {
          name: 'c',
          image: 'x',
          resources: { requests: { cpu: o.cpu ?? '100m', memory: o.memory ?? '64Mi' } },
          ...(o.hostPort === undefined ? {} : { ports: [{ containerPort: 80, hostPort: o.hostPort }] }),
        },
      ],
      ...(affinity === undefined ? {} : { affinity }),
    },
    status: { phase: o.phase ?? 'Running' },
  }
}
