// Tables as kubectl receives them: columns (with wide-only priorities), the cells of
// each printer, pod status as kubectl shows it, ages, and the row objects.
import t from 'tap'
import type { Json } from '../../src/api/json.js'
import { humanDuration, toTable } from '../../src/api/tables.js'
import { rt } from './fixtures.js'

const NOW = Date.parse('2024-06-01T12:00:00Z')
const ago = (seconds: number): string => new Date(NOW - seconds * 1000).toISOString()

function row(kind: string, obj: Json): unknown[] {
  return toTable(rt(kind), [obj], { now: NOW }).rows[0].cells
}

function headers(kind: string): string[] {
  return toTable(rt(kind), []).columnDefinitions.map((c) => (c.priority === 1 ? `(${c.name})` : c.name))
}

t.test('HumanDuration', async (t) => {
  const cases: [number, string][] = [
    [-5, '<invalid>'],
    [-1, '0s'],
    [0, '0s'],
    [45, '45s'],
    [119, '119s'],
    [150, '2m30s'],
    [300, '5m'],
    [600, '10m'],
    [179 * 60, '179m'],
    [3 * 3600, '3h'],
    [5 * 3600 + 30 * 60, '5h30m'],
    [30 * 3600, '30h'],
    [2 * 86400, '2d'],
    [3 * 86400 + 5 * 3600, '3d5h'],
    [20 * 86400, '20d'],
    [800 * 86400, '2y70d'],
    [3000 * 86400, '8y'],
  ]
  for (const [s, want] of cases) t.equal(humanDuration(s * 1000), want, `${s}s`)
})

t.test('column definitions', async (t) => {
  t.strictSame(headers('Pod'), ['Name', 'Ready', 'Status', 'Restarts', 'Age', '(IP)', '(Node)', '(Nominated Node)', '(Readiness Gates)'])
  t.strictSame(headers('Node'), ['Name', 'Status', 'Roles', 'Age', 'Version', '(Internal-IP)', '(External-IP)', '(OS-Image)', '(Kernel-Version)', '(Container-Runtime)'])
  t.strictSame(headers('Service'), ['Name', 'Type', 'Cluster-IP', 'External-IP', 'Port(s)', 'Age', '(Selector)'])
  t.strictSame(headers('Deployment'), ['Name', 'Ready', 'Up-to-date', 'Available', 'Age', '(Containers)', '(Images)', '(Selector)'])
  t.strictSame(headers('Job'), ['Name', 'Status', 'Completions', 'Duration', 'Age', '(Containers)', '(Images)', '(Selector)'])
  t.strictSame(headers('CronJob'), ['Name', 'Schedule', 'Timezone', 'Suspend', 'Active', 'Last Schedule', 'Age', '(Containers)', '(Images)', '(Selector)'])
  t.strictSame(headers('Event'), ['Last Seen', 'Type', 'Reason', 'Object', '(Subobject)', '(Source)', 'Message', '(First Seen)', '(Count)', '(Name)'])
  t.strictSame(headers('Role'), ['Name', 'Created At'])
  const name = toTable(rt('Pod'), []).columnDefinitions[0]
  t.equal(name.format, 'name')
  t.match(name.description, /^Name must be unique within a namespace/)
  t.strictSame(toTable(rt('Pod'), [], { noHeaders: true }).columnDefinitions, [])
})

const base = (name: string, extra: Json = {}): Json => ({ name, namespace: 'default', creationTimestamp: ago(300), ...extra })

t.test('pod status as kubectl shows it', async (t) => {
  const pod = (status: Json, spec: Json = {}, meta: Json = {}): Json => ({
    metadata: base('web', meta),
    spec: { nodeName: 'node-1', containers: [{ name: 'a', image: 'x' }], ...spec },
    status,
  })
  t.strictSame(row('Pod', pod({ phase: 'Pending' }, { nodeName: undefined })), ['web', '0/1', 'Pending', '0', '5m', '<none>', '<none>', '<none>', '<none>'])
  t.strictSame(row('Pod', pod({ phase: 'Running', podIP: '10.0.0.5', podIPs: [{ ip: '10.0.0.5' }], containerStatuses: [{ name: 'a', ready: true, restartCount: 0, state: { running: {} } }] })), [
    'web', '1/1', 'Running', '0', '5m', '10.0.0.5', 'node-1', '<none>', '<none>',
  ])
  const crashing = pod({
    phase: 'Running',
    containerStatuses: [{ name: 'a', ready: false, restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1, finishedAt: ago(120) } } }],
  })
  t.strictSame(row('Pod', crashing).slice(1, 4), ['0/1', 'CrashLoopBackOff', '3 (2m ago)'])
  t.strictSame(row('Pod', pod({ phase: 'Pending', containerStatuses: [{ name: 'a', state: { waiting: { reason: 'ContainerCreating' } } }] }))[2], 'ContainerCreating')
  const done = toTable(rt('Pod'), [pod({ phase: 'Succeeded', containerStatuses: [{ name: 'a', state: { terminated: { exitCode: 0, reason: 'Completed' } } }] })], { now: NOW }).rows[0]
  t.equal(done.cells[2], 'Completed')
  t.strictSame(done.conditions, [{ type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' }])
  t.equal(row('Pod', pod({ phase: 'Failed', containerStatuses: [{ name: 'a', state: { terminated: { exitCode: 137 } } }] }))[2], 'ExitCode:137')
  t.equal(row('Pod', pod({ phase: 'Failed', containerStatuses: [{ name: 'a', state: { terminated: { signal: 9 } } }] }))[2], 'Signal:9')
  t.equal(row('Pod', pod({ phase: 'Running' }, {}, { deletionTimestamp: ago(1) }))[2], 'Terminating')
  t.equal(row('Pod', pod({ phase: 'Running', reason: 'NodeLost' }, {}, { deletionTimestamp: ago(1) }))[2], 'Unknown')
  t.equal(row('Pod', pod({ phase: 'Failed', reason: 'Evicted' }))[2], 'Evicted')
  t.equal(row('Pod', pod({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }] }))[2], 'SchedulingGated')

  const inits = { initContainers: [{ name: 'i1', image: 'x' }, { name: 'i2', image: 'x' }] }
  t.equal(row('Pod', pod({ phase: 'Pending', initContainerStatuses: [{ name: 'i1', state: { terminated: { exitCode: 0 } } }, { name: 'i2', state: { running: {} } }] }, inits))[2], 'Init:1/2')
  t.equal(row('Pod', pod({ phase: 'Pending', initContainerStatuses: [{ name: 'i1', state: { waiting: { reason: 'ImagePullBackOff' } } }] }, inits))[2], 'Init:ImagePullBackOff')
  t.equal(row('Pod', pod({ phase: 'Failed', initContainerStatuses: [{ name: 'i1', state: { terminated: { exitCode: 2 } } }] }, inits))[2], 'Init:ExitCode:2')
  const sidecar = pod(
    { phase: 'Running', initContainerStatuses: [{ name: 's', started: true, ready: true, restartCount: 1, state: { running: {} } }], containerStatuses: [{ name: 'a', ready: true, state: { running: {} } }], conditions: [{ type: 'Initialized', status: 'True' }] },
    { initContainers: [{ name: 's', image: 'x', restartPolicy: 'Always' }] },
  )
  t.strictSame(row('Pod', sidecar).slice(1, 4), ['2/2', 'Running', '1'])
  const gates = pod({ phase: 'Running', conditions: [{ type: 'example.com/ready', status: 'True' }] }, { readinessGates: [{ conditionType: 'example.com/ready' }, { conditionType: 'example.com/other' }] })
  t.equal(row('Pod', gates)[8], '1/2')
})

t.test('nodes, namespaces, services, endpoints', async (t) => {
  const node = {
    metadata: { name: 'node-1', creationTimestamp: ago(3 * 86400), labels: { 'node-role.kubernetes.io/worker': '', 'node-role.kubernetes.io/control-plane': '', 'kubernetes.io/role': 'edge' } },
    spec: { unschedulable: true },
    status: {
      conditions: [{ type: 'Ready', status: 'True' }],
      addresses: [{ type: 'InternalIP', address: '10.0.0.2' }],
      nodeInfo: { kubeletVersion: 'v1.32.0', osImage: 'Debian', kernelVersion: '6.1', containerRuntimeVersion: 'process://0.1' },
    },
  }
  t.strictSame(row('Node', node), ['node-1', 'Ready,SchedulingDisabled', 'control-plane,edge,worker', '3d', 'v1.32.0', '10.0.0.2', '<none>', 'Debian', '6.1', 'process://0.1'])
  t.strictSame(row('Node', { metadata: { name: 'n' }, status: { conditions: [{ type: 'Ready', status: 'Unknown' }] } }).slice(1, 4), ['NotReady', '<none>', '<unknown>'])
  t.strictSame(row('Node', { metadata: { name: 'n' } })[1], 'Unknown')
  t.strictSame(row('Namespace', { metadata: { name: 'kube-system', creationTimestamp: ago(45) }, status: { phase: 'Active' } }), ['kube-system', 'Active', '45s'])

  const svc = (spec: Json, status: Json = {}): Json => ({ metadata: base('web'), spec, status })
  t.strictSame(row('Service', svc({ type: 'ClusterIP', clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], selector: { app: 'web' }, ports: [{ port: 80, protocol: 'TCP' }] })), [
    'web', 'ClusterIP', '10.96.0.10', '<none>', '80/TCP', '5m', 'app=web',
  ])
  t.strictSame(row('Service', svc({ type: 'NodePort', clusterIP: 'None', ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }] })).slice(1, 5), ['NodePort', 'None', '<none>', '80:30080/TCP,53/UDP'])
  t.strictSame(row('Service', svc({ type: 'LoadBalancer', clusterIP: '10.96.0.11', ports: [] })).slice(3, 5), ['<pending>', '<none>'])
  t.strictSame(row('Service', svc({ type: 'LoadBalancer', ports: [] }, { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } }))[3], '1.2.3.4')
  t.strictSame(row('Service', svc({ type: 'ExternalName', externalName: 'db.example.com' })).slice(1, 4), ['ExternalName', '<none>', 'db.example.com'])

  const ep = { metadata: base('web'), subsets: [{ addresses: [{ ip: '10.1.0.1' }, { ip: '10.1.0.2' }, { ip: '10.1.0.3' }, { ip: '10.1.0.4' }], ports: [{ port: 8080 }] }] }
  t.strictSame(row('Endpoints', ep), ['web', '10.1.0.1:8080,10.1.0.2:8080,10.1.0.3:8080 + 1 more...', '5m'])
  t.strictSame(row('Endpoints', { metadata: base('empty') })[1], '<none>')
  t.strictSame(row('EndpointSlice', { metadata: base('web-x'), addressType: 'IPv4', ports: [{ port: 80 }, { name: 'x' }], endpoints: [{ addresses: ['10.1.0.1'] }] }), ['web-x', 'IPv4', '80,x', '10.1.0.1', '5m'])
  t.strictSame(row('EndpointSlice', { metadata: base('web-y'), addressType: 'IPv4' }).slice(2, 4), ['<unset>', '<unset>'])
})

t.test('workloads', async (t) => {
  const tmpl = { spec: { containers: [{ name: 'a', image: 'nginx' }, { name: 'b', image: 'redis' }] } }
  t.strictSame(row('Deployment', { metadata: base('web'), spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: tmpl }, status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 } }), [
    'web', '2/3', 3, 2, '5m', 'a,b', 'nginx,redis', 'app=web',
  ])
  t.strictSame(row('ReplicaSet', { metadata: base('web-1'), spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: tmpl }, status: { replicas: 2, readyReplicas: 1 } }), [
    'web-1', 2, 2, 1, '5m', 'a,b', 'nginx,redis', 'app=web',
  ])
  t.strictSame(row('StatefulSet', { metadata: base('db'), spec: { replicas: 3, template: tmpl }, status: { readyReplicas: 3 } }).slice(0, 3), ['db', '3/3', '5m'])
  t.strictSame(row('DaemonSet', { metadata: base('agent'), spec: { selector: { matchLabels: { app: 'agent' } }, template: { spec: { nodeSelector: { os: 'linux' }, containers: [] } } }, status: { desiredNumberScheduled: 2, currentNumberScheduled: 2, numberReady: 1, updatedNumberScheduled: 2, numberAvailable: 1 } }).slice(0, 8), [
    'agent', 2, 2, 1, 2, 1, 'os=linux', '5m',
  ])
  t.strictSame(row('ReplicationController', { metadata: base('rc'), spec: { replicas: 1, selector: { app: 'x' }, template: tmpl }, status: { replicas: 1 } }), ['rc', 1, 1, 0, '5m', 'a,b', 'nginx,redis', 'app=x'])

  const job = (spec: Json, status: Json, meta: Json = {}): Json => ({ metadata: base('pi', meta), spec: { template: tmpl, ...spec }, status })
  t.strictSame(row('Job', job({ completions: 1 }, { succeeded: 1, startTime: ago(200), completionTime: ago(150), conditions: [{ type: 'Complete', status: 'True' }] })).slice(0, 5), ['pi', 'Complete', '1/1', '50s', '5m'])
  t.strictSame(row('Job', job({ parallelism: 3 }, { startTime: ago(60) })).slice(1, 4), ['Running', '0/1 of 3', '60s'])
  t.strictSame(row('Job', job({ completions: 2 }, { conditions: [{ type: 'Suspended', status: 'True' }] })).slice(1, 4), ['Suspended', '0/2', ''])
  t.strictSame(row('Job', job({}, { conditions: [{ type: 'Failed', status: 'True' }] }))[1], 'Failed')

  t.strictSame(row('CronJob', { metadata: base('hourly'), spec: { schedule: '0 * * * *', suspend: false, jobTemplate: { spec: { template: tmpl } } }, status: { active: [{}], lastScheduleTime: ago(600) } }).slice(0, 7), [
    'hourly', '0 * * * *', '<none>', 'False', 1, '10m', '5m',
  ])
  t.strictSame(row('HorizontalPodAutoscaler', {
    metadata: base('web'),
    spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 5, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }] },
    status: { currentReplicas: 2, currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 35 } } }] },
  }), ['web', 'Deployment/web', 'cpu: 35%/80%', '1', 5, 2, '5m'])
  t.strictSame(row('HorizontalPodAutoscaler', { metadata: base('x'), spec: { scaleTargetRef: { kind: 'Deployment', name: 'x' }, maxReplicas: 2, metrics: [{ type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '100Mi' } } }] } })[2], 'memory: <unknown>/100Mi')
  t.strictSame(row('ControllerRevision', { metadata: base('ds-abc', { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'agent', controller: true }] }), revision: 2 }), ['ds-abc', 'daemonset.apps/agent', 2, '5m'])
})

t.test('config, storage, policy and the rest', async (t) => {
  t.strictSame(row('ConfigMap', { metadata: base('c'), data: { a: '1', b: '2' }, binaryData: { c: 'AA==' } }), ['c', 3, '5m'])
  t.strictSame(row('Secret', { metadata: base('s'), type: 'Opaque', data: { a: 'eA==' } }), ['s', 'Opaque', 1, '5m'])
  t.strictSame(row('ServiceAccount', { metadata: base('default') }), ['default', 0, '5m'])
  const ev = {
    metadata: base('web.17a'),
    type: 'Warning',
    reason: 'BackOff',
    message: 'Back-off restarting failed container\n',
    involvedObject: { kind: 'Pod', name: 'web', fieldPath: 'spec.containers{a}' },
    source: { component: 'kubelet', host: 'node-1' },
    firstTimestamp: ago(600),
    lastTimestamp: ago(30),
    count: 7,
  }
  t.strictSame(row('Event', ev), ['30s', 'Warning', 'BackOff', 'pod/web', 'spec.containers{a}', 'kubelet, node-1', 'Back-off restarting failed container', '10m', 7, 'web.17a'])
  t.strictSame(row('Event', { metadata: base('e'), eventTime: ago(5), reportingComponent: 'scheduler', involvedObject: { kind: 'Node' } }).slice(0, 9), ['5s', '', '', 'node', '', 'scheduler', '', '5s', 1])
  t.strictSame(row('PersistentVolume', { metadata: base('pv1'), spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce', 'ReadOnlyMany'], persistentVolumeReclaimPolicy: 'Retain', claimRef: { namespace: 'default', name: 'data' }, storageClassName: 'local', volumeMode: 'Filesystem' }, status: { phase: 'Bound' } }), [
    'pv1', '1Gi', 'RWO,ROX', 'Retain', 'Bound', 'default/data', 'local', '<unset>', '', '5m', 'Filesystem',
  ])
  t.strictSame(row('PersistentVolumeClaim', { metadata: base('data'), spec: { volumeName: 'pv1', storageClassName: 'local' }, status: { phase: 'Bound', capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'] } }), [
    'data', 'Bound', 'pv1', '1Gi', 'RWO', 'local', '<unset>', '5m', '<unset>',
  ])
  t.strictSame(row('PersistentVolumeClaim', { metadata: base('pending'), spec: {}, status: { phase: 'Pending' } }).slice(1, 5), ['Pending', '', '', ''])
  t.strictSame(row('ResourceQuota', { metadata: base('q'), status: { hard: { pods: '10', 'limits.cpu': '4', 'requests.memory': '1Gi' }, used: { pods: '2', 'limits.cpu': '500m' } } }), [
    'q', '5m', 'pods: 2/10, requests.memory: 0/1Gi', 'limits.cpu: 500m/4',
  ])
  t.strictSame(row('LimitRange', { metadata: base('lr', { creationTimestamp: '2024-05-01T10:00:00Z' }) }), ['lr', '2024-05-01T10:00:00Z'])
  t.strictSame(row('StorageClass', { metadata: base('local', { annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } }), provisioner: 'rancher.io/local-path' }), [
    'local (default)', 'rancher.io/local-path', 'Delete', 'Immediate', false, '5m',
  ])
  t.strictSame(row('Lease', { metadata: base('node-1'), spec: { holderIdentity: 'node-1' } }), ['node-1', 'node-1', '5m'])
  t.strictSame(row('Ingress', { metadata: base('web'), spec: { ingressClassName: 'nginx', rules: [{ host: 'a.example.com' }, { host: 'b.example.com' }], tls: [{}] }, status: { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } } }), [
    'web', 'nginx', 'a.example.com,b.example.com', '1.2.3.4', '80, 443', '5m',
  ])
  t.strictSame(row('Ingress', { metadata: base('any'), spec: {} }).slice(1, 5), ['<none>', '*', '', '80'])
  t.strictSame(row('IngressClass', { metadata: base('nginx'), spec: { controller: 'k8s.io/ingress-nginx', parameters: { apiGroup: 'k8s.example.com', kind: 'IngressParameters', name: 'p' } } }), [
    'nginx', 'k8s.io/ingress-nginx', 'IngressParameters.k8s.example.com/p', '5m',
  ])
  t.strictSame(row('PriorityClass', { metadata: base('high'), value: 1000, globalDefault: false, preemptionPolicy: 'PreemptLowerPriority' }), ['high', 1000, false, '5m', 'PreemptLowerPriority'])
  t.strictSame(row('RoleBinding', { metadata: base('rb'), roleRef: { kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'User', name: 'alice' }, { kind: 'ServiceAccount', namespace: 'ci', name: 'bot' }, { kind: 'Group', name: 'devs' }] }), [
    'rb', 'ClusterRole/view', '5m', 'alice', 'devs', 'ci:bot',
  ])
})

t.test('row objects per includeObject, and list metadata', async (t) => {
  const cm = { metadata: { name: 'c', namespace: 'default', resourceVersion: '9' }, data: { a: 'b' } }
  const meta = toTable(rt('ConfigMap'), [cm])
  t.strictSame(meta.rows[0].object, { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: cm.metadata }, 'Metadata is the default')
  t.strictSame(toTable(rt('ConfigMap'), [cm], { includeObject: 'Object' }).rows[0].object, { apiVersion: 'v1', kind: 'ConfigMap', ...cm })
  t.equal(toTable(rt('ConfigMap'), [cm], { includeObject: 'None' }).rows[0].object, null)
  const table = toTable(rt('Deployment'), [], { listMeta: { resourceVersion: '42', continue: 'tok' } })
  t.strictSame({ kind: table.kind, apiVersion: table.apiVersion, metadata: table.metadata, rows: table.rows }, { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: { resourceVersion: '42', continue: 'tok' }, rows: [] })
  t.strictSame(row('Pod', { metadata: { name: 'p' }, spec: {}, status: {} })[4], '<unknown>', 'no creation timestamp')
})
