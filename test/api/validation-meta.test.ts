// Names and ObjectMeta: DNS-1123 subdomains and labels, DNS-1035 for Services, path
// segments for RBAC, generateName, label keys and values, the annotation size limit,
// owner references, finalizers, and the metadata rules of updates.
import t from 'tap'
import { validateObjectMeta, validateObjectMetaUpdate } from '../../src/api/validation/meta.js'
import { isDNS1123Label, isDNS1123Subdomain, isQualifiedName, nameIsDNSSubdomain, nameIsPathSegment } from '../../src/api/validation/names.js'
import { validateCreate } from '../../src/api/validation/index.js'
import { clone, createErrors, DNS1035_LABEL, LABEL_VALUE, lines, NAME_PART, pod, RFC1123_LABEL, RFC1123_SUBDOMAIN, rt, updateErrors } from './fixtures.js'

t.test('name formats', async (t) => {
  t.strictSame(isDNS1123Subdomain('my.app-1'), [])
  t.strictSame(isDNS1123Subdomain('Foo'), [RFC1123_SUBDOMAIN])
  t.strictSame(isDNS1123Subdomain('a'.repeat(254)), ['must be no more than 253 characters'])
  t.strictSame(isDNS1123Label('a.b'), ['must not contain dots'])
  t.strictSame(isDNS1123Label('-a'), [RFC1123_LABEL])
  t.strictSame(isDNS1123Label('a'.repeat(64)), ['must be no more than 63 characters'])
  t.strictSame(isQualifiedName('example.com/app'), [])
  t.strictSame(isQualifiedName('/app'), ['prefix part must be non-empty'])
  t.strictSame(isQualifiedName('a/b/c').length, 1)
  t.match(isQualifiedName('a/b/c')[0], /^a qualified name must consist of .* with an optional DNS subdomain prefix and '\/' \(e\.g\. 'example\.com\/MyName'\)$/)
  t.strictSame(isQualifiedName('Example.com/app'), [`prefix part ${RFC1123_SUBDOMAIN}`])
  t.strictSame(isQualifiedName('a'.repeat(64)), ['name part must be no more than 63 characters'])
  t.strictSame(nameIsDNSSubdomain('web-', true), [], 'a generateName prefix may end in a dash')
  t.strictSame(nameIsPathSegment('..', false), ["may not be '..'"])
  t.strictSame(nameIsPathSegment('a/b%c', false), ["may not contain '/'", "may not contain '%'"])
})

t.test('ObjectMeta on create', async (t) => {
  t.strictSame(lines(validateObjectMeta({}, true, nameIsDNSSubdomain)), ['metadata.name: Required value: name or generateName is required', 'metadata.namespace: Required value'])
  t.strictSame(lines(validateObjectMeta({ name: 'a', namespace: 'x' }, false, nameIsDNSSubdomain)), ['metadata.namespace: Forbidden: not allowed on this type'])
  t.strictSame(lines(validateObjectMeta({ generateName: 'Web-', name: 'ok', namespace: 'Bad_NS' }, true, nameIsDNSSubdomain)), [
    `metadata.generateName: Invalid value: "Web-": ${RFC1123_SUBDOMAIN}`,
    `metadata.namespace: Invalid value: "Bad_NS": ${RFC1123_LABEL}`,
  ])
  t.strictSame(lines(validateObjectMeta({ name: 'a', namespace: 'n', generation: -1 }, true, nameIsDNSSubdomain)), ['metadata.generation: Invalid value: -1: must be greater than or equal to 0'])
  t.strictSame(lines(validateObjectMeta({ name: 'a', namespace: 'n', labels: { 'bad key': 'v', ok: 'bad value' } }, true, nameIsDNSSubdomain)), [
    `metadata.labels: Invalid value: "bad key": ${NAME_PART}`,
    `metadata.labels: Invalid value: "bad value": ${LABEL_VALUE}`,
  ])
  t.strictSame(lines(validateObjectMeta({ name: 'a', namespace: 'n', labels: { v: 1 } }, true, nameIsDNSSubdomain)), ['metadata.labels: Invalid value: 1: value of "v" must be a string'])
  t.strictSame(lines(validateObjectMeta({ name: 'a', namespace: 'n', annotations: { big: 'x'.repeat(256 * 1024) } }, true, nameIsDNSSubdomain)), ['metadata.annotations: Too long: may not be more than 262144 bytes'])
  t.strictSame(lines(validateObjectMeta({ name: 'a', namespace: 'n', annotations: { 'Example.com/Key': 'x' } }, true, nameIsDNSSubdomain)), [], 'annotation keys are checked lowercased')
  t.strictSame(lines(validateObjectMeta({ name: 'a', namespace: 'n', finalizers: ['custom', 'example.com/f', 'kubernetes'] }, true, nameIsDNSSubdomain)), [
    'metadata.finalizers[0]: Invalid value: "custom": name is neither a standard finalizer name nor is it fully qualified',
  ])
  t.strictSame(lines(validateObjectMeta({ name: 'a', namespace: 'n', finalizers: ['orphan', 'foregroundDeletion'] }, true, nameIsDNSSubdomain)), [
    'metadata.finalizers: Invalid value: []string{"orphan", "foregroundDeletion"}: finalizer orphan and foregroundDeletion cannot be both set',
  ])
  const refs = [
    { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'u1', controller: true },
    { apiVersion: 'apps/v1', kind: 'Deployment', name: 'd', uid: 'u2', controller: true },
    { apiVersion: '', kind: '', name: '', uid: '' },
  ]
  const refErrs = lines(validateObjectMeta({ name: 'a', namespace: 'n', ownerReferences: refs }, true, nameIsDNSSubdomain))
  t.equal(refErrs.length, 5)
  t.match(refErrs[0], /^metadata\.ownerReferences: Invalid value: \[\]v1\.OwnerReference\{.*\}: Only one reference can have Controller set to true\. Found "true" in references for ReplicaSet\/rs and Deployment\/d$/)
  t.strictSame(refErrs.slice(1), [
    'metadata.ownerReferences.apiVersion: Invalid value: "": version must not be empty',
    'metadata.ownerReferences.kind: Invalid value: "": kind must not be empty',
    'metadata.ownerReferences.name: Invalid value: "": name must not be empty',
    'metadata.ownerReferences.uid: Invalid value: "": uid must not be empty',
  ])
  t.match(lines(validateObjectMeta({ name: 'a', namespace: 'n', ownerReferences: [{ apiVersion: 'v1', kind: 'Event', name: 'e', uid: 'u' }] }, true, nameIsDNSSubdomain))[0], /\/v1, Kind=Event is disallowed from being an owner$/)
})

t.test('ObjectMeta on update', async (t) => {
  const old = { name: 'a', namespace: 'n', uid: 'u', resourceVersion: '3', generation: 2, creationTimestamp: '2024-01-02T03:04:05Z' }
  t.strictSame(lines(validateObjectMetaUpdate({ ...old }, old)), [])
  t.strictSame(lines(validateObjectMetaUpdate({ ...old, resourceVersion: '' }, old)), ['metadata.resourceVersion: Invalid value: "": must be specified for an update'])
  t.strictSame(lines(validateObjectMetaUpdate({ ...old, name: 'b', uid: 'v', generation: 1 }, old)), [
    'metadata.generation: Invalid value: 1: must not be decremented',
    'metadata.name: Invalid value: "b": field is immutable',
    'metadata.uid: Invalid value: "v": field is immutable',
  ])
  t.strictSame(lines(validateObjectMetaUpdate({ ...old, creationTimestamp: '2025-01-01T00:00:00Z' }, old)), ['metadata.creationTimestamp: Invalid value: 2025-01-01 00:00:00 +0000 UTC: field is immutable'])
  const deleting = { ...old, deletionTimestamp: '2024-05-01T00:00:00Z', finalizers: ['a.io/x'] }
  t.strictSame(lines(validateObjectMetaUpdate({ ...deleting, finalizers: ['a.io/x', 'b.io/y'] }, deleting)), [
    'metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"b.io/y"}',
  ])
  t.strictSame(lines(validateObjectMetaUpdate({ ...deleting, finalizers: [] }, deleting)), [], 'removing finalizers is fine')
})

t.test('the generic create checks run after the kind passes: path-segment names', async (t) => {
  t.strictSame(createErrors('Role', { metadata: { name: 'a%b', namespace: 'default' } }), ['metadata.name: Invalid value: "a%b": may not contain \'%\''])
  // Lease names are DNS subdomains, checked by the kind first.
  t.strictSame(createErrors('Lease', { metadata: { name: 'UP', namespace: 'default' }, spec: {} }), [`metadata.name: Invalid value: "UP": ${RFC1123_SUBDOMAIN}`])
  t.strictSame(createErrors('Service', { metadata: { name: '1svc', namespace: 'default' }, spec: { ports: [{ port: 80 }] } }), [`metadata.name: Invalid value: "1svc": ${DNS1035_LABEL}`])
  // Events have no name rules of their own but must still be addressable.
  t.strictSame(lines(validateCreate(rt('Event'), { metadata: { name: 'a/b', namespace: 'default' }, involvedObject: {} })), ["metadata.name: Invalid value: \"a/b\": may not contain '/'"])
  t.strictSame(lines(validateCreate(rt('Event'), { metadata: { namespace: 'default' }, involvedObject: {} })), ['metadata.name: Required value: name or generateName is required'])
})

t.test('updates report the common metadata errors before the kind\'s own', async (t) => {
  const stored = pod()
  const renamed = clone(stored)
  ;(renamed.metadata as Record<string, unknown>).name = 'other'
  const errs = updateErrors('Pod', stored, renamed)
  t.equal(errs.filter((e) => e === 'metadata.name: Invalid value: "other": field is immutable').length, 2, 'reported by the registry and by the kind, as upstream')
})
