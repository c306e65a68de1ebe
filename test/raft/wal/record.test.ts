import t from 'tap'
import { EntryType } from '../../../src/raft/types.js'
import {
  HEADER_BYTES,
  RecordType,
  decodeEntries,
  decodeHardState,
  decodeSegmentHeader,
  decodeSnapshotMarker,
  encodeEntries,
  encodeHardState,
  encodeSegmentHeader,
  encodeSnapshotMarker,
  hasRecordAfter,
  readRecord,
} from '../../../src/raft/wal/record.js'
import { ents } from './fixtures.js'

function payloadOf(buf: Buffer, type: RecordType): Buffer {
  const r = readRecord(buf, 0)
  if (!r.ok) throw new Error(r.reason)
  t.equal(r.type, type)
  t.equal(r.end, buf.length)
  return r.payload
}

t.test('every record type decodes to what was encoded, up to 2^53-1', async (t) => {
  const big = Number.MAX_SAFE_INTEGER
  t.same(decodeSegmentHeader(payloadOf(encodeSegmentHeader(7, big), RecordType.SegmentHeader)), { seq: 7, firstIndex: big })
  t.same(decodeHardState(payloadOf(encodeHardState({ term: big, vote: 3, commit: 2 ** 32 + 5 }), RecordType.HardState)), {
    term: big,
    vote: 3,
    commit: 2 ** 32 + 5,
  })
  t.same(decodeSnapshotMarker(payloadOf(encodeSnapshotMarker(100, 4), RecordType.SnapshotMarker)), { index: 100, term: 4 })
  const batch = [
    { term: 2, index: 2 ** 40, type: EntryType.ConfChange, data: Buffer.from('conf') },
    { term: 3, index: 2 ** 40 + 1, type: EntryType.Normal, data: Buffer.alloc(0) },
  ]
  const back = decodeEntries(payloadOf(encodeEntries(batch), RecordType.Entries))
  t.same(
    back.map((e) => ({ ...e, data: Buffer.from(e.data).toString() })),
    batch.map((e) => ({ ...e, data: e.data.toString() })),
  )
})

t.test('a batch that is not contiguous is refused', async (t) => {
  t.throws(() => encodeEntries([...ents(1, 2, 1), ...ents(4, 4, 1)]), /not contiguous/)
})

t.test('a batch of 256 entries of 256 bytes encodes in well under a millisecond', async (t) => {
  const batch = ents(1, 256, 1, 256)
  for (let i = 0; i < 50; i++) encodeEntries(batch) // warm up the JIT
  // Best of several rounds: other processes share this machine's two cores.
  let best = Infinity
  for (let round = 0; round < 10; round++) {
    const start = process.hrtime.bigint()
    for (let i = 0; i < 20; i++) encodeEntries(batch)
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e6 / 20)
  }
  t.ok(best < 0.5, `${best.toFixed(3)} ms per batch (coverage instrumentation included)`)
})

t.test('readRecord tells an incomplete record from a checksum mismatch', async (t) => {
  const rec = encodeEntries(ents(1, 3, 1))
  t.same(readRecord(rec.subarray(0, HEADER_BYTES - 1), 0), { ok: false, reason: 'incomplete record' })
  t.same(readRecord(rec.subarray(0, rec.length - 1), 0), { ok: false, reason: 'incomplete record' })
  const flipped = Buffer.from(rec)
  flipped[HEADER_BYTES + 3] ^= 0x01
  t.same(readRecord(flipped, 0), { ok: false, reason: 'crc mismatch' })
})

t.test('hasRecordAfter finds an intact record behind damage and nothing in garbage', async (t) => {
  const a = encodeHardState({ term: 1, vote: 1, commit: 0 })
  const b = encodeSnapshotMarker(5, 1)
  const damaged = Buffer.concat([a, b])
  damaged[HEADER_BYTES] ^= 0xff
  t.equal(hasRecordAfter(damaged, 0), true)
  t.equal(hasRecordAfter(Buffer.concat([a, Buffer.alloc(300)]), a.length), false)
  t.equal(hasRecordAfter(Buffer.from('this is not a record, just some text that got appended'), 0), false)
})
