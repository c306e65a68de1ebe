// Pods and nodes for the scheduling queue tests: just the fields the queue reads.
import type { KubeObject } from '../../../src/client/types.js'

export interface PodOpts {
  priority?: number
  gates?: string[]
  labels?: Record<string, string>
  cpu?: string
  resourceVersion?: string
  conditions?: unknown[]
}

export function pod(name: string, o: PodOpts = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', uid: `uid-${name}`, resourceVersion: o.resourceVersion ?? '1', ...(o.labels ? { labels: o.labels } : {}) },
    spec: {
      containers: [{ name: 'c', image: 'x', resources: { requests: { cpu: o.cpu ?? '100m' } } }],
      ...(o.priority === undefined ? {} : { priority: o.priority }),
      ...(o.gates ? { schedulingGates: o.gates.map((name) => ({ name })) } : {}),
    },
    status: { phase: 'Pending', ...(o.conditions ? { conditions: o.conditions } : {}) },
  }
}

export function node(name: string, o: { cpu?: string; labels?: Record<string, string>; taints?: unknown[]; unschedulable?: boolean; conditions?: unknown[] } = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: o.labels ?? {} },
    spec: { ...(o.taints ? { taints: o.taints } : {}), ...(o.unschedulable === undefined ? {} : { unschedulable: o.unschedulable }) },
    status: { allocatable: { cpu: o.cpu ?? '4', memory: '8Gi', pods: '110' }, conditions: o.conditions ?? [] },
  }
}
