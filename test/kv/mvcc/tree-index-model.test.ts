// Randomized: random txns of puts and deletes, with compactions, applied to the tree
// index and to a reference model (the plain list of changes); every read, count,
// watch catch-up and compaction result must agree at random revisions. Seeds differ
// each run; a failure prints its seed, and MVCC_SEED=<seed> replays it.
import t from 'tap'
import { isDeepStrictEqual } from 'node:util'
import { Rng } from '../../raft/sim/rng.js'
import { revision } from '../../../src/kv/mvcc/revision.js'
import { RevisionSet } from '../../../src/kv/mvcc/revision-set.js'
import { FROM_KEY, TreeIndex } from '../../../src/kv/mvcc/tree-index.js'
import { ReferenceModel } from './helpers/reference-model.js'

// Short keys over bytes chosen to exercise bytewise order: prefixes, 0x00, 0x7f/0x80, 0xff.
const KEYS = ['a', 'a\0', 'a\x01', 'a\x7f', 'a\x80', 'a\xff', 'ab', 'abc', 'b', 'foo', 'foo/', 'foo/bar', 'foo0', '\0', '\x7f', '\x80', '\xff', '\xff\xff']
const BOUNDS = [...KEYS, '', 'a\0\0', 'fo', 'foo/\xff', 'c']
const REVISIONS = 300

function check(what: string, got: unknown, want: unknown): void {
  if (!isDeepStrictEqual(got, want)) throw new Error(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`)
}

// At once, or in slices of a few keys, as the store does to spare the event loop.
function compact(index: TreeIndex, at: number, rng: Rng): RevisionSet {
  if (rng.chance(0.5)) return index.compact(at)
  const available = new RevisionSet()
  const slice = 1 + rng.int(5)
  for (let from: string | undefined = ''; from !== undefined; ) from = index.compactFrom(at, from, slice, available)
  return available
}

function run(seed: number): void {
  const rng = new Rng(seed)
  const index = new TreeIndex()
  const model = new ReferenceModel()
  const live = new Set<string>()
  let compacted = 0

  for (let main = 1; main <= REVISIONS; main++) {
    // One txn: up to three distinct keys, as etcd rejects a txn changing a key twice.
    const keys = new Set(Array.from({ length: 1 + rng.int(3) }, () => rng.pick(KEYS)))
    let sub = 0
    for (const key of keys) {
      const rev = revision(main, sub++)
      const deleted = live.has(key) && rng.chance(0.35)
      if (deleted) {
        index.tombstone(key, rev)
        live.delete(key)
      } else {
        index.put(key, rev)
        live.add(key)
      }
      model.record({ key, rev, deleted })
    }

    if (rng.chance(0.06)) {
      const at = compacted + rng.int(main - compacted + 1)
      check(`keep(${at})`, index.keep(at).toArray(), model.keptLive(at))
      check(`compact(${at})`, compact(index, at, rng).toArray(), model.keptByCompaction(at))
      check(`keys after compact(${at})`, index.size, model.keysAfterCompaction(at))
      compacted = at
    }

    for (let q = 0; q < 3; q++) {
      // Reads are only valid at or after the compaction revision.
      const atRev = compacted + rng.int(main - compacted + 2)
      const key = rng.pick(BOUNDS)
      const end = rng.chance(0.25) ? '' : rng.chance(0.3) ? FROM_KEY : rng.pick(BOUNDS)
      const limit = rng.int(4)
      const where = `at main ${main}, [${JSON.stringify(key)}, ${JSON.stringify(end)}) @${atRev}`
      const all = model.range(key, end, atRev)
      check(`get ${where}`, index.get(key, atRev), model.get(key, atRev))
      check(`range ${where} limit ${limit}`, index.range(key, end, atRev, limit), {
        entries: limit > 0 ? all.slice(0, limit) : all,
        total: all.length,
      })
      check(`count ${where}`, index.countRevisions(key, end, atRev), all.length)
      const since = compacted + rng.int(main - compacted + 2)
      check(`rangeSince ${where} since ${since}`, index.rangeSince(key, end, since), model.since(key, end, since))
    }
  }
}

t.test('the tree index answers as the list of all changes does, through random txns and compactions', async (t) => {
  const replay = process.env.MVCC_SEED
  const seeds = replay !== undefined ? [Number(replay)] : Array.from({ length: 25 }, (_, i) => (Date.now() % 1_000_000) * 100 + i)
  t.comment(`seeds ${seeds[0]}..${seeds[seeds.length - 1]}`)
  for (const seed of seeds) {
    try {
      run(seed)
    } catch (err) {
      t.fail(`seed ${seed} (replay: MVCC_SEED=${seed} npx tap test/kv/mvcc/tree-index-model.test.ts): ${(err as Error).message}`)
      return
    }
  }
  t.pass(`${seeds.length} random histories of ${REVISIONS} revisions agree with the reference model`)
})
