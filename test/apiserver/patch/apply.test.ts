// Server-side apply: create, re-apply, removal of fields no longer applied, conflicts
// and force, shared ownership, the migration from client-side apply, and the exact
// managedFields kube-apiserver writes.
import t from 'tap'
import { LAST_APPLIED_ANNOTATION, decodeApplyBody, serverSideApply, type ApplyOptions } from '../../../src/apiserver/patch/apply.js'
import { PatchError } from '../../../src/apiserver/patch/errors.js'
import { recordUpdate, type ManagedFieldsEntry } from '../../../src/apiserver/patch/managed-fields.js'
import type { KubeObject } from '../../../src/apiserver/watch-cache/types.js'

const T0 = new Date('2025-03-01T12:00:00Z')
const T1 = new Date('2025-03-01T12:05:00Z')
const T2 = new Date('2025-03-01T12:10:00Z')

const opts = (manager: string, extra: Partial<ApplyOptions> = {}): ApplyOptions => ({ manager, apiVersion: 'apps/v1', kind: 'Deployment', now: T0, ...extra })

type Obj = Record<string, unknown>

function manifest(overrides: { replicas?: number | null; image?: string; env?: Obj[]; labels?: Record<string, string>; ports?: Obj[] } = {}): KubeObject {
  const container: Obj = { name: 'web', image: overrides.image ?? 'nginx:1.26' }
  if (overrides.env !== undefined) container.env = overrides.env
  if (overrides.ports !== undefined) container.ports = overrides.ports
  const spec: Obj = {
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [container] } },
  }
  if (overrides.replicas !== null) spec.replicas = overrides.replicas ?? 3
  return { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default', labels: overrides.labels ?? { app: 'web' } }, spec }
}

// What the registry does after a create: identity fields the field manager never owns.
function stored(obj: KubeObject): KubeObject {
  const out = structuredClone(obj)
  out.metadata = { ...(out.metadata as Obj), uid: 'uid-1', resourceVersion: '7', generation: 1, creationTimestamp: '2025-03-01T12:00:00Z' }
  return out
}

function applied(live: KubeObject | undefined, config: KubeObject | string, o: ApplyOptions): KubeObject {
  const r = serverSideApply(live, config, o)
  if (r.error !== undefined) throw r.error
  return r.object
}

const entries = (o: KubeObject): ManagedFieldsEntry[] => ((o.metadata as Obj).managedFields ?? []) as ManagedFieldsEntry[]
const spec = (o: KubeObject): Obj => o.spec as Obj
const container = (o: KubeObject): Obj => ((spec(o).template as Obj).spec as { containers: Obj[] }).containers[0] as Obj

t.test('create: the object is the configuration, owned by one Apply entry', async (t) => {
  const config = Object.freeze(manifest({ ports: [{ containerPort: 80 }], env: [{ name: 'MODE', value: 'prod' }] }))
  const r = serverSideApply(undefined, config, opts('kubectl'))
  t.equal(r.changed, true)
  const obj = r.object as KubeObject
  t.strictSame({ ...obj, metadata: { ...(obj.metadata as Obj), managedFields: undefined } }, { ...manifest({ ports: [{ containerPort: 80 }], env: [{ name: 'MODE', value: 'prod' }] }), metadata: { name: 'web', namespace: 'default', labels: { app: 'web' }, managedFields: undefined } })
  t.strictSame(entries(obj), [
    {
      manager: 'kubectl',
      operation: 'Apply',
      apiVersion: 'apps/v1',
      time: '2025-03-01T12:00:00Z',
      fieldsType: 'FieldsV1',
      fieldsV1: {
        'f:metadata': { 'f:labels': { 'f:app': {} } },
        'f:spec': {
          'f:replicas': {},
          'f:selector': {},
          'f:template': {
            'f:metadata': { 'f:labels': { 'f:app': {} } },
            'f:spec': {
              'f:containers': {
                'k:{"name":"web"}': {
                  '.': {},
                  'f:env': { 'k:{"name":"MODE"}': { '.': {}, 'f:name': {}, 'f:value': {} } },
                  'f:image': {},
                  'f:name': {},
                  'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
                },
              },
            },
          },
        },
      },
    },
  ])
  t.strictSame(config, manifest({ ports: [{ containerPort: 80 }], env: [{ name: 'MODE', value: 'prod' }] }), 'input unchanged')
})

t.test('re-applying the same configuration changes nothing, not even the time', async (t) => {
  const live = stored(applied(undefined, manifest(), opts('kubectl')))
  const r = serverSideApply(live, manifest(), opts('kubectl', { now: T1 }))
  t.equal(r.changed, false)
  t.strictSame(r.object, live)
})

t.test('fields the applier no longer applies are removed', async (t) => {
  const live = stored(applied(undefined, manifest({ env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }], labels: { app: 'web', tier: 'fe' } }), opts('kubectl')))
  const out = applied(live, manifest({ replicas: null, env: [{ name: 'B', value: '2' }] }), opts('kubectl', { now: T1 }))
  t.notOk('replicas' in spec(out))
  t.strictSame((out.metadata as Obj).labels, { app: 'web' })
  t.strictSame(container(out).env, [{ name: 'B', value: '2' }])
  t.equal((out.metadata as Obj).uid, 'uid-1', 'identity fields are never pruned')
  const f = entries(out)[0]
  t.equal(f?.time, '2025-03-01T12:05:00Z')
  t.notOk(JSON.stringify(f?.fieldsV1).includes('f:replicas'))
})

t.test("a field another manager changed is a conflict; force moves its ownership", async (t) => {
  const live = stored(applied(undefined, manifest(), opts('kubectl')))
  const scaled = structuredClone(live)
  spec(scaled).replicas = 5
  const afterScale = recordUpdate(live, scaled, 'kubectl-scale', 'apps/v1', T1, { subresource: 'scale' })
  t.strictSame(entries(afterScale).map((e) => [e.manager, e.subresource]), [['kubectl', undefined], ['kubectl-scale', 'scale']])

  const r = serverSideApply(afterScale, manifest({ replicas: 4 }), opts('kubectl', { now: T2 }))
  t.equal(r.object, undefined)
  t.strictSame(r.conflicts, [{ manager: '"kubectl-scale" with subresource "scale" using apps/v1', field: '.spec.replicas' }])
  t.ok(r.error instanceof PatchError)
  t.match(r.error, {
    code: 409,
    reason: 'Conflict',
    message: 'Apply failed with 1 conflict: conflict with "kubectl-scale" with subresource "scale" using apps/v1: .spec.replicas',
    details: { causes: [{ reason: 'FieldManagerConflict', message: 'conflict with "kubectl-scale" with subresource "scale" using apps/v1', field: '.spec.replicas' }] },
  })

  const same = serverSideApply(afterScale, manifest({ replicas: 5 }), opts('kubectl', { now: T2 }))
  t.equal(same.error, undefined, 'applying the value it already has is no conflict')

  const forced = applied(afterScale, manifest({ replicas: 4 }), opts('kubectl', { now: T2, force: true }))
  t.equal(spec(forced).replicas, 4)
  t.strictSame(entries(forced).map((e) => e.manager), ['kubectl'], 'kubectl-scale lost its only field, so its entry is gone')
})

t.test('conflict messages: an Update manager, an Apply manager, several at once', async (t) => {
  const live = stored(applied(undefined, manifest(), opts('apply-one')))
  const edited = structuredClone(live)
  spec(edited).replicas = 9
  ;(container(edited) as Obj).image = 'nginx:edited'
  const withEdit = recordUpdate(live, edited, 'kubectl-client-side-apply', 'apps/v1', T1)

  const one = serverSideApply(withEdit, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 2 } }, opts('apply-two'))
  t.equal(one.error?.message, 'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas')

  const both = serverSideApply(withEdit, manifest({ replicas: 2, image: 'nginx:2', labels: { app: 'other' } }), opts('apply-two'))
  t.equal(
    both.error?.message,
    'Apply failed with 3 conflicts: conflicts with "apply-one":\n- .metadata.labels.app\nconflicts with "kubectl-client-side-apply" using apps/v1:\n- .spec.replicas\n- .spec.template.spec.containers[name="web"].image',
  )
  t.strictSame(both.conflicts?.map((c) => c.field), ['.metadata.labels.app', '.spec.replicas', '.spec.template.spec.containers[name="web"].image'])
})

t.test('two appliers share a field; it stays until neither applies it', async (t) => {
  const shared = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', labels: { team: 'a' } }, spec: { replicas: 3 } }
  const live = stored(applied(undefined, manifest(), opts('one')))
  const both = stored(applied(live, shared, opts('two', { now: T1 })))
  t.strictSame(entries(both).map((e) => e.manager), ['one', 'two'])
  t.ok(JSON.stringify(entries(both)[1]?.fieldsV1).includes('f:replicas'), 'two co-owns replicas')

  const oneLeaves = applied(both, manifest({ replicas: null }), opts('one', { now: T2 }))
  t.equal(spec(oneLeaves).replicas, 3, 'still applied by two')
  const twoLeaves = applied(oneLeaves, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', labels: { team: 'a' } } }, opts('two', { now: T2 }))
  t.notOk('replicas' in spec(twoLeaves), 'gone once nobody applies it')
  t.strictSame((twoLeaves.metadata as Obj).labels, { app: 'web', team: 'a' })
})

t.test('lists: keyed items merge across appliers, atomic lists are replaced, sets merge by value', async (t) => {
  const base = stored(applied(undefined, manifest({ env: [{ name: 'A', value: '1' }] }), opts('one')))
  const sidecar = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', finalizers: ['example.com/two'] },
    spec: { template: { spec: { containers: [{ name: 'proxy', image: 'envoy', args: ['--a'] }, { name: 'web', env: [{ name: 'B', value: '2' }] }] } } },
  }
  const merged = applied(base, sidecar, opts('two', { now: T1 }))
  const containers = ((spec(merged).template as Obj).spec as { containers: Obj[] }).containers
  t.strictSame(containers.map((c) => c.name), ['proxy', 'web'], "items keep the applier's relative order")
  t.strictSame(containers[1]?.env, [{ name: 'A', value: '1' }, { name: 'B', value: '2' }])

  const args = applied(stored(merged), { ...sidecar, spec: { template: { spec: { containers: [{ name: 'proxy', image: 'envoy', args: ['--b', '--c'] }, { name: 'web', env: [{ name: 'B', value: '2' }] }] } } } }, opts('two', { now: T2 }))
  t.strictSame((((spec(args).template as Obj).spec as { containers: Obj[] }).containers[0] as Obj).args, ['--b', '--c'])

  const finalizers = applied(stored(merged), { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', finalizers: ['example.com/one'] } }, opts('one-more', { now: T2 }))
  t.strictSame((finalizers.metadata as Obj).finalizers, ['example.com/two', 'example.com/one'])
  const entry = entries(finalizers).find((e) => e.manager === 'one-more')
  t.strictSame(entry?.fieldsV1, { 'f:metadata': { 'f:finalizers': { 'v:"example.com/one"': {} } } })
})

t.test('an object nobody owns yet gets a before-first-apply entry', async (t) => {
  const legacy = stored(manifest({ replicas: 2 }))
  const out = applied(legacy, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 2 } }, opts('kubectl', { now: T1 }))
  t.strictSame(entries(out).map((e) => [e.manager, e.operation]), [['kubectl', 'Apply'], ['before-first-apply', 'Update']])
  const r = serverSideApply(legacy, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 5 } }, opts('kubectl', { now: T1 }))
  t.equal(r.error?.message, 'Apply failed with 1 conflict: conflict with "before-first-apply" using apps/v1: .spec.replicas')
})

t.test('kubectl apply --server-side after client-side apply: last-applied fields may be taken over', async (t) => {
  const csa = manifest({ replicas: 2 })
  const lastApplied = `${JSON.stringify(csa)}\n`
  ;(csa.metadata as Obj).annotations = { [LAST_APPLIED_ANNOTATION]: lastApplied }
  const live = stored(recordUpdate(undefined, csa, 'kubectl-client-side-apply', 'apps/v1', T0))

  const out = serverSideApply(live, manifest({ replicas: 4 }), opts('kubectl', { now: T1 }))
  t.equal(out.error, undefined, 'replicas still equals the last-applied value: taken over without force')
  const obj = out.object as KubeObject
  t.equal(spec(obj).replicas, 4)
  const annotation = ((obj.metadata as Obj).annotations as Record<string, string>)[LAST_APPLIED_ANNOTATION]
  t.equal(annotation, '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"labels":{"app":"web"},"name":"web","namespace":"default"},"spec":{"replicas":4,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"image":"nginx:1.26","name":"web"}]}}}}\n', 'rewritten from the applied configuration')

  const drifted = structuredClone(live)
  spec(drifted).replicas = 7
  const edited = recordUpdate(live, drifted, 'kubectl-client-side-apply', 'apps/v1', T1)
  const conflict = serverSideApply(edited, manifest({ replicas: 4 }), opts('kubectl', { now: T2 }))
  t.equal(conflict.error?.message, 'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas', 'a value changed since the last apply is a real conflict')

  const otherManager = serverSideApply(live, manifest({ replicas: 4 }), opts('helm', { now: T1 }))
  t.equal(otherManager.error?.code, 409, 'only the manager "kubectl" gets the last-applied allowance')
})

t.test('reset fields are merged but never owned', async (t) => {
  const config = { ...manifest(), status: { replicas: 3 } }
  const out = applied(undefined, config, opts('kubectl', { resetFields: [['status']] }))
  t.notOk(JSON.stringify(entries(out)).includes('f:status'))
  t.strictSame(out.status, { replicas: 3 }, 'the strategy, not apply, drops it')
})

t.test('YAML and JSON bodies', async (t) => {
  const yaml = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  paused: yes
  selector:
    matchLabels: {app: web}
---
ignored: second document
`
  const out = applied(undefined, yaml, opts('kubectl'))
  t.strictSame(spec(out), { replicas: 2, paused: true, selector: { matchLabels: { app: 'web' } } }, 'YAML 1.1 booleans, first document only')
  t.strictSame(decodeApplyBody(new TextEncoder().encode('{"apiVersion":"v1","kind":"ConfigMap"}')), { apiVersion: 'v1', kind: 'ConfigMap' })
  t.strictSame(decodeApplyBody(''), {})
  t.throws(() => decodeApplyBody('a: [1, 2'), { code: 400, reason: 'BadRequest', message: /^error decoding YAML: error converting YAML to JSON: yaml: / })
  t.throws(() => decodeApplyBody('- a\n- b\n'), { code: 400, message: 'error decoding YAML: json: cannot unmarshal array into Go value of type map[string]interface {}' })
})

t.test('bad apply requests', async (t) => {
  t.throws(() => serverSideApply(undefined, { ...manifest(), kind: 'ReplicaSet' }, opts('kubectl')), { code: 400, message: 'invalid object type: apps/v1, Kind=ReplicaSet' })
  t.throws(() => serverSideApply(undefined, { kind: 'Pod' }, { ...opts('kubectl'), apiVersion: 'v1', kind: 'Pod' }), { code: 400, message: 'invalid object type: /, Kind=Pod' })
  t.throws(() => serverSideApply(undefined, { apiVersion: 'v1', kind: 'Secret' }, { ...opts('kubectl'), apiVersion: 'v1', kind: 'Pod' }), { message: 'invalid object type: /v1, Kind=Secret' })
  t.throws(() => serverSideApply(undefined, { ...manifest(), metadata: { name: 'web', managedFields: [] } }, opts('kubectl')), { code: 400, message: 'metadata.managedFields must be nil' })
  t.throws(() => serverSideApply(undefined, manifest(), opts('')), { code: 422, reason: 'Invalid', message: 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch' })
  const noName = manifest()
  ;((spec(noName).template as Obj).spec as { containers: Obj[] }).containers = [{ image: 'x' }]
  t.throws(() => serverSideApply(undefined, noName, opts('kubectl')), {
    code: 500,
    message: 'failed to create typed patch object (default/web; apps/v1, Kind=Deployment): .spec.template.spec.containers: element 0: associative list with keys has an element that omits key field "name" (and doesn\'t have default value)',
  })
  const dup = manifest()
  ;((spec(dup).template as Obj).spec as { containers: Obj[] }).containers = [{ name: 'a' }, { name: 'a' }]
  t.throws(() => serverSideApply(undefined, dup, opts('kubectl')), { code: 500, message: /\.spec\.template\.spec\.containers: duplicate entries for key \[name="a"\]$/ })
})

t.test('apply to another kind: a ConfigMap, data map entries owned one by one', async (t) => {
  const o: ApplyOptions = { manager: 'kubectl', apiVersion: 'v1', kind: 'ConfigMap', now: T0 }
  const live = stored(applied(undefined, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: '1', b: '2' } }, o))
  t.strictSame(entries(live)[0]?.fieldsV1, { 'f:data': { 'f:a': {}, 'f:b': {} } }, 'apply owns the entries, not the map (no ".")')
  const out = applied(live, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { b: '3' } }, { ...o, now: T1 })
  t.strictSame(out.data, { b: '3' })
})
