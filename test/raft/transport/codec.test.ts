import t from 'tap'
import { decodeBatch, decodeChunk, encodeBatch, encodeChunk } from '../../../src/raft/transport/codec.js'
import { EntryType, message, MessageType } from '../../../src/raft/types.js'

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)

// Bytes decode as Buffer views; compare contents, not classes.
function plain(v: unknown): unknown {
  if (v instanceof Uint8Array) return { bytes: Array.from(v) }
  if (Array.isArray(v)) return v.map(plain)
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]))
  return v
}

const wireTypes = Object.values(MessageType).filter((v): v is MessageType => typeof v === 'number')

t.test('every message type survives a round trip with all fields set', async (t) => {
  const msgs = wireTypes.map((type, i) =>
    message({
      type,
      to: 2,
      from: 1,
      term: 7 + i,
      logTerm: 6,
      index: 2 ** 40 + i, // above 2^32: exercises the 64-bit path
      commit: 99,
      reject: i % 2 === 0,
      rejectHint: 12,
      context: bytes(`ctx-${i}`),
      entries: [
        { term: 7, index: 100, type: EntryType.Normal, data: bytes('put a=1') },
        { term: 7, index: 101, type: EntryType.ConfChange, data: bytes('add 4') },
        { term: 7, index: 102, type: EntryType.Normal, data: new Uint8Array(0) },
      ],
      snapshot: {
        metadata: { index: 90, term: 6, confState: { voters: [1, 2, 3], learners: [4] } },
        data: bytes('state'),
      },
    }),
  )
  const decoded = decodeBatch(encodeBatch(msgs))
  t.same(decoded.map(plain), msgs.map(plain))
})

t.test('empty and zero fields decode to the defaults, with no snapshot or context', async (t) => {
  const m = message({ type: MessageType.Hup })
  const [decoded] = decodeBatch(encodeBatch([m]))
  t.same(decoded, m)
  t.notOk('snapshot' in decoded)
  t.notOk('context' in decoded)
  t.same(decodeBatch(encodeBatch([])), [])
})

t.test('an empty context is sent as absent', async (t) => {
  const [decoded] = decodeBatch(encodeBatch([message({ type: MessageType.Heartbeat, context: new Uint8Array(0) })]))
  t.equal(decoded.context, undefined)
})

t.test('a snapshot with empty metadata and data round trips', async (t) => {
  const m = message({
    type: MessageType.Snap,
    to: 3,
    snapshot: { metadata: { index: 0, term: 0, confState: { voters: [], learners: [] } }, data: new Uint8Array(0) },
  })
  t.same(decodeBatch(encodeBatch([m])).map(plain), [plain(m)])
})

t.test('ids, terms and indexes come back as numbers up to 2^53', async (t) => {
  const m = message({ type: MessageType.App, to: 2 ** 53 - 1, from: 2 ** 32, term: 2 ** 32 - 1, index: 1 })
  const [d] = decodeBatch(encodeBatch([m]))
  t.equal(d.to, 2 ** 53 - 1)
  t.equal(d.from, 2 ** 32)
  t.equal(d.term, 2 ** 32 - 1)
  t.equal(typeof d.index, 'number')
})

t.test('entry data is a view into the received bytes, not a copy', async (t) => {
  const wire = encodeBatch([message({ type: MessageType.App, entries: [{ term: 1, index: 1, type: 0, data: bytes('abc') }] })])
  const data = decodeBatch(wire)[0].entries[0].data
  t.equal(data.buffer, wire.buffer)
})

t.test('snapshot chunks round trip with and without a header', async (t) => {
  const header = message({
    type: MessageType.Snap,
    to: 2,
    from: 1,
    term: 3,
    snapshot: { metadata: { index: 50, term: 3, confState: { voters: [1, 2], learners: [] } }, data: new Uint8Array(0) },
  })
  const first = decodeChunk(encodeChunk({ header, data: bytes('part1'), last: false }))
  t.same(plain(first.header!), plain(header))
  t.same(Array.from(first.data), Array.from(bytes('part1')))
  t.equal(first.last, false)
  const last = decodeChunk(encodeChunk({ data: bytes('part2'), last: true }))
  t.equal(last.header, undefined)
  t.equal(last.last, true)
})

t.test('truncated input is rejected', async (t) => {
  const wire = encodeBatch([message({ type: MessageType.App, index: 2 ** 40 })])
  t.throws(() => decodeBatch(wire.subarray(0, wire.length - 1)))
})
