// structured-merge-diff's typed operations over the schema tree: field sets, comparison,
// merge order of associative lists, removal, and Go's always-encoded fields.
import t from 'tap'
import { patchMetaFor, type SchemaNode } from '../../../src/api/patch-meta.js'
import { pathToString } from '../../../src/apiserver/patch/fieldpath.js'
import type { Json } from '../../../src/apiserver/patch/json.js'
import { compareObjects, ensureNamedFieldsAreMembers, mergeObjects, removeFields, toFieldSet, validateApplied, withEmittedFields } from '../../../src/apiserver/patch/typed.js'

const pod = patchMetaFor('v1', 'Pod')?.schema as SchemaNode
const untyped: SchemaNode = { kind: 'untyped' }
const paths = (s: { paths(): readonly (readonly { id: string }[])[] }): string[] => s.paths().map((p) => pathToString(p as never))

const containers = (...items: Json[]): Json => ({ spec: { containers: items } })

t.test('toFieldSet: leaves, list items, map entries; structs are not members', async (t) => {
  const set = toFieldSet({ metadata: { labels: { a: '1' }, annotations: {} }, spec: { containers: [{ name: 'c', args: ['x'], resources: {} }], nodeSelector: { k: 'v' } } }, pod)
  t.strictSame(paths(set), [
    '.metadata.annotations',
    '.metadata.labels.a',
    '.spec.nodeSelector',
    '.spec.containers[name="c"]',
    '.spec.containers[name="c"].args',
    '.spec.containers[name="c"].name',
    '.spec.containers[name="c"].resources',
  ])
  const dup = toFieldSet(containers({ name: 'a', image: '1' }, { name: 'a', image: '2' }), pod)
  t.strictSame(paths(dup), ['.spec.containers[name="a"]'], 'a duplicated key is owned once, as a whole')
  t.strictSame(paths(toFieldSet({ a: { b: 1 }, l: [1, 2] }, untyped)), ['.l', '.a.b'], 'untyped objects are structs, lists atomic')
})

t.test('compare: added, modified, removed', async (t) => {
  const c = compareObjects(
    { metadata: { labels: { a: '1', b: '2' } }, spec: { containers: [{ name: 'c', image: '1' }, { name: 'd' }] } },
    { metadata: { labels: { a: '9', c: '3' } }, spec: { containers: [{ name: 'c', image: '2' }, { name: 'e' }], hostname: 'h' } },
    pod,
  )
  t.strictSame(paths(c.added), ['.metadata.labels.c', '.spec.hostname', '.spec.containers[name="e"]', '.spec.containers[name="e"].name'])
  t.strictSame(paths(c.modified), ['.metadata.labels.a', '.spec.containers[name="c"].image'])
  t.strictSame(paths(c.removed), ['.metadata.labels.b', '.spec.containers[name="d"]', '.spec.containers[name="d"].name'])
  const empty = compareObjects({ spec: { volumes: [] } }, { spec: { volumes: [], tolerations: [{ key: 'x' }] } }, pod)
  t.strictSame(paths(empty.added), ['.spec.tolerations'], 'atomic lists are one leaf')
  t.ok(empty.modified.empty())
})

t.test('merge: the configuration wins leaf by leaf; keyed lists keep both orders', async (t) => {
  const live = containers({ name: 'a', image: '1' }, { name: 'b', image: '1' }, { name: 'c', image: '1' })
  t.strictSame(mergeObjects(live, containers({ name: 'd' }, { name: 'b', image: '2' }), pod), containers({ name: 'a', image: '1' }, { name: 'd' }, { name: 'b', image: '2' }, { name: 'c', image: '1' }))
  t.strictSame(mergeObjects(live, containers({ name: 'c' }, { name: 'a' }), pod), containers({ name: 'b', image: '1' }, { name: 'c', image: '1' }, { name: 'a', image: '1' }), 'shared items move to the configuration’s order')
  t.strictSame(mergeObjects({ spec: { tolerations: [{ key: 'a' }] } }, { spec: { tolerations: [{ key: 'b' }] } }, pod), { spec: { tolerations: [{ key: 'b' }] } })
  t.strictSame(mergeObjects({ spec: { nodeSelector: { a: '1' } } }, { spec: { nodeSelector: { b: '2' } } }, pod), { spec: { nodeSelector: { b: '2' } } }, 'nodeSelector is an atomic map')
  t.strictSame(mergeObjects({ metadata: { labels: { a: '1' } } }, { metadata: { labels: { b: '2' } } }, pod), { metadata: { labels: { a: '1', b: '2' } } })
  t.strictSame(mergeObjects({ metadata: { finalizers: ['x', 'y'] } }, { metadata: { finalizers: ['z', 'x'] } }, pod), { metadata: { finalizers: ['z', 'x', 'y'] } })
  t.strictSame(mergeObjects({ spec: { hostname: 'a' } }, { spec: { hostname: null } }, pod), { spec: { hostname: null } }, 'a null leaf is kept until decoding drops it')
})

t.test('removeFields and ensureNamedFieldsAreMembers', async (t) => {
  const obj: Json = { metadata: { labels: { a: '1', b: '2' } }, spec: { containers: [{ name: 'c', image: 'x' }, { name: 'd' }], hostname: 'h' } }
  const set = toFieldSet({ metadata: { labels: { a: '1' } }, spec: { containers: [{ name: 'd' }] } }, pod)
  t.strictSame(removeFields(obj, set, pod), { metadata: { labels: { b: '2' } }, spec: { containers: [{ name: 'c', image: 'x' }], hostname: 'h' } })
  t.strictSame(removeFields({ spec: { hostname: 'h' } }, toFieldSet({ spec: { hostname: 'h' } }, pod), pod), { spec: null }, 'an emptied struct stays as null')
  const named = ensureNamedFieldsAreMembers(set, pod)
  t.strictSame(paths(named), ['.metadata', '.spec', '.metadata.labels', '.metadata.labels.a', '.spec.containers', '.spec.containers[name="d"]', '.spec.containers[name="d"].name'])
})

t.test('validateApplied reports what ObjectToTyped rejects', async (t) => {
  t.strictSame(validateApplied(containers({ name: 'a' }, { image: 'x' }, { name: 'a' }), pod), [
    '.spec.containers: element 1: associative list with keys has an element that omits key field "name" (and doesn\'t have default value)',
    '.spec.containers: duplicate entries for key [name="a"]',
  ])
  t.strictSame(validateApplied({ metadata: { finalizers: ['a', { x: 1 }] } }, pod), [".metadata.finalizers: element 1: associative list without keys has an element that's a map type"])
  t.strictSame(validateApplied(containers({ name: 'a', ports: [{ containerPort: 80 }, { containerPort: 80, protocol: 'UDP' }] }), pod), [], 'protocol defaults to TCP in the key')
})

t.test("withEmittedFields: the object as Go's typed round trip shows it", async (t) => {
  const deployment = patchMetaFor('apps/v1', 'Deployment')?.schema as SchemaNode
  t.strictSame(withEmittedFields({}, deployment), {
    metadata: {},
    spec: { selector: null, template: { metadata: {}, spec: { containers: null } }, strategy: {} },
    status: {},
  })
  t.strictSame(withEmittedFields({ spec: { template: { spec: { containers: [{ name: 'a' }] } } } }, deployment), {
    spec: { template: { spec: { containers: [{ name: 'a', resources: {} }] }, metadata: {} }, selector: null, strategy: {} },
    metadata: {},
    status: {},
  })
})
