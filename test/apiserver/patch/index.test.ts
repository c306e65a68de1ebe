// Content types kube-apiserver accepts on PATCH, and the dispatcher.
import t from 'tap'
import { APPLY_PATCH, JSON_PATCH, MERGE_PATCH, PatchError, STRATEGIC_MERGE_PATCH, applyPatch, patchTypeOf, supportedPatchTypes } from '../../../src/apiserver/patch/index.js'

t.test('patch types by Content-Type, 415 for the rest', async (t) => {
  t.strictSame(supportedPatchTypes('apps/v1', 'Deployment'), [JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, APPLY_PATCH])
  t.strictSame(supportedPatchTypes('example.com/v1', 'Widget'), [JSON_PATCH, MERGE_PATCH, APPLY_PATCH])
  t.equal(patchTypeOf('application/strategic-merge-patch+json; charset=utf-8', 'v1', 'Pod'), STRATEGIC_MERGE_PATCH)
  t.equal(patchTypeOf('application/apply-patch+yaml', 'v1', 'Pod'), APPLY_PATCH)
  t.throws(() => patchTypeOf('application/json', 'v1', 'Pod'), {
    code: 415,
    reason: 'UnsupportedMediaType',
    message: 'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml',
  })
  t.throws(() => patchTypeOf(STRATEGIC_MERGE_PATCH, 'example.com/v1', 'Widget'), { code: 415 })
  t.throws(() => patchTypeOf(undefined, 'v1', 'Pod'), PatchError)
})

t.test('applyPatch dispatches on the patch type', async (t) => {
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'a', image: '1' }] } }
  const kind = { apiVersion: 'v1', kind: 'Pod' }
  t.strictSame(applyPatch(JSON_PATCH, pod, '[{"op":"replace","path":"/spec/containers/0/image","value":"2"}]', kind).spec, { containers: [{ name: 'a', image: '2' }] })
  t.strictSame(applyPatch(MERGE_PATCH, pod, '{"spec":{"containers":[{"name":"b"}]}}', kind).spec, { containers: [{ name: 'b' }] })
  t.strictSame(applyPatch(STRATEGIC_MERGE_PATCH, pod, '{"spec":{"containers":[{"name":"b"}]}}', kind).spec, { containers: [{ name: 'b' }, { name: 'a', image: '1' }] })
})
