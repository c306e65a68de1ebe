// The real kubectl (1.32) against the OpenAPI documents: `explain` renders them, apply
// and create learn from /openapi/v3 that the server takes fieldValidation (so they send
// fieldValidation=Strict and leave unknown fields to the server, as with kube-apiserver
// 1.32), and client-side apply builds its strategic merge patch from the v3 merge keys.
// /openapi/v2, which kubectl asks in protobuf, serves `kind: List` manifests (validated
// client-side) and `explain --output=plaintext-openapiv2`.
import { existsSync, writeFileSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { RESOURCES } from '../../../src/api/resources.js'
import { strictDecodingMessage, unknownFields } from '../../../src/apiserver/openapi/unknown-fields.js'
import { ApiError } from '../../../src/apiserver/status.js'
import { KUBECTL, outcome, startFakeApiServer, type FakeApiServer } from '../discovery/kubectl-harness.js'

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx
        ports:
        - containerPort: 80
`
const UNKNOWN_FIELD = DEPLOYMENT.replace('  replicas: 2\n', '  replicas: 2\n  bogus: 1\n')

// What the server side of fieldValidation=Strict must do, done here with the helper the
// API server uses: decode, look for unknown fields, answer 400 with kube's message.
function strictCreate(req: IncomingMessage, res: ServerResponse, body: string): boolean {
  const url = new URL(req.url ?? '/', 'http://x')
  if (req.method !== 'POST' || url.pathname !== '/apis/apps/v1/namespaces/default/deployments') return false
  const obj = JSON.parse(body) as { apiVersion: string; kind: string }
  const unknown = url.searchParams.get('fieldValidation') === 'Strict' ? (unknownFields(obj.apiVersion, obj.kind, obj) ?? []) : []
  if (unknown.length > 0) {
    const status = new ApiError(400, 'BadRequest', strictDecodingMessage(obj.apiVersion, obj.kind, unknown)).toStatus()
    res.writeHead(400, { 'Content-Type': 'application/json' }).end(JSON.stringify(status))
  } else {
    res.writeHead(201, { 'Content-Type': 'application/json' }).end(body)
  }
  return true
}

const skip = existsSync(KUBECTL) ? false : `no ${KUBECTL}`

async function start(t: Test, handler?: Parameters<typeof startFakeApiServer>[0]): Promise<FakeApiServer> {
  const server = await startFakeApiServer(handler)
  t.teardown(() => server.close())
  return server
}

t.test('kubectl explain', { skip }, async (t) => {
  const server = await start(t)

  const pods = await server.kubectl(['explain', 'pods'])
  t.equal(pods.code, 0, outcome(pods))
  t.match(pods.stdout, /^KIND:\s+Pod\nVERSION:\s+v1\n/)
  t.match(pods.stdout, /Pod is a collection of containers that can run on a host/)
  t.match(pods.stdout, /\n {2}spec\t<PodSpec>\n {4}Specification of the desired behavior of the pod/)
  t.match(pods.stdout, /\n {2}metadata\t<ObjectMeta>\n/)

  const ports = await server.kubectl(['explain', 'pods.spec.containers.ports'])
  t.equal(ports.code, 0, outcome(ports))
  t.match(ports.stdout, /FIELD: ports <\[\]ContainerPort>/)
  t.match(ports.stdout, /List of ports to expose from the container/)
  t.match(ports.stdout, /containerPort\t<integer> -required-\n {4}Number of port to expose/)
  t.match(ports.stdout, /protocol\t<string>/)

  const spec = await server.kubectl(['explain', 'deployment.spec', '--recursive'])
  t.equal(spec.code, 0, outcome(spec))
  t.match(spec.stdout, /^GROUP:\s+apps\nKIND:\s+Deployment\nVERSION:\s+v1\n/)
  t.match(spec.stdout, /FIELD: spec <DeploymentSpec>/)
  t.match(spec.stdout, /\n {2}template\t<PodTemplateSpec> -required-\n/)
  t.match(spec.stdout, /\n {6}maxSurge\t<IntOrString>\n/)
  t.match(spec.stdout, /\n {6}containers\t<\[\]Container> -required-\n/)
  t.match(spec.stdout, /\n {10}limits\t<map\[string\]Quantity>\n/)

  const missing = await server.kubectl(['explain', 'pods.spec.nosuchfield'])
  t.not(missing.code, 0)
  t.match(missing.stderr, /field "nosuchfield" does not exist/)

  const paths = server.requests.map((r) => r.url.split('?')[0])
  t.ok(paths.includes('/openapi/v3/api/v1') && paths.includes('/openapi/v3/apis/apps/v1'))
  t.notOk(paths.includes('/openapi/v2'), 'v3 is enough')
})

t.test('kubectl explain finds every served kind', { skip }, async (t) => {
  const server = await start(t)
  for (const r of RESOURCES) {
    const res = await server.kubectl(['explain', r.group === '' ? r.plural : `${r.plural}.${r.group}`])
    t.equal(res.code, 0, outcome(res))
    const head = `${r.group === '' ? '' : `GROUP:      ${r.group}\n`}KIND:       ${r.kind}\nVERSION:    ${r.version}\n`
    t.equal(res.stdout.slice(0, head.length), head, r.plural)
  }
})

t.test('kubectl apply/create --validate=strict: the server takes fieldValidation', { skip }, async (t) => {
  const server = await start(t, strictCreate)
  const good = join(server.dir, 'deployment.yaml')
  const bad = join(server.dir, 'bad.yaml')
  writeFileSync(good, DEPLOYMENT)
  writeFileSync(bad, UNKNOWN_FIELD)

  const applied = await server.kubectl(['apply', '--dry-run=client', '--validate=strict', '-f', good, '-v=6'])
  t.equal(applied.code, 0, outcome(applied))
  t.equal(applied.stdout.trim(), 'deployment.apps/web created (dry run)')
  t.match(applied.stderr, /GET http:\/\/[^ ]+\/openapi\/v3\/apis\/apps\/v1\?hash=[0-9A-F]{128}/)
  t.notMatch(applied.stderr, /openapi\/v2|falling back|warning/i)

  // With server-side validation advertised, kubectl does not check the schema itself
  // (kube-apiserver 1.32 gets the same: a client dry run passes an unknown field) ...
  const clientOnly = await server.kubectl(['apply', '--dry-run=client', '--validate=strict', '-f', bad])
  t.equal(clientOnly.code, 0, outcome(clientOnly))

  // ... and asks the server for Strict validation, which reports the field.
  const created = await server.kubectl(['create', '--dry-run=server', '--validate=strict', '-f', bad])
  t.equal(created.code, 1)
  t.equal(
    created.stderr.trim(),
    `Error from server (BadRequest): error when creating "${bad}": Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.bogus"`,
  )
  const post = server.requests.find((r) => r.method === 'POST')!
  const query = new URL(post.url, 'http://x').searchParams
  t.equal(query.get('fieldValidation'), 'Strict')
  t.equal(query.get('dryRun'), 'All')

  const ok = await server.kubectl(['create', '--dry-run=server', '-f', good])
  t.equal(ok.code, 0, outcome(ok))
  t.match(ok.stdout, /deployment.apps\/web created \(server dry run\)/)
  t.notOk(
    server.requests.some((r) => r.url.startsWith('/openapi/v2')),
    'no /openapi/v2',
  )
})

// kubectl validates a `kind: List` manifest itself, against /openapi/v2 in protobuf.
const LIST = `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: settings}
  data: {k: v}
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: web}
  spec:
    selector: {matchLabels: {app: web}}
    template:
      metadata: {labels: {app: web}}
      spec:
        containers: [{name: web, image: nginx, ports: [{containerPort: 80}]}]
`

t.test('kubectl reads /openapi/v2 in protobuf: List manifests, explain --output=plaintext-openapiv2', { skip }, async (t) => {
  const server = await start(t)
  const good = join(server.dir, 'list.yaml')
  const bad = join(server.dir, 'bad-list.yaml')
  writeFileSync(good, LIST)
  writeFileSync(bad, LIST.replace('    selector:', '    bogus: 1\n    selector:').replace('image: nginx,', 'image: nginx, imagePullPolice: Always,'))

  const applied = await server.kubectl(['apply', '--dry-run=client', '--validate=strict', '-f', good])
  t.equal(applied.code, 0, outcome(applied))
  t.equal(applied.stdout.trim(), 'configmap/settings created (dry run)\ndeployment.apps/web created (dry run)')
  const v2 = server.requests.find((r) => r.url.startsWith('/openapi/v2'))!
  t.equal(v2.accept, 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf')
  t.equal(v2.responseType, 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf')

  const rejected = await server.kubectl(['apply', '--dry-run=client', '--validate=strict', '-f', bad])
  t.equal(rejected.code, 1)
  t.equal(
    rejected.stderr.trim(),
    `error: error validating "${bad}": error validating data: [ValidationError(Deployment.spec): unknown field "bogus" in io.k8s.api.apps.v1.DeploymentSpec, ValidationError(Deployment.spec.template.spec.containers[0]): unknown field "imagePullPolice" in io.k8s.api.core.v1.Container]; if you choose to ignore these errors, turn validation off with --validate=false`,
  )

  const explained = await server.kubectl(['explain', 'deployments.spec.strategy', '--output=plaintext-openapiv2'])
  t.equal(explained.code, 0, outcome(explained))
  t.match(explained.stdout, /^KIND:\s+Deployment\nVERSION:\s+apps\/v1\n\nRESOURCE: strategy <Object>\n/)
  t.match(explained.stdout, /rollingUpdate\t<Object>\n\s+Rolling update config params/)
})

t.test('client-side apply computes its strategic merge patch from /openapi/v3', { skip }, async (t) => {
  const lastApplied = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'web', image: 'nginx', ports: [{ containerPort: 80 }] }, { name: 'side', image: 'busybox' }] },
      },
    },
  }
  const live = {
    ...lastApplied,
    metadata: {
      ...lastApplied.metadata,
      uid: '1',
      resourceVersion: '5',
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(lastApplied) },
    },
  }
  const server = await start(t, (req, res) => {
    if (!req.url?.startsWith('/apis/apps/v1/namespaces/default/deployments/web')) return false
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(live))
    return true
  })
  const file = join(server.dir, 'deployment.yaml')
  writeFileSync(file, DEPLOYMENT.replace('image: nginx', 'image: nginx:2'))

  const res = await server.kubectl(['apply', '-f', file, '-v=5'])
  t.equal(res.code, 0, outcome(res))
  t.equal(res.stdout.trim(), 'deployment.apps/web configured')
  // kubectl logs these when it cannot use the v3 document and falls back.
  t.notMatch(res.stderr, /OpenAPI V3 path does not exist|error calculating patch/)

  const patch = server.requests.find((r) => r.method === 'PATCH')!
  t.equal(patch.contentType, 'application/strategic-merge-patch+json')
  t.equal(new URL(patch.url, 'http://x').searchParams.get('fieldValidation'), 'Strict')
  const body = JSON.parse(patch.body) as { spec: unknown }
  t.same(body.spec, {
    template: {
      spec: {
        '$setElementOrder/containers': [{ name: 'web' }],
        containers: [
          { image: 'nginx:2', name: 'web' },
          { $patch: 'delete', name: 'side' },
        ],
      },
    },
  })
})
