// The ordered index of all keys: reads at a revision, ranges, counts, watch catch-up
// and compaction, as etcd's treeIndex behaves. Cases follow etcd's
// server/storage/mvcc/index_test.go (RangeSince's from etcd 3.5).
import t, { type Test } from 'tap'
import { toByteString } from '../../../src/kv/mvcc/byte-string.js'
import { RevisionNotFoundError } from '../../../src/kv/mvcc/errors.js'
import { type Generation, KeyIndex } from '../../../src/kv/mvcc/key-index.js'
import { revision as r, type Revision } from '../../../src/kv/mvcc/revision.js'
import { RevisionSet } from '../../../src/kv/mvcc/revision-set.js'
import { FROM_KEY, TreeIndex } from '../../../src/kv/mvcc/tree-index.js'

const gen = (created: Revision, ver: number, ...revs: Revision[]): Generation => ({ ver, created, revs })
const EMPTY: Generation = { ver: 0, created: r(0), revs: [] }

/** Puts key i at revision i + 1 for each key, in order. */
function indexOf(keys: string[]): TreeIndex {
  const ti = new TreeIndex()
  keys.forEach((key, i) => ti.put(key, r(i + 1)))
  return ti
}

const keysOf = (ti: TreeIndex, key: string, end: string, atRev: number, limit = 0) =>
  ti.range(key, end, atRev, limit).entries.map((e) => e.key)

t.test('a key deleted at revision 6 is not found at revision 6 or later, but is found at 5', async (t) => {
  const ti = new TreeIndex()
  ti.put('foo', r(2))
  ti.put('foo', r(4))
  ti.tombstone('foo', r(6))
  const cases: Array<[number, { modified: Revision; created: Revision; version: number } | undefined]> = [
    [0, undefined],
    [1, undefined],
    [2, { modified: r(2), created: r(2), version: 1 }],
    [3, { modified: r(2), created: r(2), version: 1 }],
    [4, { modified: r(4), created: r(2), version: 2 }],
    [5, { modified: r(4), created: r(2), version: 2 }],
    [6, undefined],
    [7, undefined],
  ]
  for (const [at, want] of cases) t.strictSame(ti.get('foo', at), want, `get(foo, ${at})`)
  t.equal(ti.get('bar', 6), undefined, 'a key never written is not found')
})

t.test('deleting a key that is not live, or was never written, fails with revision not found', async (t) => {
  const ti = new TreeIndex()
  ti.put('foo', r(1))
  ti.tombstone('foo', r(2))
  t.equal(ti.get('foo', 2), undefined)
  t.throws(() => ti.tombstone('foo', r(3)), RevisionNotFoundError)
  t.throws(() => ti.tombstone('bar', r(3)), RevisionNotFoundError)
})

t.test('range returns the live keys of [key, end) in key order', async (t) => {
  const ti = indexOf(['foo', 'foo1', 'foo2'])
  const cases: Array<{ name: string; key: string; end: string; limit?: number; keys: string[]; total: number }> = [
    { name: 'single key that is not there', key: 'bar', end: '', keys: [], total: 0 },
    { name: 'single key that is there', key: 'foo', end: '', keys: ['foo'], total: 1 },
    { name: 'the end is exclusive', key: 'foo', end: 'foo1', keys: ['foo'], total: 1 },
    { name: 'first two members', key: 'foo', end: 'foo2', keys: ['foo', 'foo1'], total: 2 },
    { name: 'all members', key: 'foo', end: 'fop', keys: ['foo', 'foo1', 'foo2'], total: 3 },
    { name: 'last two members', key: 'foo1', end: 'fop', keys: ['foo1', 'foo2'], total: 2 },
    { name: 'last member', key: 'foo2', end: 'fop', keys: ['foo2'], total: 1 },
    { name: 'past the last member', key: 'foo3', end: 'fop', keys: [], total: 0 },
    { name: 'before the first member', key: 'fo', end: 'foo', limit: 3, keys: [], total: 0 },
    { name: 'a limit stops after n keys but total counts all', key: 'foo', end: 'fop', limit: 1, keys: ['foo'], total: 3 },
    { name: 'a limit not starting at the first key', key: 'foo1', end: 'foo3', limit: 1, keys: ['foo1'], total: 2 },
    { name: 'a limit equal to the matches', key: 'foo', end: 'fop', limit: 3, keys: ['foo', 'foo1', 'foo2'], total: 3 },
    { name: 'a limit above the matches', key: 'foo', end: 'fop', limit: 4, keys: ['foo', 'foo1', 'foo2'], total: 3 },
    { name: 'a limit above one match', key: 'foo', end: 'foo1', limit: 3, keys: ['foo'], total: 1 },
  ]
  for (const c of cases) {
    const got = ti.range(c.key, c.end, 3, c.limit)
    t.strictSame(
      { keys: got.entries.map((e) => e.key), total: got.total },
      { keys: c.keys, total: c.total },
      c.name,
    )
    t.equal(ti.countRevisions(c.key, c.end, 3), c.total, `${c.name}: count-only agrees`)
  }
  t.strictSame(ti.range('foo', 'fop', 3).entries[1], { key: 'foo1', modified: r(2), created: r(2), version: 1 }, 'entries carry revisions and version')
})

t.test('without a total count the scan stops at the limit, and total is what was returned', async (t) => {
  const ti = indexOf(['foo', 'foo1', 'foo2', 'foo2', 'foo1', 'foo'])
  const cases: Array<{ name: string; key: string; end: string; limit: number; count: boolean; mods: number[]; total: number }> = [
    { name: 'with total count and a limit', key: 'foo', end: 'fop', limit: 1, count: true, mods: [6], total: 3 },
    { name: 'without total count and a limit', key: 'foo', end: 'fop', limit: 1, count: false, mods: [6], total: 1 },
    { name: 'without total count, limit above the matches', key: 'foo', end: 'fop', limit: 10, count: false, mods: [6, 5, 4], total: 3 },
    { name: 'without total count or limit', key: 'foo', end: 'fop', limit: 0, count: false, mods: [6, 5, 4], total: 3 },
    { name: 'without total count, no matches', key: 'bar', end: 'baz', limit: 5, count: false, mods: [], total: 0 },
  ]
  for (const c of cases) {
    const got = ti.range(c.key, c.end, 6, c.limit, c.count)
    t.strictSame({ mods: got.entries.map((e) => e.modified.main), total: got.total }, { mods: c.mods, total: c.total }, c.name)
  }
})

t.test('range at a past revision returns each key as of then', async (t) => {
  // foo@1 foo1@2 foo2@3 foo2@4 foo1@5 foo@6
  const ti = indexOf(['foo', 'foo1', 'foo2', 'foo2', 'foo1', 'foo'])
  const cases: Array<[key: string, end: string, atRev: number, limit: number, mods: number[], count: number]> = [
    ['bar', '', 6, 0, [], 0],
    ['foo', '', 6, 0, [6], 1],
    ['foo', 'foo1', 6, 0, [6], 1],
    ['foo', 'foo2', 6, 0, [6, 5], 2],
    ['foo', 'fop', 6, 0, [6, 5, 4], 3],
    ['foo1', 'fop', 6, 0, [5, 4], 2],
    ['foo2', 'fop', 6, 0, [4], 1],
    ['foo3', 'fop', 6, 0, [], 0],
    ['foo1', 'fop', 1, 0, [], 0],
    ['foo1', 'fop', 2, 0, [2], 1],
    ['foo1', 'fop', 3, 0, [2, 3], 2],
    ['foo1', 'fop', 4, 0, [2, 4], 2],
    ['foo1', 'fop', 5, 0, [5, 4], 2],
    ['foo1', 'fop', 6, 0, [5, 4], 2],
    ['foo', 'fop', 6, 1, [6], 3],
    ['foo', 'fop', 6, 2, [6, 5], 3],
    ['foo', 'fop', 6, 3, [6, 5, 4], 3],
    ['foo', 'fop', 3, 1, [1], 3],
    ['foo', 'fop', 3, 2, [1, 2], 3],
    ['foo', 'fop', 3, 3, [1, 2, 3], 3],
  ]
  for (const [key, end, atRev, limit, mods, count] of cases) {
    const name = `[${key}, ${end || '(single)'}) at ${atRev} limit ${limit}`
    const got = ti.range(key, end, atRev, limit)
    t.strictSame(got.entries.map((e) => e.modified.main), mods, name)
    t.equal(got.total, count, `${name}: total`)
    t.equal(ti.countRevisions(key, end, atRev), count, `${name}: count-only`)
  }
})

t.test('a version counts puts since creation and a delete resets it', async (t) => {
  const ti = new TreeIndex()
  ti.put('a', r(1))
  ti.put('a', r(2))
  ti.tombstone('a', r(3))
  ti.put('a', r(4))
  t.strictSame(ti.range('a', FROM_KEY, 2).entries, [{ key: 'a', modified: r(2), created: r(1), version: 2 }])
  t.strictSame(ti.range('a', FROM_KEY, 3).entries, [])
  t.strictSame(ti.range('a', FROM_KEY, 4).entries, [{ key: 'a', modified: r(4), created: r(4), version: 1 }])
})

t.test('range with end \\0 returns every key from the start key', async (t) => {
  const ti = indexOf(['a', 'b', 'c', 'zz', '\xff'])
  t.strictSame(keysOf(ti, 'b', FROM_KEY, 5), ['b', 'c', 'zz', '\xff'])
  t.strictSame(keysOf(ti, '', FROM_KEY, 5), ['a', 'b', 'c', 'zz', '\xff'], 'from the empty key: the whole keyspace')
  t.strictSame(keysOf(ti, '\xff\xff', FROM_KEY, 5), [])
  t.equal(ti.countRevisions('', FROM_KEY, 5), 5)
  t.strictSame(keysOf(ti, '', FROM_KEY, 5, 2), ['a', 'b'], 'a limit applies as well')
})

t.test('an end at or before the start key selects nothing', async (t) => {
  const ti = indexOf(['a', 'b', 'c'])
  t.strictSame(keysOf(ti, 'b', 'b', 3), [])
  t.strictSame(keysOf(ti, 'c', 'a', 3), [])
  t.equal(ti.countRevisions('c', 'a', 3), 0)
  t.strictSame(ti.rangeSince('c', 'a', 0), [])
})

t.test('keys order bytewise: a prefix before its extensions, bytes compared unsigned', async (t) => {
  const bytes = [[0x61], [0x61, 0x00], [0x61, 0x7f], [0x61, 0x80], [0x61, 0xff], [0x62], [0xff], [0xff, 0xff]]
  const keys = bytes.map((b) => toByteString(Uint8Array.from(b)))
  const ti = indexOf([...keys].reverse())
  t.strictSame(keysOf(ti, '', FROM_KEY, keys.length), keys)
  t.strictSame(keysOf(ti, 'a', 'b', keys.length), keys.slice(0, 5), "[a, b) is every key starting with 'a'")
  t.strictSame(keysOf(ti, 'a\x80', FROM_KEY, keys.length), keys.slice(3), 'bytes above 0x7f are not negative')
})

t.test('rangeSince returns every revision from rev on, in revision order', async (t) => {
  // foo@1 foo1@2 foo2@3 foo2@4 foo1@5 foo@6
  const ti = indexOf(['foo', 'foo1', 'foo2', 'foo2', 'foo1', 'foo'])
  const cases: Array<[key: string, end: string, mains: number[]]> = [
    ['bar', '', []],
    ['foo', '', [1, 6]],
    ['foo', 'foo1', [1, 6]],
    ['foo', 'foo2', [1, 2, 5, 6]],
    ['foo', 'fop', [1, 2, 3, 4, 5, 6]],
    ['foo1', 'fop', [2, 3, 4, 5]],
    ['foo2', 'fop', [3, 4]],
    ['foo3', 'fop', []],
    ['', FROM_KEY, [1, 2, 3, 4, 5, 6]],
  ]
  for (const [key, end, mains] of cases) t.strictSame(ti.rangeSince(key, end, 1), mains.map((m) => r(m)), `[${key}, ${JSON.stringify(end)})`)
  t.strictSame(ti.rangeSince('foo', 'fop', 4), [r(4), r(5), r(6)], 'rev itself is included')
  t.strictSame(ti.rangeSince('foo', 'fop', 7), [])
})

t.test('rangeSince includes tombstones, so a watcher sees deletes', async (t) => {
  const ti = new TreeIndex()
  ti.put('a', r(1))
  ti.put('b', r(2, 0))
  ti.tombstone('a', r(2, 1))
  ti.put('a', r(3))
  t.strictSame(ti.rangeSince('', FROM_KEY, 2), [r(2, 0), r(2, 1), r(3)])
})

// foo:  {1, 5, 9t} {10}      foo1: {2, 6, 7t} {10.1}      foo2: {3, 4, 8t} {}
function compactionFixture(): TreeIndex {
  const ti = new TreeIndex()
  ti.put('foo', r(1))
  ti.put('foo1', r(2))
  ti.put('foo2', r(3))
  ti.put('foo2', r(4))
  ti.put('foo', r(5))
  ti.put('foo1', r(6))
  ti.tombstone('foo1', r(7))
  ti.tombstone('foo2', r(8))
  ti.tombstone('foo', r(9))
  ti.put('foo', r(10))
  ti.put('foo1', r(10, 1))
  return ti
}

interface AfterCompaction {
  keys: Record<string, { modified: Revision; generations: Generation[] }>
  compacted: Revision[]
  keep: Revision[]
}

// State after compaction at 1..10 (indexed by revision - 1); later ones equal the last.
const afterCompactions: AfterCompaction[] = [
  {
    keys: {
      foo: { modified: r(10), generations: [gen(r(1), 3, r(1), r(5), r(9)), gen(r(10), 1, r(10))] },
      foo1: { modified: r(10, 1), generations: [gen(r(2), 3, r(2), r(6), r(7)), gen(r(10, 1), 1, r(10, 1))] },
      foo2: { modified: r(8), generations: [gen(r(3), 3, r(3), r(4), r(8)), EMPTY] },
    },
    compacted: [r(1)],
    keep: [r(1)],
  },
  {
    keys: {
      foo: { modified: r(10), generations: [gen(r(1), 3, r(1), r(5), r(9)), gen(r(10), 1, r(10))] },
      foo1: { modified: r(10, 1), generations: [gen(r(2), 3, r(2), r(6), r(7)), gen(r(10, 1), 1, r(10, 1))] },
      foo2: { modified: r(8), generations: [gen(r(3), 3, r(3), r(4), r(8)), EMPTY] },
    },
    compacted: [r(1), r(2)],
    keep: [r(1), r(2)],
  },
  {
    keys: {
      foo: { modified: r(10), generations: [gen(r(1), 3, r(1), r(5), r(9)), gen(r(10), 1, r(10))] },
      foo1: { modified: r(10, 1), generations: [gen(r(2), 3, r(2), r(6), r(7)), gen(r(10, 1), 1, r(10, 1))] },
      foo2: { modified: r(8), generations: [gen(r(3), 3, r(3), r(4), r(8)), EMPTY] },
    },
    compacted: [r(1), r(2), r(3)],
    keep: [r(1), r(2), r(3)],
  },
  {
    keys: {
      foo: { modified: r(10), generations: [gen(r(1), 3, r(1), r(5), r(9)), gen(r(10), 1, r(10))] },
      foo1: { modified: r(10, 1), generations: [gen(r(2), 3, r(2), r(6), r(7)), gen(r(10, 1), 1, r(10, 1))] },
      foo2: { modified: r(8), generations: [gen(r(3), 3, r(4), r(8)), EMPTY] },
    },
    compacted: [r(1), r(2), r(4)],
    keep: [r(1), r(2), r(4)],
  },
  {
    keys: {
      foo: { modified: r(10), generations: [gen(r(1), 3, r(5), r(9)), gen(r(10), 1, r(10))] },
      foo1: { modified: r(10, 1), generations: [gen(r(2), 3, r(2), r(6), r(7)), gen(r(10, 1), 1, r(10, 1))] },
      foo2: { modified: r(8), generations: [gen(r(3), 3, r(4), r(8)), EMPTY] },
    },
    compacted: [r(2), r(4), r(5)],
    keep: [r(2), r(4), r(5)],
  },
  {
    keys: {
      foo: { modified: r(10), generations: [gen(r(1), 3, r(5), r(9)), gen(r(10), 1, r(10))] },
      foo1: { modified: r(10, 1), generations: [gen(r(2), 3, r(6), r(7)), gen(r(10, 1), 1, r(10, 1))] },
      foo2: { modified: r(8), generations: [gen(r(3), 3, r(4), r(8)), EMPTY] },
    },
    compacted: [r(4), r(5), r(6)],
    keep: [r(4), r(5), r(6)],
  },
  {
    // foo1's tombstone at 7 is kept in the index, but it is no live value at 7
    keys: {
      foo: { modified: r(10), generations: [gen(r(1), 3, r(5), r(9)), gen(r(10), 1, r(10))] },
      foo1: { modified: r(10, 1), generations: [gen(r(2), 3, r(7)), gen(r(10, 1), 1, r(10, 1))] },
      foo2: { modified: r(8), generations: [gen(r(3), 3, r(4), r(8)), EMPTY] },
    },
    compacted: [r(4), r(5), r(7)],
    keep: [r(4), r(5)],
  },
  {
    keys: {
      foo: { modified: r(10), generations: [gen(r(1), 3, r(5), r(9)), gen(r(10), 1, r(10))] },
      foo1: { modified: r(10, 1), generations: [gen(r(10, 1), 1, r(10, 1))] },
      foo2: { modified: r(8), generations: [gen(r(3), 3, r(8)), EMPTY] },
    },
    compacted: [r(5), r(8)],
    keep: [r(5)],
  },
  {
    // foo2 was deleted before 9 and never written again: it leaves the index
    keys: {
      foo: { modified: r(10), generations: [gen(r(1), 3, r(9)), gen(r(10), 1, r(10))] },
      foo1: { modified: r(10, 1), generations: [gen(r(10, 1), 1, r(10, 1))] },
    },
    compacted: [r(9)],
    keep: [],
  },
  {
    keys: {
      foo: { modified: r(10), generations: [gen(r(10), 1, r(10))] },
      foo1: { modified: r(10, 1), generations: [gen(r(10, 1), 1, r(10, 1))] },
    },
    compacted: [r(10), r(10, 1)],
    keep: [r(10), r(10, 1)],
  },
]

function checkAfterCompaction(t: Test, ti: TreeIndex, at: number, want: AfterCompaction): void {
  t.strictSame(ti.compact(at).toArray(), want.compacted, `compact(${at}) keeps in the backend`)
  t.strictSame(ti.keep(at).toArray(), want.keep, `keep(${at}) after compact(${at})`)
  t.equal(ti.size, Object.keys(want.keys).length, `compact(${at}) leaves ${Object.keys(want.keys).join(', ')}`)
  for (const [key, { modified, generations }] of Object.entries(want.keys)) {
    const ki = ti.keyIndex(key)
    t.strictSame(ki && { modified: ki.modified, generations: ki.generations }, { modified, generations }, `compact(${at}): ${key}`)
  }
}

t.test('compaction keeps each key’s latest revision at or below it and drops keys with nothing left', async (t) => {
  const wantAt = (at: number) => afterCompactions[Math.min(at, afterCompactions.length) - 1]
  t.test('compacting at each revision in turn', async (t) => {
    const ti = compactionFixture()
    for (let at = 1; at < 20; at++) checkAfterCompaction(t, ti, at, wantAt(at))
  })
  t.test('compacting once at each revision', async (t) => {
    for (let at = 1; at < 20; at++) checkAfterCompaction(t, compactionFixture(), at, wantAt(at))
  })
})

t.test('reads at or after the compaction revision answer as before it', async (t) => {
  const before = compactionFixture()
  for (let at = 1; at <= 11; at++) {
    const ti = compactionFixture()
    ti.compact(at)
    for (let read = at; read <= 11; read++) {
      t.strictSame(ti.range('', FROM_KEY, read), before.range('', FROM_KEY, read), `compact(${at}), range at ${read}`)
    }
    t.strictSame(ti.rangeSince('', FROM_KEY, at), before.rangeSince('', FROM_KEY, at), `compact(${at}), since ${at}`)
  }
})

t.test('compacting in slices, with writes between them, keeps what one compaction keeps', async (t) => {
  for (let at = 1; at <= 11; at++) {
    const whole = compactionFixture()
    const wantKept = whole.compact(at).toArray()
    const sliced = compactionFixture()
    const available = new RevisionSet()
    const written = new Map<string, Revision>()
    const write = (key: string) => {
      const rev = r(11 + written.size + 1)
      sliced.put(key, rev)
      written.set(key, rev)
    }
    let from: string | undefined = ''
    for (let slice = 1; from !== undefined; slice++) {
      from = sliced.compactFrom(at, from, 1, available)
      // New keys land before and after the resume point.
      write(`bar${slice}`)
      write(`zoo${slice}`)
    }
    t.strictSame(available.toArray(), wantKept, `compact(${at}) in slices keeps the same revisions`)
    for (const key of ['foo', 'foo1', 'foo2']) t.strictSame(sliced.get(key, 11), whole.get(key, 11), `compact(${at}) in slices: ${key} at 11`)
    const latest = 11 + written.size
    t.ok([...written].every(([key, rev]) => sliced.get(key, latest)?.modified.main === rev.main), 'every key written between slices is there')
  }
})

t.test('a key index rebuilt from the backend is found by key and read like the original', async (t) => {
  const ti = new TreeIndex()
  const live = new KeyIndex('foo')
  live.restore(r(3), r(7), 4)
  const deleted = new KeyIndex('gone')
  deleted.restoreTombstone(8, 0)
  ti.insert(live)
  ti.insert(deleted)
  t.equal(ti.keyIndex('foo'), live)
  t.strictSame(ti.get('foo', 8), { modified: r(7), created: r(3), version: 4 })
  t.equal(ti.get('gone', 8), undefined)
  ti.put('gone', r(9))
  t.strictSame(ti.get('gone', 9), { modified: r(9), created: r(9), version: 1 })
  t.strictSame(ti.compact(9).toArray(), [r(7), r(9)], 'the restored tombstone goes with the next compaction')
})
