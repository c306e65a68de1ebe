// Objects the quota tests count: pods with given requests/limits and phases, quotas
// with scopes and scope selectors, Services of each type.
import type { KubeObject } from '../../../src/client/index.js'

type Resources = { requests?: Record<string, string>; limits?: Record<string, string> }

export interface PodOptions extends Resources {
  phase?: string
  activeDeadlineSeconds?: number
  priorityClassName?: string
  namespace?: string
}

export function pod(name: string, o: PodOptions = {}): KubeObject {
  const resources: Resources = {}
  if (o.requests !== undefined) resources.requests = o.requests
  if (o.limits !== undefined) resources.limits = o.limits
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, ...(o.namespace === undefined ? {} : { namespace: o.namespace }) },
    spec: {
      containers: [{ name: 'main', image: 'busybox', resources }],
      ...(o.activeDeadlineSeconds === undefined ? {} : { activeDeadlineSeconds: o.activeDeadlineSeconds }),
      ...(o.priorityClassName === undefined ? {} : { priorityClassName: o.priorityClassName }),
    },
    ...(o.phase === undefined ? {} : { status: { phase: o.phase } }),
  }
}

export function quota(name: string, hard: Record<string, string>, spec: Record<string, unknown> = {}, namespace?: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    metadata: { name, ...(namespace === undefined ? {} : { namespace }) },
    spec: { hard, ...spec },
  }
}

export function service(name: string, type: string, ports = 1): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name },
    spec: { type, ports: Array.from({ length: ports }, (_, i) => ({ name: `p${i}`, port: 80 + i })) },
  }
}

export function configMap(name: string): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { k: 'v' } }
}

export const priorityScope = (operator: string, values: string[] = []): Record<string, unknown> => ({
  scopeSelector: { matchExpressions: [{ scopeName: 'PriorityClass', operator, ...(values.length === 0 ? {} : { values }) }] },
})
