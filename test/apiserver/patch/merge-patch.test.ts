// application/merge-patch+json (RFC 7386), as kube-apiserver applies it: what kubectl
// label, annotate and scale send.
import t from 'tap'
import { PatchError } from '../../../src/apiserver/patch/errors.js'
import { applyMergePatch, mergePatchValue } from '../../../src/apiserver/patch/merge-patch.js'

const pod = () => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', labels: { app: 'web', tier: 'fe' }, annotations: { note: 'x' } },
  spec: { containers: [{ name: 'c', image: 'nginx' }, { name: 'd', image: 'busybox' }] },
})

t.test('kubectl label: add and remove labels', async (t) => {
  const current = Object.freeze(pod())
  const out = applyMergePatch(current, '{"metadata":{"labels":{"env":"prod","tier":null}}}')
  t.strictSame(out.metadata, { name: 'p', labels: { app: 'web', env: 'prod' }, annotations: { note: 'x' } })
  t.strictSame(current, pod(), 'input unchanged')
  t.not(out.spec, current.spec, 'the result shares nothing with the input')
})

t.test('kubectl annotate --overwrite and removal of the last annotation', async (t) => {
  const out = applyMergePatch(pod(), JSON.stringify({ metadata: { annotations: { note: null, 'kubernetes.io/change-cause': 'kubectl set image' } } }))
  t.strictSame(out.metadata?.annotations, { 'kubernetes.io/change-cause': 'kubectl set image' })
})

t.test('kubectl scale on /scale: replace a scalar', async (t) => {
  const scale = { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'web' }, spec: { replicas: 1 }, status: { replicas: 1 } }
  t.strictSame(applyMergePatch(scale, '{"spec":{"replicas":3}}').spec, { replicas: 3 })
})

t.test('lists are replaced, not merged (no strategy in a merge patch)', async (t) => {
  const out = applyMergePatch(pod(), '{"spec":{"containers":[{"name":"c","image":"nginx:2"}]}}')
  t.strictSame(out.spec, { containers: [{ name: 'c', image: 'nginx:2' }] })
})

t.test('nulls inside added objects are dropped, also inside arrays; null array items stay', async (t) => {
  const out = applyMergePatch(pod(), '{"spec":{"nodeSelector":{"a":"1","b":null},"tolerations":[{"key":"k","value":null},null]}}')
  t.strictSame(out.spec, { containers: pod().spec.containers, nodeSelector: { a: '1' }, tolerations: [{ key: 'k' }, null] })
})

t.test('RFC 7386 appendix A examples', async (t) => {
  const cases: [unknown, unknown, unknown][] = [
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ]
  for (const [doc, patch, want] of cases) t.strictSame(mergePatchValue(doc as never, patch as never), want, JSON.stringify([doc, patch]))
})

t.test('bad bodies: 400 Invalid JSON Patch; an array leaves no object (422)', async (t) => {
  for (const body of ['{', 'null', '"x"', '3', 'true']) {
    try {
      applyMergePatch(pod(), body)
      t.fail(body)
    } catch (err) {
      t.ok(err instanceof PatchError)
      t.match(err, { code: 400, reason: 'BadRequest', message: 'Invalid JSON Patch' }, body)
    }
  }
  try {
    applyMergePatch(pod(), '[1]')
    t.fail('array')
  } catch (err) {
    t.match(err, { code: 422, reason: 'Invalid' })
  }
})
