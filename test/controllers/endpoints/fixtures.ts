// Services and pods as the API server holds them, for the endpoints unit tests.
import type { KubeObject } from '../../../src/client/index.js'

export interface PodOptions {
  ip?: string
  ready?: boolean
  readySince?: string
  node?: string
  labels?: Record<string, string>
  ports?: { name: string; containerPort: number; protocol?: string }[]
  phase?: string
  terminating?: boolean
  hostname?: string
  subdomain?: string
  resourceVersion?: string
}

export function pod(name: string, o: PodOptions = {}): KubeObject {
  const spec: Record<string, unknown> = { containers: [{ name: 'c', image: 'x', ports: o.ports ?? [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] }] }
  if (o.node !== '') spec.nodeName = o.node ?? 'n1'
  if (o.hostname !== undefined) spec.hostname = o.hostname
  if (o.subdomain !== undefined) spec.subdomain = o.subdomain
  const status: Record<string, unknown> = { phase: o.phase ?? 'Running' }
  if (o.ip !== '') status.podIP = o.ip ?? `10.0.0.${name.replace(/\D/g, '') || '1'}`
  status.conditions = [{ type: 'Ready', status: o.ready === false ? 'False' : 'True', lastTransitionTime: o.readySince ?? '2024-05-01T10:00:00Z' }]
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'ns',
      uid: `uid-${name}`,
      labels: o.labels ?? { app: 'web' },
      resourceVersion: o.resourceVersion ?? '1',
      ...(o.terminating === true ? { deletionTimestamp: '2024-05-01T11:00:00Z' } : {}),
    },
    spec,
    status,
  }
}

export function service(name: string, spec: Record<string, unknown> = {}, labels?: Record<string, string>): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'ns', uid: `uid-svc-${name}`, creationTimestamp: '2024-05-01T09:00:00Z', ...(labels === undefined ? {} : { labels }) },
    spec: {
      selector: { app: 'web' },
      clusterIP: '10.96.0.10',
      ipFamilies: ['IPv4'],
      ports: [{ name: 'web', port: 80, targetPort: 'http', protocol: 'TCP' }],
      ...spec,
    },
  }
}

export function node(name: string, zone?: string): KubeObject {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: zone === undefined ? {} : { 'topology.kubernetes.io/zone': zone } } }
}
