// Field errors: how bad values print (Go's %q and %#v), the aggregate message and
// the 422 Status kube-apiserver answers with.
import t from 'tap'
import { fieldErrors as fe, formatFieldErrors, invalidStatus, statusCauses } from '../../src/api/validation/errors.js'
import { formatBadValue, goIntOrString, goLabelSelector, goQuote, goStringMap, goStringSlice } from '../../src/api/validation/go-format.js'
import { rt } from './fixtures.js'

t.test('error bodies by type', async (t) => {
  t.equal(fe.required('spec.selector').message, 'Required value')
  t.equal(fe.required('spec.x', 'must be set').message, 'Required value: must be set')
  t.equal(fe.invalid('metadata.name', 'Foo', 'bad').message, 'Invalid value: "Foo": bad')
  t.equal(fe.invalid('spec.replicas', -1, 'must be greater than or equal to 0').message, 'Invalid value: -1: must be greater than or equal to 0')
  t.equal(fe.invalid('x', null, 'd').message, 'Invalid value: null: d')
  t.equal(fe.notSupported('spec.restartPolicy', 'Sometimes', ['Always', 'OnFailure', 'Never']).message, 'Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"')
  t.equal(fe.duplicate('spec.containers[1].name', 'app').message, 'Duplicate value: "app"')
  t.equal(fe.forbidden('spec', 'nope').message, 'Forbidden: nope')
  t.equal(fe.tooLong('metadata.annotations', 262144).message, 'Too long: may not be more than 262144 bytes')
  t.equal(fe.tooMany('endpoints', 1001, 1000).message, 'Too many: 1001: must have at most 1000 items')
  t.equal(fe.notFound('spec.containers[0].volumeMounts[0].name', 'data').message, 'Not found: "data"')
  t.equal(fe.withDetail(fe.duplicate('a', 'b'), 'why').message, 'Duplicate value: "b": why')
  t.equal(fe.required('x').type, 'FieldValueRequired')
})

t.test('Go value printing', async (t) => {
  t.equal(goQuote('a"b\\c\n\t\x01'), '"a\\"b\\\\c\\n\\t\\x01"')
  t.equal(goQuote('héllo'), '"héllo"')
  t.equal(goStringSlice(['a', 'b']).text, '[]string{"a", "b"}')
  t.equal(goStringSlice(undefined).text, '[]string(nil)')
  t.equal(goStringMap({ b: '2', a: '1' }).text, 'map[string]string{"a":"1", "b":"2"}')
  t.equal(goStringMap(undefined).text, 'map[string]string(nil)')
  t.equal(
    goLabelSelector({ matchExpressions: [{ key: 'k', operator: 'In', values: ['v'] }] }).text,
    'v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement{v1.LabelSelectorRequirement{Key:"k", Operator:"In", Values:[]string{"v"}}}}',
  )
  t.equal(goIntOrString('25%').text, 'intstr.IntOrString{Type:1, IntVal:0, StrVal:"25%"}')
  t.equal(goIntOrString(3).text, 'intstr.IntOrString{Type:0, IntVal:3, StrVal:""}')
  t.equal(formatBadValue(true), 'true')
  t.equal(formatBadValue(undefined), 'null')
  t.equal(formatBadValue(['x']), '[]string{"x"}')
})

t.test('the Invalid status message and causes', async (t) => {
  const errs = [fe.required('spec.selector'), fe.invalid('spec.replicas', -1, 'must be greater than or equal to 0')]
  t.equal(formatFieldErrors(rt('Deployment'), 'web', errs), 'Deployment.apps "web" is invalid: [spec.selector: Required value, spec.replicas: Invalid value: -1: must be greater than or equal to 0]')
  t.equal(formatFieldErrors(rt('Pod'), 'p', [errs[0]]), 'Pod "p" is invalid: spec.selector: Required value', 'one error prints without brackets')
  t.equal(formatFieldErrors(rt('Pod'), 'p', [errs[0], errs[0]]), 'Pod "p" is invalid: spec.selector: Required value', 'duplicates collapse in the message')
  t.equal(formatFieldErrors('Lease.coordination.k8s.io', 'l', []), 'Lease.coordination.k8s.io "l" is invalid')
  t.strictSame(statusCauses([errs[0], errs[0]]), [
    { reason: 'FieldValueRequired', message: 'Required value', field: 'spec.selector' },
    { reason: 'FieldValueRequired', message: 'Required value', field: 'spec.selector' },
  ])
  const status = invalidStatus(rt('Deployment'), 'web', errs)
  t.strictSame(status, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'Deployment.apps "web" is invalid: [spec.selector: Required value, spec.replicas: Invalid value: -1: must be greater than or equal to 0]',
    reason: 'Invalid',
    details: {
      name: 'web',
      group: 'apps',
      kind: 'Deployment',
      causes: [
        { reason: 'FieldValueRequired', message: 'Required value', field: 'spec.selector' },
        { reason: 'FieldValueInvalid', message: 'Invalid value: -1: must be greater than or equal to 0', field: 'spec.replicas' },
      ],
    },
    code: 422,
  })
  t.strictSame(Object.keys(invalidStatus(rt('Pod'), 'p', errs).details), ['name', 'kind', 'causes'], 'the core group is omitted')
})
