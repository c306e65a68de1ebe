// The unstable tail of the log: entries (and a snapshot) not yet persisted. Cases
// follow etcd-io/raft's log_unstable_test.go.
import t from 'tap'
import type { Entry, Snapshot } from '../../src/raft/types.js'
import { Unstable } from '../../src/raft/unstable.js'
import { ents, shape } from './helpers/network.js'

const snap = (index: number, term: number): Snapshot => ({ metadata: { index, term, confState: { voters: [1], learners: [] } }, data: new Uint8Array(0) })

function unstable(offset: number, entries: Entry[], snapshot?: Snapshot): Unstable {
  const u = new Unstable(offset)
  u.entries = entries.slice()
  u.snapshot = snapshot
  return u
}

t.test('maybeFirstIndex: known only from a pending snapshot', async (t) => {
  t.equal(unstable(5, ents(5, 1)).maybeFirstIndex(), undefined)
  t.equal(unstable(0, []).maybeFirstIndex(), undefined)
  t.equal(unstable(5, ents(5, 1), snap(4, 1)).maybeFirstIndex(), 5)
  t.equal(unstable(5, [], snap(4, 1)).maybeFirstIndex(), 5)
})

t.test('maybeLastIndex: the last unstable entry, else the pending snapshot', async (t) => {
  t.equal(unstable(5, ents(5, 1)).maybeLastIndex(), 5)
  t.equal(unstable(5, ents(5, 1), snap(4, 1)).maybeLastIndex(), 5)
  t.equal(unstable(5, [], snap(4, 1)).maybeLastIndex(), 4)
  t.equal(unstable(0, []).maybeLastIndex(), undefined)
})

t.test('maybeTerm: from the entries, or from the snapshot at exactly its index', async (t) => {
  const cases: Array<[Unstable, number, number | undefined]> = [
    [unstable(5, ents(5, 1)), 5, 1],
    [unstable(5, ents(5, 1)), 6, undefined],
    [unstable(5, ents(5, 1)), 4, undefined],
    [unstable(5, ents(5, 1), snap(4, 1)), 5, 1],
    [unstable(5, ents(5, 1), snap(4, 1)), 6, undefined],
    [unstable(5, ents(5, 1), snap(4, 1)), 4, 1],
    [unstable(5, ents(5, 1), snap(4, 1)), 3, undefined],
    [unstable(5, [], snap(4, 1)), 5, undefined],
    [unstable(5, [], snap(4, 1)), 4, 1],
    [unstable(0, []), 5, undefined],
  ]
  for (const [u, i, want] of cases) t.equal(u.maybeTerm(i), want, `offset ${u.offset} ${JSON.stringify(shape(u.entries))} snap ${u.snapshot?.metadata.index}: term(${i})`)
})

t.test('restore: a snapshot replaces every unstable entry', async (t) => {
  const u = unstable(5, ents(5, 1), snap(4, 1))
  const s = snap(6, 2)
  u.restore(s)
  t.equal(u.offset, 7)
  t.same(u.entries, [])
  t.equal(u.snapshot, s)
})

t.test('stableTo drops persisted entries, unless their term shows they were replaced', async (t) => {
  const cases: Array<{ u: Unstable; i: number; term: number; offset: number; len: number }> = [
    { u: unstable(0, []), i: 5, term: 1, offset: 0, len: 0 },
    { u: unstable(5, ents(5, 1)), i: 5, term: 1, offset: 6, len: 0 },
    { u: unstable(5, ents(5, 1, 1)), i: 5, term: 1, offset: 6, len: 1 },
    { u: unstable(6, ents(6, 2)), i: 6, term: 1, offset: 6, len: 1 }, // term mismatch
    { u: unstable(5, ents(5, 1)), i: 4, term: 1, offset: 5, len: 1 }, // an older entry
    { u: unstable(5, ents(5, 1)), i: 4, term: 2, offset: 5, len: 1 },
    // with a snapshot
    { u: unstable(5, ents(5, 1), snap(4, 1)), i: 5, term: 1, offset: 6, len: 0 },
    { u: unstable(5, ents(5, 1, 1), snap(4, 1)), i: 5, term: 1, offset: 6, len: 1 },
    { u: unstable(6, ents(6, 2), snap(5, 1)), i: 6, term: 1, offset: 6, len: 1 },
    { u: unstable(5, ents(5, 1), snap(4, 1)), i: 4, term: 1, offset: 5, len: 1 },
    { u: unstable(5, ents(5, 2), snap(4, 2)), i: 4, term: 1, offset: 5, len: 1 },
  ]
  for (const c of cases) {
    c.u.stableTo(c.i, c.term)
    t.equal(c.u.offset, c.offset, `stableTo(${c.i}, ${c.term}): offset`)
    t.equal(c.u.entries.length, c.len, `stableTo(${c.i}, ${c.term}): entries left`)
  }
})

t.test('stableSnapTo forgets the pending snapshot once it is persisted, and only that one', async (t) => {
  const u = unstable(5, [], snap(4, 1))
  u.stableSnapTo(3)
  t.ok(u.snapshot)
  u.stableSnapTo(4)
  t.equal(u.snapshot, undefined)
})

t.test('truncateAndAppend: appends at the end, replaces from an earlier index, truncates a conflicting suffix', async (t) => {
  const cases: Array<{ u: Unstable; add: Entry[]; offset: number; want: Entry[] }> = [
    // append to the end
    { u: unstable(5, ents(5, 1)), add: ents(6, 1), offset: 5, want: ents(5, 1, 1) },
    { u: unstable(5, ents(5, 1)), add: ents(6, 1, 1), offset: 5, want: ents(5, 1, 1, 1) },
    // replace the unstable entries
    { u: unstable(5, ents(5, 1)), add: ents(5, 2, 2), offset: 5, want: ents(5, 2, 2) },
    { u: unstable(5, ents(5, 1)), add: ents(4, 2, 2, 2), offset: 4, want: ents(4, 2, 2, 2) },
    // truncate the existing entries and append
    { u: unstable(5, ents(5, 1, 1, 1)), add: ents(6, 2), offset: 5, want: ents(5, 1, 2) },
    { u: unstable(5, ents(5, 1, 1, 1)), add: ents(7, 2, 2), offset: 5, want: ents(5, 1, 1, 2, 2) },
  ]
  for (const c of cases) {
    c.u.truncateAndAppend(c.add)
    t.equal(c.u.offset, c.offset)
    t.same(shape(c.u.entries), shape(c.want), `append ${JSON.stringify(shape(c.add))}`)
  }
})

t.test('truncateAndAppend does not alias the caller’s array', async (t) => {
  const u = unstable(5, ents(5, 1))
  const add = ents(4, 2, 2)
  u.truncateAndAppend(add)
  add.length = 0
  t.equal(u.entries.length, 2)
})

t.test('slice returns [lo, hi) and refuses ranges outside the unstable entries', async (t) => {
  const u = unstable(5, ents(5, 1, 1, 2))
  t.same(shape(u.slice(5, 8)), [[5, 1], [6, 1], [7, 2]])
  t.same(shape(u.slice(6, 7)), [[6, 1]])
  t.same(u.slice(6, 6), [])
  t.throws(() => u.slice(4, 6), /out of bound/)
  t.throws(() => u.slice(6, 9), /out of bound/)
  t.throws(() => u.slice(7, 6), /invalid/)
})
