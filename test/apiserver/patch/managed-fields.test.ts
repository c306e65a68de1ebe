// metadata.managedFields for writes other than apply (operation Update): what
// kube-apiserver records on create, update and patch, in its exact FieldsV1 format.
import t from 'tap'
import { capUpdateManagers, commonResetFields, decodeManagedFields, encodeManagedFields, managerIdentifier, managerOrUserAgent, recordUpdate, type ManagedFieldsEntry } from '../../../src/apiserver/patch/managed-fields.js'
import type { KubeObject } from '../../../src/apiserver/watch-cache/types.js'

const T0 = new Date('2025-03-01T12:00:00.750Z')
const T1 = new Date('2025-03-01T12:05:00Z')

// `kubectl create deployment nginx --image=nginx` after defaulting, as kube-apiserver records it.
function createdDeployment(): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'nginx', namespace: 'default', labels: { app: 'nginx' }, uid: 'u-1', resourceVersion: '10', generation: 1, creationTimestamp: '2025-03-01T12:00:00Z' },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'nginx' } },
      template: {
        metadata: { labels: { app: 'nginx' } },
        spec: {
          containers: [{ name: 'nginx', image: 'nginx', imagePullPolicy: 'Always', resources: {}, terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File' }],
          restartPolicy: 'Always',
          terminationGracePeriodSeconds: 30,
          dnsPolicy: 'ClusterFirst',
          securityContext: {},
          schedulerName: 'default-scheduler',
        },
      },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
    },
    status: {},
  }
}

const managedFields = (o: KubeObject): ManagedFieldsEntry[] => ((o.metadata as Record<string, unknown>).managedFields ?? []) as ManagedFieldsEntry[]

t.test('create: the Update entry kube-apiserver writes for kubectl create deployment', async (t) => {
  const input = Object.freeze(createdDeployment())
  const out = recordUpdate(undefined, input, 'kubectl-create', 'apps/v1', T0)
  t.strictSame(managedFields(out), [
    {
      manager: 'kubectl-create',
      operation: 'Update',
      apiVersion: 'apps/v1',
      time: '2025-03-01T12:00:00Z',
      fieldsType: 'FieldsV1',
      fieldsV1: {
        'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
        'f:spec': {
          'f:progressDeadlineSeconds': {},
          'f:replicas': {},
          'f:revisionHistoryLimit': {},
          'f:selector': {},
          'f:strategy': { 'f:rollingUpdate': { '.': {}, 'f:maxSurge': {}, 'f:maxUnavailable': {} }, 'f:type': {} },
          'f:template': {
            'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
            'f:spec': {
              'f:containers': {
                'k:{"name":"nginx"}': {
                  '.': {},
                  'f:image': {},
                  'f:imagePullPolicy': {},
                  'f:name': {},
                  'f:resources': {},
                  'f:terminationMessagePath': {},
                  'f:terminationMessagePolicy': {},
                },
              },
              'f:dnsPolicy': {},
              'f:restartPolicy': {},
              'f:schedulerName': {},
              'f:securityContext': {},
              'f:terminationGracePeriodSeconds': {},
            },
          },
        },
      },
    },
  ])
  t.ok(
    JSON.stringify(managedFields(out)[0]?.fieldsV1).startsWith('{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:progressDeadlineSeconds":{},"f:replicas":{},"f:revisionHistoryLimit"'),
    'keys in FieldsV1 order',
  )
  t.strictSame(input, createdDeployment(), 'input unchanged')
})

t.test('update: the writer takes the fields it changed, removed fields leave every owner', async (t) => {
  const created = recordUpdate(undefined, createdDeployment(), 'kubectl-create', 'apps/v1', T0)
  const edited = structuredClone(created) as KubeObject & { spec: { replicas?: number; revisionHistoryLimit?: number; template: { spec: { containers: Record<string, unknown>[] } } } }
  edited.spec.replicas = 3
  delete edited.spec.revisionHistoryLimit
  ;(edited.spec.template.spec.containers[0] as Record<string, unknown>).image = 'nginx:1.27'
  const out = recordUpdate(created, edited, 'kubectl-edit', 'apps/v1', T1)
  const [create, edit] = managedFields(out)
  t.equal(create?.manager, 'kubectl-create')
  t.equal(edit?.manager, 'kubectl-edit')
  t.strictSame(edit?.fieldsV1, { 'f:spec': { 'f:replicas': {}, 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"nginx"}': { 'f:image': {} } } } } } })
  t.equal(edit?.time, '2025-03-01T12:05:00Z')
  const createSpec = (create?.fieldsV1 as Record<string, Record<string, unknown>>)['f:spec'] ?? {}
  t.notOk('f:replicas' in createSpec, 'kubectl-create no longer owns replicas')
  t.notOk('f:revisionHistoryLimit' in createSpec, 'removed field dropped')
  t.equal(create?.time, '2025-03-01T12:00:00Z', 'the other entry keeps its time')

  const again = recordUpdate(out, { ...structuredClone(out), spec: { ...(out.spec as object), minReadySeconds: 5 } }, 'kubectl-edit', 'apps/v1', T1)
  const edit2 = managedFields(again).find((e) => e.manager === 'kubectl-edit')
  t.strictSame(edit2?.fieldsV1, { 'f:spec': { 'f:minReadySeconds': {}, 'f:replicas': {}, 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"nginx"}': { 'f:image': {} } } } } } }, 'a manager keeps what it owned')
})

t.test('objects that were never tracked stay untracked; managedFields in a request', async (t) => {
  const untracked = createdDeployment()
  const out = recordUpdate(untracked, { ...untracked, spec: { ...(untracked.spec as object), replicas: 2 } }, 'kubectl-edit', 'apps/v1', T1)
  t.notOk('managedFields' in (out.metadata as object))

  const created = recordUpdate(undefined, createdDeployment(), 'kubectl-create', 'apps/v1', T0)
  const reset = recordUpdate(created, { ...created, metadata: { ...(created.metadata as object), managedFields: [] } }, 'x', 'apps/v1', T1)
  t.notOk('managedFields' in (reset.metadata as object), '[] clears managedFields (and an untracked object stays so)')

  const given: ManagedFieldsEntry[] = [{ manager: 'custom', operation: 'Apply', apiVersion: 'apps/v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:replicas': {} } } }]
  const replaced = recordUpdate(created, { ...created, metadata: { ...(created.metadata as object), managedFields: given } }, 'x', 'apps/v1', T1)
  t.strictSame(managedFields(replaced), given, 'valid managedFields in the request replace the live ones')

  const invalid = recordUpdate(created, { ...created, metadata: { ...(created.metadata as object), managedFields: [{ manager: 'bad' }] } }, 'kubectl-edit', 'apps/v1', T1)
  t.strictSame(managedFields(invalid).map((e) => e.manager), ['kubectl-create'], 'invalid ones are ignored in favour of the live ones')
})

t.test('reset fields and subresources', async (t) => {
  const created = recordUpdate(undefined, { ...createdDeployment(), status: { replicas: 1 } }, 'kubectl-create', 'apps/v1', T0, { resetFields: [['status']] })
  t.notOk(JSON.stringify(managedFields(created)).includes('f:status'), 'status is not owned through the main resource')
  const withStatus = structuredClone(created) as KubeObject
  withStatus.status = { replicas: 2, readyReplicas: 1, conditions: [{ type: 'Available', status: 'True' }] }
  const out = recordUpdate(created, withStatus, 'kube-controller-manager', 'apps/v1', T1, { subresource: 'status', resetFields: [['spec']] })
  const entry = managedFields(out).find((e) => e.manager === 'kube-controller-manager')
  t.strictSame(entry, {
    manager: 'kube-controller-manager',
    operation: 'Update',
    apiVersion: 'apps/v1',
    time: '2025-03-01T12:05:00Z',
    fieldsType: 'FieldsV1',
    fieldsV1: { 'f:status': { 'f:conditions': { '.': {}, 'k:{"type":"Available"}': { '.': {}, 'f:status': {}, 'f:type': {} } }, 'f:readyReplicas': {}, 'f:replicas': {} } },
    subresource: 'status',
  })
})

t.test('entries sort Apply first, then by time, manager, apiVersion', async (t) => {
  const entries: ManagedFieldsEntry[] = [
    { manager: 'b', operation: 'Update', apiVersion: 'v1', time: '2025-01-01T00:00:02Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': {} } },
    { manager: 'a', operation: 'Update', apiVersion: 'v1', time: '2025-01-01T00:00:02Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': {} } },
    { manager: 'z', operation: 'Update', apiVersion: 'v1', time: '2025-01-01T00:00:01Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': {} } },
    { manager: 'kubectl', operation: 'Apply', apiVersion: 'v1', time: '2025-01-01T00:00:09Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': {} } },
  ]
  t.strictSame(encodeManagedFields(decodeManagedFields(entries))?.map((e) => e.manager), ['kubectl', 'z', 'a', 'b'])
  t.throws(() => decodeManagedFields([{ manager: 'x', operation: 'Patch', apiVersion: 'v1', fieldsType: 'FieldsV1' }]), /operation must be `Apply` or `Update`/)
  t.throws(() => decodeManagedFields([{ manager: 'x', operation: 'Update', apiVersion: 'v1' }]), /missing fieldsType in managed fields entry 0/)
})

t.test('manager identifiers and names', async (t) => {
  t.equal(managerIdentifier({ manager: 'kubectl', operation: 'Apply', apiVersion: 'apps/v1' }), '{"manager":"kubectl","operation":"Apply"}')
  t.equal(managerIdentifier({ manager: 'kcm', operation: 'Update', apiVersion: 'apps/v1', subresource: 'status' }), '{"manager":"kcm","operation":"Update","apiVersion":"apps/v1","subresource":"status"}')
  t.equal(managerOrUserAgent('kubectl-edit', 'kubectl/v1.32.4 (linux/amd64) kubernetes/abc'), 'kubectl-edit')
  t.equal(managerOrUserAgent(undefined, 'kubectl/v1.32.4 (linux/amd64) kubernetes/abc'), 'kubectl')
  t.equal(managerOrUserAgent('', 'kube-scheduler/v1.32.0'), 'kube-scheduler')
  const out = recordUpdate(undefined, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: '1' } }, '', 'v1', T0)
  t.equal(managedFields(out)[0]?.manager, 'unknown', 'no manager at all is "unknown"')
  t.strictSame(managedFields(out)[0]?.fieldsV1, { 'f:data': { '.': {}, 'f:a': {} } })
})

t.test('more than 10 Update managers: the oldest fold into ancient-changes', async (t) => {
  let obj: KubeObject = recordUpdate(undefined, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { k0: 'v' } }, 'm00', 'v1', new Date(Date.UTC(2025, 0, 1, 0, 0, 0)))
  for (let i = 1; i <= 11; i++) {
    const next = structuredClone(obj) as KubeObject & { data: Record<string, string> }
    next.data[`k${i}`] = 'v'
    obj = recordUpdate(obj, next, `m${String(i).padStart(2, '0')}`, 'v1', new Date(Date.UTC(2025, 0, 1, 0, 0, i)))
  }
  const entries = managedFields(obj)
  t.equal(entries.length, 10)
  t.equal(entries[0]?.manager, 'ancient-changes')
  t.strictSame(entries[0]?.fieldsV1, { 'f:data': { '.': {}, 'f:k0': {}, 'f:k1': {}, 'f:k2': {} } })
  t.equal(entries[0]?.time, '2025-01-01T00:00:02Z')
  t.strictSame(entries.slice(1).map((e) => e.manager), ['m03', 'm04', 'm05', 'm06', 'm07', 'm08', 'm09', 'm10', 'm11'])
  const managed = decodeManagedFields(entries)
  capUpdateManagers(managed)
  t.equal(managed.fields.size, 10, 'capping again changes nothing')
})

t.test('a manager recorded at a version not served is dropped', async (t) => {
  const live: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'd', managedFields: [{ manager: 'old', operation: 'Update', apiVersion: 'apps/v1beta2', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:paused': {} } } }] },
    spec: { paused: true },
  }
  const out = recordUpdate(live, { ...live, spec: { paused: false } }, 'kubectl', 'apps/v1', T1)
  t.strictSame(managedFields(out).map((e) => e.manager), ['kubectl'])
})

t.test('common reset fields by endpoint', async (t) => {
  t.strictSame(commonResetFields({ subresources: ['status', 'scale'] }), [['status']])
  t.strictSame(commonResetFields({ subresources: ['status'] }, 'status'), [['spec']])
  t.strictSame(commonResetFields({ subresources: [] }), [])
  t.strictSame(commonResetFields({ subresources: ['status', 'scale'] }, 'scale'), [])
})
