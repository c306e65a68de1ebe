// Defaulting: what an object looks like after kube-apiserver decodes it (and, on
// create, after the registry and the default admission plugins).
import t from 'tap'
import { applyDefaults, defaultPullPolicy, defaultTolerationSeconds, jobSelectorDefaults, parseImage } from '../../src/api/defaults.js'
import type { Json } from '../../src/api/json.js'
import { rt } from './fixtures.js'

function defaulted(kind: string, obj: Json, create = true): Json {
  return applyDefaults(rt(kind), obj, { create })
}

const container = { name: 'app', image: 'nginx' }

t.test('image pull policy from the tag', async (t) => {
  t.equal(defaultPullPolicy('nginx'), 'Always')
  t.equal(defaultPullPolicy('nginx:latest'), 'Always')
  t.equal(defaultPullPolicy('nginx:1.25'), 'IfNotPresent')
  t.equal(defaultPullPolicy('registry.local:5000/team/app'), 'Always')
  t.equal(defaultPullPolicy('registry.local:5000/team/app:v2'), 'IfNotPresent')
  t.equal(defaultPullPolicy(`nginx@sha256:${'a'.repeat(64)}`), 'IfNotPresent')
  t.equal(defaultPullPolicy('Nginx'), 'IfNotPresent', 'an unparseable name')
  t.strictSame(parseImage('docker.io/library/busybox:1.36'), { repository: 'docker.io/library/busybox', tag: '1.36', digest: '' })
})

t.test('pods', async (t) => {
  const pod = defaulted('Pod', { metadata: { name: 'p' }, spec: { containers: [{ ...container, ports: [{ containerPort: 80 }], resources: { limits: { cpu: '0.5', memory: '1Gi' } } }] } })
  t.strictSame(pod.spec, {
    containers: [
      {
        name: 'app',
        image: 'nginx',
        ports: [{ containerPort: 80, protocol: 'TCP' }],
        resources: { limits: { cpu: '500m', memory: '1Gi' }, requests: { cpu: '500m', memory: '1Gi' } },
        imagePullPolicy: 'Always',
        terminationMessagePath: '/dev/termination-log',
        terminationMessagePolicy: 'File',
      },
    ],
    dnsPolicy: 'ClusterFirst',
    restartPolicy: 'Always',
    securityContext: {},
    terminationGracePeriodSeconds: 30,
    schedulerName: 'default-scheduler',
    enableServiceLinks: true,
    serviceAccountName: 'default',
    serviceAccount: 'default',
    priority: 0,
    preemptionPolicy: 'PreemptLowerPriority',
  })
  const noAdmission = applyDefaults(rt('Pod'), { spec: { containers: [container] } }, { admission: false })
  t.equal((noAdmission.spec as Json).serviceAccountName, undefined)
  const update = defaulted('Pod', { spec: { containers: [container] } }, false)
  t.equal((update.spec as Json).priority, undefined, 'admission defaults only apply on create')
  const named = defaulted('Pod', { spec: { serviceAccountName: 'builder', priorityClassName: 'high', containers: [container] } })
  t.equal((named.spec as Json).serviceAccount, 'builder')
  t.equal((named.spec as Json).priority, undefined)

  const probes = defaulted('Pod', {
    spec: {
      hostNetwork: true,
      containers: [{ ...container, ports: [{ containerPort: 8080 }], livenessProbe: { httpGet: { port: 8080 } }, env: [{ name: 'N', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }] }],
      volumes: [{ name: 'scratch' }, { name: 'cfg', configMap: { name: 'c' } }, { name: 'tok', projected: { sources: [{ serviceAccountToken: { path: 't' } }] } }],
    },
  })
  const c = ((probes.spec as Json).containers as Json[])[0]
  t.strictSame(c.livenessProbe, { httpGet: { port: 8080, path: '/', scheme: 'HTTP' }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 })
  t.strictSame(c.ports, [{ containerPort: 8080, protocol: 'TCP', hostPort: 8080 }], 'host networking maps container ports to host ports')
  t.strictSame(((c.env as Json[])[0].valueFrom as Json).fieldRef, { fieldPath: 'spec.nodeName', apiVersion: 'v1' })
  t.strictSame((probes.spec as Json).volumes, [
    { name: 'scratch', emptyDir: {} },
    { name: 'cfg', configMap: { name: 'c', defaultMode: 420 } },
    { name: 'tok', projected: { sources: [{ serviceAccountToken: { path: 't', expirationSeconds: 3600 } }], defaultMode: 420 } },
  ])
})

t.test('DefaultTolerationSeconds', async (t) => {
  const pod: Json = { spec: { tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' }] } }
  defaultTolerationSeconds(pod)
  t.strictSame((pod.spec as Json).tolerations, [
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
  ])
  const tolerant: Json = { spec: { tolerations: [{ operator: 'Exists' }] } }
  defaultTolerationSeconds(tolerant)
  t.equal(((tolerant.spec as Json).tolerations as Json[]).length, 1, 'a toleration of everything covers both taints')
})

t.test('apps workloads', async (t) => {
  const d = defaulted('Deployment', { spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [container] } } } })
  const spec = d.spec as Json
  t.equal(spec.replicas, 1)
  t.strictSame(spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } })
  t.equal(spec.revisionHistoryLimit, 10)
  t.equal(spec.progressDeadlineSeconds, 600)
  const tspec = (spec.template as Json).spec as Json
  t.equal(tspec.restartPolicy, 'Always')
  t.equal(tspec.enableServiceLinks, undefined, 'pod-only defaults stay off templates')
  t.equal(((tspec.containers as Json[])[0] as Json).imagePullPolicy, 'Always')

  const recreate = defaulted('Deployment', { spec: { strategy: { type: 'Recreate' } } })
  t.strictSame((recreate.spec as Json).strategy, { type: 'Recreate' })

  const sts = defaulted('StatefulSet', { spec: { volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { resources: { requests: { storage: '1Gi' } } } }] } })
  const ss = sts.spec as Json
  t.equal(ss.podManagementPolicy, 'OrderedReady')
  t.strictSame(ss.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { partition: 0 } })
  t.strictSame(ss.persistentVolumeClaimRetentionPolicy, { whenDeleted: 'Retain', whenScaled: 'Retain' })
  t.equal(ss.replicas, 1)
  t.equal(ss.revisionHistoryLimit, 10)
  t.strictSame((ss.volumeClaimTemplates as Json[])[0], { metadata: { name: 'data' }, spec: { resources: { requests: { storage: '1Gi' } }, volumeMode: 'Filesystem' }, status: { phase: 'Pending' } })

  const ds = defaulted('DaemonSet', { spec: {} })
  t.strictSame((ds.spec as Json).updateStrategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } })
  t.equal((defaulted('ReplicaSet', { spec: {} }).spec as Json).replicas, 1)

  const rc = defaulted('ReplicationController', { metadata: {}, spec: { template: { metadata: { labels: { app: 'x' } }, spec: { containers: [container] } } } })
  t.strictSame((rc.spec as Json).selector, { app: 'x' })
  t.strictSame((rc.metadata as Json).labels, { app: 'x' })
  t.equal((rc.spec as Json).replicas, 1)
})

t.test('batch', async (t) => {
  const job = defaulted('Job', { metadata: { name: 'pi' }, spec: { template: { metadata: { labels: { app: 'pi' } }, spec: { restartPolicy: 'Never', containers: [container] } } } })
  const js = job.spec as Json
  t.strictSame(
    { completions: js.completions, parallelism: js.parallelism, backoffLimit: js.backoffLimit, completionMode: js.completionMode, suspend: js.suspend, podReplacementPolicy: js.podReplacementPolicy, manualSelector: js.manualSelector },
    { completions: 1, parallelism: 1, backoffLimit: 6, completionMode: 'NonIndexed', suspend: false, podReplacementPolicy: 'TerminatingOrFailed', manualSelector: false },
  )
  t.strictSame((job.metadata as Json).labels, { app: 'pi' }, 'a job takes its template labels')
  const parallel = defaulted('Job', { spec: { parallelism: 3 } })
  t.equal((parallel.spec as Json).completions, undefined, 'completions stay unset for work queues')
  jobSelectorDefaults(job, 'uid-9')
  t.strictSame((((job.spec as Json).template as Json).metadata as Json).labels, {
    app: 'pi',
    'job-name': 'pi',
    'batch.kubernetes.io/job-name': 'pi',
    'controller-uid': 'uid-9',
    'batch.kubernetes.io/controller-uid': 'uid-9',
  })
  t.strictSame((job.spec as Json).selector, { matchLabels: { 'batch.kubernetes.io/controller-uid': 'uid-9' } })

  const cj = defaulted('CronJob', { spec: { schedule: '* * * * *', jobTemplate: { spec: { template: { spec: { containers: [container] } } } } } })
  const cs = cj.spec as Json
  t.strictSame({ c: cs.concurrencyPolicy, s: cs.suspend, ok: cs.successfulJobsHistoryLimit, bad: cs.failedJobsHistoryLimit }, { c: 'Allow', s: false, ok: 3, bad: 1 })
  t.equal(((cs.jobTemplate as Json).spec as Json).backoffLimit, undefined, 'job defaults do not apply inside a cronjob template')
})

t.test('services', async (t) => {
  const svc = defaulted('Service', { spec: { selector: { app: 'web' }, ports: [{ port: 80 }, { port: 443, targetPort: 'https' }] } })
  t.strictSame(svc.spec, {
    selector: { app: 'web' },
    ports: [
      { port: 80, protocol: 'TCP', targetPort: 80 },
      { port: 443, targetPort: 'https', protocol: 'TCP' },
    ],
    sessionAffinity: 'None',
    type: 'ClusterIP',
    internalTrafficPolicy: 'Cluster',
    ipFamilyPolicy: 'SingleStack',
    ipFamilies: ['IPv4'],
  })
  const lb = defaulted('Service', { spec: { type: 'LoadBalancer', sessionAffinity: 'ClientIP', ports: [{ port: 80 }] } })
  t.strictSame(
    { etp: (lb.spec as Json).externalTrafficPolicy, alloc: (lb.spec as Json).allocateLoadBalancerNodePorts, sac: (lb.spec as Json).sessionAffinityConfig },
    { etp: 'Cluster', alloc: true, sac: { clientIP: { timeoutSeconds: 10800 } } },
  )
  const headless = defaulted('Service', { spec: { clusterIP: 'None' } })
  t.strictSame({ ips: (headless.spec as Json).clusterIPs, policy: (headless.spec as Json).ipFamilyPolicy }, { ips: ['None'], policy: 'RequireDualStack' })
  const ext = defaulted('Service', { spec: { type: 'ExternalName', externalName: 'x.example.com' } })
  t.equal((ext.spec as Json).ipFamilies, undefined)
  t.equal((ext.spec as Json).internalTrafficPolicy, undefined)
})

t.test('other core kinds', async (t) => {
  const ns = defaulted('Namespace', { metadata: { name: 'team' } })
  t.strictSame(ns, { metadata: { name: 'team', labels: { 'kubernetes.io/metadata.name': 'team' } }, status: { phase: 'Active' }, spec: { finalizers: ['kubernetes'] } })
  const nsUpdate = defaulted('Namespace', { metadata: { name: 'team' }, spec: { finalizers: [] } }, false)
  t.strictSame((nsUpdate.spec as Json).finalizers, [], 'the finalizer is only added on create')
  const finalizing = defaulted('Namespace', { metadata: { name: 'team', deletionTimestamp: '2024-01-01T00:00:00Z' }, spec: { finalizers: [] } })
  t.strictSame((finalizing.spec as Json).finalizers, [], 'nor to a namespace being deleted')
  const secret = defaulted('Secret', { stringData: { user: 'admin' }, data: { other: 'eA==' } })
  t.strictSame(secret, { type: 'Opaque', data: { other: 'eA==', user: 'YWRtaW4=' } })
  const pv = defaulted('PersistentVolume', { spec: { capacity: { storage: '1.5Gi' } } })
  t.strictSame(pv, { spec: { capacity: { storage: '1536Mi' }, persistentVolumeReclaimPolicy: 'Retain', volumeMode: 'Filesystem' }, status: { phase: 'Pending' } })
  const pvc = defaulted('PersistentVolumeClaim', { spec: { resources: { requests: { storage: '1Gi' } } } })
  t.strictSame(pvc, { spec: { resources: { requests: { storage: '1Gi' } }, volumeMode: 'Filesystem' }, status: { phase: 'Pending' } })
  const node = defaulted('Node', { status: { capacity: { cpu: '2', memory: '4096Mi' } } })
  t.strictSame(node.status, { capacity: { cpu: '2', memory: '4Gi' }, allocatable: { cpu: '2', memory: '4Gi' } })
  const lr = defaulted('LimitRange', { spec: { limits: [{ type: 'Container', max: { cpu: '2' }, min: { memory: '64Mi' } }] } })
  t.strictSame((lr.spec as Json).limits, [{ type: 'Container', max: { cpu: '2' }, min: { memory: '64Mi' }, default: { cpu: '2' }, defaultRequest: { cpu: '2', memory: '64Mi' } }])
  t.strictSame(defaulted('Endpoints', { subsets: [{ ports: [{ port: 80 }] }] }).subsets, [{ ports: [{ port: 80, protocol: 'TCP' }] }])
})

t.test('other groups', async (t) => {
  const hpa = defaulted('HorizontalPodAutoscaler', { spec: { maxReplicas: 3, behavior: { scaleDown: { stabilizationWindowSeconds: 60 } } } })
  t.strictSame(hpa.spec, {
    maxReplicas: 3,
    minReplicas: 1,
    metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }],
    behavior: {
      scaleDown: { stabilizationWindowSeconds: 60, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] },
      scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }] },
    },
  })
  t.strictSame(defaulted('StorageClass', { provisioner: 'p' }), { provisioner: 'p', reclaimPolicy: 'Delete', volumeBindingMode: 'Immediate' })
  t.strictSame(defaulted('PriorityClass', { value: 1 }), { value: 1, preemptionPolicy: 'PreemptLowerPriority' })
  t.strictSame(defaulted('RoleBinding', { roleRef: { kind: 'Role', name: 'r' }, subjects: [{ kind: 'User', name: 'u' }, { kind: 'ServiceAccount', name: 's' }] }), {
    roleRef: { kind: 'Role', name: 'r', apiGroup: 'rbac.authorization.k8s.io' },
    subjects: [
      { kind: 'User', name: 'u', apiGroup: 'rbac.authorization.k8s.io' },
      { kind: 'ServiceAccount', name: 's', apiGroup: '' },
    ],
  })
  t.strictSame(defaulted('EndpointSlice', { ports: [{ port: 80 }] }), { ports: [{ port: 80, name: '', protocol: 'TCP' }] })
  t.strictSame(defaulted('IngressClass', { spec: { parameters: { kind: 'K', name: 'n' } } }), { spec: { parameters: { kind: 'K', name: 'n', scope: 'Cluster' } } })
  t.strictSame(defaulted('ConfigMap', { data: { a: 'b' } }), { data: { a: 'b' } }, 'kinds without defaults are left alone')
})
