// Field paths, sets of them, and their FieldsV1 encoding (metadata.managedFields[].fieldsV1).
import t from 'tap'
import { FieldSet, compareElements, fieldElement, indexElement, keyElement, parseElement, pathToString, valueElement, type Path } from '../../../src/apiserver/patch/fieldpath.js'

const f = fieldElement
const spec = f('spec')

t.test('path elements serialize as FieldsV1 keys', async (t) => {
  t.equal(f('replicas').id, 'f:replicas')
  t.equal(keyElement([['name', 'web']]).id, 'k:{"name":"web"}')
  t.equal(keyElement([['protocol', 'TCP'], ['containerPort', 80]]).id, 'k:{"containerPort":80,"protocol":"TCP"}', 'key fields sorted by name')
  t.equal(valueElement('example.com/a').id, 'v:"example.com/a"')
  t.equal(valueElement('<&>').id, 'v:"\\u003c\\u0026\\u003e"', 'HTML-safe like encoding/json')
  t.equal(indexElement(3).id, 'i:3')
  for (const pe of [f('a.b'), keyElement([['ip', '10.0.0.1']]), valueElement(5), valueElement(true), indexElement(0)]) {
    t.strictSame(parseElement(pe.id), pe, pe.id)
  }
  t.equal(parseElement('z:nothing'), undefined, 'unknown kinds are skipped')
  t.throws(() => parseElement('f'))
})

t.test('paths print as structured-merge-diff prints them in conflicts', async (t) => {
  const path: Path = [spec, f('template'), f('spec'), f('containers'), keyElement([['name', 'web']]), f('image')]
  t.equal(pathToString(path), '.spec.template.spec.containers[name="web"].image')
  t.equal(pathToString([f('ports'), keyElement([['containerPort', 80], ['protocol', 'TCP']])]), '.ports[containerPort=80,protocol="TCP"]')
  t.equal(pathToString([f('metadata'), f('finalizers'), valueElement('a')]), '.metadata.finalizers[="a"]')
  t.equal(pathToString([f('list'), indexElement(2)]), '.list[2]')
})

t.test('elements order: fields, keys, values, indices; values numbers < strings < bools', async (t) => {
  const sorted = [indexElement(1), valueElement(true), valueElement('a'), valueElement(2), keyElement([['name', 'b']]), keyElement([['name', 'a']]), f('b'), f('a')].sort(compareElements)
  t.strictSame(sorted.map((pe) => pe.id), ['f:a', 'f:b', 'k:{"name":"a"}', 'k:{"name":"b"}', 'v:2', 'v:"a"', 'v:true', 'i:1'])
  t.ok(compareElements(keyElement([['name', 'a']]), keyElement([['name', 'a'], ['x', 1]])) < 0, 'a shorter key first')
})

t.test('toFieldsV1: sorted keys, "." for members that also have children', async (t) => {
  const set = FieldSet.of(
    [spec, f('replicas')],
    [f('metadata'), f('labels')],
    [f('metadata'), f('labels'), f('app')],
    [spec, f('template'), f('spec'), f('containers'), keyElement([['name', 'web']])],
    [spec, f('template'), f('spec'), f('containers'), keyElement([['name', 'web']]), f('image')],
    [spec, f('template'), f('spec'), f('containers'), keyElement([['name', 'a']]), f('name')],
  )
  const v1 = set.toFieldsV1()
  t.equal(
    JSON.stringify(v1),
    '{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:replicas":{},"f:template":{"f:spec":{"f:containers":{"k:{\\"name\\":\\"a\\"}":{"f:name":{}},"k:{\\"name\\":\\"web\\"}":{".":{},"f:image":{}}}}}}}',
  )
  t.ok(FieldSet.fromFieldsV1(v1).equals(set), 'round trip')
  t.ok(FieldSet.fromFieldsV1(JSON.parse(JSON.stringify(v1))).has([f('metadata'), f('labels')]))
  t.notOk(FieldSet.fromFieldsV1(v1).has([spec]), 'a parent with only children is not a member')
  t.strictSame(FieldSet.fromFieldsV1(undefined).toFieldsV1(), {})
})

t.test('set algebra as structured-merge-diff defines it', async (t) => {
  const a = FieldSet.of([spec, f('a')], [spec, f('b')], [spec], [f('status'), f('x')])
  const b = FieldSet.of([spec, f('b')], [f('status')])
  t.strictSame(a.union(b).paths().map(pathToString), ['.spec', '.status', '.spec.a', '.spec.b', '.status.x'])
  t.strictSame(a.intersection(b).paths().map(pathToString), ['.spec.b'])
  t.strictSame(a.difference(b).paths().map(pathToString), ['.spec', '.spec.a', '.status.x'], 'a child stays when only its parent is removed')
  t.strictSame(a.recursiveDifference(b).paths().map(pathToString), ['.spec', '.spec.a'], 'recursive difference drops everything under .status')
  t.ok(a.has([spec, f('a')]))
  t.notOk(a.has([]))
  t.notOk(a.has([f('status')]))
  t.strictSame(a.withPrefix(spec).paths().map(pathToString), ['.a', '.b'])
  t.ok(a.withPrefix(f('nothing')).empty())
  t.ok(new FieldSet().empty())
  const copy = a.copy()
  copy.insert([f('new')])
  t.notOk(a.has([f('new')]), 'copies are independent')
})

t.test('FieldsV1 written out of order is re-encoded canonically', async (t) => {
  const given = { 'f:spec': { 'f:b': {}, 'f:a': {} }, 'f:metadata': { 'f:labels': { 'f:x': {}, '.': {} } } }
  t.equal(JSON.stringify(FieldSet.fromFieldsV1(given).toFieldsV1()), '{"f:metadata":{"f:labels":{".":{},"f:x":{}}},"f:spec":{"f:a":{},"f:b":{}}}')
  const keyOrder = { 'f:ports': { 'k:{"protocol":"TCP","containerPort":80}': {} } }
  t.strictSame(FieldSet.fromFieldsV1(keyOrder).toFieldsV1(), { 'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': {} } })
  const canonical = { 'f:a': {}, 'f:b': { '.': {}, 'f:c': {} } }
  const encoded = FieldSet.fromFieldsV1(canonical).toFieldsV1()
  t.strictSame(encoded, canonical)
  t.not(encoded, canonical, 'a copy, not the object given')
  t.strictSame(FieldSet.fromFieldsV1({ 'f:a': null, 'f:b': 1 }).toFieldsV1(), { 'f:a': {}, 'f:b': {} }, 'odd values read as members')
})
