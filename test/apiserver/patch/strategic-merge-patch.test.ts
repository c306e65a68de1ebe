// application/strategic-merge-patch+json: the patches kubectl 1.32 sends (client-side
// apply's three-way patch, rollout pause/resume/restart, set image, patch -p) and the
// directive semantics and errors of k8s.io/apimachinery's strategicpatch.
import t from 'tap'
import { PatchError } from '../../../src/apiserver/patch/errors.js'
import type { FieldPatchMeta, SchemaNode, StructNode } from '../../../src/api/patch-meta.js'
import { applyStrategicMergePatch, strategicMergeValue } from '../../../src/apiserver/patch/strategic-merge-patch.js'
import type { KubeObject } from '../../../src/apiserver/watch-cache/types.js'

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration'

function deployment(): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'web',
      namespace: 'default',
      uid: '6a2f0c1e-0000-4000-8000-000000000001',
      resourceVersion: '812',
      generation: 3,
      labels: { app: 'web', tier: 'frontend' },
      annotations: { 'deployment.kubernetes.io/revision': '3', [LAST_APPLIED]: '{"apiVersion":"apps/v1","kind":"Deployment"}\n' },
      finalizers: ['example.com/a', 'example.com/b'],
    },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            {
              name: 'web',
              image: 'nginx:1.25',
              ports: [{ containerPort: 80, protocol: 'TCP' }],
              env: [
                { name: 'A', value: '1' },
                { name: 'B', value: '2' },
              ],
              volumeMounts: [{ name: 'data', mountPath: '/data' }],
            },
            { name: 'istio-proxy', image: 'proxy:1' },
          ],
          volumes: [{ name: 'data', hostPath: { path: '/srv', type: '' } }],
          tolerations: [{ key: 'a', operator: 'Exists' }],
        },
      },
    },
  }
}

type Spec = { template: { spec: { containers: Record<string, unknown>[]; volumes?: unknown[]; tolerations?: unknown[] } } }
const spec = (o: KubeObject): Spec => o.spec as Spec
const names = (o: KubeObject): unknown[] => spec(o).template.spec.containers.map((c) => c.name)

function smp(current: KubeObject, patch: unknown): KubeObject {
  return applyStrategicMergePatch(current, JSON.stringify(patch))
}

function failure(current: KubeObject, patch: unknown): PatchError {
  try {
    applyStrategicMergePatch(current, typeof patch === 'string' ? patch : JSON.stringify(patch))
  } catch (err) {
    if (err instanceof PatchError) return err
    throw err
  }
  throw new Error('expected a PatchError')
}

t.test('kubectl apply re-apply: new image, removed label, last-applied annotation', async (t) => {
  const current = Object.freeze(deployment())
  const lastApplied = '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"annotations":{},"labels":{"app":"web"},"name":"web","namespace":"default"},"spec":{}}\n'
  // What kubectl 1.32 sends (CreateThreeWayMergePatch against the last-applied config).
  const out = smp(current, {
    metadata: { annotations: { [LAST_APPLIED]: lastApplied }, labels: { tier: null } },
    spec: { template: { spec: { $setElementOrder: undefined, '$setElementOrder/containers': [{ name: 'web' }], containers: [{ image: 'nginx:1.26', name: 'web' }] } } },
  })
  t.strictSame((out.metadata as Record<string, unknown>).labels, { app: 'web' })
  t.equal(((out.metadata as Record<string, unknown>).annotations as Record<string, string>)[LAST_APPLIED], lastApplied)
  const web = spec(out).template.spec.containers[0]
  t.match(web, { name: 'web', image: 'nginx:1.26', env: [{ name: 'A' }, { name: 'B' }] })
  t.strictSame(names(out), ['web', 'istio-proxy'], 'the injected container keeps its place after the ordered ones')
  t.notOk(JSON.stringify(out).includes('$setElementOrder'), 'no directive is left in the object')
  t.strictSame(current, deployment(), 'the input is not changed')
})

t.test('kubectl apply: a container removed from the manifest, server-only container kept', async (t) => {
  const current = deployment()
  spec(current).template.spec.containers.push({ name: 'logger', image: 'fluent' })
  const out = smp(current, {
    spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'logger' }], containers: [{ $patch: 'delete', name: 'web' }] } } },
  })
  // Upstream orders this from the original list as its in-place delete left it.
  t.strictSame(names(out), ['istio-proxy', 'logger'])
})

t.test('kubectl apply: env var removed and another added, order set by the manifest', async (t) => {
  const out = smp(deployment(), {
    spec: {
      template: {
        spec: {
          '$setElementOrder/containers': [{ name: 'web' }],
          containers: [{ '$setElementOrder/env': [{ name: 'C' }, { name: 'A' }], env: [{ name: 'C', value: '3' }, { $patch: 'delete', name: 'B' }], name: 'web' }],
        },
      },
    },
  })
  t.strictSame(spec(out).template.spec.containers[0]?.env, [{ name: 'C', value: '3' }, { name: 'A', value: '1' }])
})

t.test('kubectl apply: a finalizer removed from a primitive merge list', async (t) => {
  const out = smp(deployment(), { metadata: { '$deleteFromPrimitiveList/finalizers': ['example.com/a'], '$setElementOrder/finalizers': ['example.com/b', 'example.com/c'], finalizers: ['example.com/c'] } })
  t.strictSame((out.metadata as Record<string, unknown>).finalizers, ['example.com/b', 'example.com/c'])
})

t.test('kubectl apply: strategy switched to Recreate clears rollingUpdate through $retainKeys', async (t) => {
  const out = smp(deployment(), { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } })
  t.strictSame((out.spec as Record<string, unknown>).strategy, { type: 'Recreate' })
})

t.test('kubectl apply: a volume switched from hostPath to emptyDir ($retainKeys in a list item)', async (t) => {
  const out = smp(deployment(), {
    spec: { template: { spec: { '$setElementOrder/volumes': [{ name: 'data' }], volumes: [{ $retainKeys: ['emptyDir', 'name'], emptyDir: {}, name: 'data' }] } } },
  })
  t.strictSame(spec(out).template.spec.volumes, [{ name: 'data', emptyDir: {} }])
})

t.test('kubectl apply: container port changed (ports merge on containerPort)', async (t) => {
  const out = smp(deployment(), {
    spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'web' }], containers: [{ '$setElementOrder/ports': [{ containerPort: 8080 }], name: 'web', ports: [{ containerPort: 8080 }, { $patch: 'delete', containerPort: 80 }] }] } } },
  })
  t.strictSame(spec(out).template.spec.containers[0]?.ports, [{ containerPort: 8080 }])
})

t.test('kubectl rollout pause, resume and restart', async (t) => {
  const paused = smp(deployment(), { spec: { paused: true } })
  t.equal((paused.spec as Record<string, unknown>).paused, true)
  const resumed = smp(paused, { spec: { paused: null } })
  t.notOk(Object.hasOwn(resumed.spec as object, 'paused'))
  const restarted = smp(deployment(), { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2025-01-02T03:04:05Z' } } } } })
  t.strictSame((restarted.spec as { template: { metadata: unknown } }).template.metadata, { labels: { app: 'web' }, annotations: { 'kubectl.kubernetes.io/restartedAt': '2025-01-02T03:04:05Z' } })
})

t.test('kubectl set image', async (t) => {
  const out = smp(deployment(), { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'web' }, { name: 'istio-proxy' }], containers: [{ image: 'nginx:1.27', name: 'web' }] } } } })
  t.strictSame(spec(out).template.spec.containers.map((c) => c.image), ['nginx:1.27', 'proxy:1'])
})

t.test('kubectl patch -p: merging lists by key, new items first, non-merging lists replaced', async (t) => {
  const added = smp(deployment(), { spec: { template: { spec: { containers: [{ name: 'debug', image: 'busybox' }] } } } })
  t.strictSame(names(added), ['debug', 'web', 'istio-proxy'], 'an item the server did not have goes first')
  const updated = smp(deployment(), { spec: { template: { spec: { containers: [{ name: 'istio-proxy', image: 'proxy:2' }] } } } })
  t.strictSame(spec(updated).template.spec.containers.map((c) => c.image), ['nginx:1.25', 'proxy:2'])
  const tolerations = smp(deployment(), { spec: { template: { spec: { tolerations: [{ key: 'b', operator: 'Exists' }] } } } })
  t.strictSame(spec(tolerations).template.spec.tolerations, [{ key: 'b', operator: 'Exists' }], 'tolerations are atomic: replaced')
  const labels = smp(deployment(), { metadata: { labels: { env: 'prod' } } })
  t.strictSame((labels.metadata as Record<string, unknown>).labels, { app: 'web', tier: 'frontend', env: 'prod' })
  const finalizers = smp(deployment(), { metadata: { finalizers: ['example.com/c', 'example.com/a'] } })
  t.strictSame((finalizers.metadata as Record<string, unknown>).finalizers, ['example.com/c', 'example.com/a', 'example.com/b'], 'primitive merge lists are unioned, patch items first')
})

t.test('$patch: replace and delete', async (t) => {
  const replacedList = smp(deployment(), { spec: { template: { spec: { containers: [{ $patch: 'replace' }, { name: 'only', image: 'x' }] } } } })
  t.strictSame(spec(replacedList).template.spec.containers, [{ name: 'only', image: 'x' }])
  const replacedMap = smp(deployment(), { spec: { selector: { $patch: 'replace', matchLabels: { app: 'other' } } } })
  t.strictSame((replacedMap.spec as Record<string, unknown>).selector, { matchLabels: { app: 'other' } })
  const deletedMap = smp(deployment(), { spec: { strategy: { $patch: 'delete' } } })
  t.strictSame((deletedMap.spec as Record<string, unknown>).strategy, {})
  const deletedItem = smp(deployment(), { spec: { template: { spec: { containers: [{ name: 'istio-proxy', $patch: 'delete' }] } } } })
  t.strictSame(names(deletedItem), ['web'])
  const newWithDirective = smp(deployment(), { spec: { newField: { $patch: 'delete' }, other: { keep: 1, drop: { $patch: 'replace' } } } })
  t.notOk(Object.hasOwn(newWithDirective.spec as object, 'newField'), 'a new field that is only a directive is not added')
  t.strictSame((newWithDirective.spec as Record<string, unknown>).other, { keep: 1 })
})

t.test('null deletes a field; nulls in new values are dropped', async (t) => {
  const out = smp(deployment(), { metadata: { annotations: null }, spec: { replicas: null, minReadySeconds: 5, template: { spec: { securityContext: { runAsUser: 1000, fsGroup: null } } } } })
  t.notOk(Object.hasOwn(out.metadata as object, 'annotations'))
  t.notOk(Object.hasOwn(out.spec as object, 'replicas'))
  t.equal((out.spec as Record<string, unknown>).minReadySeconds, 5)
  t.strictSame((spec(out).template.spec as Record<string, unknown>).securityContext, { runAsUser: 1000 })
})

t.test('status conditions merge on type (kubelet, controllers)', async (t) => {
  const node: KubeObject = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'n1' },
    status: {
      conditions: [{ type: 'MemoryPressure', status: 'False' }, { type: 'Ready', status: 'True', reason: 'KubeletReady' }],
      addresses: [{ type: 'InternalIP', address: '10.0.0.1' }],
    },
  }
  const out = smp(node, { status: { '$setElementOrder/conditions': [{ type: 'MemoryPressure' }, { type: 'Ready' }], conditions: [{ type: 'Ready', status: 'False', reason: 'KubeletNotReady' }] } })
  t.strictSame((out.status as Record<string, unknown>).conditions, [{ type: 'MemoryPressure', status: 'False' }, { type: 'Ready', status: 'False', reason: 'KubeletNotReady' }])
})

t.test('service ports merge on port', async (t) => {
  const svc: KubeObject = { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }], selector: { app: 'web', old: 'x' } } }
  const out = smp(svc, { spec: { ports: [{ port: 80, targetPort: 9090 }], selector: { old: null } } })
  t.strictSame(out.spec, { ports: [{ name: 'http', port: 80, targetPort: 9090 }], selector: { app: 'web' } })
})

t.test('kinds without patch metadata merge as a JSON merge patch', async (t) => {
  const widget = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec: { items: [{ name: 'a' }, { name: 'b' }] } }
  const out = applyStrategicMergePatch(widget, JSON.stringify({ spec: { items: [{ name: 'c' }] } }))
  t.strictSame(out.spec, { items: [{ name: 'c' }] })
})

t.test('the endpoint kind may be given explicitly', async (t) => {
  const noKind = { metadata: { name: 'web' }, spec: { template: { spec: { containers: [{ name: 'a', image: '1' }] } } } }
  const out = applyStrategicMergePatch(noKind, JSON.stringify({ spec: { template: { spec: { containers: [{ name: 'b', image: '2' }] } } } }), { apiVersion: 'apps/v1', kind: 'Deployment' })
  t.strictSame(names(out as KubeObject), ['b', 'a'])
})

t.test('malformed directives: 400 with upstream messages', async (t) => {
  t.match(failure(deployment(), { metadata: { '$deleteFromPrimitiveListfinalizers': ['x'] } }), { code: 400, reason: 'BadRequest', message: 'invalid patch format of primitive list' })
  t.match(failure(deployment(), { spec: { strategy: { $retainKeys: 'type', type: 'Recreate' } } }), { code: 400, message: 'invalid patch format of retainKeys' })
  t.match(failure(deployment(), { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate', rollingUpdate: {} } } }), { code: 400, message: 'invalid patch format of retainKeys' })
  t.match(failure(deployment(), { spec: { template: { spec: { $setElementOrdercontainers: [] } } } }), { code: 400, message: 'invalid patch format of setElementOrder list' })
  t.match(failure(deployment(), '{"spec":'), { code: 400, message: 'unexpected end of JSON input' })
  t.match(failure(deployment(), '[]'), { code: 400, message: 'json: cannot unmarshal array into Go value of type map[string]interface {}' })
  t.strictSame(applyStrategicMergePatch(deployment(), 'null'), deployment(), 'a null patch changes nothing')
})

t.test('other directive errors surface unclassified (500, no reason) with upstream text', async (t) => {
  t.match(failure(deployment(), { spec: { template: { spec: { containers: [{ image: 'x' }] } } } }), {
    code: 500,
    reason: undefined,
    message: 'map: map[image:x] does not contain declared merge key: name',
  })
  t.match(failure(deployment(), { spec: { strategy: { $patch: 'frob' } } }), { code: 500, message: 'unknown patch type: frob in map: map[$patch:frob]' })
  t.match(failure(deployment(), { spec: { template: { spec: { containers: [{ $patch: 'merge', name: 'web' }] } } } }), { code: 500, message: 'merging lists cannot yet be specified in the patch' })
  t.match(failure(deployment(), { spec: { template: { spec: { containers: [{ $patch: 'delete' }] } } } }), { message: 'map: map[$patch:delete] does not contain declared merge key: name' })
  t.match(failure(deployment(), { metadata: { finalizers: ['a', 1] } }), { code: 500, message: /^list element types are not identical: / })
  t.match(failure(deployment(), { spec: { template: { spec: { '$setElementOrder/containers': 'web' } } } }), { code: 500, message: 'expected a []interface {}, but received a string' })
  t.match(failure(deployment(), { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'istio-proxy' }], containers: [{ name: 'web', image: 'x' }] } } } }), {
    code: 500,
    message: "The order in patch list:\n[map[image:x name:web]]\n doesn't match $setElementOrder list:\n[map[name:istio-proxy]]\n",
  })
  const noFinalizers = deployment()
  ;(noFinalizers.metadata as Record<string, unknown>).finalizers = []
  t.match(failure(noFinalizers, { metadata: { finalizers: [['nested']] } }), { code: 422, reason: 'Invalid', message: 'the server rejected our request due to an error in our request' }, 'lists of lists')
})

// A schema shaped like upstream's own test type: a merging list of items keyed by name,
// a merging and a non-merging list of ints, a replace-strategy field.
function testSchema(): SchemaNode {
  const scalar: SchemaNode = { kind: 'scalar' }
  const list = (elem: SchemaNode): SchemaNode => ({ kind: 'list', relationship: 'atomic', keys: [], keyDefaults: {}, elem })
  const fields: Record<string, { node: () => SchemaNode; meta: FieldPatchMeta }> = {
    mergingList: { node: () => list(item), meta: { patchStrategy: 'merge', patchMergeKey: 'name' } },
    mergingIntList: { node: () => list(scalar), meta: { patchStrategy: 'merge' } },
    nonMergingIntList: { node: () => list(scalar), meta: {} },
    replacingItem: { node: () => ({ kind: 'untyped' }), meta: { patchStrategy: 'replace' } },
  }
  const item: StructNode = {
    kind: 'struct',
    definition: 'mergeItem',
    atomic: false,
    field: (name) => {
      const f = fields[name]
      return f === undefined ? undefined : { name, node: f.node(), meta: f.meta, unset: 'omitted' }
    },
    fieldNames: () => Object.keys(fields),
  }
  return item
}

t.test('directive semantics on upstream-style lists', async (t) => {
  const schema = testSchema()
  const apply = (original: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> => strategicMergeValue(original, patch, schema)
  t.strictSame(apply({ mergingIntList: [1, 2] }, { mergingIntList: [2, 3] }), { mergingIntList: [1, 2, 3] }, 'unique scalars; server items known to precede the patch items stay first')
  t.strictSame(apply({ nonMergingIntList: [1, 2] }, { nonMergingIntList: [3] }), { nonMergingIntList: [3] })
  t.strictSame(apply({ mergingIntList: [1, 2, 3] }, { '$deleteFromPrimitiveList/mergingIntList': [2], mergingIntList: [4] }), { mergingIntList: [4, 1, 3] })
  t.strictSame(apply({ replacingItem: { a: 1, b: { c: 2 } } }, { replacingItem: { b: { d: 3 } } }), { replacingItem: { b: { d: 3 } } }, 'replace strategy')
  t.strictSame(
    apply({ mergingIntList: [1, 2, 7, 9, 8, 3, 4] }, { '$setElementOrder/mergingIntList': [2, 1, 4, 3] }),
    { mergingIntList: [2, 1, 7, 9, 8, 4, 3] },
    'server-only items stay where they were relative to the ordered ones',
  )
  t.strictSame(
    apply({ mergingList: [{ name: 1 }, { name: 2, other: 'b' }, { name: 4, other: 'c' }] }, { '$setElementOrder/mergingList': [{ name: 2 }, { name: 3 }], mergingList: [{ name: 3 }, { $patch: 'delete', name: 1 }] }),
    { mergingList: [{ name: 2, other: 'b' }, { name: 4, other: 'c' }, { name: 3 }] },
    "ordered from the original list as upstream's in-place delete and append left it",
  )
  t.strictSame(
    apply({ mergingList: [{ name: 1 }, { name: 3 }] }, { '$setElementOrder/mergingList': [{ name: 3 }, { name: 2 }, { name: 1 }], mergingList: [{ name: 3, value: 3 }, { name: 1, value: 1 }] }),
    { mergingList: [{ name: 3, value: 3 }, { name: 1, value: 1 }] },
    '$setElementOrder may name items the list does not have',
  )
})
