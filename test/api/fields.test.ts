// Field selectors: parsing (with escapes), the field labels each resource accepts,
// kube-apiserver's error texts, and matching on the selectable fields.
import t from 'tap'
import { fieldMatcher, FieldSelectorError, objectFields, parseFieldSelector, supportedFieldLabels } from '../../src/api/fields.js'
import { RESOURCES } from '../../src/api/resources.js'

function rt(plural: string) {
  const r = RESOURCES.find((x) => x.plural === plural)
  if (r === undefined) throw new Error(plural)
  return r
}

function errorOf(resource: string, selector: string): string {
  try {
    fieldMatcher(resource, selector)
  } catch (e) {
    if (e instanceof FieldSelectorError) return e.message
    throw e
  }
  return 'no error'
}

const pod = {
  metadata: { name: 'web-1', namespace: 'prod' },
  spec: { nodeName: 'node-a', restartPolicy: 'Always', schedulerName: 'default-scheduler', serviceAccountName: 'default', hostNetwork: true },
  status: { phase: 'Running', podIP: '10.0.0.5', podIPs: [{ ip: '10.0.0.5' }], nominatedNodeName: '' },
}

t.test('parsing: operators, escapes, sorting and the string form', async (t) => {
  const s = parseFieldSelector('status.phase!=Failed,metadata.name==a,spec.nodeName=n')
  t.strictSame(s.requirements, [
    { field: 'metadata.name', operator: '==', value: 'a' },
    { field: 'spec.nodeName', operator: '=', value: 'n' },
    { field: 'status.phase', operator: '!=', value: 'Failed' },
  ])
  t.equal(s.toString(), 'metadata.name=a,spec.nodeName=n,status.phase!=Failed')
  t.equal(parseFieldSelector('metadata.name=a\\,b\\=c\\\\').requirements[0].value, 'a,b=c\\')
  t.equal(parseFieldSelector('metadata.name=a\\,b').toString(), 'metadata.name=a\\,b')
  t.ok(parseFieldSelector('').empty())
  t.equal(parseFieldSelector('a=b').requiresExactMatch('a'), 'b')
  t.equal(parseFieldSelector('a!=b').requiresExactMatch('a'), undefined)
})

t.test('syntax errors carry apimachinery messages', async (t) => {
  t.equal(errorOf('pods', 'spec.nodeName'), "invalid selector: 'spec.nodeName'; can't understand 'spec.nodeName'")
  t.equal(errorOf('pods', 'metadata.name=a,b'), "invalid selector: 'metadata.name=a,b'; can't understand 'b'")
  t.equal(errorOf('pods', 'metadata.name=a=b'), 'invalid field selector: unescaped character in value: 61')
  t.equal(errorOf('pods', 'metadata.name=a\\x'), 'invalid field selector: invalid escape sequence: \\x')
  t.equal(errorOf('pods', 'metadata.name=a\\'), 'invalid field selector: invalid escape sequence: \\')
})

t.test('each resource accepts its own field labels, with its own rejection text', async (t) => {
  t.equal(errorOf('pods', 'spec.foo=x'), 'field label not supported: spec.foo')
  t.equal(errorOf('nodes', 'metadata.namespace=x'), 'field label not supported: metadata.namespace')
  t.equal(errorOf('deployments.apps', 'spec.replicas=1'), '"spec.replicas" is not a known field selector: only "metadata.name", "metadata.namespace"')
  t.equal(errorOf('replicasets.apps', 'status.replicas=1'), '"status.replicas" is not a known field selector: only "metadata.name", "metadata.namespace"')
  t.equal(errorOf('jobs.batch', 'status.failed=1'), 'field label "status.failed" not supported for batchv1.Job')
  for (const [resource, selector] of [
    ['pods', 'spec.nodeName=a,spec.restartPolicy=Always,spec.schedulerName=s,spec.serviceAccountName=sa,spec.hostNetwork=true,status.phase=Running,status.podIP=1.2.3.4,status.nominatedNodeName=n'],
    ['events', 'involvedObject.kind=Pod,involvedObject.namespace=a,involvedObject.name=b,involvedObject.uid=c,involvedObject.apiVersion=v1,involvedObject.resourceVersion=1,involvedObject.fieldPath=x,reason=r,reportingComponent=c,source=s,type=Normal'],
    ['nodes', 'spec.unschedulable=true,metadata.name=n'],
    ['secrets', 'type=Opaque'],
    ['namespaces', 'status.phase=Active'],
    ['replicationcontrollers', 'status.replicas=1'],
    ['jobs.batch', 'status.successful=1'],
    ['services', 'spec.clusterIP=None,spec.type=ClusterIP'],
    ['configmaps', 'metadata.name=a,metadata.namespace=b'],
  ]) {
    t.equal(errorOf(resource, selector), 'no error', `${resource}: ${selector}`)
  }
  t.ok(supportedFieldLabels(rt('pods')).includes('spec.nodeName'))
  t.strictSame(supportedFieldLabels(rt('nodes')), ['metadata.name', 'spec.unschedulable'])
})

t.test('matching uses the registry selectable fields', async (t) => {
  t.ok(fieldMatcher(rt('pods'), 'spec.nodeName=node-a').matches(pod))
  t.ok(fieldMatcher(rt('pods'), 'spec.host=node-a').matches(pod), 'v1 spec.host is an alias of spec.nodeName')
  t.notOk(fieldMatcher(rt('pods'), 'spec.nodeName=node-b').matches(pod))
  t.ok(fieldMatcher(rt('pods'), 'spec.nodeName!=node-b,status.phase=Running,metadata.namespace=prod').matches(pod))
  t.ok(fieldMatcher(rt('pods'), 'spec.hostNetwork=true,status.podIP=10.0.0.5').matches(pod))
  t.ok(fieldMatcher(rt('pods'), 'spec.nodeName=').matches({ metadata: { name: 'p' } }), 'unscheduled pods have an empty nodeName')
  t.ok(fieldMatcher(rt('pods'), '').matches(pod))
  t.ok(fieldMatcher(rt('nodes'), 'spec.unschedulable=false').matches({ metadata: { name: 'n' }, spec: {} }))
  t.ok(fieldMatcher(rt('events'), 'involvedObject.name=web-1,source=kubelet').matches({ metadata: { name: 'e' }, involvedObject: { name: 'web-1' }, source: { component: 'kubelet' } }))
  t.ok(fieldMatcher(rt('jobs'), 'status.successful=3').matches({ metadata: { name: 'j' }, status: { succeeded: 3 } }))
  t.ok(fieldMatcher('namespaces', 'metadata.name=default').matches({ metadata: { name: 'default' } }))
  t.strictSame(objectFields(rt('nodes'), { metadata: { name: 'n' }, spec: { unschedulable: true } }), { 'metadata.name': 'n', 'spec.unschedulable': 'true' })
  t.strictSame(objectFields(rt('configmaps'), { metadata: { name: 'c', namespace: 'd' } }), { 'metadata.name': 'c', 'metadata.namespace': 'd' })
})
