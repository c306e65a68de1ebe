// The OpenAPI documents: every catalog kind described (with descriptions, kinds, patch
// metadata and kube-apiserver's special types), every resource and verb as a path with
// the parameters kubectl looks for, self-contained v3 documents behind a hashed index.
import protobuf from 'protobufjs'
import t from 'tap'
import { RESOURCES, servedGroups } from '../../../src/api/resources.js'
import { closure, definitionName, definitions, type Schema } from '../../../src/apiserver/openapi/definitions.js'
import { OpenApiDocuments } from '../../../src/apiserver/openapi/documents.js'
import { groupVersionId, groupVersionTag } from '../../../src/apiserver/openapi/operations.js'
import { strictDecodingMessage, unknownFields, unknownFieldWarnings } from '../../../src/apiserver/openapi/unknown-fields.js'

type Json = Record<string, unknown>

const docs = new OpenApiDocuments({ version: 'v1.32.0' })
const parse = (path: string, accept?: string): Json => JSON.parse(docs.serve(path, accept)!.body.toString()) as Json
const v2 = parse('/openapi/v2', 'application/json')
const v2Paths = v2.paths as Record<string, Record<string, Json>>

const defs = definitions()
const def = (name: string): Schema => {
  const d = defs.get(name)
  if (d === undefined) throw new Error(`no definition ${name}`)
  return d
}
const prop = (name: string, field: string): Schema => {
  const p = def(name).properties?.[field]
  if (p === undefined) throw new Error(`no field ${name}.${field}`)
  return p
}

function paramNames(op: Json | undefined): string[] {
  return ((op?.parameters ?? []) as { name: string }[]).map((p) => p.name)
}

t.test('definitions: every catalog kind and its list, with its group-version-kind', async (t) => {
  for (const rt of RESOURCES) {
    for (const kind of [rt.kind, `${rt.kind}List`]) {
      const d = def(definitionName(rt.group, rt.version, kind))
      t.same(d['x-kubernetes-group-version-kind'], [{ group: rt.group, kind, version: rt.version }], kind)
      t.ok(typeof d.description === 'string' && d.description.length > 10, `${kind} described`)
    }
  }
  t.same(def('io.k8s.api.autoscaling.v1.Scale')['x-kubernetes-group-version-kind'], [{ group: 'autoscaling', kind: 'Scale', version: 'v1' }])
  t.same(def('io.k8s.api.policy.v1.Eviction')['x-kubernetes-group-version-kind'], [{ group: 'policy', kind: 'Eviction', version: 'v1' }])
  t.same(def('io.k8s.apimachinery.pkg.apis.meta.v1.Status')['x-kubernetes-group-version-kind'], [{ group: '', kind: 'Status', version: 'v1' }])
  const deleteOptions = def('io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions')['x-kubernetes-group-version-kind'] as { group: string }[]
  t.equal(deleteOptions.length, servedGroups().length, 'DeleteOptions in every served group version')
})

t.test('definitions: every reference resolves', async (t) => {
  const reached = closure(defs.keys())
  t.same([...reached].filter((n) => !defs.has(n)), [])
})

t.test('definitions: fields, descriptions, formats and required as Kubernetes declares them', async (t) => {
  t.match(def('io.k8s.api.core.v1.Pod').description, /collection of containers/)
  t.same(prop('io.k8s.api.core.v1.PodSpec', 'affinity'), {
    $ref: '#/definitions/io.k8s.api.core.v1.Affinity',
    description: "If specified, the pod's scheduling constraints",
  })
  t.same(def('io.k8s.api.core.v1.PodSpec').required, ['containers'])
  t.same(def('io.k8s.api.core.v1.ContainerPort').required, ['containerPort'])
  t.same(prop('io.k8s.api.core.v1.ContainerPort', 'containerPort').type, 'integer')
  t.same(prop('io.k8s.api.core.v1.ContainerPort', 'containerPort').format, 'int32')
  t.same(prop('io.k8s.api.core.v1.PodSpec', 'activeDeadlineSeconds').format, 'int64')
  t.same(prop('io.k8s.api.core.v1.Secret', 'data').additionalProperties, { type: 'string', format: 'byte' })
  t.same(def('io.k8s.apimachinery.pkg.apis.meta.v1.Time').format, 'date-time')
  const ios = def('io.k8s.apimachinery.pkg.util.intstr.IntOrString')
  t.same([ios.type, ios.format], ['string', 'int-or-string'])
  t.same(prop('io.k8s.api.apps.v1.RollingUpdateDeployment', 'maxSurge').$ref, '#/definitions/io.k8s.apimachinery.pkg.util.intstr.IntOrString')
  t.equal(def('io.k8s.apimachinery.pkg.api.resource.Quantity').type, 'string', 'quantities are strings in v2')
  t.same(prop('io.k8s.api.core.v1.ResourceRequirements', 'limits').additionalProperties, { $ref: '#/definitions/io.k8s.apimachinery.pkg.api.resource.Quantity' })
  t.match(def('io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1').description, /\n\nEach key is either/, 'paragraphs kept')
})

t.test('definitions: patch strategies, merge keys and list types', async (t) => {
  t.match(prop('io.k8s.api.core.v1.PodSpec', 'containers'), {
    'x-kubernetes-patch-strategy': 'merge',
    'x-kubernetes-patch-merge-key': 'name',
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['name'],
  })
  t.match(prop('io.k8s.api.core.v1.Container', 'ports'), {
    'x-kubernetes-patch-merge-key': 'containerPort',
    'x-kubernetes-list-map-keys': ['containerPort', 'protocol'],
  })
  t.match(prop('io.k8s.api.core.v1.Container', 'env'), { 'x-kubernetes-patch-merge-key': 'name' })
  t.match(prop('io.k8s.api.core.v1.PodSpec', 'volumes'), { 'x-kubernetes-patch-strategy': 'merge,retainKeys', 'x-kubernetes-patch-merge-key': 'name' })
  t.match(prop('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', 'finalizers'), { 'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-list-type': 'set' })
  t.match(prop('io.k8s.api.apps.v1.DeploymentStatus', 'conditions'), { 'x-kubernetes-patch-merge-key': 'type' })
  t.match(prop('io.k8s.api.core.v1.Container', 'command'), { 'x-kubernetes-list-type': 'atomic' })
  t.equal(def('io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector')['x-kubernetes-map-type'], 'atomic')
})

t.test('v2: every resource and verb has its path and operation', async (t) => {
  t.equal(v2.swagger, '2.0')
  t.same(v2.info, { title: 'Kubernetes', version: 'v1.32.0' })
  const ids = new Set<string>()
  for (const item of Object.values(v2Paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (method === 'parameters') continue
      t.notOk(ids.has(op.operationId as string), `unique ${op.operationId as string}`)
      ids.add(op.operationId as string)
    }
  }
  for (const rt of RESOURCES) {
    const root = rt.group === '' ? `/api/${rt.version}` : `/apis/${rt.group}/${rt.version}`
    const collection = rt.namespaced ? `${root}/namespaces/{namespace}/${rt.plural}` : `${root}/${rt.plural}`
    const item = `${collection}/{name}`
    const gvk = { group: rt.group, kind: rt.kind, version: rt.version }
    const scope = rt.namespaced ? 'Namespaced' : ''
    const gv = groupVersionId(rt.group, rt.version)
    const col = v2Paths[collection]!
    const one = v2Paths[item]!
    t.ok(col && one, `${collection} and ${item}`)
    t.same(col.get!['x-kubernetes-group-version-kind'], gvk)
    t.equal(col.get!.operationId, `list${gv}${scope}${rt.kind}`)
    t.same((col.get!.tags as string[])[0], groupVersionTag(rt.group, rt.version))
    t.same(paramNames(col.get), ['allowWatchBookmarks', 'continue', 'fieldSelector', 'labelSelector', 'limit', 'resourceVersion', 'resourceVersionMatch', 'sendInitialEvents', 'timeoutSeconds', 'watch'])
    t.same(paramNames(col.post), ['body', 'dryRun', 'fieldManager', 'fieldValidation'], `${rt.plural} create`)
    t.equal(col.delete !== undefined, rt.verbs.includes('deletecollection'), `${rt.plural} deletecollection`)
    t.same(paramNames(one.put), ['body', 'dryRun', 'fieldManager', 'fieldValidation'])
    t.same(paramNames(one.patch), ['body', 'dryRun', 'fieldManager', 'fieldValidation', 'force'])
    t.same(one.patch!.consumes, ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml'])
    t.same(one.patch!['x-kubernetes-group-version-kind'], gvk)
    t.same(paramNames(one.delete), ['body', 'dryRun', 'gracePeriodSeconds', 'orphanDependents', 'propagationPolicy'])
    t.equal(one.get!['x-kubernetes-action'], 'get')
    t.same(paramNames(one as Json), rt.namespaced ? ['name', 'namespace', 'pretty'] : ['name', 'pretty'], 'path-level parameters')
    t.ok(v2Paths[`${root}/watch/${rt.plural}`], `${rt.plural} watch path`)
    if (rt.namespaced) t.ok(v2Paths[`${root}/${rt.plural}`]?.get, `${rt.plural} across namespaces`)
    for (const sub of rt.subresources) t.ok(v2Paths[`${item}/${sub}`], `${rt.plural}/${sub}`)
  }
  const scale = v2Paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale']!
  t.same(scale.patch!['x-kubernetes-group-version-kind'], { group: 'autoscaling', kind: 'Scale', version: 'v1' })
  t.equal(scale.get!.operationId, 'readAppsV1NamespacedDeploymentScale')
  const eviction = v2Paths['/api/v1/namespaces/{namespace}/pods/{name}/eviction']!
  t.same(eviction.post!['x-kubernetes-group-version-kind'], { group: 'policy', kind: 'Eviction', version: 'v1' })
  t.same((eviction.post!.parameters as Json[])[0], { name: 'body', in: 'body', required: true, schema: { $ref: '#/definitions/io.k8s.api.policy.v1.Eviction' } })
  const binding = v2Paths['/api/v1/namespaces/{namespace}/pods/{name}/binding']!
  t.equal(binding.post!.operationId, 'createCoreV1NamespacedPodBinding')
  const log = v2Paths['/api/v1/namespaces/{namespace}/pods/{name}/log']!
  t.same(paramNames(log.get), ['container', 'follow', 'insecureSkipTLSVerifyBackend', 'limitBytes', 'previous', 'sinceSeconds', 'tailLines', 'timestamps'])
  t.ok(v2Paths['/apis/rbac.authorization.k8s.io/v1/clusterroles/{name}']?.patch, 'cluster-scoped item path')
  t.equal(v2Paths['/apis/rbac.authorization.k8s.io/v1/clusterroles']!.get!.operationId, 'listRbacAuthorizationV1ClusterRole')
  t.equal(v2Paths['/api/v1/namespaces']!.delete, undefined, 'namespaces have no deletecollection')
  t.ok(v2Paths['/api/'] && v2Paths['/apis/'] && v2Paths['/apis/apps/'] && v2Paths['/version/'] && v2Paths['/api/v1/'], 'discovery and version paths')
  const definitionsV2 = v2.definitions as Record<string, Schema>
  t.equal(Object.keys(definitionsV2).length, defs.size)
})

function refsIn(value: unknown, out: Set<string> = new Set()): Set<string> {
  if (Array.isArray(value)) for (const v of value) refsIn(v, out)
  else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') out.add(v)
      else refsIn(v, out)
    }
  }
  return out
}

t.test('v3: an index of hashed, self-contained documents per group version', async (t) => {
  const index = parse('/openapi/v3') as { paths: Record<string, { serverRelativeURL: string }> }
  const keys = servedGroups().map((g) => (g.group === '' ? `api/${g.version}` : `apis/${g.group}/${g.version}`))
  for (const k of [...keys, 'api', 'apis', 'apis/apps', 'version']) t.ok(index.paths[k], k)
  const hashes = docs.v3Hashes()
  for (const [key, entry] of Object.entries(index.paths)) {
    t.equal(entry.serverRelativeURL, `/openapi/v3/${key}?hash=${hashes.get(key)}`)
    const served = docs.serve(`/openapi/v3/${key}`, 'application/json')!
    t.equal(served.etag, hashes.get(key))
    const doc = JSON.parse(served.body.toString()) as { openapi: string; components: { schemas: Record<string, unknown> } }
    t.equal(doc.openapi, '3.0.0')
    const unresolved = [...refsIn(doc)].filter((r) => !r.startsWith('#/components/schemas/') || doc.components.schemas[r.slice('#/components/schemas/'.length)] === undefined)
    t.same(unresolved, [], `${key} is self-contained`)
  }
})

t.test('v3: what kubectl reads (PATCH parameters and bodies, allOf fields, IntOrString)', async (t) => {
  const apps = parse('/openapi/v3/apis/apps/v1') as {
    paths: Record<string, Record<string, Json>>
    components: { schemas: Record<string, Schema> }
  }
  const patch = apps.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}']!.patch!
  t.same(patch['x-kubernetes-group-version-kind'], { group: 'apps', kind: 'Deployment', version: 'v1' })
  t.same(
    (patch.parameters as { name: string; in: string; schema: unknown }[]).map((p) => [p.name, p.in]),
    [
      ['dryRun', 'query'],
      ['fieldManager', 'query'],
      ['fieldValidation', 'query'],
      ['force', 'query'],
    ],
  )
  const body = patch.requestBody as { content: Record<string, { schema: unknown }>; required: boolean }
  t.same(Object.keys(body.content), ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml'])
  t.same(body.content['application/strategic-merge-patch+json']!.schema, { $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Patch' })
  const post = apps.paths['/apis/apps/v1/namespaces/{namespace}/deployments']!.post!
  t.ok(paramNames(post).includes('fieldValidation'))
  t.same((post.requestBody as Json).content, { '*/*': { schema: { $ref: '#/components/schemas/io.k8s.api.apps.v1.Deployment' } } })
  t.ok(paramNames(apps.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}']!.put).includes('fieldValidation'))

  const schemas = apps.components.schemas
  t.same(schemas['io.k8s.api.apps.v1.DeploymentSpec']!.properties!.template, {
    allOf: [{ $ref: '#/components/schemas/io.k8s.api.core.v1.PodTemplateSpec' }],
    description: 'Template describes the pods that will be created. The only allowed template.spec.restartPolicy value is "Always".',
  })
  t.match(schemas['io.k8s.api.core.v1.PodSpec']!.properties!.containers, {
    items: { $ref: '#/components/schemas/io.k8s.api.core.v1.Container' },
    'x-kubernetes-patch-merge-key': 'name',
    'x-kubernetes-patch-strategy': 'merge',
  })
  t.match(schemas['io.k8s.apimachinery.pkg.util.intstr.IntOrString'], { format: 'int-or-string', oneOf: [{ type: 'integer' }, { type: 'string' }] })
  t.match(schemas['io.k8s.apimachinery.pkg.api.resource.Quantity'], { oneOf: [{ type: 'string' }, { type: 'number' }] })
  t.ok(schemas['io.k8s.api.autoscaling.v1.Scale'], 'the scale subresource’s kind is in apps/v1’s document')
  t.notOk(schemas['io.k8s.api.batch.v1.Job'], 'other groups’ kinds are not')
  const core = parse('/openapi/v3/api/v1') as { components: { schemas: Record<string, Schema> } }
  t.ok(core.components.schemas['io.k8s.api.policy.v1.Eviction'] && core.components.schemas['io.k8s.api.core.v1.Binding'])
})

/** The top-level fields of a protobuf message: field number → raw values (strings or sub-messages as bytes). */
function protoFields(buf: Uint8Array): Map<number, Uint8Array[]> {
  const r = protobuf.Reader.create(buf)
  const out = new Map<number, Uint8Array[]>()
  while (r.pos < r.len) {
    const tag = r.uint32()
    if ((tag & 7) !== 2) {
      r.skipType(tag & 7)
      continue
    }
    const list = out.get(tag >>> 3) ?? []
    list.push(r.bytes())
    out.set(tag >>> 3, list)
  }
  return out
}
const text = (b: Uint8Array | undefined): string => Buffer.from(b ?? []).toString()

t.test('documents: v2 in JSON or gnostic protobuf, v3 in JSON, unknown paths left alone', async (t) => {
  const json = docs.serve('/openapi/v2', undefined)!
  t.equal(json.contentType, 'application/json')
  t.equal(json.etag, docs.v2Hash())
  t.equal(docs.serve('/openapi/v2', 'application/json, */*')!.contentType, 'application/json')

  const pb = docs.serve('/openapi/v2', 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf')!
  t.equal(pb.contentType, 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf', 'a Content-Type Go’s mime package parses')
  t.equal(docs.serve('/openapi/v2', 'application/json;q=0.5, application/com.github.proto-openapi.spec.v2.v1.0+protobuf')!.body, pb.body)
  const top = protoFields(pb.body)
  t.equal(text(top.get(1)?.[0]), '2.0', 'Document.swagger')
  const info = protoFields(top.get(2)![0]!)
  t.same([text(info.get(1)?.[0]), text(info.get(2)?.[0])], ['Kubernetes', 'v1.32.0'])
  const pathNames = protoFields(top.get(8)![0]!).get(2)!.map((p) => text(protoFields(p).get(1)?.[0]))
  t.same(pathNames, Object.keys(v2Paths), 'Document.paths in order')
  const defNames = protoFields(top.get(9)![0]!).get(1)!.map((d) => text(protoFields(d).get(1)?.[0]))
  t.same(defNames, Object.keys(v2.definitions as Json))
  // A vendor extension: Schema.vendor_extension (31) → NamedAny { name, Any { yaml } }.
  const podEntry = protoFields(top.get(9)![0]!).get(1)!.find((d) => text(protoFields(d).get(1)?.[0]) === 'io.k8s.api.core.v1.Pod')!
  const pod = protoFields(protoFields(podEntry).get(2)![0]!)
  const ext = protoFields(pod.get(31)![0]!)
  t.equal(text(ext.get(1)?.[0]), 'x-kubernetes-group-version-kind')
  t.same(JSON.parse(text(protoFields(ext.get(2)![0]!).get(2)?.[0])), [{ group: '', kind: 'Pod', version: 'v1' }])

  t.throws(() => docs.serve('/openapi/v2', 'application/vnd.kubernetes.protobuf'), { code: 406, reason: 'NotAcceptable' })
  t.throws(() => docs.serve('/openapi/v3/api/v1', 'application/com.github.proto-openapi.spec.v3@v1.0+protobuf'), { code: 406 })
  t.equal(docs.serve('/openapi/v3/apis/apps/v2', undefined), undefined)
  t.equal(docs.serve('/openapi/v4', undefined), undefined)
  t.equal(docs.serve('/api/v1', undefined), undefined)
  t.equal(docs.serve('/openapi/v3/', undefined)!.body, docs.serve('/openapi/v3', undefined)!.body, 'built once')
})

t.test('warm() builds the same documents ahead of time, a piece per event-loop turn', async (t) => {
  const warmed = new OpenApiDocuments({ version: 'v1.32.0' })
  let turns = 0
  const ticker = setInterval(() => turns++, 0)
  await warmed.warm()
  clearInterval(ticker)
  t.ok(turns > 0, 'other callbacks ran while it built')
  t.same(warmed.v3Hashes(), docs.v3Hashes())
  t.equal(warmed.v2Hash(), docs.v2Hash())
  t.same(warmed.serve('/openapi/v2', 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf'), docs.serve('/openapi/v2', 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf'))
  t.equal(warmed.serve('/openapi/v3', undefined)!.etag, docs.serve('/openapi/v3', undefined)!.etag)
})

t.test('unknown fields for fieldValidation', async (t) => {
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'web',
      labels: { anything: 'goes' },
      managedFields: [{ manager: 'kubectl', fieldsV1: { 'f:spec': { 'f:replicas': {} } } }],
      bogusMeta: 1,
    },
    spec: {
      replicas: 1,
      bogus: true,
      selector: { matchLabels: { app: 'web' } },
      strategy: { rollingUpdate: { maxSurge: '25%' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            { name: 'a', image: 'x', resources: { limits: { cpu: '1' } } },
            { name: 'b', image: 'y', imagePullPolice: 'Always', ports: [{ containerPort: 80, hostPorts: 1 }] },
          ],
        },
      },
    },
    status: { replicas: 0 },
  }
  t.same(unknownFields('apps/v1', 'Deployment', deployment), [
    'metadata.bogusMeta',
    'spec.bogus',
    'spec.template.spec.containers[1].imagePullPolice',
    'spec.template.spec.containers[1].ports[0].hostPorts',
  ])
  t.same(unknownFields('v1', 'ConfigMap', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { k: 'v' } }), [])
  t.same(unknownFields('v1', 'Pod', { spec: 'not an object' }), [], 'wrong types are the validator’s business')
  t.same(unknownFields('autoscaling/v1', 'Scale', { spec: { replicas: 2, extra: 1 } }), ['spec.extra'])
  t.equal(unknownFields('example.com/v1', 'Widget', {}), undefined)
  t.equal(
    strictDecodingMessage('apps/v1', 'Deployment', ['spec.bogus', 'spec.other']),
    'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.bogus", unknown field "spec.other"',
  )
  t.same(unknownFieldWarnings(['spec.bogus']), ['unknown field "spec.bogus"'])
})
