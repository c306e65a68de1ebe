// RaftLog: durable entries in Storage followed by the unstable tail, with the commit
// and apply cursors. Cases follow etcd-io/raft's log_test.go.
import t from 'tap'
import { CompactedError } from '../../src/raft/errors.js'
import { RaftLog } from '../../src/raft/log.js'
import { MemoryStorage } from '../../src/raft/storage.js'
import { type Entry, EntryType, type Snapshot } from '../../src/raft/types.js'
import { ents, shape } from './helpers/network.js'

const snap = (index: number, term: number): Snapshot => ({ metadata: { index, term, confState: { voters: [1], learners: [] } }, data: new Uint8Array(0) })

/** A log with `stable` in storage (after an optional snapshot) and `unstable` appended. */
function newLog(opts: { snapshot?: Snapshot; stable?: Entry[]; unstable?: Entry[]; maxNextEntsSize?: number } = {}): RaftLog {
  const s = new MemoryStorage()
  if (opts.snapshot) s.applySnapshot(opts.snapshot)
  if (opts.stable) s.append(opts.stable)
  const l = new RaftLog(s, opts.maxNextEntsSize)
  if (opts.unstable && opts.unstable.length > 0) l.append(opts.unstable)
  return l
}

/** Entries whose term equals their index, from..to inclusive. */
const diag = (from: number, to: number): Entry[] => ents(from, ...Array.from({ length: to - from + 1 }, (_, i) => from + i))

t.test('findConflict: the first new entry whose term differs from ours or that we lack, 0 when all match', async (t) => {
  const cases: Array<[Entry[], number]> = [
    [[], 0],
    // no conflict
    [ents(1, 1, 2, 3), 0],
    [ents(2, 2, 3), 0],
    [ents(3, 3), 0],
    // no conflict, but new entries
    [ents(1, 1, 2, 3, 4, 4), 4],
    [ents(2, 2, 3, 4, 5), 4],
    [ents(3, 3, 4, 4), 4],
    [ents(4, 4, 4), 4],
    // conflicts with existing entries
    [ents(1, 4, 4), 1],
    [ents(2, 1, 4, 4), 2],
    [ents(3, 1, 2, 4, 4), 3],
  ]
  for (const [es, want] of cases) {
    const l = newLog({ unstable: ents(1, 1, 2, 3) })
    t.equal(l.findConflict(es), want, JSON.stringify(shape(es)))
  }
})

t.test('findConflictByTerm: the last index at or below `index` whose term is at most `term`', async (t) => {
  const cases: Array<{ snapshot?: [number, number]; log: Entry[]; index: number; term: number; want: number }> = [
    // log from index 1, terms 2 2 5 5 5
    { log: ents(1, 2, 2, 5, 5, 5), index: 100, term: 2, want: 100 }, // beyond our log: may match
    { log: ents(1, 2, 2, 5, 5, 5), index: 5, term: 6, want: 5 },
    { log: ents(1, 2, 2, 5, 5, 5), index: 5, term: 5, want: 5 },
    { log: ents(1, 2, 2, 5, 5, 5), index: 5, term: 4, want: 2 },
    { log: ents(1, 2, 2, 5, 5, 5), index: 5, term: 2, want: 2 },
    { log: ents(1, 2, 2, 5, 5, 5), index: 5, term: 1, want: 0 },
    { log: ents(1, 2, 2, 5, 5, 5), index: 1, term: 2, want: 1 },
    { log: ents(1, 2, 2, 5, 5, 5), index: 1, term: 1, want: 0 },
    { log: ents(1, 2, 2, 5, 5, 5), index: 0, term: 0, want: 0 },
    // compacted up to (10, term 3), then terms 3 3 4 4 4 at 11..15
    { snapshot: [10, 3], log: ents(11, 3, 3, 4, 4, 4), index: 30, term: 3, want: 30 },
    { snapshot: [10, 3], log: ents(11, 3, 3, 4, 4, 4), index: 14, term: 9, want: 14 },
    { snapshot: [10, 3], log: ents(11, 3, 3, 4, 4, 4), index: 14, term: 4, want: 14 },
    { snapshot: [10, 3], log: ents(11, 3, 3, 4, 4, 4), index: 14, term: 3, want: 12 },
    { snapshot: [10, 3], log: ents(11, 3, 3, 4, 4, 4), index: 14, term: 2, want: 9 },
    { snapshot: [10, 3], log: ents(11, 3, 3, 4, 4, 4), index: 11, term: 5, want: 11 },
    { snapshot: [10, 3], log: ents(11, 3, 3, 4, 4, 4), index: 10, term: 5, want: 10 },
    { snapshot: [10, 3], log: ents(11, 3, 3, 4, 4, 4), index: 10, term: 3, want: 10 },
    { snapshot: [10, 3], log: ents(11, 3, 3, 4, 4, 4), index: 10, term: 2, want: 9 },
    // below the snapshot we cannot tell: assume a possible match
    { snapshot: [10, 3], log: ents(11, 3, 3, 4, 4, 4), index: 9, term: 2, want: 9 },
    { snapshot: [10, 3], log: ents(11, 3, 3, 4, 4, 4), index: 4, term: 2, want: 4 },
    { snapshot: [10, 3], log: ents(11, 3, 3, 4, 4, 4), index: 0, term: 0, want: 0 },
  ]
  for (const c of cases) {
    const l = newLog({ snapshot: c.snapshot ? snap(...c.snapshot) : undefined, unstable: c.log })
    t.equal(l.findConflictByTerm(c.index, c.term), c.want, `${c.snapshot ? `snapshot ${c.snapshot}, ` : ''}(${c.index}, ${c.term})`)
  }
})

t.test('isUpToDate: a higher last term wins; with equal last terms the longer log wins (§5.4.1)', async (t) => {
  const l = newLog({ unstable: ents(1, 1, 2, 3) })
  const last = l.lastIndex()
  const cases: Array<[number, number, boolean]> = [
    [last - 1, 4, true],
    [last, 4, true],
    [last + 1, 4, true],
    [last - 1, 2, false],
    [last, 2, false],
    [last + 1, 2, false],
    [last - 1, 3, false],
    [last, 3, true],
    [last + 1, 3, true],
  ]
  for (const [index, term, want] of cases) t.equal(l.isUpToDate(index, term), want, `(${index}, term ${term})`)
})

t.test('append: truncates a conflicting suffix and returns the new last index', async (t) => {
  const cases: Array<{ add: Entry[]; last: number; log: Entry[]; unstableFrom: number }> = [
    { add: [], last: 2, log: ents(1, 1, 2), unstableFrom: 3 },
    { add: ents(3, 2), last: 3, log: ents(1, 1, 2, 2), unstableFrom: 3 },
    // conflicts with index 1
    { add: ents(1, 2), last: 1, log: ents(1, 2), unstableFrom: 1 },
    // conflicts with index 2
    { add: ents(2, 3, 3), last: 3, log: ents(1, 1, 3, 3), unstableFrom: 2 },
  ]
  for (const c of cases) {
    const l = newLog({ stable: ents(1, 1, 2) })
    t.equal(l.append(c.add), c.last)
    t.same(shape(l.allEntries()), shape(c.log), `append ${JSON.stringify(shape(c.add))}`)
    t.equal(l.unstable.offset, c.unstableFrom)
  }
})

t.test('append refuses to overwrite committed entries', async (t) => {
  const l = newLog({ unstable: ents(1, 1, 2, 3) })
  l.commitTo(2)
  t.throws(() => l.append(ents(2, 5)), /out of range/)
})

t.test('maybeAppend: appends after a matching (index, term), commits up to min(leader commit, last new), refuses on mismatch', async (t) => {
  const lastIndex = 3
  const lastTerm = 3
  const commit = 1
  const cases: Array<{ logTerm: number; index: number; committed: number; add: Entry[]; want: number; wantCommit: number; throws?: boolean }> = [
    // no match: term differs / index beyond our log
    { logTerm: lastTerm - 1, index: lastIndex, committed: lastIndex, add: ents(lastIndex + 1, 4), want: -1, wantCommit: commit },
    { logTerm: lastTerm, index: lastIndex + 1, committed: lastIndex, add: ents(lastIndex + 2, 4), want: -1, wantCommit: commit },
    // match with the last entry
    { logTerm: lastTerm, index: lastIndex, committed: lastIndex, add: [], want: lastIndex, wantCommit: lastIndex },
    { logTerm: lastTerm, index: lastIndex, committed: lastIndex + 1, add: [], want: lastIndex, wantCommit: lastIndex }, // not beyond the last new entry
    { logTerm: lastTerm, index: lastIndex, committed: lastIndex - 1, add: [], want: lastIndex, wantCommit: lastIndex - 1 }, // up to the leader's commit
    { logTerm: lastTerm, index: lastIndex, committed: 0, add: [], want: lastIndex, wantCommit: commit }, // never decreases
    { logTerm: 0, index: 0, committed: lastIndex, add: [], want: 0, wantCommit: commit },
    { logTerm: lastTerm, index: lastIndex, committed: lastIndex, add: ents(lastIndex + 1, 4), want: lastIndex + 1, wantCommit: lastIndex },
    { logTerm: lastTerm, index: lastIndex, committed: lastIndex + 1, add: ents(lastIndex + 1, 4), want: lastIndex + 1, wantCommit: lastIndex + 1 },
    { logTerm: lastTerm, index: lastIndex, committed: lastIndex + 2, add: ents(lastIndex + 1, 4), want: lastIndex + 1, wantCommit: lastIndex + 1 },
    { logTerm: lastTerm, index: lastIndex, committed: lastIndex + 2, add: ents(lastIndex + 1, 4, 4), want: lastIndex + 2, wantCommit: lastIndex + 2 },
    // match with an entry in the middle
    { logTerm: lastTerm - 1, index: lastIndex - 1, committed: lastIndex, add: ents(lastIndex, 4), want: lastIndex, wantCommit: lastIndex },
    { logTerm: lastTerm - 2, index: lastIndex - 2, committed: lastIndex, add: ents(lastIndex - 1, 4), want: lastIndex - 1, wantCommit: lastIndex - 1 },
    { logTerm: lastTerm - 3, index: lastIndex - 3, committed: lastIndex, add: ents(lastIndex - 2, 4), want: 0, wantCommit: 0, throws: true }, // conflicts with a committed entry
    { logTerm: lastTerm - 2, index: lastIndex - 2, committed: lastIndex, add: ents(lastIndex - 1, 4, 4), want: lastIndex, wantCommit: lastIndex },
  ]
  for (const c of cases) {
    const l = newLog({ unstable: ents(1, 1, 2, 3) })
    l.committed = commit
    const name = `after (${c.index}, term ${c.logTerm}) commit ${c.committed} append ${JSON.stringify(shape(c.add))}`
    if (c.throws) {
      t.throws(() => l.maybeAppend(c.index, c.logTerm, c.committed, c.add), /conflict with committed entry/, name)
      continue
    }
    t.equal(l.maybeAppend(c.index, c.logTerm, c.committed, c.add), c.want, name)
    t.equal(l.committed, c.wantCommit, `${name}: commit`)
    if (c.want > 0 && c.add.length > 0) {
      t.same(shape(l.slice(l.lastIndex() - c.add.length + 1, l.lastIndex() + 1, Number.MAX_SAFE_INTEGER)), shape(c.add), `${name}: entries`)
    }
  }
})

t.test('commitTo never moves the commit index backwards and refuses to go past the last entry', async (t) => {
  const l = newLog({ unstable: ents(1, 1, 2, 3) })
  l.commitTo(2)
  l.commitTo(3)
  t.equal(l.committed, 3)
  l.commitTo(1)
  t.equal(l.committed, 3)
  t.throws(() => l.commitTo(4), /out of range/)
})

t.test('maybeCommit commits only an index whose entry has the given term', async (t) => {
  const l = newLog({ unstable: ents(1, 1, 2, 3) })
  t.notOk(l.maybeCommit(2, 3), 'entry 2 has term 2')
  t.equal(l.committed, 0)
  t.ok(l.maybeCommit(3, 3))
  t.equal(l.committed, 3)
  t.notOk(l.maybeCommit(2, 2), 'never backwards')
})

t.test('stableTo moves persisted entries out of the unstable tail, unless they were replaced meanwhile', async (t) => {
  const cases: Array<[number, number, number]> = [
    [1, 1, 2],
    [2, 2, 3],
    [2, 1, 1], // bad term
    [3, 1, 1], // bad index
  ]
  for (const [i, term, offset] of cases) {
    const l = newLog({ unstable: ents(1, 1, 2) })
    l.stableTo(i, term)
    t.equal(l.unstable.offset, offset, `stableTo(${i}, ${term})`)
  }
})

t.test('nextEnts hands out committed entries after the applied index, in order, bounded in bytes', async (t) => {
  for (const [applied, want] of [
    [0, [4, 5]],
    [3, [4, 5]],
    [4, [5]],
    [5, []],
  ] as Array<[number, number[]]>) {
    const l = newLog({ snapshot: snap(3, 1), unstable: ents(4, 1, 1, 1) })
    l.maybeCommit(5, 1)
    l.appliedTo(applied)
    t.same(l.nextEnts().map((e) => e.index), want, `applied ${applied}`)
    t.equal(l.hasNextEnts(), want.length > 0)
  }

  const big = (index: number): Entry => ({ term: 1, index, type: EntryType.Normal, data: new Uint8Array(100) })
  const l = newLog({ stable: [big(1), big(2)], unstable: [big(3)], maxNextEntsSize: 250 })
  l.commitTo(3)
  t.same(l.nextEnts().map((e) => e.index), [1, 2], 'two 124-byte entries fit in 250 bytes, three do not')
  l.appliedTo(2)
  t.same(l.nextEnts().map((e) => e.index), [3])
  const tiny = newLog({ stable: [big(1)], maxNextEntsSize: 1 })
  tiny.commitTo(1)
  t.same(tiny.nextEnts().map((e) => e.index), [1], 'always at least one entry')
})

t.test('appliedTo refuses to go backwards or past the commit index', async (t) => {
  const l = newLog({ unstable: ents(1, 1, 1, 1) })
  l.commitTo(2)
  l.appliedTo(2)
  t.throws(() => l.appliedTo(1), /out of range/)
  t.throws(() => l.appliedTo(3), /out of range/)
})

t.test('slice reads across storage and the unstable tail, honours a byte limit, and reports compacted ranges', async (t) => {
  const offset = 100
  const num = 100
  const last = offset + num
  const half = offset + num / 2
  const l = newLog({ snapshot: snap(offset, 0), stable: diag(offset + 1, half - 1), unstable: diag(half, last - 1) })
  t.equal(l.unstable.offset, half, 'the first half is in storage, the second unstable')
  const size = 24 // an empty entry
  const nolimit = Number.MAX_SAFE_INTEGER
  t.throws(() => l.slice(offset - 1, offset + 1, nolimit), CompactedError)
  t.throws(() => l.slice(offset, offset + 1, nolimit), CompactedError)
  const cases: Array<[number, number, number, number[]]> = [
    [half - 1, half + 1, nolimit, [half - 1, half]],
    [half, half + 1, nolimit, [half]],
    [last - 1, last, nolimit, [last - 1]],
    // limits
    [half - 1, half + 1, 0, [half - 1]],
    [half - 1, half + 1, size + 1, [half - 1]],
    [half - 2, half + 1, size + 1, [half - 2]],
    [half - 1, half + 1, size * 2, [half - 1, half]],
    [half - 1, half + 2, size * 3, [half - 1, half, half + 1]],
    [half, half + 2, size, [half]],
    [half, half + 2, size * 2, [half, half + 1]],
  ]
  for (const [lo, hi, limit, want] of cases) {
    t.same(l.slice(lo, hi, limit).map((e) => e.index), want, `slice(${lo}, ${hi}, ${limit === nolimit ? '∞' : limit})`)
  }
  t.throws(() => l.slice(last, last + 1, nolimit), /out of bound/)
})

t.test('term: known from the snapshot index up to the last entry, 0 outside', async (t) => {
  const offset = 100
  const s = new MemoryStorage()
  s.applySnapshot(snap(offset, 1))
  const l = new RaftLog(s)
  for (let i = 1; i < 100; i++) l.append([{ term: i, index: offset + i, type: EntryType.Normal, data: new Uint8Array(0) }])
  t.equal(l.term(offset - 1), 0, 'compacted')
  t.equal(l.term(offset), 1, 'the snapshot’s own term')
  t.equal(l.term(offset + 50), 50)
  t.equal(l.term(offset + 99), 99)
  t.equal(l.term(offset + 100), 0, 'beyond the last entry')
})

t.test('term with an unstable snapshot: only the snapshot index is known', async (t) => {
  const s = new MemoryStorage()
  s.applySnapshot(snap(100, 1))
  const l = new RaftLog(s)
  l.restore(snap(105, 5))
  t.equal(l.term(100), 0)
  t.equal(l.term(104), 0)
  t.equal(l.term(105), 5)
  t.equal(l.term(106), 0)
})

t.test('restore: the log restarts after the snapshot, which counts as committed', async (t) => {
  const l = newLog({ unstable: ents(1, 1, 1) })
  l.restore(snap(1000, 1000))
  t.equal(l.firstIndex(), 1001)
  t.equal(l.lastIndex(), 1000)
  t.equal(l.committed, 1000)
  t.equal(l.unstable.offset, 1001)
  t.equal(l.term(1000), 1000)
  t.ok(l.hasPendingSnapshot())
  t.same(l.allEntries(), [])
})

t.test('a log over compacted storage starts with commit and applied at the snapshot', async (t) => {
  const l = newLog({ snapshot: snap(10, 2), stable: ents(11, 2, 3) })
  t.equal(l.firstIndex(), 11)
  t.equal(l.lastIndex(), 12)
  t.equal(l.committed, 10)
  t.equal(l.applied, 10)
  t.equal(l.lastTerm(), 3)
  t.throws(() => l.entries(5, Number.MAX_SAFE_INTEGER), CompactedError)
  t.same(shape(l.entries(11, Number.MAX_SAFE_INTEGER)), [[11, 2], [12, 3]])
  t.same(l.entries(13, Number.MAX_SAFE_INTEGER), [], 'nothing after the last entry')
})
