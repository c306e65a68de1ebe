// The history of one key: generations, versions, since and compaction, as etcd's
// keyIndex behaves. Cases follow etcd's server/storage/mvcc/key_index_test.go.
import t from 'tap'
import { RevisionNotFoundError } from '../../../src/kv/mvcc/errors.js'
import { type Generation, KeyIndex } from '../../../src/kv/mvcc/key-index.js'
import { revision as r, type Revision } from '../../../src/kv/mvcc/revision.js'
import { RevisionSet } from '../../../src/kv/mvcc/revision-set.js'

const gen = (created: Revision, ver: number, ...revs: Revision[]): Generation => ({ ver, created, revs })
const EMPTY: Generation = { ver: 0, created: r(0), revs: [] }

/**
 * foo: put(2) put(4) del(6) put(8) put(10) del(12) put(14) put(15.1) del(16), giving
 *   {2, 4, 6t} {8, 10, 12t} {14, 15.1, 16t} {}
 */
function fooHistory(): KeyIndex {
  const ki = new KeyIndex('foo')
  ki.put(2, 0)
  ki.put(4, 0)
  ki.tombstone(6, 0)
  ki.put(8, 0)
  ki.put(10, 0)
  ki.tombstone(12, 0)
  ki.put(14, 0)
  ki.put(15, 1)
  ki.tombstone(16, 0)
  return ki
}

const keptBy = (ki: KeyIndex, op: 'compact' | 'keep', atRev: number): Revision[] => {
  const available = new RevisionSet()
  ki[op](atRev, available)
  return available.toArray()
}

const snapshot = (ki: KeyIndex) => ({ modified: ki.modified, generations: structuredClone(ki.generations) })

t.test('a put creates the key at version 1 and each further put adds one', async (t) => {
  const ki = new KeyIndex('foo')
  ki.put(5, 0)
  t.strictSame(ki.modified, r(5))
  t.strictSame(ki.generations, [gen(r(5), 1, r(5))])
  t.strictSame(ki.get(5), { modified: r(5), created: r(5), version: 1 })
  ki.put(7, 0)
  t.strictSame(ki.modified, r(7))
  t.strictSame(ki.generations, [gen(r(5), 2, r(5), r(7))])
  t.strictSame(ki.get(7), { modified: r(7), created: r(5), version: 2 })
})

t.test('a put must come after the key’s last change', async (t) => {
  const ki = new KeyIndex('foo')
  ki.put(5, 1)
  t.throws(() => ki.put(5, 1), /not after its last change/)
  t.throws(() => ki.put(5, 0), /not after its last change/)
  t.throws(() => ki.put(4, 9), /not after its last change/)
  ki.put(5, 2)
  t.strictSame(ki.modified, r(5, 2))
})

t.test('a tombstone ends the generation; the next put starts version 1 in a new one', async (t) => {
  const ki = new KeyIndex('foo')
  ki.put(5, 0)
  ki.tombstone(7, 0)
  t.strictSame(ki.modified, r(7))
  t.strictSame(ki.generations, [gen(r(5), 2, r(5), r(7)), EMPTY])

  ki.put(8, 0)
  ki.put(9, 0)
  t.strictSame(ki.get(8), { modified: r(8), created: r(8), version: 1 })
  ki.tombstone(15, 0)
  t.strictSame(ki.modified, r(15))
  t.strictSame(ki.generations, [gen(r(5), 2, r(5), r(7)), gen(r(8), 3, r(8), r(9), r(15)), EMPTY])
})

t.test('deleting a key that is not live fails with revision not found', async (t) => {
  t.throws(() => new KeyIndex('foo').tombstone(1, 0), RevisionNotFoundError)
  const ki = fooHistory()
  t.throws(() => ki.tombstone(17, 0), new RevisionNotFoundError())
  t.strictSame(ki.modified, r(16), 'the failed delete changed nothing')
})

t.test('get reads the key as of a revision: found inside a generation, not found before creation or from its deletion on', async (t) => {
  const ki = fooHistory()
  ki.compact(4, new RevisionSet())
  const cases: Array<[number, Revision, Revision, number] | [number]> = [
    [17],
    [16], // deleted at 16: not found at 16 or later
    [15, r(15, 1), r(14), 2],
    [14, r(14), r(14), 1],
    [13],
    [12],
    [11, r(10), r(8), 2],
    [10, r(10), r(8), 2],
    [9, r(8), r(8), 1],
    [8, r(8), r(8), 1],
    [7],
    [6],
    [5, r(4), r(2), 2], // creation 2 is compacted from revs but still reported
    [4, r(4), r(2), 2],
    [3], // compacted: only revisions from 4 on are indexed
    [2],
    [1],
    [0],
  ]
  for (const [at, modified, created, version] of cases) {
    const want = modified === undefined ? undefined : { modified, created, version }
    t.strictSame(ki.get(at), want, `get(${at})`)
  }
})

t.test('a key is live only inside a generation, not in the gap between a tombstone and the next put', async (t) => {
  const ki = fooHistory()
  const live = [2, 3, 4, 5, 8, 9, 10, 11, 14, 15]
  for (let at = 0; at <= 17; at++) t.equal(ki.get(at) !== undefined, live.includes(at), `live at ${at}`)
})

t.test('since returns one revision per main revision from rev on, across generations', async (t) => {
  const ki = fooHistory()
  ki.compact(4, new RevisionSet())
  const all = [r(4), r(6), r(8), r(10), r(12), r(14), r(15, 1), r(16)]
  const cases: Array<[number, Revision[]]> = [
    [17, []],
    [16, all.slice(7)],
    [15, all.slice(6)],
    [14, all.slice(5)],
    [13, all.slice(5)],
    [12, all.slice(4)],
    [11, all.slice(4)],
    [10, all.slice(3)],
    [9, all.slice(3)],
    [8, all.slice(2)],
    [7, all.slice(2)],
    [6, all.slice(1)],
    [5, all.slice(1)],
    [4, all],
    [3, all],
    [0, all],
  ]
  for (const [rev, want] of cases) t.strictSame(ki.since(rev), want, `since(${rev})`)
})

t.test('of several changes in one txn, since returns only the last', async (t) => {
  const ki = new KeyIndex('foo')
  ki.put(3, 0)
  ki.put(5, 0)
  ki.tombstone(5, 1)
  ki.put(6, 2)
  ki.put(6, 3)
  t.strictSame(ki.since(0), [r(3), r(5, 1), r(6, 3)])
  t.strictSame(ki.since(6), [r(6, 3)])
})

// After each compaction of fooHistory at `at` (in turn, each on top of the previous):
// the generations left and the revisions the backend must keep.
const compactions: Array<{ at: number; generations: Generation[]; kept: Revision[] }> = [
  {
    at: 1,
    generations: [gen(r(2), 3, r(2), r(4), r(6)), gen(r(8), 3, r(8), r(10), r(12)), gen(r(14), 3, r(14), r(15, 1), r(16)), EMPTY],
    kept: [],
  },
  {
    at: 2,
    generations: [gen(r(2), 3, r(2), r(4), r(6)), gen(r(8), 3, r(8), r(10), r(12)), gen(r(14), 3, r(14), r(15, 1), r(16)), EMPTY],
    kept: [r(2)],
  },
  {
    at: 3,
    generations: [gen(r(2), 3, r(2), r(4), r(6)), gen(r(8), 3, r(8), r(10), r(12)), gen(r(14), 3, r(14), r(15, 1), r(16)), EMPTY],
    kept: [r(2)],
  },
  {
    at: 4,
    generations: [gen(r(2), 3, r(4), r(6)), gen(r(8), 3, r(8), r(10), r(12)), gen(r(14), 3, r(14), r(15, 1), r(16)), EMPTY],
    kept: [r(4)],
  },
  {
    at: 5,
    generations: [gen(r(2), 3, r(4), r(6)), gen(r(8), 3, r(8), r(10), r(12)), gen(r(14), 3, r(14), r(15, 1), r(16)), EMPTY],
    kept: [r(4)],
  },
  {
    // the tombstone at 6 stays: reads at 6 must see the key as deleted
    at: 6,
    generations: [gen(r(2), 3, r(6)), gen(r(8), 3, r(8), r(10), r(12)), gen(r(14), 3, r(14), r(15, 1), r(16)), EMPTY],
    kept: [r(6)],
  },
  {
    // a generation whose tombstone is before the compaction goes whole
    at: 7,
    generations: [gen(r(8), 3, r(8), r(10), r(12)), gen(r(14), 3, r(14), r(15, 1), r(16)), EMPTY],
    kept: [],
  },
  { at: 8, generations: [gen(r(8), 3, r(8), r(10), r(12)), gen(r(14), 3, r(14), r(15, 1), r(16)), EMPTY], kept: [r(8)] },
  { at: 9, generations: [gen(r(8), 3, r(8), r(10), r(12)), gen(r(14), 3, r(14), r(15, 1), r(16)), EMPTY], kept: [r(8)] },
  { at: 10, generations: [gen(r(8), 3, r(10), r(12)), gen(r(14), 3, r(14), r(15, 1), r(16)), EMPTY], kept: [r(10)] },
  { at: 11, generations: [gen(r(8), 3, r(10), r(12)), gen(r(14), 3, r(14), r(15, 1), r(16)), EMPTY], kept: [r(10)] },
  { at: 12, generations: [gen(r(8), 3, r(12)), gen(r(14), 3, r(14), r(15, 1), r(16)), EMPTY], kept: [r(12)] },
  { at: 13, generations: [gen(r(14), 3, r(14), r(15, 1), r(16)), EMPTY], kept: [] },
  { at: 14, generations: [gen(r(14), 3, r(14), r(15, 1), r(16)), EMPTY], kept: [r(14)] },
  { at: 15, generations: [gen(r(14), 3, r(15, 1), r(16)), EMPTY], kept: [r(15, 1)] },
  { at: 16, generations: [gen(r(14), 3, r(16)), EMPTY], kept: [r(16)] },
  // nothing left: the key index is empty and the tree drops it
  { at: 17, generations: [EMPTY], kept: [] },
]

// Whether `at` is the revision of a tombstone the key index still holds.
const isTombstoneAt = (ki: KeyIndex, at: number): boolean =>
  ki.generations.slice(0, -1).some((g) => g.revs.length > 0 && g.revs[g.revs.length - 1].main === at)

t.test('compaction inside a generation keeps the latest revision at or below it; earlier generations go once their tombstone is before it', async (t) => {
  t.test('compacting at each revision in turn', async (t) => {
    const ki = fooHistory()
    for (const c of compactions) {
      t.strictSame(keptBy(ki, 'compact', c.at), c.kept, `compact(${c.at}) keeps`)
      t.strictSame(ki.generations, c.generations, `compact(${c.at}) leaves`)
      t.strictSame(ki.modified, r(16), 'compaction never changes the last modification')
    }
    t.ok(ki.isEmpty())
  })
  t.test('compacting once at each revision from the full history', async (t) => {
    for (const c of compactions) {
      const ki = fooHistory()
      t.strictSame(keptBy(ki, 'compact', c.at), c.kept, `compact(${c.at}) keeps`)
      t.strictSame(ki.generations, c.generations, `compact(${c.at}) leaves`)
    }
  })
  t.test('jumping over tombstones lands on the same state', async (t) => {
    const ki = fooHistory()
    for (const c of compactions) {
      if (isTombstoneAt(ki, c.at)) continue
      t.strictSame(keptBy(ki, 'compact', c.at), c.kept, `compact(${c.at}) keeps`)
      t.strictSame(ki.generations, c.generations, `compact(${c.at}) leaves`)
    }
  })
})

t.test('keep reports what compaction would keep, except a tombstone at the compaction revision, and changes nothing', async (t) => {
  const ki = fooHistory()
  for (const c of compactions) {
    const before = snapshot(ki)
    const want = isTombstoneAt(ki, c.at) ? [] : c.kept
    t.strictSame(keptBy(ki, 'keep', c.at), want, `keep(${c.at})`)
    t.strictSame(snapshot(ki), before, `keep(${c.at}) left the key index alone`)
    keptBy(ki, 'compact', c.at)
  }
  t.strictSame(keptBy(ki, 'keep', 20), [], 'an empty key index keeps nothing')
})

t.test('compaction after the last change keeps the latest revision', async (t) => {
  const ki = new KeyIndex('foo')
  ki.put(1, 0)
  ki.put(2, 0)
  t.strictSame(keptBy(ki, 'compact', 3), [r(2)])
  t.strictSame(ki.generations, [gen(r(1), 2, r(2))])
  t.strictSame(ki.modified, r(2))
  t.strictSame(ki.get(3), { modified: r(2), created: r(1), version: 2 })
})

t.test('a key index is empty only when no revision is left', async (t) => {
  const ki = new KeyIndex('foo')
  t.ok(ki.isEmpty(), 'a new key index')
  ki.put(1, 0)
  t.notOk(ki.isEmpty())
  ki.tombstone(2, 0)
  t.notOk(ki.isEmpty(), 'the tombstone is still indexed')
  keptBy(ki, 'compact', 3)
  t.ok(ki.isEmpty(), 'compacted past its tombstone')
})

t.test('restore rebuilds a live key with the creation and version stored with its value', async (t) => {
  const ki = new KeyIndex('foo')
  ki.restore(r(5), r(7), 2)
  t.strictSame(ki.modified, r(7))
  t.strictSame(ki.generations, [gen(r(5), 2, r(7))])
  t.strictSame(ki.get(7), { modified: r(7), created: r(5), version: 2 })
  ki.put(9, 0)
  t.strictSame(ki.get(9), { modified: r(9), created: r(5), version: 3 })
  t.throws(() => ki.restore(r(5), r(7), 2), /non-empty/)
})

t.test('a restored tombstone reads as deleted, survives compaction at its revision, and goes at the next', async (t) => {
  const ki = new KeyIndex('foo')
  ki.restoreTombstone(16, 0)
  for (let at = 16; at <= 20; at++) t.equal(ki.get(at), undefined, `get(${at})`)

  t.strictSame(keptBy(ki, 'keep', 16), [], 'a tombstone is no live value')
  const available = new RevisionSet()
  ki.compact(16, available)
  t.strictSame(available.toArray(), [r(16)], 'compaction at its revision keeps the tombstone')

  ki.put(17, 0)
  ki.put(18, 0)
  t.strictSame(ki.since(16), [r(16), r(17), r(18)])
  t.strictSame(ki.get(18), { modified: r(18), created: r(17), version: 2 })

  ki.compact(17, new RevisionSet())
  t.strictSame(ki.generations, [gen(r(17), 2, r(17), r(18))])
})
