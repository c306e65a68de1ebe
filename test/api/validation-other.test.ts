// Lease, Ingress, IngressClass, PriorityClass, StorageClass, RBAC and HPA validation,
// and kinds without rules of their own.
import t from 'tap'
import type { Json } from '../../src/api/json.js'
import { validateCreate, validateStatusUpdate, validateUpdate } from '../../src/api/validation/index.js'
import { clone, createErrors, lines, RFC1123_SUBDOMAIN, rt, updateErrors } from './fixtures.js'

const ns = (name: string, extra: Json = {}): Json => ({ name, namespace: 'default', resourceVersion: '1', ...extra })

t.test('Leases', async (t) => {
  t.strictSame(createErrors('Lease', { metadata: ns('node-1'), spec: { holderIdentity: 'node-1', leaseDurationSeconds: 40 } }), [])
  t.strictSame(createErrors('Lease', { metadata: ns('l'), spec: { leaseDurationSeconds: 0, leaseTransitions: -1 } }), [
    'spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0',
    'spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0',
  ])
})

t.test('Ingresses and IngressClasses', async (t) => {
  const backend = { service: { name: 'web', port: { number: 80 } } }
  t.strictSame(createErrors('Ingress', { metadata: ns('ing'), spec: { rules: [{ host: 'a.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend }] } }] } }), [])
  t.strictSame(createErrors('Ingress', { metadata: ns('ing'), spec: {} }), ['spec: Invalid value: []networking.IngressRule(nil): either `defaultBackend` or `rules` must be specified'])
  t.strictSame(
    createErrors('Ingress', {
      metadata: ns('ing'),
      spec: { rules: [{ host: '10.0.0.1', http: { paths: [{ path: 'x', pathType: 'Exact', backend }, { path: '/a', backend }, { path: '/b', pathType: 'Prefix', backend: { service: { name: 'web' } } }] } }] },
    }),
    [
      'spec.rules[0].host: Invalid value: "10.0.0.1": must be a DNS name, not an IP address',
      'spec.rules[0].http.paths[0].path: Invalid value: "x": must be an absolute path',
      'spec.rules[0].http.paths[1].pathType: Required value: pathType must be specified',
      'spec.rules[0].http.paths[2].backend: Required value: port name or number is required',
    ],
  )
  t.strictSame(createErrors('Ingress', { metadata: ns('ing'), spec: { rules: [{ host: '*.example.com' }] } }), [])
  t.strictSame(createErrors('IngressClass', { metadata: { name: 'nginx' }, spec: { controller: 'k8s.io/ingress-nginx' } }), [])
  t.strictSame(createErrors('IngressClass', { metadata: { name: 'nginx' }, spec: { controller: 'nginx' } }), ['spec.controller: Invalid value: "nginx": must be a domain-prefixed path (such as "acme.io/foo")'])
  const old = { metadata: { name: 'nginx', resourceVersion: '1' }, spec: { controller: 'k8s.io/a' } }
  t.strictSame(updateErrors('IngressClass', old, { ...clone(old), spec: { controller: 'k8s.io/b' } }), ['spec.controller: Invalid value: "k8s.io/b": field is immutable'])
})

t.test('PriorityClasses and StorageClasses', async (t) => {
  t.strictSame(createErrors('PriorityClass', { metadata: { name: 'high' }, value: 1000 }), [])
  t.strictSame(createErrors('PriorityClass', { metadata: { name: 'huge' }, value: 2000000000 }), ['value: Forbidden: maximum allowed value of a user defined priority is 1000000000'])
  t.strictSame(createErrors('PriorityClass', { metadata: { name: 'system-mine' }, value: 1 }), [
    "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class",
  ])
  const pc = { metadata: { name: 'high', resourceVersion: '1' }, value: 1000, preemptionPolicy: 'PreemptLowerPriority' }
  t.strictSame(updateErrors('PriorityClass', pc, { ...clone(pc), value: 2000 }), ['value: Forbidden: may not be changed in an update.'])
  t.strictSame(createErrors('StorageClass', { metadata: { name: 'local-path' }, provisioner: 'rancher.io/local-path' }), [])
  t.strictSame(createErrors('StorageClass', { metadata: { name: 'x' }, provisioner: 'p', reclaimPolicy: 'Recycle', volumeBindingMode: 'Later' }), [
    'reclaimPolicy: Unsupported value: "Recycle": supported values: "Delete", "Retain"',
    'volumeBindingMode: Unsupported value: "Later": supported values: "Immediate", "WaitForFirstConsumer"',
  ])
  const sc = { metadata: { name: 'x', resourceVersion: '1' }, provisioner: 'p', parameters: { a: '1' }, reclaimPolicy: 'Delete', volumeBindingMode: 'Immediate' }
  t.strictSame(updateErrors('StorageClass', sc, { ...clone(sc), parameters: { a: '2' } }), ['parameters: Forbidden: updates to parameters are forbidden.'])
})

t.test('RBAC', async (t) => {
  t.strictSame(createErrors('Role', { metadata: ns('reader'), rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }] }), [])
  t.strictSame(createErrors('Role', { metadata: ns('r'), rules: [{ nonResourceURLs: ['/healthz'], verbs: ['get'] }] }), [
    'rules[0].nonResourceURLs: Invalid value: []string{"/healthz"}: namespaced rules cannot apply to non-resource URLs',
  ])
  t.strictSame(createErrors('ClusterRole', { metadata: { name: 'system:aggregate' }, aggregationRule: {} }), ['aggregationRule: Required value: at least one clusterRoleSelector required if aggregationRule is non-nil'])
  t.strictSame(createErrors('RoleBinding', { metadata: ns('rb'), roleRef: { kind: 'Role', name: 'reader' }, subjects: [{ kind: 'ServiceAccount', name: 'sa' }, { kind: 'Robot', name: 'r' }] }), [
    'subjects[1].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"',
  ])
  t.strictSame(createErrors('ClusterRoleBinding', { metadata: { name: 'crb' }, roleRef: { kind: 'Role', name: 'x' }, subjects: [{ kind: 'ServiceAccount', name: 'sa' }] }), [
    'roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"',
    'subjects[0].namespace: Required value',
  ])
  const rb = { metadata: ns('rb'), roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'a' } }
  t.strictSame(updateErrors('RoleBinding', rb, { ...clone(rb), roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'b' } }), [
    'roleRef: Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"Role", Name:"b"}: cannot change roleRef',
  ])
})

t.test('HorizontalPodAutoscalers', async (t) => {
  const hpa = (spec: Json): Json => ({ metadata: ns('web'), spec })
  t.strictSame(createErrors('HorizontalPodAutoscaler', hpa({ scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 5 })), [])
  t.strictSame(createErrors('HorizontalPodAutoscaler', hpa({ scaleTargetRef: { kind: 'Deployment' }, minReplicas: 3, maxReplicas: 2 })), [
    'spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`',
    'spec.scaleTargetRef.name: Required value',
  ])
})

t.test('kinds without rules of their own get ObjectMeta validation', async (t) => {
  const widget = { kind: 'Widget', namespaced: true }
  t.strictSame(lines(validateCreate(widget, { metadata: { name: 'ok', namespace: 'default' } })), [])
  t.strictSame(lines(validateCreate(widget, { metadata: { name: 'Bad' } })), [`metadata.name: Invalid value: "Bad": ${RFC1123_SUBDOMAIN}`, 'metadata.namespace: Required value'])
  const old = { metadata: ns('ok') }
  t.strictSame(lines(validateUpdate(widget, old, { metadata: { ...ns('ok'), labels: { a: 'b' } } })), [])
})

t.test('status updates', async (t) => {
  const old = { metadata: ns('web'), spec: {}, status: { replicas: 2 } }
  t.strictSame(lines(validateStatusUpdate(rt('Deployment'), old, { ...clone(old), status: { replicas: 2, readyReplicas: 3, availableReplicas: 1 } })), [
    'status.readyReplicas: Invalid value: 3: cannot be greater than status.replicas',
  ])
  const nsOld = { metadata: { name: 'n', resourceVersion: '1' }, status: { phase: 'Active' } }
  t.strictSame(lines(validateStatusUpdate(rt('Namespace'), nsOld, { ...clone(nsOld), status: { phase: 'Terminating' } })), [
    "status.Phase: Invalid value: \"Terminating\": may only be 'Active' if `deletionTimestamp` is empty",
  ])
})
