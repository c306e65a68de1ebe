// The stored form of mvccpb.KeyValue: the bytes etcd's gogoproto Marshal produces
// (fields in number order, zero values omitted), checked against hand-derived golden
// bytes and against protobufjs reading the same kv.proto.
import protobuf from 'protobufjs'
import t from 'tap'
import { decodeKeyValue, encodeKeyValue, type KeyValue, tombstoneValue } from '../../../src/kv/mvcc/key-value.js'

const b = (s: string) => Buffer.from(s, 'latin1')
const hex = (u: Uint8Array) => Buffer.from(u).toString('hex')
const kv = (over: Partial<KeyValue>): KeyValue => ({
  key: b('foo'),
  createRevision: 0,
  modRevision: 0,
  version: 0,
  value: new Uint8Array(0),
  lease: '0',
  ...over,
})
const plain = (x: KeyValue) => ({ ...x, key: hex(x.key), value: hex(x.value) })

t.test('a put encodes as tag, varint pairs in field order (golden bytes from the protobuf spec)', async (t) => {
  // 0a 03 "foo" | 10 02 | 18 03 | 20 01 | 2a 03 "bar"; lease 0 is omitted.
  const bytes = encodeKeyValue(kv({ createRevision: 2, modRevision: 3, version: 1, value: b('bar') }))
  t.equal(hex(bytes), '0a03666f6f' + '1002' + '1803' + '2001' + '2a03626172')
})

t.test('a tombstone holds only the key', async (t) => {
  t.equal(hex(encodeKeyValue(tombstoneValue(b('foo')))), '0a03666f6f')
})

t.test('multi-byte varints: 300 is ac 02, and revisions above 2^32 survive', async (t) => {
  t.equal(hex(encodeKeyValue(kv({ createRevision: 300 }))), '0a03666f6f' + '10ac02')
  const big = kv({ createRevision: 2 ** 40 + 5, modRevision: Number.MAX_SAFE_INTEGER, version: 2 ** 33 })
  t.same(plain(decodeKeyValue(encodeKeyValue(big))), plain(big))
})

t.test('leases are int64 decimal strings, exact above 2^53 and for negative values', async (t) => {
  for (const lease of ['1', '7587862118428356609', '9223372036854775807', '-1', '-9223372036854775808']) {
    t.equal(decodeKeyValue(encodeKeyValue(kv({ lease }))).lease, lease, lease)
  }
  // A negative int64 is a ten-byte varint (two's complement), as in Go.
  t.equal(hex(encodeKeyValue(kv({ lease: '-1' }))), '0a03666f6f' + '30' + 'ff'.repeat(9) + '01')
})

t.test('matches protobufjs on the same kv.proto, both ways', async (t) => {
  const root = new protobuf.Root().loadSync('proto/etcd/mvccpb/kv.proto', { keepCase: true })
  const T = root.lookupType('mvccpb.KeyValue')
  const samples = [
    kv({ createRevision: 5, modRevision: 9, version: 3, value: b('x'.repeat(200)), lease: '5762815321813258765' }),
    kv({ key: b('\x00\xff/registry/pods'), modRevision: 1 }),
    kv({ createRevision: 2 ** 35, modRevision: 2 ** 35 + 1, version: 1, value: b('v') }),
  ]
  for (const s of samples) {
    const theirs = T.encode(
      T.fromObject({
        key: s.key,
        create_revision: s.createRevision,
        mod_revision: s.modRevision,
        version: s.version,
        value: s.value,
        lease: s.lease,
      }),
    ).finish()
    t.equal(hex(encodeKeyValue(s)), hex(theirs))
    t.same(plain(decodeKeyValue(theirs)), plain(s))
  }
})

t.test('unknown fields are skipped; truncated input is rejected', async (t) => {
  const bytes = Buffer.concat([encodeKeyValue(kv({ version: 7 })), Buffer.from('3807' + '4202abcd' + '4d01020304', 'hex')])
  t.equal(decodeKeyValue(bytes).version, 7)
  const good = encodeKeyValue(kv({ value: b('bar') }))
  t.throws(() => decodeKeyValue(good.subarray(0, good.length - 1)), RangeError)
})

t.test('negative or unsafe revisions are refused rather than mis-encoded', async (t) => {
  t.throws(() => encodeKeyValue(kv({ modRevision: -1 })), RangeError)
  t.throws(() => encodeKeyValue(kv({ version: 2 ** 53 })), RangeError)
})
