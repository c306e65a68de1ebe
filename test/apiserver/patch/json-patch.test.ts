// application/json-patch+json: RFC 6902 with kube-apiserver's (evanphx v4's) errors and quirks.
import t from 'tap'
import { PatchError } from '../../../src/apiserver/patch/errors.js'
import { MAX_JSON_PATCH_OPERATIONS, applyJsonPatch } from '../../../src/apiserver/patch/json-patch.js'

const deployment = () => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'default', annotations: { 'deployment.kubernetes.io/revision': '2' } },
  spec: { replicas: 2, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.26' }] } } },
})

function statusOf(fn: () => unknown): { code: number; reason: string | undefined; message: string } {
  try {
    fn()
  } catch (err) {
    if (err instanceof PatchError) return { code: err.code, reason: err.reason, message: err.message }
    throw err
  }
  throw new Error('expected a PatchError')
}

t.test('kubectl rollout undo: replace the template and annotations', async (t) => {
  const current = Object.freeze(deployment())
  const patch = JSON.stringify([
    { op: 'replace', path: '/spec/template', value: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.25' }] } } },
    { op: 'replace', path: '/metadata/annotations', value: { 'deployment.kubernetes.io/revision': '1' } },
  ])
  const out = applyJsonPatch(current, patch)
  t.match(out, { metadata: { annotations: { 'deployment.kubernetes.io/revision': '1' } }, spec: { template: { spec: { containers: [{ image: 'nginx:1.25' }] } } } })
  t.strictSame(current, deployment(), 'the input is not changed')
})

t.test('add, remove, copy, move, test and escaped paths', async (t) => {
  const out = applyJsonPatch(deployment(), new TextEncoder().encode(JSON.stringify([
    { op: 'test', path: '/spec/replicas', value: 2 },
    { op: 'add', path: '/metadata/labels', value: { 'app.kubernetes.io/name': 'web' } },
    { op: 'add', path: '/metadata/labels/a~1b', value: 'slash' },
    { op: 'add', path: '/spec/template/spec/containers/-', value: { name: 'side', image: 'busybox' } },
    { op: 'copy', from: '/spec/replicas', path: '/spec/minReadySeconds' },
    { op: 'move', from: '/metadata/annotations', path: '/metadata/oldAnnotations' },
    { op: 'remove', path: '/spec/template/spec/containers/0' },
  ])))
  t.strictSame(out.metadata, { name: 'web', namespace: 'default', labels: { 'app.kubernetes.io/name': 'web', 'a/b': 'slash' }, oldAnnotations: { 'deployment.kubernetes.io/revision': '2' } })
  t.match(out.spec, { minReadySeconds: 2, template: { spec: { containers: [{ name: 'side' }] } } })
})

t.test('evanphx v4 quirks: negative indices, missing value, test of absent against null', async (t) => {
  const out = applyJsonPatch({ apiVersion: 'v1', kind: 'ConfigMap', list: [1, 2, 3] } as never, JSON.stringify([
    { op: 'replace', path: '/list/-1', value: 30 },
    { op: 'add', path: '/list/-1', value: 40 },
    { op: 'add', path: '/nothing' },
    { op: 'test', path: '/absent', value: null },
    { op: 'test', path: '/absent' },
  ]))
  t.strictSame(out, { apiVersion: 'v1', kind: 'ConfigMap', list: [1, 2, 30, 40], nothing: null })
})

t.test('a failed operation is the bare 422 kube-apiserver answers', async (t) => {
  const cases = [
    [{ op: 'test', path: '/spec/replicas', value: 3 }],
    [{ op: 'test', path: '/spec/absent', value: 3 }],
    [{ op: 'remove', path: '/spec/absent' }],
    [{ op: 'replace', path: '/spec/absent', value: 1 }],
    [{ op: 'add', path: '/spec/a/b', value: 1 }],
    [{ op: 'add', path: '/spec/template/spec/containers/5', value: {} }],
    [{ op: 'move', from: '/nope', path: '/x' }],
    [{ op: 'frobnicate', path: '/spec' }],
    [{ path: '/spec' }],
    [{ op: 'add', value: 1 }],
  ]
  for (const ops of cases) {
    t.strictSame(statusOf(() => applyJsonPatch(deployment(), JSON.stringify(ops))), {
      code: 422,
      reason: 'Invalid',
      message: 'the server rejected our request due to an error in our request',
    }, JSON.stringify(ops))
  }
})

t.test('undecodable bodies are 400 with encoding/json messages', async (t) => {
  t.strictSame(statusOf(() => applyJsonPatch(deployment(), '{"op":"add"}')), { code: 400, reason: 'BadRequest', message: 'json: cannot unmarshal object into Go value of type jsonpatch.Patch' })
  t.strictSame(statusOf(() => applyJsonPatch(deployment(), '["add"]')), { code: 400, reason: 'BadRequest', message: 'json: cannot unmarshal string into Go value of type jsonpatch.Operation' })
  t.strictSame(statusOf(() => applyJsonPatch(deployment(), '[{"op":')), { code: 400, reason: 'BadRequest', message: 'unexpected end of JSON input' })
  t.strictSame(statusOf(() => applyJsonPatch(deployment(), 'nope')), { code: 400, reason: 'BadRequest', message: "invalid character 'o' in literal null (expecting 'u')" })
})

t.test('more than 10,000 operations is 413', async (t) => {
  const ops = Array.from({ length: MAX_JSON_PATCH_OPERATIONS + 1 }, () => ({ op: 'test', path: '/kind', value: 'Deployment' }))
  t.strictSame(statusOf(() => applyJsonPatch(deployment(), JSON.stringify(ops))), {
    code: 413,
    reason: 'RequestEntityTooLarge',
    message: 'The allowed maximum operations in a JSON patch is 10000, got 10001',
  })
  t.ok(applyJsonPatch(deployment(), JSON.stringify(ops.slice(1))), 'exactly 10,000 is fine')
})

t.test('a patch that leaves no object is 422 Invalid', async (t) => {
  const s = statusOf(() => applyJsonPatch(deployment(), JSON.stringify([{ op: 'replace', path: '', value: [1] }])))
  t.equal(s.code, 422)
  t.equal(s.reason, 'Invalid')
  t.match(s.message, /cannot unmarshal array/)
})
