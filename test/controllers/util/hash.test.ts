// Content hashes name ReplicaSets and ControllerRevisions: equal content, equal name.
import t from 'tap'
import { canonicalJson, computeHash, fnv32a, safeEncodeString } from '../../../src/controllers/util/hash.js'
import { equalRevisions, newRevision, nextRevisionNumber, revisionName, sortRevisions } from '../../../src/controllers/util/history.js'

t.test('fnv32a matches the reference vectors', async (t) => {
  const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
  t.equal(fnv32a(enc('')), 0x811c9dc5)
  t.equal(fnv32a(enc('a')), 0xe40c292c)
  t.equal(fnv32a(enc('foobar')), 0xbf9cf968)
})

t.test('canonical JSON ignores key order and undefined fields', async (t) => {
  t.equal(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: undefined } }), '{"a":{"d":[1,{"x":1,"y":2}]},"b":1}')
})

t.test('template hash: stable, key-order blind, changed by content and collisionCount', async (t) => {
  const a = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx:1' }] } }
  const b = { spec: { containers: [{ image: 'nginx:1', name: 'c' }] }, metadata: { labels: { app: 'web' } } }
  t.equal(computeHash(a), computeHash(b))
  t.equal(computeHash(a), computeHash(a, 0), 'collisionCount 0 is no collision')
  t.not(computeHash(a), computeHash(a, 1))
  t.not(computeHash(a), computeHash({ ...a, spec: { containers: [{ name: 'c', image: 'nginx:2' }] } }))
  t.match(computeHash(a), /^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/, 'only safe characters')
  t.equal(safeEncodeString('0123'), '4567', 'each byte picks a character by its value')
})

t.test('revisions: names, order, equality, next number', async (t) => {
  const ref = { apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'ds', uid: 'u1', controller: true, blockOwnerDeletion: true }
  const r1 = newRevision({ namespace: 'ns', ownerName: 'ds', ref, labels: { app: 'x' }, data: { spec: { template: { a: 1 } } }, revision: 1 })
  const r2 = newRevision({ namespace: 'ns', ownerName: 'ds', ref, labels: { app: 'x' }, data: { spec: { template: { a: 2 } } }, revision: 3 })
  t.match(r1.metadata!.name, /^ds-[a-z0-9]+$/)
  t.equal(r1.metadata!.labels!.app, 'x')
  t.ok(equalRevisions(r1, { ...r1, metadata: { ...r1.metadata } }))
  t.notOk(equalRevisions(r1, r2))
  t.strictSame(sortRevisions([r2, r1]).map((r) => r.metadata!.name), [r1.metadata!.name, r2.metadata!.name])
  t.equal(nextRevisionNumber([r1, r2]), 4)
  t.equal(nextRevisionNumber([]), 1)
  t.equal(revisionName('x'.repeat(300), 'h').length, 225)
})
