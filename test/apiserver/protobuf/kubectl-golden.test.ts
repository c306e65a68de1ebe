// Golden tests against the real kubectl 1.32: each command runs once for real against a
// capture server, which records the body kubectl sends (protobuf for its typed
// clients), and once with `--dry-run=client -o json`, which prints the object kubectl
// built, through Go's encoding/json. The decoded protobuf must be that object exactly
// (strictSame: same keys, same nulls, same zero values). No normalisation turned out
// to be needed: the decoder reproduces Go's omitempty, pointer and null rules.
//
// Commands that send JSON instead (kubectl run and expose build unstructured objects)
// are compared the same way, so the test keeps holding if kubectl changes encoding.
// (drain's evictions are JSON as well; with --disable-eviction it deletes each pod
// with protobuf DeleteOptions.) Commands without --dry-run (auth can-i, auth whoami,
// create token, drain) are compared with the object Go's encoding/json gives the
// struct kubectl fills in, written out here.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { newCA } from '../../../src/certs/pki.js'
import { decodeKubeProtobuf, isKubeProtobuf } from '../../../src/apiserver/protobuf/index.js'
import { startCaptureServer, type Captured } from './capture-server.js'

const server = await startCaptureServer()
t.teardown(() => server.close())

const files = {
  text: join(server.dir, 'note.txt'),
  binary: join(server.dir, 'blob.bin'),
  cert: join(server.dir, 'tls.crt'),
  key: join(server.dir, 'tls.key'),
}
writeFileSync(files.text, 'hello\nworld\n')
// Not UTF-8, so kubectl puts it under binaryData.
writeFileSync(files.binary, Buffer.from(Array.from({ length: 256 }, (_, i) => i)))
const pair = newCA('golden', 1)
writeFileSync(files.cert, pair.certPem)
writeFileSync(files.key, pair.keyPem)

server.objects.set('/apis/apps/v1/namespaces/default/deployments/web', {
  kind: 'Deployment',
  apiVersion: 'apps/v1',
  metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx', ports: [{ containerPort: 80, protocol: 'TCP' }] }] } },
  },
})
server.objects.set('/apis/batch/v1/namespaces/default/cronjobs/nightly', {
  kind: 'CronJob',
  apiVersion: 'batch/v1',
  metadata: { name: 'nightly', namespace: 'default', uid: '7d8f2c1e-0000-4000-8000-000000000001' },
  spec: {
    schedule: '0 3 * * *',
    jobTemplate: {
      metadata: { labels: { team: 'ops' } },
      spec: { backoffLimit: 0, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } },
    },
  },
})

/** The write kubectl made: the one request with a body. */
function written(captured: Captured[]): Captured | undefined {
  const writes = captured.filter((c) => c.body.length > 0)
  return writes.length === 1 ? writes[0] : undefined
}

function decodeRequest(c: Captured): unknown {
  return isKubeProtobuf(c.contentType) ? decodeKubeProtobuf(c.body) : JSON.parse(c.body.toString('utf8'))
}

/** `args` with the dry-run flags before any `--` (after it they would be the command's arguments). */
function dryRun(args: string[]): string[] {
  const flags = ['--dry-run=client', '-o', 'json']
  const i = args.indexOf('--')
  return i < 0 ? [...args, ...flags] : [...args.slice(0, i), ...flags, ...args.slice(i)]
}

async function capture(args: string[]): Promise<Captured> {
  server.captured.length = 0
  const r = await server.kubectl(args)
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${r.code}: ${r.stderr}`)
  const c = written(server.captured)
  if (c === undefined) throw new Error(`kubectl ${args.join(' ')}: expected one request with a body, got ${server.captured.map((x) => `${x.method} ${x.url}`).join(', ')}`)
  return c
}

interface Case {
  args: string[]
  /** The request's encoding kubectl 1.32 uses. */
  encoding: 'protobuf' | 'json'
}

const protobuf = (...args: string[]): Case => ({ args, encoding: 'protobuf' })

const CASES: Case[] = [
  protobuf('create', 'namespace', 'demo'),
  protobuf('create', 'namespace', 'saved', '--save-config'),
  protobuf('create', 'configmap', 'c', '--from-literal=a=b', `--from-file=${files.text}`, `--from-file=blob=${files.binary}`),
  protobuf('create', 'secret', 'generic', 's', '--from-literal=p=q', '--from-literal=empty=', `--from-file=${files.binary}`),
  protobuf('create', 'secret', 'tls', 'tls', `--cert=${files.cert}`, `--key=${files.key}`),
  protobuf('create', 'secret', 'docker-registry', 'pull', '--docker-username=u', '--docker-password=p', '--docker-server=registry.example'),
  protobuf('create', 'deployment', 'web', '--image=nginx', '--replicas=2', '--port=80'),
  protobuf('create', 'deployment', 'idle', '--image=nginx', '--replicas=0'),
  protobuf('create', 'deployment', 'pair', '--image=nginx', '--image=busybox'),
  protobuf('create', 'service', 'clusterip', 'svc', '--tcp=80:8080'),
  protobuf('create', 'service', 'clusterip', 'headless', '--clusterip=None'),
  protobuf('create', 'service', 'nodeport', 'np', '--tcp=80:8080', '--node-port=30080'),
  protobuf('create', 'service', 'loadbalancer', 'lb', '--tcp=5678:8080'),
  protobuf('create', 'service', 'externalname', 'ext', '--external-name=example.com'),
  protobuf('create', 'job', 'j', '--image=busybox', '--', 'echo', 'hi'),
  protobuf('create', 'job', 'manual', '--from=cronjob/nightly'),
  protobuf('create', 'cronjob', 'cj', '--image=busybox', '--schedule=*/5 * * * *', '--restart=OnFailure', '--', 'date'),
  protobuf('create', 'role', 'reader', '--verb=get,list', '--resource=pods,deployments.apps', '--resource-name=x'),
  protobuf('create', 'rolebinding', 'rb', '--role=reader', '--user=alice', '--group=devs', '--serviceaccount=default:robot'),
  protobuf('create', 'clusterrole', 'health', '--verb=get', '--non-resource-url=/healthz'),
  protobuf('create', 'clusterrole', 'aggregate', '--aggregation-rule=team=ops'),
  protobuf('create', 'clusterrolebinding', 'crb', '--clusterrole=health', '--user=bob'),
  protobuf('create', 'priorityclass', 'high', '--value=1000', '--description=important', '--preemption-policy=Never'),
  protobuf('create', 'priorityclass', 'default', '--value=0', '--global-default'),
  protobuf('create', 'quota', 'q', '--hard=cpu=1,memory=1Gi,pods=10', '--scopes=BestEffort'),
  protobuf('create', 'serviceaccount', 'robot'),
  protobuf('create', 'ingress', 'simple', '--rule=foo.com/bar=svc:8080'),
  protobuf('create', 'ingress', 'tls', '--class=nginx', '--rule=foo.com/*=svc:http,tls=cert', '--default-backend=def:80', '--annotation=a=b'),
  { args: ['run', 'pod', '--image=busybox', '--labels=a=b', '--env=X=1', '--', 'sleep', '1'], encoding: 'json' },
  { args: ['expose', 'deployment', 'web', '--port=80', '--target-port=8080'], encoding: 'json' },
]

for (const c of CASES) {
  await t.test(`kubectl ${c.args.join(' ')}`, async (t) => {
    const request = await capture(c.args)
    t.equal(isKubeProtobuf(request.contentType), c.encoding === 'protobuf', `sent as ${request.contentType}`)
    const decoded = decodeRequest(request)
    const dry = await server.kubectl(dryRun(c.args))
    t.equal(dry.code, 0, dry.stderr)
    t.strictSame(decoded, JSON.parse(dry.stdout), 'the decoded body is the object kubectl prints as JSON')
  })
}

await t.test('kubectl auth can-i get pods: a SelfSubjectAccessReview', async (t) => {
  server.captured.length = 0
  await server.kubectl(['auth', 'can-i', 'get', 'pods']) // "no": the capture server allows nothing
  const request = written(server.captured)!
  t.ok(isKubeProtobuf(request.contentType))
  t.strictSame(decodeKubeProtobuf(request.body), {
    kind: 'SelfSubjectAccessReview',
    apiVersion: 'authorization.k8s.io/v1',
    metadata: { creationTimestamp: null },
    spec: { resourceAttributes: { namespace: 'default', verb: 'get', resource: 'pods' } },
    // SubjectAccessReviewStatus.Allowed has no omitempty.
    status: { allowed: false },
  })
})

await t.test('kubectl auth can-i --list: a SelfSubjectRulesReview', async (t) => {
  const request = await capture(['auth', 'can-i', '--list', '--namespace=team'])
  t.ok(isKubeProtobuf(request.contentType))
  t.strictSame(decodeKubeProtobuf(request.body), {
    kind: 'SelfSubjectRulesReview',
    apiVersion: 'authorization.k8s.io/v1',
    metadata: { creationTimestamp: null },
    spec: { namespace: 'team' },
    // Nil slices without omitempty are null; Incomplete has no omitempty either.
    status: { resourceRules: null, nonResourceRules: null, incomplete: false },
  })
})

await t.test('kubectl auth whoami: a SelfSubjectReview', async (t) => {
  const request = await capture(['auth', 'whoami'])
  t.ok(isKubeProtobuf(request.contentType))
  t.strictSame(decodeKubeProtobuf(request.body), {
    kind: 'SelfSubjectReview',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: { creationTimestamp: null },
    status: { userInfo: {} },
  })
})

await t.test('kubectl create token: a TokenRequest', async (t) => {
  server.captured.length = 0
  await server.kubectl(['create', 'token', 'robot', '--duration=10m', '--audience=api', '--bound-object-kind=Secret', '--bound-object-name=s', '--bound-object-uid=0c8e1f3a-5b2d-4e6f-9a7b-1c2d3e4f5a6b'])
  const request = written(server.captured)!
  t.match(request.url, /^\/api\/v1\/namespaces\/default\/serviceaccounts\/robot\/token/)
  t.ok(isKubeProtobuf(request.contentType))
  t.strictSame(decodeKubeProtobuf(request.body), {
    kind: 'TokenRequest',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: { creationTimestamp: null },
    spec: {
      audiences: ['api'],
      expirationSeconds: 600,
      // BoundObjectReference's uid is the proto field `uID`.
      boundObjectRef: { kind: 'Secret', apiVersion: 'v1', name: 's', uid: '0c8e1f3a-5b2d-4e6f-9a7b-1c2d3e4f5a6b' },
    },
    status: { token: '', expirationTimestamp: null },
  })
})

await t.test('kubectl drain --disable-eviction: DeleteOptions for each pod', async (t) => {
  server.objects.set('/api/v1/nodes/n1', { kind: 'Node', apiVersion: 'v1', metadata: { name: 'n1' }, spec: {} })
  server.objects.set('/api/v1/pods', {
    kind: 'PodList',
    apiVersion: 'v1',
    metadata: { resourceVersion: '5' },
    items: [{ kind: 'Pod', apiVersion: 'v1', metadata: { name: 'p', namespace: 'default', uid: 'u1' }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'i' }] } }],
  })
  server.captured.length = 0
  const r = await server.kubectl(['drain', 'n1', '--force', '--disable-eviction', '--grace-period=0', '--timeout=5s'])
  t.equal(r.code, 0, r.stderr)
  const deletes = server.captured.filter((c) => c.method === 'DELETE')
  t.equal(deletes.length, 1)
  t.equal(deletes[0]!.url, '/api/v1/namespaces/default/pods/p')
  t.ok(isKubeProtobuf(deletes[0]!.contentType))
  // A pointer set to zero is kept: 0 means "now", nil the pod's own grace period.
  t.strictSame(decodeKubeProtobuf(deletes[0]!.body), { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0 })
})
