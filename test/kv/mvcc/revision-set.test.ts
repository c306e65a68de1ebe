// The set of revisions a compaction keeps: membership by value, not by object.
import t from 'tap'
import { revision as r } from '../../../src/kv/mvcc/revision.js'
import { RevisionSet } from '../../../src/kv/mvcc/revision-set.js'

t.test('a revision set holds revisions by value', async (t) => {
  const s = new RevisionSet()
  s.add(r(3))
  s.add(r(3, 2))
  s.add(r(3, 2))
  t.equal(s.size, 2, 'adding a member again changes nothing')
  t.ok(s.has(r(3)))
  t.ok(s.has({ main: 3, sub: 2 }))
  t.notOk(s.has(r(3, 1)))
  t.notOk(s.has(r(2)))
})

t.test('delete removes only that member', async (t) => {
  const s = new RevisionSet()
  for (const rev of [r(1), r(1, 1), r(1, 2), r(2)]) s.add(rev)
  t.ok(s.delete(r(1, 1)))
  t.notOk(s.delete(r(1, 1)), 'a second delete finds nothing')
  t.ok(s.delete(r(2)))
  t.equal(s.size, 2)
  t.strictSame(s.toArray(), [r(1), r(1, 2)])
})

t.test('members list in revision order', async (t) => {
  const s = new RevisionSet()
  for (const rev of [r(9, 1), r(2), r(9), r(4, 3), r(4, 1)]) s.add(rev)
  t.strictSame(s.toArray(), [r(2), r(4, 1), r(4, 3), r(9), r(9, 1)])
})
