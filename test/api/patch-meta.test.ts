// Patch metadata per served kind: merge keys and strategies strategic merge patch uses,
// list/map types server-side apply uses, and the OpenAPI extensions derived from them.
import t from 'tap'
import {
  fieldAt,
  isAtomicDefinition,
  openApiDefinitionName,
  openApiExtensions,
  patchMetaDefinitions,
  patchMetaFor,
  patchMetaForDefinition,
  supportsStrategicMergePatch,
} from '../../src/api/patch-meta.js'
import { RESOURCES, apiVersionOf } from '../../src/api/resources.js'

const deployment = patchMetaFor('apps/v1', 'Deployment')
const pod = patchMetaFor('v1', 'Pod')

t.test('every served kind has patch metadata rooted at its OpenAPI definition', async (t) => {
  for (const r of RESOURCES) {
    const meta = patchMetaFor(apiVersionOf(r), r.kind)
    t.ok(meta, `${apiVersionOf(r)} ${r.kind}`)
    t.match(meta?.definition, new RegExp(`^io\\.k8s\\.api\\..*\\.${r.kind}$`))
    t.ok(supportsStrategicMergePatch(apiVersionOf(r), r.kind))
    // ObjectMeta is reachable from every kind.
    t.strictSame(meta?.lookup(['metadata', 'ownerReferences']), { patchStrategy: 'merge', patchMergeKey: 'uid', listType: 'map', listMapKeys: ['uid'] })
    t.strictSame(meta?.lookup(['metadata', 'finalizers']), { patchStrategy: 'merge', listType: 'set' })
  }
  t.equal(patchMetaFor('example.com/v1', 'Widget'), undefined)
  t.notOk(supportsStrategicMergePatch('example.com/v1', 'Widget'))
  t.equal(patchMetaFor('apps/v2', 'Deployment'), undefined)
})

t.test('pod template lists merge as kubectl expects', async (t) => {
  const c = ['spec', 'template', 'spec', 'containers']
  t.strictSame(deployment?.lookup(c), { patchStrategy: 'merge', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] })
  t.strictSame(deployment?.lookup(['spec', 'template', 'spec', 'initContainers']), { patchStrategy: 'merge', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] })
  t.strictSame(deployment?.lookup([...c, 'ports']), { patchStrategy: 'merge', patchMergeKey: 'containerPort', listType: 'map', listMapKeys: ['containerPort', 'protocol'] })
  t.strictSame(deployment?.lookup([...c, 'env']), { patchStrategy: 'merge', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] })
  t.strictSame(deployment?.lookup([...c, 'volumeMounts'])?.patchMergeKey, 'mountPath')
  t.strictSame(deployment?.lookup([...c, 'volumeDevices'])?.patchMergeKey, 'devicePath')
  t.strictSame(deployment?.lookup([...c, 'envFrom']), { listType: 'atomic' })
  t.strictSame(deployment?.lookup([...c, 'args']), { listType: 'atomic' })
  t.strictSame(pod?.lookup(['spec', 'volumes']), { patchStrategy: 'merge,retainKeys', retainKeys: true, patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] })
  t.strictSame(pod?.lookup(['spec', 'imagePullSecrets'])?.patchMergeKey, 'name')
  t.strictSame(pod?.lookup(['spec', 'tolerations']), { listType: 'atomic' })
  t.strictSame(pod?.lookup(['spec', 'hostAliases'])?.patchMergeKey, 'ip')
  t.strictSame(pod?.lookup(['spec', 'topologySpreadConstraints']), { patchStrategy: 'merge', patchMergeKey: 'topologyKey', listType: 'map', listMapKeys: ['topologyKey', 'whenUnsatisfiable'] })
  t.strictSame(pod?.lookup(['spec', 'resourceClaims'])?.patchStrategy, 'merge,retainKeys')
  t.strictSame(pod?.lookup(['spec', 'ephemeralContainers'])?.patchMergeKey, 'name')
  t.strictSame(pod?.lookup(['spec', 'nodeSelector']), { mapType: 'atomic' })
})

t.test('status conditions, addresses and the other kinds', async (t) => {
  t.strictSame(pod?.lookup(['status', 'conditions'])?.patchMergeKey, 'type')
  t.strictSame(pod?.lookup(['status', 'podIPs'])?.patchMergeKey, 'ip')
  const node = patchMetaFor('v1', 'Node')
  t.strictSame(node?.lookup(['status', 'conditions'])?.patchMergeKey, 'type')
  t.strictSame(node?.lookup(['status', 'addresses'])?.patchMergeKey, 'type')
  t.strictSame(node?.lookup(['spec', 'podCIDRs']), { patchStrategy: 'merge', listType: 'set' })
  t.strictSame(node?.lookup(['spec', 'taints']), { listType: 'atomic' })
  for (const kind of ['Deployment', 'ReplicaSet', 'DaemonSet', 'StatefulSet']) {
    t.strictSame(patchMetaFor('apps/v1', kind)?.lookup(['status', 'conditions'])?.patchMergeKey, 'type', kind)
  }
  t.strictSame(deployment?.lookup(['spec', 'strategy']), { patchStrategy: 'retainKeys', retainKeys: true })
  const service = patchMetaFor('v1', 'Service')
  t.strictSame(service?.lookup(['spec', 'ports']), { patchStrategy: 'merge', patchMergeKey: 'port', listType: 'map', listMapKeys: ['port', 'protocol'] })
  t.strictSame(service?.lookup(['spec', 'selector']), { mapType: 'atomic' })
  t.strictSame(service?.lookup(['status', 'loadBalancer', 'ingress']), { listType: 'atomic' })
  t.strictSame(patchMetaFor('v1', 'Endpoints')?.lookup(['subsets']), { listType: 'atomic' })
  t.strictSame(patchMetaFor('networking.k8s.io/v1', 'Ingress')?.lookup(['status', 'loadBalancer', 'ingress']), { listType: 'atomic' })
  t.strictSame(patchMetaFor('batch/v1', 'Job')?.lookup(['status', 'conditions']), { listType: 'atomic', patchStrategy: 'merge', patchMergeKey: 'type' })
  t.strictSame(patchMetaFor('batch/v1', 'CronJob')?.lookup(['spec', 'jobTemplate', 'spec', 'template', 'spec', 'containers'])?.patchMergeKey, 'name')
  t.strictSame(patchMetaFor('v1', 'ServiceAccount')?.lookup(['secrets'])?.patchMergeKey, 'name')
  t.strictSame(patchMetaFor('rbac.authorization.k8s.io/v1', 'ClusterRole')?.lookup(['rules']), { listType: 'atomic' })
  t.equal(deployment?.lookup(['spec', 'replicas']), undefined, 'scalars carry no metadata')
  t.equal(deployment?.lookup(['spec', 'nope']), undefined)
})

t.test('the schema tree tells apply how to treat each value', async (t) => {
  const schema = deployment?.schema
  if (schema === undefined) throw new Error('no schema')
  const ports = fieldAt(schema, ['spec', 'template', 'spec', 'containers', 'ports'])
  t.equal(ports?.node.kind, 'list')
  if (ports?.node.kind === 'list') {
    t.equal(ports.node.relationship, 'associative')
    t.strictSame(ports.node.keys, ['containerPort', 'protocol'])
    t.strictSame(ports.node.keyDefaults, { protocol: 'TCP' })
  }
  const labels = fieldAt(schema, ['metadata', 'labels'])
  t.equal(labels?.node.kind, 'map')
  const selector = fieldAt(schema, ['spec', 'selector'])
  t.equal(selector?.node.kind, 'struct')
  t.equal(selector?.node.kind === 'struct' && selector.node.atomic, true, 'LabelSelector is +structType=atomic')
  const finalizers = fieldAt(schema, ['metadata', 'finalizers'])
  t.ok(finalizers?.node.kind === 'list' && finalizers.node.relationship === 'associative' && finalizers.node.keys.length === 0, 'a set')
  t.equal(fieldAt(schema, ['spec', 'template'])?.unset, 'empty', 'Go always encodes the template struct')
  t.equal(fieldAt(schema, ['spec', 'template', 'spec', 'containers'])?.unset, 'null', 'containers has no omitempty')
  t.equal(fieldAt(schema, ['spec', 'selector'])?.unset, 'null', 'a pointer without omitempty')
  t.equal(fieldAt(schema, ['spec', 'template', 'spec', 'containers', 'resources'])?.unset, 'empty')
  t.equal(fieldAt(schema, ['spec', 'template', 'spec', 'volumes'])?.unset, 'omitted')
  const claimRef = fieldAt(patchMetaFor('v1', 'PersistentVolume')?.schema ?? schema, ['spec', 'claimRef'])
  t.equal(claimRef?.node.kind === 'struct' && claimRef.node.atomic, false, 'claimRef overrides ObjectReference to granular')
  t.equal(isAtomicDefinition('io.k8s.api.core.v1.ObjectReference'), true)
})

t.test('entries enumerate every field with metadata under a kind', async (t) => {
  const entries = deployment?.entries() ?? []
  const paths = entries.map((e) => e.path.join('.'))
  t.ok(paths.includes('spec.template.spec.containers'))
  t.ok(paths.includes('spec.template.spec.containers.ports'))
  t.ok(paths.includes('spec.strategy'))
  t.ok(paths.includes('status.conditions'))
  t.ok(paths.includes('metadata.ownerReferences'))
  const containers = entries.find((e) => e.path.join('.') === 'spec.template.spec.containers')
  t.equal(containers?.definition, 'io.k8s.api.core.v1.PodSpec')
  for (const e of entries) t.strictSame(deployment?.lookup(e.path), e.meta, e.path.join('.'))
})

t.test('per-definition metadata and OpenAPI extensions for the OpenAPI generator', async (t) => {
  t.equal(openApiDefinitionName('core.v1.PodSpec'), 'io.k8s.api.core.v1.PodSpec')
  t.equal(openApiDefinitionName('meta.v1.ObjectMeta'), 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta')
  const names = patchMetaDefinitions()
  t.ok(names.includes('io.k8s.api.core.v1.Container'))
  t.ok(names.includes('io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector'))
  const container = patchMetaForDefinition('io.k8s.api.core.v1.Container')
  t.strictSame(container.get('env'), { patchStrategy: 'merge', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] })
  t.equal(container.get('image'), undefined)
  t.equal(container.get('resources'), undefined, 'no metadata, though the schema lists it')
  t.strictSame(openApiExtensions(container.get('ports') ?? {}), {
    'x-kubernetes-list-map-keys': ['containerPort', 'protocol'],
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-patch-merge-key': 'containerPort',
    'x-kubernetes-patch-strategy': 'merge',
  })
  t.strictSame(openApiExtensions({ mapType: 'atomic' }), { 'x-kubernetes-map-type': 'atomic' })
  t.strictSame(patchMetaForDefinition('io.k8s.api.core.v1.Nothing').size, 0)
  t.ok(isAtomicDefinition('io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector'))
  t.notOk(isAtomicDefinition('io.k8s.api.core.v1.PodSpec'))
})
